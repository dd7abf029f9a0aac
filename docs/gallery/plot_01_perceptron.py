"""
The perceptron exercise
=======================

**The lecture.** Six points, no bias, w⁽⁰⁾ = (1/2, −1/2), η = 1, the update w ← w + y·x on a
mistake. The first point (2, 1; −1) gives a₁ = w⁽⁰⁾·x₁ = 1/2, sign +, a mistake, so w⁽¹⁾ =
(−3/2, −3/2). Carrying on over the other points, the perceptron converges in the first pass: w =
(−1/2, 1/2), a second pass makes no mistake, and the boundary w·x = 0 is the line x₂ = x₁.

**How fastlin checks it.** fastlin's Perceptron gives a₁ = 1/2, w⁽¹⁾ = (−3/2, −3/2) and w =
(−1/2, 1/2) exactly; a second pass leaves w unchanged with zero mistakes; w₁ = −w₂ with w₂ > 0
(the line x₂ = x₁, +1 above it); every update in the trace happens exactly when y·a ≤ 0.

The code calls ``fastlin.report.lecture.perceptron.run``, the function ``fastlin lecture`` runs for
this claim, with the command's default seed; the figure below is the one on the lecture page,
drawn from the numbers fastlin measured while this page was built.
"""

from fastlin.report.lecture import perceptron
from fastlin.report.lecture.figures import pyplot

plt = pyplot()  # matplotlib on the Agg backend, with the lecture's fonts and sizes
finding = perceptron.run(0, plt)  # seed 0, the default of `fastlin lecture`

print("The perceptron exercise:", "holds" if finding.holds else "does NOT hold")
print(finding.headline)
