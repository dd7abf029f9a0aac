"""
Good and bad step sizes
=======================

**The lecture.** The learning rate η of w⁽ᵗ⁾ ← w⁽ᵗ⁻¹⁾ − η∇f is crucial for convergence: too
small and the descent crawls, well chosen and it reaches the minimum quickly, too large and the
steps overshoot the minimum and the loss grows without bound.

**How fastlin checks it.** 60 full-batch steps from w = 0. η = 1/L: the gap f − f* shrinks by
10⁸ or more; η = 0.03/L: less than 100-fold; η = 3/L: the loss grows and fastlin stops the fit
with its divergence message naming learning_rate and eta0.

The code calls ``fastlin.report.lecture.step_sizes.run``, the function ``fastlin lecture`` runs for
this claim, with the command's default seed; the figure below is the one on the lecture page,
drawn from the numbers fastlin measured while this page was built.
"""

from fastlin.report.lecture import step_sizes
from fastlin.report.lecture.figures import pyplot

plt = pyplot()  # matplotlib on the Agg backend, with the lecture's fonts and sizes
finding = step_sizes.run(0, plt)  # seed 0, the default of `fastlin lecture`

print("Good and bad step sizes:", "holds" if finding.holds else "does NOT hold")
print(finding.headline)
