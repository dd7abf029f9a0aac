"""
The cost of the closed form: O(D³ + D²N)
========================================

**The lecture.** The closed form w = (XᵀX + λI)⁻¹Xᵀy is exact but costly: O(D³ + D²N) for D
features and N data points (D²N to form XᵀX, D³ to solve the D × D system).

**How fastlin checks it.** Fitted log-log exponents of the closed form's time: along N (D = 128)
within (0.6, 1.4), along D (N = 8000) within (1.5, 3.0). Small sizes on a possibly busy machine,
hence the wide bands; see fastlin bench complexity for the full report.

The code calls ``fastlin.report.lecture.cost.run``, the function ``fastlin lecture`` runs for
this claim, with the command's default seed; the figure below is the one on the lecture page,
drawn from the numbers fastlin measured while this page was built.
"""

from fastlin.report.lecture import cost
from fastlin.report.lecture.figures import pyplot

plt = pyplot()  # matplotlib on the Agg backend, with the lecture's fonts and sizes
finding = cost.run(0, plt)  # seed 0, the default of `fastlin lecture`

print("The cost of the closed form: O(D³ + D²N):", "holds" if finding.holds else "does NOT hold")
print(finding.headline)
