"""The registry, the codes the kernels switch on, and the jit options."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from fastlin import _registry
from fastlin.kernels import losses


def test_loss_codes_are_dense_and_unique():
    codes = [row.code for row in _registry.LOSSES.values()]
    assert sorted(codes) == list(range(len(codes)))


def test_every_loss_code_is_handled_by_loss_and_dloss():
    """``loss``/``dloss`` end in a catch-all branch (perceptron's): a registry row without its own
    branch would silently behave as another loss. Every code must give its own pair of functions,
    and every name its constant in :mod:`fastlin.kernels.losses`."""
    grid = [(p, y) for p in np.linspace(-2.3, 2.3, 9) + 0.0123 for y in (-1.0, 1.0, 0.4)]
    seen = {}
    for name, row in _registry.LOSSES.items():
        assert getattr(losses, name.upper()) == row.code, name
        values = [losses.loss(row.code, p, y, 0.3) for p, y in grid]
        slopes = [losses.dloss(row.code, p, y, 0.3) for p, y in grid]
        assert np.all(np.isfinite(values)) and np.all(np.isfinite(slopes)), name
        fingerprint = tuple(np.round(values + slopes, 12))
        assert fingerprint not in seen, f"{name} computes the same as {seen.get(fingerprint)}"
        seen[fingerprint] = name


@pytest.mark.parametrize("table,what", [(_registry.LOSSES, "loss"),
                                        (_registry.PENALTIES, "penalty"),
                                        (_registry.SCHEDULES, "learning_rate")])
def test_lookup_lists_valid_names(table, what):
    with pytest.raises(ValueError) as exc:
        _registry.lookup(table, "nope", what)
    msg = str(exc.value)
    assert f"Unknown {what}='nope'" in msg
    for name in table:
        assert repr(name) in msg


def test_lookup_none_means_no_penalty():
    assert _registry.lookup(_registry.PENALTIES, None, "penalty") == _registry.PENALTIES["none"]


def test_cache_switch_and_fastmath_keep_nan_checks():
    code = ("import fastlin._jit as j; print(j.CACHE, sorted(j.FASTMATH));"
            "import numpy as np; from fastlin._jit import jit\n"
            "f = jit(cache=False)(lambda x: np.isfinite(x))\n"
            "print(f(float('nan')), f(float('inf')))")
    for value, expect in [("0", "False"), ("1", "True")]:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env={**os.environ, "FASTLIN_NUMBA_CACHE": value})
        out = out.stdout.split("\n")
        assert out[0].startswith(expect)
        assert "nnan" not in out[0] and "ninf" not in out[0]
        assert out[1] == "False False"  # isfinite is not folded away by fast-math
