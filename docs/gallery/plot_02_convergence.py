"""
The perceptron converges on separable data, never on XOR
========================================================

**The lecture.** The perceptron always converges when the points are linearly separable: after
finitely many updates a pass makes no mistake (the 0/1 loss reaches its minimum, zero). It
cannot go beyond linearly separable data: on XOR, no w, b with sign(w·x + b) right on all four
points exists, so every pass makes mistakes.

**How fastlin checks it.** Mistakes per epoch over 15 epochs, w = 0 and b = 0 at the start, no
shuffling: on the separable set they reach 0 and stay 0; on XOR they are > 0 in every epoch. The
point-by-point run equals Perceptron(max_iter=epochs).fit.

The code calls ``fastlin.report.lecture.convergence.run``, the function ``fastlin lecture`` runs for
this claim, with the command's default seed; the figure below is the one on the lecture page,
drawn from the numbers fastlin measured while this page was built.
"""

from fastlin.report.lecture import convergence
from fastlin.report.lecture.figures import pyplot

plt = pyplot()  # matplotlib on the Agg backend, with the lecture's fonts and sizes
finding = convergence.run(0, plt)  # seed 0, the default of `fastlin lecture`

print("The perceptron converges on separable data, never on XOR:", "holds" if finding.holds else "does NOT hold")
print(finding.headline)
