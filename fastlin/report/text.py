"""The report as text: the table printed at the end of ``fastlin bench complexity``."""

from __future__ import annotations

__all__ = ["format_report", "fmt"]

_THROUGHOUT = {
    "sgd_cheaper_throughout": "SGD cheaper throughout the sweep",
    "closed_form_cheaper_throughout": "closed form cheaper throughout the sweep",
    "no_data": "no data",
}


def fmt(x, spec=".2f", none="-"):
    """``format(x, spec)``, or ``none`` for a missing value."""
    return none if x is None else format(x, spec)


def format_report(report: dict) -> str:
    """The human-readable table printed at the end of ``fastlin bench complexity``.

    Parameters
    ----------
    report : dict
        The document of :func:`fastlin.report.run` (or its JSON, read back).

    Returns
    -------
    str
        The header (machine, peaks, regime), one line per series, then the crossovers.
    """
    lines = _header_lines(report["machine"])
    head = (f"{'series':<17}{'vary':<5}{'fixed':<11}{'fitted range':<17}{'exponent':>9}"
            f"{'theory':>8}{'R²':>7}   {'best rate (of peak)'}")
    lines.append(head)
    lines.append("-" * len(head) + "-" * 8)
    lines += [_series_line(s) for s in report["series"]]
    lines.append("")
    lines += _crossover_lines(report["crossover"])
    return "\n".join(lines)


def _header_lines(m):
    run_ = m.get("run", {})
    return [
        f"fastlin complexity report — {m.get('cpu')}, {m.get('cores')} cores, "
        f"preset {run_.get('preset')}, {run_.get('dtype')}",
        f"machine peaks: GEMM {m['gemm_gflops']:.1f} GFLOP/s (n={m['gemm_size']}), "
        f"streaming read {m['read_gbps']:.1f} GB/s all cores, "
        f"{m['read_gbps_1core']:.1f} GB/s one core",
        run_.get("asymptotic_regime", ""),
        f"each point: {run_.get('statistic')}; compile time "
        f"{fmt(run_.get('compile_seconds'), '.1f')} s excluded",
        "",
    ]


def _series_line(s):
    fixed = ",".join(f"{k}={v}" for k, v in s["fixed"].items() if v is not None) or "-"
    fr = s.get("fit_range") or s.get("range")
    rng_ = f"{fr[0]:,}..{fr[1]:,}" if fr else "-"
    return (f"{s['name']:<17}{s['vary']:<5}{fixed:<11}{rng_:<17}{fmt(s['exponent']):>9}"
            f"{fmt(s['theory']):>8}{fmt(s['r2'], '.3f'):>7}   {_best_rate(s)}")


def _best_rate(s):
    """The series' best achieved rate (and share of the peak), or its epoch range."""
    pts = [p for p in s["points"] if p.get("seconds")]
    if s["name"] in ("gram", "cholesky") and pts:
        best = max(pts, key=lambda p: p["gflops"])
        return f"{best['gflops']:.1f} GFLOP/s ({best['peak_fraction']:.0%})"
    if s["name"] == "closed_form" and pts:
        return f"{max(p['gflops'] for p in pts):.1f} GFLOP/s"
    if s["name"] == "sgd_epoch" and pts:
        best = max(pts, key=lambda p: p["gbps"])
        return f"{best['gbps']:.1f} GB/s ({best['peak_fraction']:.0%} of 1 core)"
    if s["name"] == "sgd_to_tolerance":
        ep = [p["epochs"] for p in s["points"]]
        miss = sum(1 for p in s["points"] if not p["reached"])
        return f"epochs {min(ep)}..{max(ep)}" + (f", {miss} not reached" if miss else "")
    return ""


def _crossover_lines(crossovers):
    lines = ["crossover (SGD to tolerance vs closed form):"]
    for c in crossovers:
        fixed = ",".join(f"{k}={v:,}" for k, v in c["fixed"].items())
        var = c["along"]
        lines.append(f"  along {var} at {fixed} ({c['sweep']}, "
                     f"{var} {c['range'][0]:,}..{c['range'][1]:,}):")
        lines.append(f"    measured : {_dir_text(c['measured_direction'], c['measured'], var)}")
        lines.append(f"    predicted: {_dir_text(c['predicted_direction'], c['predicted'], var)}")
    if crossovers and crossovers[0].get("rule"):
        lines.append("  " + crossovers[0]["rule"])
    return lines


def _dir_text(direction, x, var):
    if x is None:
        return _THROUGHOUT.get(direction, direction)
    side = ">" if direction == "sgd_cheaper_above" else "<"
    return f"{var} ≈ {x:,.0f} (SGD cheaper for {var} {side} {x:,.0f})"
