"""
The closed form is the optimum; gradient descent gets there too
===============================================================

**The lecture.** For L(w) = ½‖Xw − y‖² + λ/2‖w‖², setting the gradient Xᵀ(Xw − y) + λw to zero
gives w = (XᵀX + λI)⁻¹Xᵀy, exact. Gradient descent w⁽ᵗ⁾ ← w⁽ᵗ⁻¹⁾ − η∇L, and SGD (one point at a
time), are iterative routes to the same minimum.

**How fastlin checks it.** At fastlin's closed form (Ridge, Cholesky) ‖Xᵀ(Xw − y) + λw‖ / ‖Xᵀy‖
< 1e-10; after 100 steps of gradient descent ‖w − w*‖ < 10⁻⁶‖w*‖; after 30 epochs of SGD ‖w −
w*‖ < 0.05‖w*‖ and 5 times smaller than after the first epoch.

The code calls ``fastlin.report.lecture.closed_form.run``, the function ``fastlin lecture`` runs for
this claim, with the command's default seed; the figure below is the one on the lecture page,
drawn from the numbers fastlin measured while this page was built.
"""

from fastlin.report.lecture import closed_form
from fastlin.report.lecture.figures import pyplot

plt = pyplot()  # matplotlib on the Agg backend, with the lecture's fonts and sizes
finding = closed_form.run(0, plt)  # seed 0, the default of `fastlin lecture`

print("The closed form is the optimum; gradient descent gets there too:", "holds" if finding.holds else "does NOT hold")
print(finding.headline)
