"""The report's figure: three log-log panels, written atomically.

matplotlib is optional: it is imported only here, inside functions, and only when a plot is asked
for; :func:`check_plot_path` lets the command line fail before any measurement when it is missing
or cannot write the requested format.
"""

from __future__ import annotations

import os

import numpy as np

from .output import atomic_write_bytes
from .text import fmt

__all__ = ["import_pyplot", "check_plot_path", "write_plot"]

_COLORS = {"gram": "tab:blue", "cholesky": "tab:purple", "closed_form": "tab:red",
           "sgd_epoch": "tab:green", "sgd_to_tolerance": "tab:orange"}
_LABELS = {"gram": "Gram XᵀX, Xᵀy", "cholesky": "Cholesky solve", "closed_form": "closed form",
           "sgd_epoch": "SGD, one epoch", "sgd_to_tolerance": "SGD to tolerance"}
_LEGEND = dict(fontsize=7.3, framealpha=0.92)


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
    """Three log-log panels, written atomically.

    (a) time against N at fixed D and (b) against D (Cholesky at any N): measured medians (filled
    markers; hollow = shown but not fitted), the fitted power law (solid) and the theoretical
    slope through the same points (dotted); (c) the crossover along D: closed form against SGD to
    tolerance, with epochs annotated. Crossovers are marked: measured (dashed) and predicted by
    the fitted cost model (dash-dot).

    Parameters
    ----------
    report : dict
        The document of :func:`fastlin.report.run`.
    path : str
        The image; its extension picks the format (png when there is none).
    """
    plt = import_pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(18, 5.8),
                             gridspec_kw={"width_ratios": [1.05, 1.05, 0.9]})
    cross = {c["along"]: c for c in report["crossover"]}
    plan = report["machine"].get("run", {}).get("plan", {})
    _panel_n(axes[0], report["series"], cross, plan)
    _panel_d(axes[1], report["series"], plan)
    _panel_crossover(axes[2], report["series"], cross.get("D"))
    _finish(fig, axes, report["machine"])

    def write(tmp):
        fig.savefig(tmp, dpi=110, format=os.path.splitext(path)[1].lstrip(".").lower() or "png")

    try:
        atomic_write_bytes(path, write)
    finally:
        plt.close(fig)


def _panel_n(ax, series, cross, plan):
    """(a) time against N at the N-sweep's D."""
    for s in series:
        if s["vary"] == "N":
            _draw_series(ax, s, "N", False)
    if "N" in cross:
        _mark_crossover(ax, cross["N"], "N")
    ax.set_title(f"(a) time against N, D = {plan.get('n_sweep_D')} "
                 "(hollow: not fitted; numbers: SGD epochs)", fontsize=10)
    ax.set_xlabel("N (samples)")
    ax.legend(loc="lower right", **_LEGEND)


def _panel_d(ax, series, plan):
    """(b) time against D at the D-sweep's N, and the Cholesky series (independent of N)."""
    for s in series:
        if s["vary"] == "D" and s["name"] != "sgd_to_tolerance":
            _draw_series(ax, s, "D", s["name"] == "cholesky")
    ax.set_title(f"(b) time against D, N = {plan.get('d_sweep_N', 0):,}; Cholesky: any N",
                 fontsize=10)
    ax.set_xlabel("D (features)")
    ax.legend(loc="upper left", **_LEGEND)


def _panel_crossover(ax, series, c):
    """(c) closed form against SGD to tolerance along D; left empty without that crossover."""
    if not c:
        return
    for s in series:
        if s["vary"] == "D" and s["name"] == "sgd_to_tolerance":
            _draw_series(ax, s, "D", False)
    pts = [p for p in c["points"] if p["closed_form_seconds"]]
    ax.plot([p["D"] for p in pts], [p["closed_form_seconds"] for p in pts], "s-",
            color=_COLORS["closed_form"], ms=4, lw=1.2, label="closed form (measured)")
    _mark_crossover(ax, c, "D")
    ax.set_title(f"(c) crossover along D, N = {c['fixed']['N']:,} (numbers: SGD epochs)",
                 fontsize=10)
    ax.set_xlabel("D (features)")
    ax.legend(loc="upper left", **_LEGEND)


def _finish(fig, axes, m):
    """Log scales, grids, the y label and the title with the machine's peaks."""
    run_ = m.get("run", {})
    plan = run_.get("plan", {})
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylabel(f"seconds (median, {run_.get('clock', 'wall').split(':')[0]} time)")
        ax.grid(True, which="both", alpha=0.25)
    fig.suptitle(
        f"fastlin complexity ({run_.get('preset')}, {run_.get('dtype')}, "
        f"{run_.get('blas_threads')} BLAS thread) on {m.get('cpu')}, {m.get('cores')} cores: "
        f"GEMM {m['gemm_gflops']:.0f} GFLOP/s, read {m['read_gbps_1core']:.0f} GB/s per core.  "
        f"Solid: fitted slope; dotted: theory; SGD to tolerance = relative objective gap "
        f"{plan.get('tol', 0):g}.", fontsize=9.5)
    fig.tight_layout()


def _draw_series(ax, s, vary, with_fixed):
    """Points (hollow when not fitted), the fitted power law and the theory's slope."""
    pts = [p for p in s["points"] if p.get("seconds")]
    if not pts:
        return
    col = _COLORS.get(s["name"], "k")
    if s["name"] == "sgd_to_tolerance":
        for p in pts:
            ax.annotate(f"{p['epochs']}", (p[vary], p["seconds"]), textcoords="offset points",
                        xytext=(0, -11), ha="center", fontsize=7, color=col)
    fit = [p for p in pts if p.get("in_fit", True)]
    out = [p for p in pts if not p.get("in_fit", True)]
    ax.plot([p[vary] for p in fit], [p["seconds"] for p in fit], "o", color=col, ms=5,
            label=_series_label(s, with_fixed))
    if out:
        ax.plot([p[vary] for p in out], [p["seconds"] for p in out], "o", mfc="none", color=col,
                ms=5)
    if s["exponent"] is not None and fit:
        x = np.array([p[vary] for p in fit], dtype=float)
        t = np.array([p["seconds"] for p in fit], dtype=float)
        xx = np.geomspace(x.min(), x.max(), 50)
        ax.plot(xx, s["constant"] * xx ** s["exponent"], "-", color=col, lw=1.6, alpha=0.85)
        # The theory's slope through the points' log-mean: compares slopes, not constants.
        lx0, lt0 = np.mean(np.log(x)), np.mean(np.log(t))
        ax.plot(xx, np.exp(lt0 + s["theory"] * (np.log(xx) - lx0)), ":", color=col, lw=1.8)


def _series_label(s, with_fixed):
    fixed = ", ".join(f"{k}={v:,}" for k, v in s["fixed"].items() if v is not None)
    where = f" ({fixed})" if with_fixed and fixed else ""
    return (f"{_LABELS.get(s['name'], s['name'])}{where}: slope {fmt(s['exponent'])} "
            f"(theory {fmt(s['theory'])}, R² {fmt(s['r2'], '.3f')})")


def _mark_crossover(ax, c, var):
    """Vertical lines at the measured (dashed) and predicted (dash-dot) crossovers."""
    if c.get("measured") is not None:
        ax.axvline(c["measured"], color="k", ls="--", lw=1.1)
        ax.annotate(f" measured crossover\n {var} ≈ {c['measured']:,.0f}", (c["measured"], 0.98),
                    xycoords=("data", "axes fraction"), va="top", ha="left", fontsize=8)
    lo, hi = c["range"]
    # A prediction far outside the sweep would stretch the axis and squash the measurements.
    if c.get("predicted") is not None and lo / 3 <= c["predicted"] <= hi * 3:
        ax.axvline(c["predicted"], color="gray", ls="-.", lw=1.1)
        ax.annotate(f" model's crossover\n {var} ≈ {c['predicted']:,.0f}", (c["predicted"], 0.86),
                    xycoords=("data", "axes fraction"), va="top", ha="left", fontsize=8,
                    color="dimgray")
