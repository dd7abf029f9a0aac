"""The record one demonstration returns: the lecture's statement, the verdict, the numbers."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Finding", "Demonstration"]


@dataclass
class Finding:
    """What a demonstration measured.

    Attributes
    ----------
    holds : bool
        Whether the measurement agrees with the lecture's statement.
    headline : str
        One line with the deciding number(s), printed on the terminal.
    numbers : dict
        Every number measured (JSON-serialisable: floats, ints, bools, strings, lists, dicts).
    figure : matplotlib.figure.Figure
        The figure; the runner renders it to PNG and closes it.
    details : list of (str, str)
        Extra rows for the page (label, value), e.g. a trace table.
    """

    holds: bool
    headline: str
    numbers: dict
    figure: object
    details: list = field(default_factory=list)


@dataclass(frozen=True)
class Demonstration:
    """One claim of the lecture and the function that checks it.

    Attributes
    ----------
    name : str
        The name given to ``--claims``.
    title : str
        Heading on the page.
    statement : str
        The lecture's statement, in the lecture's notation (w, b, η, λ, a = w·x + b).
    check : str
        How the statement is decided from the numbers (shown on the page).
    run : callable
        ``run(seed, plt) -> Finding``.
    """

    name: str
    title: str
    statement: str
    check: str
    run: object
