"""BSS Eval v4 (museval-exact, fast): :func:`evaluate`, :class:`Evaluator`, :class:`TrackEvaluator`.

Arrays follow museval's ``(nsrc, nsampl, nchan)`` convention at this boundary.

Modules (no import cycles; each uses only the public names of the others):

=================  ==========================================================================
``signals``        block access to caller arrays in float64 (any dtype/strides, numpy/torch),
                   sums of parts; ``frame_stats`` (finite, silence, per-frame energies)
``validation``     museval's input conventions and checks, framing
``kernels``        correlation kernels (one array-API code path, numpy and torch on the
                   estimates' device), their plan, bilinear combination
``solvers``        Gram matrix, block Levinson and dense factorisations (host, float64)
``evaluator``      ``Evaluator`` and ``evaluate`` (museval's ``evaluate``)
``track``          ``TrackEvaluator``/``eval_track`` (museval's ``eval_mus_track``)
``museval_io``     ``TrackScores`` (museval's JSON, tidy table), aggregation
``engine``         compatibility re-exports
=================  ==========================================================================
"""

#: algorithm version of the scorer (BSS Eval v4 numbers): bump it whenever they change (tests/test_versions.py)
ALGORITHM_VERSION = 1

from .evaluator import COND_WARN, Evaluator, IllConditionedWarning, evaluate  # noqa: E402,F401
from .validation import framing  # noqa: E402,F401
from .track import TrackEvaluator, eval_track, plan_evaluations, SilentSourceWarning, FewTargetsWarning  # noqa: E402,F401
from .museval_io import TrackScores, load_track_scores, aggregate, aggregate_frames  # noqa: E402,F401
