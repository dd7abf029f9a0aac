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
