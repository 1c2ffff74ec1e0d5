"""Compatibility module: the engine's public names, now in smaller modules.

:mod:`~mssoracle.bsseval.evaluator` (``Evaluator``, ``evaluate``), :mod:`~mssoracle.bsseval.validation`
(input checks, framing), :mod:`~mssoracle.bsseval.kernels`
(correlations), :mod:`~mssoracle.bsseval.solvers` (Gram factorisations), :mod:`~mssoracle.bsseval.signals`
(block access to the signals).
"""

from .evaluator import COND_WARN, Evaluator, IllConditionedWarning, evaluate  # noqa: F401
from .validation import MAX_SOURCES, framing  # noqa: F401

__all__ = ["evaluate", "Evaluator", "IllConditionedWarning", "framing", "COND_WARN", "MAX_SOURCES"]
