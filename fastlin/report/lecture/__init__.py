"""``fastlin lecture``: every claim of the introductory lecture, checked with fastlin's estimators.

Each demonstration module states one claim of the lecture in its notation (w, b, a = w·x + b, η,
λ), measures it with fastlin on small data, and returns a verdict, the numbers and a figure.
Nothing here reads the lecture's text: the statements are written into the modules.

==================  ============================================================================
``perceptron``      the exercise traced point by point; boundary x₂ = x₁
``convergence``     mistakes per epoch: separable data → 0, XOR never
``losses``          0/1, hinge, logistic, squared, absolute; convexity by chords
``closed_form``     normal equations = optimum; gradient at it ≈ 0; GD and SGD converge to it
``shrinkage``       ridge and lasso paths against λ; exact zeros
``step_sizes``      η too small, right, too large (fastlin's divergence signal)
``mini_batches``    batch sizes 1, 32, 256, full: loss vs samples seen and vs time
``logistic``        sigmoid; cross-entropy gradient vs finite differences; 0.5 boundary
``fitting``         training/development error against λ and D; λ picked on dev
``cost``            closed form timed against N and D, fitted exponents
``claim``           :class:`Demonstration`, :class:`Finding`
``figures``         fonts, sizes, PNG rendering
``runner``          the list, ``--claims`` selection, the run with progress
``document``        the JSON document;  ``page``: the HTML page;  ``output``: atomic writing
``command``         :func:`lecture`, used by :mod:`fastlin.cli`
==================  ============================================================================
"""

from __future__ import annotations

from .command import lecture
from .runner import DEMONSTRATIONS, NAMES, select

__all__ = ["lecture", "DEMONSTRATIONS", "NAMES", "select"]
