"""The complexity report: fits, crossovers, memory refusal, the CLI's JSON schema and bad input."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

from fastlin import cli
from fastlin import report as cx

SERIES = {"gram", "cholesky", "closed_form", "sgd_epoch", "sgd_to_tolerance"}


# ------------------------------------------------------------------------------------------------
# Exponent fit on synthetic timings
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.5, 1.0, 2.0, 3.0])
def test_fit_recovers_exact_power_law(p):
    x = np.geomspace(100, 6400, 7)
    exponent, const, r2 = cx.fit_power_law(x, 2.5e-9 * x**p)
    assert exponent == pytest.approx(p, abs=1e-12)
    assert const == pytest.approx(2.5e-9, rel=1e-9)
    assert r2 == pytest.approx(1.0, abs=1e-12)


def test_fit_with_multiplicative_noise_recovers_exponent_and_r2_drops():
    rng = np.random.default_rng(0)
    x = np.geomspace(1000, 4000, 5)
    noise = np.exp(rng.normal(0, 0.05, x.size))  # ~5 % timing noise
    exponent, _, r2 = cx.fit_power_law(x, 1e-10 * x**3 * noise)
    assert abs(exponent - 3.0) < 0.2
    assert 0.95 < r2 < 1.0
    # R² is the share of log-variance explained: a flat series with noise explains ~nothing
    _, _, r2_flat = cx.fit_power_law(x, 1e-3 * np.exp(rng.normal(0, 0.05, x.size)))
    assert r2_flat < 0.9


def test_fit_matches_numpy_polyfit_and_r2_formula():
    rng = np.random.default_rng(1)
    x = np.geomspace(10, 1e4, 9)
    t = 3e-7 * x**1.3 * np.exp(rng.normal(0, 0.2, x.size))
    exponent, const, r2 = cx.fit_power_law(x, t)
    p, c = np.polyfit(np.log(x), np.log(t), 1)
    resid = np.log(t) - (p * np.log(x) + c)
    ref_r2 = 1 - resid @ resid / np.sum((np.log(t) - np.log(t).mean()) ** 2)
    assert exponent == pytest.approx(p)
    assert const == pytest.approx(math.exp(c))
    assert r2 == pytest.approx(ref_r2)


def test_fit_ignores_unusable_points_and_degenerate_input():
    x = [1000, 2000, 4000, 8000]
    t = [1e-3, 2e-3, None, 8e-3]
    exponent, _, _ = cx.fit_power_law(x, np.array(t, dtype=float))  # None -> nan, ignored
    assert exponent == pytest.approx(1.0)
    assert cx.fit_power_law([5], [1.0]) == (None, None, None)
    assert cx.fit_power_law([5, 5, 5], [1.0, 2.0, 3.0]) == (None, None, None)
    assert cx.fit_power_law([1, 2], [0.0, -1.0]) == (None, None, None)


# ------------------------------------------------------------------------------------------------
# Crossovers on synthetic numbers
# ------------------------------------------------------------------------------------------------


def test_crossover_from_ratios_interpolates_in_log_log():
    x = np.array([10, 20, 40, 80, 160])
    ratio = (x / 33.0) ** -1.0  # SGD / closed form, = 1 at x = 33
    xc, direction = cx.crossover_from_ratios(x, ratio)
    assert xc == pytest.approx(33.0, rel=1e-12)
    assert direction == "sgd_cheaper_above"
    xc, direction = cx.crossover_from_ratios(x, 1 / ratio)
    assert xc == pytest.approx(33.0, rel=1e-12)
    assert direction == "sgd_cheaper_below"


def test_crossover_from_ratios_one_sided_and_empty():
    assert cx.crossover_from_ratios([1, 2, 3], [0.5, 0.4, 0.2]) == (None, "sgd_cheaper_throughout")
    assert cx.crossover_from_ratios([1, 2, 3], [2, 3, 4]) == (None, "closed_form_cheaper_throughout")
    assert cx.crossover_from_ratios([1, 2], [math.nan, math.nan]) == (None, "no_data")


def test_predicted_crossover_matches_the_cost_model_algebra():
    # T_closed = a N D^2 + b D^3, T_sgd = max(1, k D / N) c N D
    consts = {"a": 2e-11, "b": 1e-11, "c": 1e-9, "k": 200.0}
    # One-epoch regime (N >> k D): c N D = a N D^2 + b D^3  ->  D* = c/a when b D / (a N) is tiny
    d_star, direction = cx.predict_crossover(consts, "D", 10**8)
    assert direction == "sgd_cheaper_above"
    assert d_star == pytest.approx(consts["c"] / consts["a"], rel=0.01)
    # Multi-epoch regime (N < k D): k c D^2 = a N D^2 + b D^3  ->  N* = (k c - b D) / a
    D = 1000
    n_star = (consts["k"] * consts["c"] - consts["b"] * D) / consts["a"]
    assert n_star < consts["k"] * D
    got, direction = cx.predict_crossover(consts, "N", D)
    assert direction == "sgd_cheaper_above"
    assert got == pytest.approx(n_star, rel=0.01)
    # The cost model itself
    t_cf, t_sgd, epochs = cx.model_times(1000, 100, consts)
    assert epochs == pytest.approx(20.0)
    assert t_cf == pytest.approx(2e-11 * 1000 * 100**2 + 1e-11 * 100**3)
    assert t_sgd == pytest.approx(20 * 1e-9 * 1000 * 100)


def test_predicted_crossover_without_constants():
    assert cx.predict_crossover({"a": None, "b": 1, "c": 1, "k": 1}, "N", 10) == (None, "no_data")


# ------------------------------------------------------------------------------------------------
# --sizes parsing and the memory guard
# ------------------------------------------------------------------------------------------------


def test_parse_sizes_overrides_and_notation():
    plan = cx.parse_sizes(["N=2k,1e3,4000", "fixed_D=64", "chol=500", "repeats=3", "tol=1e-2"], cx.PRESETS["quick"])
    assert plan.name == "custom"
    assert plan.n_sweep_N == (1000, 2000, 4000)
    assert plan.n_sweep_D == 64 and plan.chol_D == (500,) and plan.repeats == 3 and plan.tol == 0.01
    assert plan.d_sweep_D == cx.PRESETS["quick"].d_sweep_D
    assert cx.parse_sizes(["preset=tiny"], cx.PRESETS["quick"]) == cx.PRESETS["tiny"]
    assert cx.parse_sizes(["N_extra="], cx.PRESETS["tiny"]).n_extra == ()


@pytest.mark.parametrize("tokens, match", [
    (["bogus=3"], "unknown key 'bogus'"),
    (["N=abc"], "not a number"),
    (["N=1.5"], "positive integer"),
    (["N=0"], "positive integer"),
    (["N"], "KEY=VALUES"),
    (["preset=huge"], "unknown preset"),
    (["tol=-1"], "positive number"),
])
def test_parse_sizes_rejects_bad_values(tokens, match):
    with pytest.raises(ValueError, match=match):
        cx.parse_sizes(tokens, cx.PRESETS["quick"])


def test_memory_estimate_counts_the_largest_array():
    plan = cx.parse_sizes(["N=1000000", "fixed_D=1000"], cx.PRESETS["tiny"])
    need, phases = cx.estimate_memory(plan, 8)
    assert need >= 1_000_000 * 1000 * 8
    assert need < 1.5 * (1_000_000 * 1000 * 8 + sum(v for v in phases.values()))
    assert cx.estimate_memory(plan, 4)[0] < need  # float32 X halves the buffer


def test_oversized_sweep_is_refused_with_the_estimate():
    plan = cx.parse_sizes(["N=1000000", "fixed_D=4000"], cx.PRESETS["tiny"])  # X alone: 32 GB
    with pytest.raises(cx.SweepTooLarge, match=r"estimated 3\d\.\d\d GiB.*only 1\.00 GiB"):
        cx.check_memory(plan, 8, available=1 << 30)
    assert cx.check_memory(cx.PRESETS["tiny"], 8, available=1 << 40) > 0


def test_cli_refuses_oversized_sweep_before_allocating(tmp_path, capsys):
    out = tmp_path / "r.json"
    tracemalloc.start()
    try:
        code = cli.main(["bench", "complexity", "--sizes", "N=1e9", "fixed_D=1e5", "--json", str(out),
                         "--no-progress"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    err = capsys.readouterr().err
    assert code != 0
    assert "Refusing to run" in err and "estimated" in err and "GiB" in err
    assert peak < 20 * 2**20  # nothing of the sweep's size was allocated
    assert not out.exists()


def test_run_refuses_oversized_sweep():
    plan = cx.parse_sizes(["N=1e9", "fixed_D=1e5"], cx.PRESETS["tiny"])
    with pytest.raises(cx.SweepTooLarge):
        cx.run(plan)


# ------------------------------------------------------------------------------------------------
# The CLI end to end on the tiny preset (seconds)
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    pytest.importorskip("matplotlib")  # in the `test` extra; the plot is part of this run
    d = tmp_path_factory.mktemp("cx")
    js, png = d / "report.json", d / "plot.png"
    argv = ["bench", "complexity", "--sizes", "preset=tiny", "--json", str(js), "--plot", str(png),
            "--seed", "3", "--no-progress"]
    code = cli.main(argv)
    return code, js, png


def test_cli_writes_json_with_the_issue_schema(tiny_run):
    code, js, _ = tiny_run
    assert code == 0
    report = json.loads(js.read_text())
    assert set(report) == {"machine", "series", "crossover"}
    m = report["machine"]
    for key in ("gemm_gflops", "read_gbps", "read_gbps_1core", "cpu", "cores"):
        assert key in m
    assert m["gemm_gflops"] > 0 and m["read_gbps"] > 0
    assert m["run"]["seed"] == 3 and m["run"]["dtype"] == "float64"
    names = {s["name"] for s in report["series"]}
    assert SERIES <= names
    for s in report["series"]:
        assert {"name", "vary", "fixed", "points", "exponent", "r2", "theory"} <= set(s)
        assert s["vary"] in {"N", "D"}
        assert isinstance(s["fixed"], dict)
        assert s["points"], s["name"]
        for p in s["points"]:
            assert {"N", "D", "seconds"} <= set(p)
            assert p["seconds"] is None or p["seconds"] > 0
        assert isinstance(s["theory"], float)
        if s["exponent"] is not None:
            assert -1 <= s["r2"] <= 1
    by = {(s["name"], s["vary"]) for s in report["series"]}
    for needed in [("gram", "N"), ("gram", "D"), ("cholesky", "D"), ("closed_form", "N"),
                   ("closed_form", "D"), ("sgd_epoch", "N"), ("sgd_epoch", "D"),
                   ("sgd_to_tolerance", "N")]:
        assert needed in by
    theory = {(s["name"], s["vary"]): s["theory"] for s in report["series"]}
    assert theory[("gram", "N")] == 1.0 and theory[("gram", "D")] == 2.0
    assert theory[("cholesky", "D")] == 3.0 and theory[("sgd_epoch", "N")] == 1.0
    assert report["crossover"]
    for c in report["crossover"]:
        assert c["along"] in {"N", "D"}
        assert {"measured", "predicted", "points", "fixed"} <= set(c)
    consts = m["run"]["model_constants"]
    assert all(consts[k] > 0 for k in "abck")


def test_sgd_to_tolerance_reaches_the_gap_it_reports(tiny_run):
    _, js, _ = tiny_run
    report = json.loads(js.read_text())
    tol = report["machine"]["run"]["plan"]["tol"]
    for s in report["series"]:
        if s["name"] == "sgd_to_tolerance":
            for p in s["points"]:
                assert p["epochs"] >= 1
                if p["reached"]:
                    assert 0 <= p["gap"] <= tol or p["gap"] < 0  # the average can even undershoot f*
                    assert p["seconds"] > 0


def test_cli_writes_a_png_plot(tiny_run):
    _, _, png = tiny_run
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [f for f in os.listdir(png.parent) if ".tmp" in f]


def test_report_table_mentions_every_series_and_the_crossover(tiny_run):
    _, js, _ = tiny_run
    text = cx.format_report(json.loads(js.read_text()))
    for name in SERIES:
        assert name in text
    assert "crossover" in text and "predicted" in text and "measured" in text


# ------------------------------------------------------------------------------------------------
# Bad input: exit code != 0, clear message, nothing written
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv, match", [
    (["bench", "complexity", "--bogus"], "unrecognized arguments: --bogus"),
    (["bench", "complexity", "--quick", "--full"], "not allowed with"),
    (["bench", "complexity", "--dtype", "float16"], "invalid choice"),
    (["bench", "nosuch"], "invalid choice"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
    (["bench", "complexity", "--sizes", "bogus=1"], "unknown key"),
    (["bench", "complexity", "--threads", "-1"], "--threads must be >= 0"),
])
def test_bad_arguments_exit_nonzero_with_a_message(argv, match, capsys):
    code = cli.main(argv)
    assert code == 2
    assert match in capsys.readouterr().err


@pytest.mark.parametrize("opt", ["--json", "--plot"])
def test_unwritable_paths_fail_early(opt, tmp_path, capsys):
    missing = tmp_path / "no" / "such" / "dir" / "out.x"
    code = cli.main(["bench", "complexity", opt, str(missing), "--no-progress"])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err
    assert not missing.parent.exists()
    # a directory in the way
    code = cli.main(["bench", "complexity", opt, str(tmp_path), "--no-progress"])
    assert code == 2
    assert "is a directory" in capsys.readouterr().err
    # a parent that is a file
    f = tmp_path / "file"
    f.write_text("x")
    code = cli.main(["bench", "complexity", opt, str(f / "out.json"), "--no-progress"])
    assert code == 2
    assert os.listdir(tmp_path) == ["file"]


def test_unknown_plot_format_fails_early(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "plot.xyz"
    code = cli.main(["bench", "complexity", "--plot", str(out), "--no-progress"])
    assert code == 2
    assert "unknown image format 'xyz'" in capsys.readouterr().err
    assert not out.exists()


def test_json_is_strict_even_with_nan(tmp_path):
    target = tmp_path / "r.json"
    cx.write_json({"machine": {"x": float("nan")}, "series": [{"r2": np.float64("inf")}], "crossover": []},
                  str(target))
    assert json.loads(target.read_text()) == {"machine": {"x": None}, "series": [{"r2": None}], "crossover": []}


def test_atomic_write_leaves_nothing_half_written(tmp_path):
    target = tmp_path / "report.json"

    def failing(tmp):
        with open(tmp, "w") as fh:
            fh.write('{"half": ')
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        cx.atomic_write_bytes(str(target), failing)
    assert os.listdir(tmp_path) == []
    target.write_text("old")
    with pytest.raises(RuntimeError):
        cx.atomic_write_bytes(str(target), failing)
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["report.json"]
    cx.write_json({"machine": {}, "series": [], "crossover": []}, str(target))
    assert json.loads(target.read_text()) == {"machine": {}, "series": [], "crossover": []}


def test_missing_matplotlib_is_a_clear_error_before_any_work(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        cx.import_pyplot()
    out = tmp_path / "p.png"
    code = cli.main(["bench", "complexity", "--plot", str(out), "--no-progress"])
    assert code == 2
    assert "needs matplotlib" in capsys.readouterr().err
    assert not out.exists()


def test_progress_bar_falls_back_without_tqdm(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    callback, close = cli._progress_bar(10, True)
    assert callback is None
    close()


def test_python_dash_m_fastlin_runs_the_cli():
    proc = subprocess.run([sys.executable, "-m", "fastlin", "bench", "complexity", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    assert "--quick" in proc.stdout and "--json" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "fastlin", "bench", "complexity", "--nope"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--nope" in proc.stderr


# ------------------------------------------------------------------------------------------------
# The figure, as a reader sees it at the saved size (rendered with Agg, from the saved report)
# ------------------------------------------------------------------------------------------------

QUICK_JSON = os.path.join(os.path.dirname(__file__), os.pardir, "docs", "complexity-quick.json")


def _figure(report):
    from fastlin.report import plot

    fig = plot.build_figure(report)
    fig.canvas.draw()
    return fig, fig.canvas.get_renderer()


@pytest.fixture(scope="module")
def quick_figure():
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    with open(QUICK_JSON, encoding="utf-8") as fh:
        report = json.load(fh)
    fig, renderer = _figure(report)
    yield report, fig, renderer
    plt.close(fig)


def _legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_plot_legend_names_the_crossover_lines(quick_figure):
    report, fig, _ = quick_figure
    ax_n, _, ax_c = fig.axes[:3]
    cross = {c["along"]: c for c in report["crossover"]}
    texts = _legend_texts(ax_n)
    measured = [t for t in texts if t.startswith("measured crossover")]
    assert len(measured) == 1 and f"{cross['N']['measured']:,.0f}" in measured[0]
    assert any(t.startswith("model's crossover") for t in texts)
    # The dashed vertical line is the artist the legend entry names.
    dashed = [ln for ln in ax_n.lines if ln.get_label() == measured[0]]
    assert dashed and dashed[0].get_linestyle() == "--"
    # Along D this run measured no crossover: the legend says so rather than drawing nothing.
    assert cross["D"]["measured"] is None
    assert any("no crossover" in t and "SGD cheaper" in t for t in _legend_texts(ax_c))


def test_plot_explains_theory_and_the_model_constant_k(quick_figure):
    report, fig, _ = quick_figure
    from matplotlib.text import Text

    texts = [t.get_text() for t in fig.findobj(Text) if t.get_visible()]
    k = report["machine"]["run"]["model_constants"]["k"]
    sgd_d = next(s for s in report["series"]
                 if s["name"] == "sgd_to_tolerance" and s["vary"] == "D")
    assert any(f"theory {sgd_d['theory']:.2f}" in t for t in _legend_texts(fig.axes[2]))
    caption = " ".join(" ".join(t.split()) for t in texts)  # unwrapped
    assert f"k = {k:.0f}" in caption
    assert "E = max(1, k·D/N) epochs" in caption and "epoch constant" in caption
    assert "theory" in caption and "the exponent the operation count predicts" in caption
    assert f"SGD to tolerance along D: {sgd_d['theory']:.2f}" in caption


def test_plot_fonts_are_readable_at_the_saved_size(quick_figure, tiny_run, tmp_path):
    from matplotlib.text import Text

    from fastlin.report import plot

    _, fig, _ = quick_figure
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    assert len(texts) > 50
    small = [(t.get_text(), t.get_fontsize()) for t in texts
             if t.get_fontsize() * plot.SAVE_DPI / 72 < 13.5]  # 13.5 px: 9.7 pt at 100 dpi
    assert not small
    # The saved image is at SAVE_DPI: its pixels are the figure's inches times that.
    out = tmp_path / "p.png"
    plot.write_plot(json.loads(tiny_run[1].read_text()), str(out))
    head = out.read_bytes()[16:24]
    size = int.from_bytes(head[:4], "big"), int.from_bytes(head[4:], "big")
    w, h = fig.get_size_inches() * plot.SAVE_DPI
    assert size == (round(w), round(h))


def _tick_boxes(axis, renderer):
    lo, hi = sorted(axis.get_view_interval())
    out = []
    for tick in axis.get_major_ticks() + axis.get_minor_ticks():
        label = tick.label1
        if label.get_visible() and label.get_text() and lo * 0.999 <= tick.get_loc() <= hi * 1.001:
            # Padded by a third of the font size: labels closer than that run together.
            pad = label.get_fontsize() * label.figure.dpi / 72 / 6
            out.append((label.get_text(), label.get_window_extent(renderer).padded(pad)))
    return out


def _check_ticks(fig, renderer):
    for ax in fig.axes[:3]:
        for axis in (ax.xaxis, ax.yaxis):
            boxes = _tick_boxes(axis, renderer)
            assert len(boxes) >= 2, (ax.get_title(), [b[0] for b in boxes])
            for i, (ta, a) in enumerate(boxes):
                for tb, b in boxes[i + 1:]:
                    assert not a.overlaps(b), (ax.get_title(), ta, tb)


def test_plot_tick_labels_do_not_overlap(quick_figure, tiny_run):
    _, fig, renderer = quick_figure
    _check_ticks(fig, renderer)
    import matplotlib.pyplot as plt

    tiny_fig, tiny_renderer = _figure(json.loads(tiny_run[1].read_text()))
    try:
        _check_ticks(tiny_fig, tiny_renderer)
    finally:
        plt.close(tiny_fig)


def test_plot_epoch_labels_clear_of_every_marker(quick_figure):
    from fastlin.report import plot

    _, fig, renderer = quick_figure
    for ax in (fig.axes[0], fig.axes[2]):
        labels = [t for t in ax.texts if t.get_text().isdigit()]
        assert len(labels) >= 9
        markers = plot._marker_boxes(ax)
        for t in labels:
            box = t.get_window_extent(renderer)
            assert not any(box.overlaps(m) for m in markers), (ax.get_title(), t.get_text())
            assert all(not box.overlaps(o.get_window_extent(renderer))
                       for o in labels if o is not t)


def test_plot_gram_and_closed_form_are_told_apart(quick_figure):
    from matplotlib.colors import same_color

    _, fig, _ = quick_figure
    ax = fig.axes[0]

    def lines(color, with_marker):
        return [ln for ln in ax.lines if same_color(ln.get_color(), color)
                and (ln.get_marker() not in ("None", None, "")) == with_marker]

    gram, closed = lines("tab:blue", True), lines("tab:red", True)
    assert gram and closed
    # Different marker shapes and sizes: the closed form's squares frame Gram's circles.
    assert {ln.get_marker() for ln in gram}.isdisjoint({ln.get_marker() for ln in closed})
    assert min(ln.get_markersize() for ln in closed) > 1.5 * max(ln.get_markersize()
                                                                  for ln in gram)
    # The closed form's fit is a broad band under Gram's thin line.
    g_fit = max(ln.get_linewidth() for ln in lines("tab:blue", False))
    c_fit = max(ln.get_linewidth() for ln in lines("tab:red", False))
    assert c_fit > 2.5 * g_fit
    assert max(ln.get_zorder() for ln in gram) > max(ln.get_zorder() for ln in closed)
    assert any("closed form is Gram" in t.get_text() for t in ax.texts)


def test_replot_redraws_a_saved_report_without_measuring(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    from fastlin.report import command

    monkeypatch.setattr(command, "run", lambda *a, **k: pytest.fail("measured"))
    out = tmp_path / "re.png"
    code = cli.main(["bench", "complexity", "--replot", QUICK_JSON, "--plot", str(out)])
    assert code == 0 and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "plot written to" in capsys.readouterr().out
    assert cli.main(["bench", "complexity", "--replot", QUICK_JSON]) == 2
    assert "needs --plot" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"series": []}')
    assert cli.main(["bench", "complexity", "--replot", str(bad), "--plot", str(out)]) == 2
    assert "not a report" in capsys.readouterr().err
