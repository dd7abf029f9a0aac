"""``fastlin lecture``: the lecture's numbers, the JSON and HTML outputs, and bad input.

The command runs once per module on a subset of the claims (the fast ones); the numbers the
lecture states are asserted from its JSON, so a wrong trace, weights or verdict fails here.
"""

from __future__ import annotations

import base64
import json
import os
import re

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from fastlin.cli import main  # noqa: E402
from fastlin.report.lecture import NAMES, runner  # noqa: E402
from fastlin.report.lecture import perceptron as perceptron_demo  # noqa: E402
from fastlin.report.lecture import step_sizes  # noqa: E402

SUBSET = ["perceptron", "convergence", "losses", "closed_form", "shrinkage", "step_sizes",
          "logistic"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("lecture") / "report"
    code = main(["lecture", "--out", str(out), "--claims", ",".join(SUBSET), "--no-progress"])
    return out, code


@pytest.fixture(scope="module")
def doc(run_dir):
    return json.loads((run_dir[0] / "lecture.json").read_text(encoding="utf-8"))


def _numbers(doc, name):
    return next(c for c in doc["claims"] if c["name"] == name)["numbers"]


def test_exit_code_zero_when_all_hold(run_dir, doc):
    assert run_dir[1] == 0
    assert doc["all_hold"] is True
    assert [c["name"] for c in doc["claims"]] == SUBSET


def test_perceptron_trace(doc):
    n = _numbers(doc, "perceptron")
    trace = n["trace"]
    assert [r["a"] for r in trace] == [0.5, -4.5, -1.0, -0.5, 1.0, 0.5]
    assert [r["mistake"] for r in trace] == [True, True, False, False, False, False]
    assert [r["sign"] for r in trace] == ["+", "−", "−", "−", "+", "+"]
    assert n["w_after_first_point"] == [-1.5, -1.5]
    assert n["w_after_first_pass"] == [-0.5, 0.5]
    assert n["w_after_second_pass"] == [-0.5, 0.5]
    assert n["mistakes_second_pass"] == 0
    assert n["boundary"] == "x2 = x1"


def test_perceptron_trace_uses_the_estimator(monkeypatch):
    """A perceptron that updates differently changes the trace (the check can fail)."""
    monkeypatch.setattr(perceptron_demo, "W0", np.array([1.0, 1.0]))
    assert perceptron_demo.trace()[0]["w"] != [-1.5, -1.5]


def test_convergence_and_xor(doc):
    n = _numbers(doc, "convergence")
    first = n["separable_first_epoch_without_mistake"]
    assert first is not None and all(c == 0 for c in n["separable_mistakes"][first - 1:])
    assert n["separable_training_errors_at_end"] == 0
    assert min(n["xor_mistakes"]) > 0 and n["xor_training_errors_at_end"] > 0


def test_losses_convexity(doc):
    v = _numbers(doc, "losses")["violations"]
    assert v["zero_one"] > 0
    assert all(v[k] == 0 for k in ("hinge", "log_loss", "perceptron", "squared_error",
                                   "absolute_error"))


def test_gradient_at_closed_form(doc):
    n = _numbers(doc, "closed_form")
    assert n["gradient_norm_relative"] < 1e-10
    assert n["gd_distance"][-1] < 1e-6 * n["w_star_norm"]
    assert n["sgd_distance"][-1] < n["sgd_distance"][0]


def test_l1_zeroes_l2_does_not(doc):
    n = _numbers(doc, "shrinkage")
    assert max(n["ridge_exact_zeros"]) == 0
    assert max(n["lasso_exact_zeros"]) == n["D"]
    assert any(0 < z < n["D"] for z in n["lasso_exact_zeros"])


def test_too_large_step_is_stopped_by_fastlin(doc):
    div = _numbers(doc, "step_sizes")["divergence"]
    assert div is not None and div["type"] == "ConvergenceWarning"
    assert "learning_rate='constant'" in div["message"] and "eta0=" in div["message"]


def test_divergence_signal_directly():
    X, y, lip, _ = step_sizes.problem(0)
    _, err = step_sizes.descend(X, y, 3.0 / lip, steps=200)
    assert err is not None and "diverging" in err["message"]
    _, ok = step_sizes.descend(X, y, 1.0 / lip)
    assert ok is None


def test_logistic_gradient(doc):
    n = _numbers(doc, "logistic")
    assert n["rel_diff_formula"] < 1e-6 and n["rel_diff_finite_diff"] < 1e-6
    assert n["predict_equals_proba_gt_half"] is True


def test_json_schema(doc):
    assert doc["schema"] == 1 and isinstance(doc["seed"], int)
    assert set(doc) >= {"schema", "seed", "created", "python", "seconds", "all_hold", "claims"}
    for c in doc["claims"]:
        assert set(c) >= {"name", "title", "statement", "check", "holds", "headline", "seconds",
                          "figure", "numbers", "error"}
        assert isinstance(c["holds"], bool) and c["statement"] and c["figure"]


def test_html_embeds_every_figure(run_dir, doc):
    page = (run_dir[0] / "index.html").read_text(encoding="utf-8")
    imgs = dict(re.findall(r'<img id="([^"]+)"[^>]*src="data:image/png;base64,([^"]+)"', page))
    assert set(imgs) == {c["figure"] for c in doc["claims"]}
    for data in imgs.values():
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    for c in doc["claims"]:
        assert f'id="{c["name"]}"' in page and "holds" in page


def test_unknown_claim_refused(tmp_path, capsys):
    assert main(["lecture", "--out", str(tmp_path / "x"), "--claims", "perceptron,nope"]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and all(name in err for name in NAMES)
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("make", ["missing_parent", "file_in_the_way"])
def test_unwritable_out_fails_cleanly(tmp_path, capsys, make):
    if make == "missing_parent":
        out = tmp_path / "no" / "such" / "dir"
    else:
        out = tmp_path / "afile"
        out.write_text("keep me")
    before = sorted(os.listdir(tmp_path))
    assert main(["lecture", "--out", str(out), "--claims", "losses", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("fastlin lecture: error:")
    assert sorted(os.listdir(tmp_path)) == before
    if make == "file_in_the_way":
        assert out.read_text() == "keep me"


def test_failed_write_leaves_nothing(tmp_path, monkeypatch, capsys):
    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "rename", refuse)
    out = tmp_path / "report"
    assert main(["lecture", "--out", str(out), "--claims", "losses", "--no-progress"]) == 2
    assert os.listdir(tmp_path) == []
    assert "cannot write" in capsys.readouterr().err


def test_claim_that_does_not_hold_gives_nonzero_exit(tmp_path, monkeypatch):
    demo = next(d for d in runner.DEMONSTRATIONS if d.name == "losses")
    broken = type(demo)(demo.name, demo.title, demo.statement, demo.check,
                        lambda seed, plt: (_ for _ in ()).throw(RuntimeError("boom")))
    monkeypatch.setattr(runner, "DEMONSTRATIONS", [broken])
    out = tmp_path / "r"
    assert main(["lecture", "--out", str(out), "--claims", "losses", "--no-progress"]) == 1
    doc = json.loads((out / "lecture.json").read_text(encoding="utf-8"))
    assert doc["all_hold"] is False and "boom" in doc["claims"][0]["error"]
