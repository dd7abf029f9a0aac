"""The lecture's perceptron exercise, traced point by point with fastlin's ``Perceptron``.

Six points, no bias, w⁽⁰⁾ = (1/2, −1/2), η = 1, the points in the given order. The weights after
the first k points are those of ``Perceptron(fit_intercept=False, shuffle=False, max_iter=1)``
fitted from ``coef_init = w⁽⁰⁾`` with sample weight 1 on the first k points and 0 on the others
(a point of weight 0 makes no update), so every w in the trace comes out of the estimator itself.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ...linear_model import Perceptron
from .claim import Demonstration, Finding
from .figures import new_figure, note

__all__ = ["DEMO", "X", "Y", "W0", "trace"]

X = np.array([[2, 1], [1, 2], [3, 1], [3, 2], [1, 3], [2, 3]], dtype=float)
Y = np.array([-1, 1, -1, -1, 1, 1])
W0 = np.array([0.5, -0.5])


def _fit(passes, weight=None):
    clf = Perceptron(fit_intercept=False, shuffle=False, max_iter=passes, tol=None)
    return clf.fit(X, Y, coef_init=W0, sample_weight=weight).coef_.ravel().astype(float)


def trace():
    """One row per point of the first pass: x, y, a = w·x with the weights before the point,
    the sign, whether it is a mistake (y·a ≤ 0) and w after the point (from the estimator)."""
    rows, w = [], W0.copy()
    for k in range(len(Y)):
        weight = (np.arange(len(Y)) <= k).astype(float)
        w_after = _fit(1, weight)
        a = float(w @ X[k])
        rows.append({"i": k + 1, "x": X[k].tolist(), "y": int(Y[k]), "a": a,
                     "sign": "+" if a > 0 else ("−" if a < 0 else "0"),
                     "mistake": bool(Y[k] * a <= 0), "updated": bool(np.any(w_after != w)),
                     "w": w_after.tolist()})
        w = w_after
    return rows


def _frac(v):
    return str(Fraction(v).limit_denominator(16)).replace("-", "−")


def _draw(plt, rows, w_final):
    fig, (ax, tab) = new_figure(plt, 2, width=13.5, height=5.4,
                                gridspec_kw={"width_ratios": [1, 1.25]})
    lim = (0, 4)
    grid = np.linspace(*lim, 2)
    ax.fill_between(grid, grid, lim[1], color="tab:blue", alpha=0.08)
    ax.fill_between(grid, lim[0], grid, color="tab:red", alpha=0.08)
    ax.plot(grid, grid, color="black", lw=2, label="boundary w·x = 0:  x₂ = x₁")
    for label, mark, color in ((1, "o", "tab:blue"), (-1, "s", "tab:red")):
        sel = Y == label
        ax.scatter(X[sel, 0], X[sel, 1], marker=mark, s=90, color=color, zorder=3,
                   label=f"y = {label:+d}".replace("-", "−"))
    for i, (x1, x2) in enumerate(X):
        ax.annotate(f"{i + 1}", (x1, x2), xytext=(7, 5), textcoords="offset points", fontsize=11)
    ax.annotate("", xy=(2 + w_final[0], 2 + w_final[1]), xytext=(2, 2),
                arrowprops=dict(arrowstyle="->", lw=2, color="tab:green"))
    ax.text(1.25, 2.55, "w = (−1/2, 1/2)", color="tab:green", fontsize=11)
    ax.set(xlim=lim, ylim=lim, xlabel="feature x₁", ylabel="feature x₂", aspect="equal",
           title="After one pass: the boundary x₂ = x₁")
    ax.legend(loc="lower right")
    note(ax, "w predicts +1 above the line\n(w⁽⁰⁾ = (1/2, −1/2) had the same\n"
             "line, +1 below it)", loc="upper left")
    _table(tab, rows)
    return fig


def _table(ax, rows):
    ax.axis("off")
    head = ["i", "xᵢ", "yᵢ", "aᵢ = w·xᵢ", "sign(aᵢ)", "mistake?", "w after point i"]
    cells = [["0", "", "", "", "", "start", f"({_frac(W0[0])}, {_frac(W0[1])})"]]
    for r in rows:
        y_text = f"{r['y']:+d}".replace("-", "−")
        cells.append([str(r["i"]), f"({r['x'][0]:g}, {r['x'][1]:g})", y_text,
                      _frac(r["a"]), r["sign"], "yes: update" if r["mistake"] else "no",
                      f"({_frac(r['w'][0])}, {_frac(r['w'][1])})"])
    table = ax.table(cellText=cells, colLabels=head, loc="center", cellLoc="center",
                     colWidths=[0.06, 0.13, 0.08, 0.15, 0.13, 0.19, 0.26])
    table.auto_set_font_size(False)
    table.set_fontsize(11)
    table.scale(1.0, 1.9)
    for (row, _col), cell in table.get_celld().items():
        if row > 0 and cells[row - 1][5].startswith("yes"):
            cell.set_facecolor("#fde3e3")
    ax.set_title("First pass, η = 1, no bias: a mistake when yᵢ·aᵢ ≤ 0, then w ← w + yᵢxᵢ")


def run(seed, plt):
    """The trace, the second pass and the boundary; ``seed`` is unused (nothing is random)."""
    rows = trace()
    w1, w_end = np.array(rows[0]["w"]), np.array(rows[-1]["w"])
    w_two = _fit(2)
    second_pass_mistakes = int(np.sum(Y * (X @ w_end) <= 0))
    consistent = all(r["mistake"] == r["updated"] for r in rows)
    boundary_is_diagonal = bool(w_end[0] == -w_end[1] and w_end[1] > 0)
    holds = bool(rows[0]["a"] == 0.5 and np.array_equal(w1, [-1.5, -1.5])
                 and np.array_equal(w_end, [-0.5, 0.5]) and np.array_equal(w_two, w_end)
                 and second_pass_mistakes == 0 and consistent and boundary_is_diagonal)
    numbers = {"w0": W0.tolist(), "trace": rows, "w_after_first_point": w1.tolist(),
               "w_after_first_pass": w_end.tolist(), "w_after_second_pass": w_two.tolist(),
               "mistakes_first_pass": int(sum(r["mistake"] for r in rows)),
               "mistakes_second_pass": second_pass_mistakes,
               "boundary": "x2 = x1" if boundary_is_diagonal else "other"}
    headline = (f"a₁ = {_frac(rows[0]['a'])}, w⁽¹⁾ = ({_frac(w1[0])}, {_frac(w1[1])}), after one "
                f"pass w = ({_frac(w_end[0])}, {_frac(w_end[1])}), "
                f"{numbers['mistakes_first_pass']} mistakes then {second_pass_mistakes}, "
                "boundary x₂ = x₁")
    return Finding(holds, headline, numbers, _draw(plt, rows, w_end))


DEMO = Demonstration(
    name="perceptron",
    title="The perceptron exercise",
    statement=(
        "Six points, no bias, w⁽⁰⁾ = (1/2, −1/2), η = 1, the update w ← w + y·x on a mistake. The "
        "first point (2, 1; −1) gives a₁ = w⁽⁰⁾·x₁ = 1/2, sign +, a mistake, so "
        "w⁽¹⁾ = (−3/2, −3/2). "
        "Carrying on over the other points, the perceptron converges in the first pass: "
        "w = (−1/2, 1/2), a second pass makes no mistake, and the boundary w·x = 0 is the line "
        "x₂ = x₁."),
    check=(
        "fastlin's Perceptron gives a₁ = 1/2, w⁽¹⁾ = (−3/2, −3/2) and w = (−1/2, 1/2) exactly; "
        "a second pass leaves w unchanged with zero mistakes; w₁ = −w₂ with w₂ > 0 (the line "
        "x₂ = x₁, +1 above it); every update in the trace happens exactly when y·a ≤ 0."),
    run=run,
)
