"""
Loss functions and convexity
============================

**The lecture.** The 0/1 loss 1[y(w·x + b) < 0] counts mistakes but is not convex, so calculus
cannot minimise it. Convex surrogates are used instead: any chord of a convex function lies
above it. For regression, MSE Σ(yₙ − ŷ)² and MAE Σ|yₙ − ŷ|; the hinge Σ max{0, 1 − yₙŷ} ignores
confident correct predictions, MSE reacts super-linearly to large errors.

**How fastlin checks it.** 5000 random chords on [−3, 3] per loss, evaluated with fastlin's loss
kernel: no chord may pass below the hinge, logistic, perceptron, squared or absolute loss, and
at least one must pass below the 0/1 loss.

The code calls ``fastlin.report.lecture.losses.run``, the function ``fastlin lecture`` runs for
this claim, with the command's default seed; the figure below is the one on the lecture page,
drawn from the numbers fastlin measured while this page was built.
"""

from fastlin.report.lecture import losses
from fastlin.report.lecture.figures import pyplot

plt = pyplot()  # matplotlib on the Agg backend, with the lecture's fonts and sizes
finding = losses.run(0, plt)  # seed 0, the default of `fastlin lecture`

print("Loss functions and convexity:", "holds" if finding.holds else "does NOT hold")
print(finding.headline)
