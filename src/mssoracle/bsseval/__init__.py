"""BSS Eval v4 (museval-exact, fast): :func:`evaluate`, :class:`Evaluator`.

Arrays follow museval's ``(nsrc, nsampl, nchan)`` convention at this boundary.
"""

from .engine import COND_WARN, Evaluator, IllConditionedWarning, evaluate, framing  # noqa: F401
from .track import TrackEvaluator, eval_track, plan_evaluations, SilentSourceWarning, FewTargetsWarning  # noqa: E402,F401
from .museval_io import TrackScores, load_track_scores, aggregate, aggregate_frames  # noqa: E402,F401
