"""One registry: names -> integer codes and properties.

The same tables feed parameter validation in the estimators, dispatch inside the kernels (the
integer ``code`` is what a kernel switches on), the tests (``pytest.mark.parametrize`` over the
tables) and the benchmarks. Adding a loss is one row here plus its two formulas in
:mod:`fastlin.kernels.losses`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Loss",
    "LOSSES",
    "PENALTIES",
    "SCHEDULES",
    "PA_SCHEDULES",
    "PA_LOSSES",
    "REGRESSION_LOSSES",
    "CLASSIFICATION_LOSSES",
    "lookup",
]


@dataclass(frozen=True)
class Loss:
    """A loss function known to the kernels.

    Attributes
    ----------
    name : str
        The scikit-learn name (``SGDClassifier(loss=name)``).
    code : int
        The integer the kernels switch on; stable, never reused.
    task : {"regression", "classification"}
        Classification losses see ``y`` in {-1, +1}.
    uses_epsilon : bool
        Whether the ``epsilon`` parameter enters the formula (huber, epsilon-insensitive).
    proba : bool
        Whether ``predict_proba`` is defined for a classifier trained with it.
    """

    name: str
    code: int
    task: str
    uses_epsilon: bool = False
    proba: bool = False


_LOSS_ROWS = (
    # regression
    Loss("squared_error", 0, "regression"),
    Loss("absolute_error", 1, "regression"),
    Loss("huber", 2, "regression", uses_epsilon=True),
    Loss("epsilon_insensitive", 3, "regression", uses_epsilon=True),
    Loss("squared_epsilon_insensitive", 4, "regression", uses_epsilon=True),
    # classification, y in {-1, +1}
    Loss("hinge", 5, "classification"),
    Loss("log_loss", 6, "classification", proba=True),
    Loss("squared_hinge", 7, "classification"),
    Loss("modified_huber", 8, "classification", proba=True),
    Loss("perceptron", 9, "classification"),
)

#: name -> :class:`Loss`
LOSSES: dict[str, Loss] = {row.name: row for row in _LOSS_ROWS}
REGRESSION_LOSSES: tuple[str, ...] = tuple(r.name for r in _LOSS_ROWS if r.task == "regression")
CLASSIFICATION_LOSSES: tuple[str, ...] = tuple(r.name for r in _LOSS_ROWS if r.task == "classification")

#: penalty name -> code. ``None`` (the Python object) is accepted as an alias of "none".
PENALTIES: dict[str, int] = {"none": 0, "l2": 1, "l1": 2, "elasticnet": 3}

#: learning-rate schedule name -> code.
#: constant: eta = eta0; optimal: eta = 1 / (alpha (t0 + t)) (Bottou's heuristic t0);
#: invscaling: eta = eta0 / t^power_t; adaptive: eta0, divided by 5 when progress stalls;
#: pa1 / pa2: the passive-aggressive steps of Crammer et al. (2006), as scikit-learn 1.9 defines
#: them: the step along x is tau = min(C, loss / ||x||^2) (PA-I) or loss / (||x||^2 + 1 / (2 C))
#: (PA-II) with ``eta0`` as the aggressiveness C, signed by y (hinge) or by y - p (regression); the
#: penalty's shrink uses eta = eta0. Per-sample only (see :data:`PA_SCHEDULES`).
SCHEDULES: dict[str, int] = {"constant": 0, "optimal": 1, "invscaling": 2, "adaptive": 3,
                             "pa1": 4, "pa2": 5}

#: The passive-aggressive schedules: defined per sample (a step from one sample's loss and
#: ||x||^2), so the estimators accept them with ``batch_size=1`` only.
PA_SCHEDULES: tuple[str, ...] = ("pa1", "pa2")

#: task -> the one loss the passive-aggressive schedules take (scikit-learn's rule: hinge for a
#: classifier, epsilon_insensitive for a regressor).
PA_LOSSES: dict[str, str] = {"classification": "hinge", "regression": "epsilon_insensitive"}


def lookup(table: dict, name, what: str):
    """Return ``table[name]`` or raise a ValueError listing the valid names.

    Parameters
    ----------
    table : dict
        One of :data:`LOSSES`, :data:`PENALTIES`, :data:`SCHEDULES`.
    name : str or None
        The user's value; ``None`` maps to ``"none"`` where the table has that row.
    what : str
        The parameter name, for the message (e.g. ``"loss"``).
    """
    key = "none" if name is None and "none" in table else name
    if isinstance(key, str) and key in table:
        return table[key]
    valid = ", ".join(repr(k) for k in table)
    raise ValueError(f"Unknown {what}={name!r}. Valid values are: {valid}.")
