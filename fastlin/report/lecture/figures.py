"""Figure conventions of the lecture page: size, fonts readable at 100 % zoom, PNG rendering.

At :data:`DPI` = 100 a point is 1.39 pixels, so the smallest font (:data:`MIN_FONT_PT` = 10 pt)
is 14 pixels high on the saved PNG.
"""

from __future__ import annotations

import io

from ..plot import import_pyplot

__all__ = ["DPI", "MIN_FONT_PT", "RC", "pyplot", "new_figure", "to_png", "note"]

DPI = 100
MIN_FONT_PT = 10.0
RC = {"font.size": 11.0, "axes.titlesize": 12.0, "axes.labelsize": 11.5,
      "xtick.labelsize": MIN_FONT_PT, "ytick.labelsize": MIN_FONT_PT,
      "legend.fontsize": MIN_FONT_PT, "figure.titlesize": 13.0, "axes.grid": True,
      "grid.alpha": 0.3, "legend.framealpha": 0.92}


def pyplot():
    """pyplot on the Agg backend, with :data:`RC` applied (raises ImportError without it)."""
    plt = import_pyplot()
    plt.rcParams.update(RC)
    return plt


def new_figure(plt, ncols, *, width=13.0, height=4.6, title=None, **kwargs):
    """A figure of ``ncols`` panels side by side; returns ``(fig, axes)`` (axes always a list)."""
    fig, axes = plt.subplots(1, ncols, figsize=(width, height), layout="constrained", **kwargs)
    if title:
        fig.suptitle(title)
    return fig, list(axes) if ncols > 1 else [axes]


def note(ax, text, *, loc="upper right", color="black"):
    """A boxed text in a corner of ``ax`` (10 pt)."""
    xs = {"right": (0.98, "right"), "left": (0.02, "left"), "center": (0.5, "center")}
    ys = {"upper": (0.97, "top"), "lower": (0.03, "bottom"), "center": (0.5, "center")}
    vert, horiz = loc.split(" ")
    (x, ha), (y, va) = xs[horiz], ys[vert]
    ax.text(x, y, text, transform=ax.transAxes, ha=ha, va=va, fontsize=MIN_FONT_PT, color=color,
            bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="0.7", alpha=0.92))


def to_png(plt, fig) -> bytes:
    """Render ``fig`` to PNG bytes at :data:`DPI` and close it."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=DPI)
    finally:
        plt.close(fig)
    return buf.getvalue()
