"""
Mini-batches
============

**The lecture.** SGD updates w with the gradient of one data point at a time; often the data are
fed in batches of a few hundred points instead. Gradient descent uses all N points per step:
after the same number of samples seen it has made far fewer steps.

**How fastlin checks it.** 12 epochs over N = 4096 points for b = 1, 32, 256 and the full batch
(η tuned per b, a multiple of 1/L): each ends at least 10 times closer to f* than it started,
and after one epoch b = 1, 32 and 256 are all closer to f* than the full batch. The time panel
is shown, not judged: it depends on the machine.

The code calls ``fastlin.report.lecture.mini_batches.run``, the function ``fastlin lecture`` runs for
this claim, with the command's default seed; the figure below is the one on the lecture page,
drawn from the numbers fastlin measured while this page was built.
"""

from fastlin.report.lecture import mini_batches
from fastlin.report.lecture.figures import pyplot

plt = pyplot()  # matplotlib on the Agg backend, with the lecture's fonts and sizes
finding = mini_batches.run(0, plt)  # seed 0, the default of `fastlin lecture`

print("Mini-batches:", "holds" if finding.holds else "does NOT hold")
print(finding.headline)
