"""BSS Eval v4 (museval-exact, fast): :func:`evaluate`, :class:`Evaluator`.

Arrays follow museval's ``(nsrc, nsampl, nchan)`` convention at this boundary.
"""

from .engine import COND_WARN, Evaluator, IllConditionedWarning, evaluate, framing  # noqa: F401
