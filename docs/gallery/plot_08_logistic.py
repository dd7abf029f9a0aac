"""
Logistic regression
===================

**The lecture.** p̂(y = 1 | x) = σ(w·x) with σ(z) = 1/(1 + e⁻ᶻ), which squeezes z into (0, 1);
the class is 1 when p̂ > 0.5. The loss is the cross-entropy −[y log σ(w·x) + (1 − y) log(1 −
σ(w·x))], whose derivative for one point is (σ(w·x) − y)xⱼ, summed over the points.

**How fastlin checks it.** fastlin's logistic kernel gradient equals the formula and central
finite differences to a relative 1e-06; a fitted LogisticRegression predicts 1 exactly where p̂
> 0.5, and p̂ = 0.5 (to 10⁻⁹) on the line w·x + b = 0.

The code calls ``fastlin.report.lecture.logistic.run``, the function ``fastlin lecture`` runs for
this claim, with the command's default seed; the figure below is the one on the lecture page,
drawn from the numbers fastlin measured while this page was built.
"""

from fastlin.report.lecture import logistic
from fastlin.report.lecture.figures import pyplot

plt = pyplot()  # matplotlib on the Agg backend, with the lecture's fonts and sizes
finding = logistic.run(0, plt)  # seed 0, the default of `fastlin lecture`

print("Logistic regression:", "holds" if finding.holds else "does NOT hold")
print(finding.headline)
