"""
Under- and over-fitting; λ chosen on a development set
======================================================

**The lecture.** Under-fitting: the model had the chance to learn and did not. Over-fitting: it
follows the idiosyncrasies of the training data and does not generalise. Regularisation (λ)
trades one for the other; λ is a hyper-parameter, chosen on a development set held out from
training.

**How fastlin checks it.** 25 training and 200 development points, degree-12 polynomial ridge:
training error never decreases as λ grows; the development error is lowest at an interior λ, at
least 20 % below both ends. With more features (λ ≈ 0) training error never rises while the
development error at D = 15 is 1.5 times its minimum or more.

The code calls ``fastlin.report.lecture.fitting.run``, the function ``fastlin lecture`` runs for
this claim, with the command's default seed; the figure below is the one on the lecture page,
drawn from the numbers fastlin measured while this page was built.
"""

from fastlin.report.lecture import fitting
from fastlin.report.lecture.figures import pyplot

plt = pyplot()  # matplotlib on the Agg backend, with the lecture's fonts and sizes
finding = fitting.run(0, plt)  # seed 0, the default of `fastlin lecture`

print("Under- and over-fitting; λ chosen on a development set:", "holds" if finding.holds else "does NOT hold")
print(finding.headline)
