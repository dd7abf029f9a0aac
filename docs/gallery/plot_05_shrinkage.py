"""
L2 shrinks, L1 zeroes
=====================

**The lecture.** Regularisation constrains the weights to be small: the L2 (ridge) penalty λ‖w‖²
and the L1 (lasso) penalty λ|w|, with λ a hyper-parameter setting its intensity. Larger λ,
simpler model: ridge pulls all weights towards 0; lasso sets weights exactly to 0.

**How fastlin checks it.** Over 26 values of λ from 0.1 to 10000: ridge has no exact zero at any
λ and ‖w‖ decreases strictly with λ; lasso has fewer than D zeros at the smallest λ, some but
not all zeros in between, all D weights 0 at the largest.

The code calls ``fastlin.report.lecture.shrinkage.run``, the function ``fastlin lecture`` runs for
this claim, with the command's default seed; the figure below is the one on the lecture page,
drawn from the numbers fastlin measured while this page was built.
"""

from fastlin.report.lecture import shrinkage
from fastlin.report.lecture.figures import pyplot

plt = pyplot()  # matplotlib on the Agg backend, with the lecture's fonts and sizes
finding = shrinkage.run(0, plt)  # seed 0, the default of `fastlin lecture`

print("L2 shrinks, L1 zeroes:", "holds" if finding.holds else "does NOT hold")
print(finding.headline)
