"""The report's figure: three log-log panels and a caption, written atomically.

The figure is a pure function of the report document (:func:`build_figure`), so a saved JSON can
be re-plotted without measuring again (``fastlin bench complexity --replot JSON --plot PNG``).

matplotlib is optional: it is imported only here, inside functions, and only when a plot is asked
for; :func:`check_plot_path` lets the command line fail before any measurement when it is missing
or cannot write the requested format.
"""

from __future__ import annotations

import os
import textwrap

import numpy as np

from .output import atomic_write_bytes
from .text import fmt

__all__ = ["import_pyplot", "check_plot_path", "build_figure", "write_plot", "SAVE_DPI",
           "MIN_FONT_PT"]

#: Resolution of the saved image; the figure's fonts are sized to be read at 100 % of it.
SAVE_DPI = 100
#: The smallest font in the figure, in points (at :data:`SAVE_DPI`: 10 pt = 14 pixels).
MIN_FONT_PT = 10.0

_FIGSIZE = (15.5, 14.5)
_RC = {"font.size": 11.5, "axes.titlesize": 12.5, "axes.labelsize": 12,
       "xtick.labelsize": 11, "ytick.labelsize": 11, "legend.fontsize": MIN_FONT_PT,
       "figure.titlesize": 14}

_COLORS = {"gram": "tab:blue", "cholesky": "tab:purple", "closed_form": "tab:red",
           "sgd_epoch": "tab:green", "sgd_to_tolerance": "tab:orange"}
_LABELS = {"gram": "Gram XᵀX, Xᵀy", "cholesky": "Cholesky solve", "closed_form": "closed form",
           "sgd_epoch": "SGD, one epoch", "sgd_to_tolerance": "SGD to tolerance"}
# Gram and the closed form nearly coincide at small D (the solve is a few % of the total): the
# closed form is drawn as large squares and a broad pale band, Gram as small circles and a thin
# line on top of it, so both stay visible where they overlap.
_MARKERS = {"gram": ("o", 6, 5), "closed_form": ("s", 11, 3), "cholesky": ("D", 7, 4),
            "sgd_epoch": ("^", 8, 4), "sgd_to_tolerance": ("o", 7, 4)}
_FIT_LINE = {"closed_form": dict(lw=6, alpha=0.3, solid_capstyle="butt")}
_LEGEND = dict(framealpha=0.95)
# Epoch labels: tried in this order until one overlaps no marker, label or the axes' edge.
_LABEL_SPOTS = [(0, -7, "center", "top"), (0, 7, "center", "bottom"),
                (7, 0, "left", "center"), (-7, 0, "right", "center"),
                (6, -6, "left", "top"), (-6, 6, "right", "bottom"),
                (6, 6, "left", "bottom"), (-6, -6, "right", "top"),
                (0, -18, "center", "top"), (0, 18, "center", "bottom")]


def import_pyplot():
    """Import matplotlib's pyplot on the non-interactive Agg backend.

    Raises
    ------
    ImportError
        Saying how to install matplotlib, or to leave out ``--plot``.
    """
    try:
        import matplotlib
    except ImportError:
        raise ImportError(
            "--plot needs matplotlib, which is not installed. Install it with "
            "`pip install matplotlib` (or `pip install fastlin[plot]`), or leave out --plot."
        ) from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def check_plot_path(path: str) -> str:
    """Check early that matplotlib is importable and can write ``path``'s format; return ``path``.

    Raises
    ------
    ImportError
        Without matplotlib (:func:`import_pyplot`).
    ValueError
        For an extension matplotlib cannot write, listing the ones it can.
    """
    plt = import_pyplot()
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    fig = plt.figure()
    try:
        formats = fig.canvas.get_supported_filetypes()
    finally:
        plt.close(fig)
    if ext not in formats:
        raise ValueError(f"--plot {path!r}: unknown image format {ext!r}; use one of "
                         + ", ".join(sorted(formats)) + ".")
    return path


def write_plot(report: dict, path: str) -> None:
    """Write :func:`build_figure` of ``report`` to ``path`` atomically, at :data:`SAVE_DPI`.

    Parameters
    ----------
    report : dict
        The document of :func:`fastlin.report.run`, or its JSON read back.
    path : str
        The image; its extension picks the format (png when there is none).
    """
    plt = import_pyplot()
    fig = build_figure(report)

    def write(tmp):
        fig.savefig(tmp, dpi=SAVE_DPI,
                    format=os.path.splitext(path)[1].lstrip(".").lower() or "png")

    try:
        atomic_write_bytes(path, write)
    finally:
        plt.close(fig)


def build_figure(report: dict):
    """The report's figure: three log-log panels and a caption; the caller closes it.

    (a) time against N at fixed D and (b) against D (Cholesky at any N): measured medians (filled
    markers; hollow = shown but not fitted), the fitted power law (solid) and the theoretical
    slope through the same points (dotted); (c) the crossover along D: closed form against SGD to
    tolerance, with epochs annotated. Crossovers are marked: measured (dashed) and predicted by
    the fitted cost model (dash-dot). (d) says what the lines, "theory" and the model's constants
    are.
    """
    plt = import_pyplot()
    with plt.rc_context(_RC):
        fig = plt.figure(figsize=_FIGSIZE, dpi=SAVE_DPI)
        # Legends go under their panels (none hides a point); the caption fills the fourth cell.
        grid = fig.add_gridspec(2, 2, left=0.065, right=0.985, bottom=0.14, top=0.92,
                                wspace=0.2, hspace=0.62)
        axes = [fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1]),
                fig.add_subplot(grid[1, 0])]
        cross = {c["along"]: c for c in report["crossover"]}
        plan = report["machine"].get("run", {}).get("plan", {})
        pending = []
        _panel_n(axes[0], report["series"], cross, plan, pending)
        _panel_d(axes[1], report["series"], plan)
        _panel_crossover(axes[2], report["series"], cross.get("D"), pending)
        _caption(fig.add_subplot(grid[1, 1]), report)
        _finish(fig, axes, report["machine"])
        fig.canvas.draw()  # fixes the limits, so the labels can be placed in pixels
        for ax, x, y, text, color in pending:
            _place_label(fig, ax, x, y, text, color)
    return fig


def _panel_n(ax, series, cross, plan, pending):
    """(a) time against N at the N-sweep's D."""
    entries = [_draw_series(ax, s, "N", False, pending) for s in series if s["vary"] == "N"]
    _overlap_note(ax, series)
    if "N" in cross:
        _mark_crossover(ax, cross["N"], "N")
    ax.set_title(f"(a) time against N at D = {plan.get('n_sweep_D')}")
    ax.set_xlabel("N (samples)")
    _legend(ax, entries)


def _panel_d(ax, series, plan):
    """(b) time against D at the D-sweep's N, and the Cholesky series (independent of N)."""
    entries = [_draw_series(ax, s, "D", s["name"] == "cholesky", []) for s in series
               if s["vary"] == "D" and s["name"] != "sgd_to_tolerance"]
    ax.set_title(f"(b) time against D at N = {plan.get('d_sweep_N', 0):,}; Cholesky: any N")
    ax.set_xlabel("D (features)")
    _legend(ax, entries)


def _panel_crossover(ax, series, c, pending):
    """(c) closed form against SGD to tolerance along D; left empty without that crossover."""
    if not c:
        ax.set_title("(c) no crossover sweep along D in this report")
        return
    entries = [_draw_series(ax, s, "D", False, pending) for s in series
               if s["vary"] == "D" and s["name"] == "sgd_to_tolerance"]
    pts = [p for p in c["points"] if p["closed_form_seconds"]]
    ax.plot([p["D"] for p in pts], [p["closed_form_seconds"] for p in pts], "s-",
            color=_COLORS["closed_form"], ms=7, lw=1.4, label="closed form (measured)")
    _mark_crossover(ax, c, "D")
    ax.set_title(f"(c) closed form against SGD to tolerance along D, N = {c['fixed']['N']:,}")
    ax.set_xlabel("D (features)")
    _legend(ax, entries)


def _finish(fig, axes, m):
    """Log scales with readable ticks, grids, the y label and the title with the machine."""
    run_ = m.get("run", {})
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylabel(f"seconds (median, {run_.get('clock', 'wall').split(':')[0]} time)")
        ax.grid(True, which="major", alpha=0.45)
        ax.grid(True, which="minor", alpha=0.15)
        ax.autoscale_view()
        _log_ticks(ax.xaxis, ax.get_xlim(), _fmt_size)
        _log_ticks(ax.yaxis, ax.get_ylim(), _fmt_seconds)
    threads = run_.get("blas_threads")
    fig.suptitle(
        f"fastlin complexity: closed form against SGD ({run_.get('preset')} preset, "
        f"{run_.get('dtype')}, {threads} BLAS thread{'s' if threads != 1 else ''})\n"
        f"{m.get('cpu')}, {m.get('cores')} cores; peaks measured by the same run: "
        f"GEMM {m['gemm_gflops']:.0f} GFLOP/s, streaming read {m['read_gbps_1core']:.0f} GB/s "
        "per core")


def _log_ticks(axis, lim, formatter):
    """Major ticks at 1, 2, 5 x 10^k (decades only over a wide range), labelled plainly."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    decades = np.log10(max(lim) / min(lim))
    subs = (1.0, 2.0, 5.0) if decades <= 3.2 else (1.0,) if decades <= 7 else None
    if subs is None:  # very wide: every other decade
        axis.set_major_locator(LogLocator(base=100.0, numticks=20))
    else:
        axis.set_major_locator(LogLocator(base=10.0, subs=subs, numticks=40))
    axis.set_major_formatter(FuncFormatter(formatter))
    axis.set_minor_locator(LogLocator(base=10.0, subs=np.arange(2, 10), numticks=40))
    axis.set_minor_formatter(NullFormatter())


def _fmt_size(x, _pos=None):
    """A size: 5, 50, 500, 5k, 50k, 5M."""
    for div, unit in ((1e6, "M"), (1e3, "k")):
        if x >= div:
            return f"{x / div:.4g}{unit}"
    return f"{x:.4g}"


def _fmt_seconds(t, _pos=None):
    """A duration: 100 µs, 1 ms, 20 ms, 1 s."""
    for mul, unit in ((1.0, "s"), (1e3, "ms"), (1e6, "µs"), (1e9, "ns")):
        if t * mul >= 1 - 1e-9 or unit == "ns":
            return f"{t * mul:.4g} {unit}"
    return f"{t:g}"


def _draw_series(ax, s, vary, with_fixed, pending):
    """Points (hollow when not fitted), the fitted power law and the theory's slope.

    Returns the legend entry ``(handle, label)`` (None without points): the handle is the pair
    (fitted line, marker), drawn overlaid as in the panel.
    """
    pts = [p for p in s["points"] if p.get("seconds")]
    if not pts:
        return None
    from matplotlib.lines import Line2D

    col = _COLORS.get(s["name"], "k")
    marker, ms, z = _MARKERS.get(s["name"], ("o", 6, 4))
    if s["name"] == "sgd_to_tolerance":
        pending += [(ax, p[vary], p["seconds"], f"{p['epochs']}", col) for p in pts]
    fit = [p for p in pts if p.get("in_fit", True)]
    out = [p for p in pts if not p.get("in_fit", True)]
    line = _FIT_LINE.get(s["name"], dict(lw=1.8, alpha=0.9))
    for group, face in ((fit, col), (out, "white")):
        if group:
            ax.plot([p[vary] for p in group], [p["seconds"] for p in group], marker=marker,
                    ls="none", ms=ms, color=col, mfc=face, zorder=z)
    handle = Line2D([], [], marker=marker, ms=ms, ls="none", color=col)
    if s["exponent"] is not None and s.get("constant") and fit:
        x = np.array([p[vary] for p in fit], dtype=float)
        t = np.array([p["seconds"] for p in fit], dtype=float)
        xx = np.geomspace(x.min(), x.max(), 50)
        ax.plot(xx, s["constant"] * xx ** s["exponent"], "-", color=col, zorder=z - 1, **line)
        handle = (Line2D([], [], color=col, **line), handle)
        if s.get("theory") is not None:
            # The theory's slope through the points' log-mean: compares slopes, not constants.
            lx0, lt0 = np.mean(np.log(x)), np.mean(np.log(t))
            ax.plot(xx, np.exp(lt0 + s["theory"] * (np.log(xx) - lx0)), ":", color=col, lw=2,
                    zorder=z - 1)
    return handle, _series_label(s, with_fixed)


def _series_label(s, with_fixed):
    fixed = ", ".join(f"{k} = {v:,}" for k, v in s["fixed"].items() if v is not None)
    where = f" ({fixed})" if with_fixed and fixed else ""
    return (f"{_LABELS.get(s['name'], s['name'])}{where}: fitted slope {fmt(s['exponent'])}, "
            f"theory {fmt(s['theory'])}, R² {fmt(s['r2'], '.3f')}")


def _legend(ax, entries):
    """The legend under the panel: the series' (line, marker) pairs, then any labelled line."""
    from matplotlib.legend_handler import HandlerTuple

    entries = [e for e in entries if e]
    handles, labels = ax.get_legend_handles_labels()
    ax.legend([e[0] for e in entries] + handles, [e[1] for e in entries] + labels,
              loc="upper left", bbox_to_anchor=(0.0, -0.1), handler_map={tuple: HandlerTuple(
                  ndivide=1)}, handlelength=2.6, **_LEGEND)


def _overlap_note(ax, series):
    """Say why the Gram and closed-form lines of panel (a) nearly coincide."""
    cf = next((s for s in series if s["name"] == "closed_form" and s["vary"] == "N"), None)
    shares = [p["solve_seconds"] / p["seconds"] for p in (cf or {}).get("points", [])
              if p.get("seconds") and p.get("solve_seconds") is not None
              and p.get("in_fit", True)]
    if not shares:
        return
    ax.text(0.02, 0.98, "Red squares under blue circles: the closed form is Gram + the\n"
            f"Cholesky solve, {min(shares):.1%} to {max(shares):.1%} of it at this D",
            transform=ax.transAxes, ha="left", va="top", fontsize=MIN_FONT_PT + 0.5,
            bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="0.75", alpha=0.95), zorder=6)


def _mark_crossover(ax, c, var):
    """Vertical lines, in the legend: the measured (dashed) and predicted (dash-dot) crossovers.

    Without a measured crossover the legend says on which side the whole sweep fell.
    """
    lo, hi = c["range"]
    if c.get("measured") is not None:
        side = ">" if c.get("measured_direction") == "sgd_cheaper_above" else "<"
        ax.axvline(c["measured"], color="k", ls="--", lw=1.5,
                   label=f"measured crossover, {var} ≈ {c['measured']:,.0f} "
                         f"(SGD cheaper for {var} {side} it)")
    else:
        what = {"sgd_cheaper_throughout": "SGD cheaper",
                "closed_form_cheaper_throughout": "closed form cheaper"}
        ax.plot([], [], ls="none",
                label=f"measured: no crossover, {what.get(c.get('measured_direction'), 'no data')}"
                      f" over all of {var} = {lo:,}–{hi:,}")
    # A prediction far outside the sweep would stretch the axis and squash the measurements.
    if c.get("predicted") is not None and lo / 3 <= c["predicted"] <= hi * 3:
        ax.axvline(c["predicted"], color="dimgray", ls="-.", lw=1.5,
                   label=f"model's crossover, {var} ≈ {c['predicted']:,.0f} "
                         "(cost model, see (d))")


def caption_lines(report: dict) -> list:
    """Panel (d): its title, then what the marks, "theory" and the cost model's constants mean."""
    run_ = report["machine"].get("run", {})
    tol = run_.get("plan", {}).get("tol")
    mixed = [s for s in report["series"]
             if s["name"] in ("closed_form", "sgd_to_tolerance") and s["theory"] is not None]
    here = "; ".join(f"{_LABELS[s['name']]} along {s['vary']}: {s['theory']:.2f}" for s in mixed)
    lines = [
        "(d) How to read this figure",
        f"Points: medians of timed rounds ({run_.get('clock', 'wall').split(':')[0]} time). "
        "Hollow points are shown but not fitted (small N, there for the crossover).",
        "Solid line: the power law t = C·xᵖ fitted to the filled points; p is the legend's "
        "\"fitted slope\".",
        "Dotted line, \"theory\": the exponent the operation count predicts, drawn through the "
        "same points to compare slopes. Gram N·D²: 1 along N, 2 along D; Cholesky D³/3: 3; one "
        "SGD epoch N·D: 1. The closed form (N·D² + D³/3) and SGD to tolerance (epochs·N·D, "
        "with the measured epochs) mix terms, so their theory is the log-log slope of that "
        "count over the same points" + (f" ({here})." if here else "."),
        "Numbers by the orange points: epochs SGD needed to reach a relative objective gap of "
        f"{fmt(tol, 'g')} (from the closed-form optimum).",
        "Dashed: measured crossover, where SGD to tolerance gets cheaper than the closed form "
        "(log-log interpolation). Dash-dot: the crossover the cost model predicts.",
    ]
    return lines + _model_lines(run_.get("model_constants") or {})


def _model_lines(k):
    """The cost model's paragraphs, with this run's fitted constants."""
    if not all(k.get(name) for name in "abck"):
        return ["Cost model: not fitted (a series it needs has no usable point)."]
    a, b, c, kk = k["a"], k["b"], k["c"], k["k"]
    return [
        "Cost model fitted to this run: closed form a·N·D² + b·D³; SGD to tolerance E·c·N·D "
        f"with E = max(1, k·D/N) epochs. a = {a:.3g} s per N·D² (Gram), b = {b:.3g} s per D³ "
        f"(Cholesky), c = {c * 1e9:.3g} ns per N·D (one epoch), k = {kk:.0f}: the epoch "
        "constant, SGD needs about k·D/N epochs (fitted to the points that needed two or "
        "more).",
        f"Hence SGD is cheaper once D > c/a ≈ {c / a:,.0f} while N ≥ k·D (one epoch), and "
        f"once N > k·c/a ≈ {kk * c / a:,.0f} while N < k·D.",
    ]


def _caption(ax, report):
    """Panel (d): the caption, as bullets wrapped to the panel's width."""
    ax.set_axis_off()
    lines = caption_lines(report)
    body = "\n".join(textwrap.fill(line, 80, initial_indent="• ", subsequent_indent="   ")
                     for line in lines[1:])
    ax.set_title(lines[0], loc="left", fontweight="bold")
    ax.text(0.0, 1.0, body, transform=ax.transAxes, ha="left", va="top",
            fontsize=MIN_FONT_PT + 1, linespacing=1.3)


def _marker_boxes(ax):
    """Pixel boxes of every marker drawn in ``ax``."""
    from matplotlib.transforms import Bbox

    boxes = []
    for line in ax.lines:
        if line.get_marker() in (None, "", "None", " ") or not len(line.get_xdata()):
            continue
        half = line.get_markersize() * ax.figure.dpi / 72 / 2 + line.get_markeredgewidth()
        xy = line.get_transform().transform(line.get_xydata())
        boxes += [Bbox([[x - half, y - half], [x + half, y + half]]) for x, y in xy]
    return boxes


def _line_pixels(ax, step=2.0):
    """Points every ``step`` pixels along every drawn line of ``ax``, as an (n, 2) array."""
    out = [np.empty((0, 2))]
    for line in ax.lines:
        if line.get_linestyle() in ("None", "none", "", " ") or len(line.get_xdata()) < 2:
            continue
        xy = line.get_transform().transform(line.get_xydata())
        for p, q in zip(xy[:-1], xy[1:]):
            n = max(2, int(np.hypot(*(q - p)) / step) + 1)
            if np.all(np.isfinite(p)) and np.all(np.isfinite(q)):
                out.append(p + np.linspace(0, 1, n)[:, None] * (q - p))
    return np.concatenate(out)


def _place_label(fig, ax, x, y, text, color):
    """Annotate (x, y) at the first spot of :data:`_LABEL_SPOTS` inside the axes and clear of
    markers, labels and lines; failing that, clear of markers and labels only."""
    renderer = fig.canvas.get_renderer()
    taken = _marker_boxes(ax) + [t.get_window_extent(renderer) for t in ax.texts if t.get_text()]
    lines = _line_pixels(ax)
    frame = ax.get_window_extent(renderer)
    boxes = []
    for dx, dy, ha, va in _LABEL_SPOTS:
        ann = ax.annotate(text, (x, y), textcoords="offset points", xytext=(dx, dy), ha=ha,
                          va=va, fontsize=MIN_FONT_PT + 1, color=color, fontweight="bold")
        box = ann.get_window_extent(renderer)
        ann.remove()
        if frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1) \
                and not any(box.overlaps(o) for o in taken):
            hits = np.count_nonzero((lines[:, 0] >= box.x0) & (lines[:, 0] <= box.x1)
                                    & (lines[:, 1] >= box.y0) & (lines[:, 1] <= box.y1))
            boxes.append((hits, len(boxes), (dx, dy, ha, va)))
            if hits == 0:
                break
    dx, dy, ha, va = min(boxes)[2] if boxes else _LABEL_SPOTS[0]
    return ax.annotate(text, (x, y), textcoords="offset points", xytext=(dx, dy), ha=ha, va=va,
                       fontsize=MIN_FONT_PT + 1, color=color, fontweight="bold")
