"""Transform search with Optuna (``mssoracle search``): the best NSGT/sliCQT (or STFT) per target for an oracle.

Modules, in data-flow order: :mod:`.space` (the families' parameters and ranges, the canonical spec of a
parameter set, the grid), :mod:`.trackcache` (tracks decoded once to float32 ``.npy``, memory-mapped by every
worker), :mod:`.objective` (a spec's score by ``eval``'s own code: :class:`~mssoracle.experiment.Experiment`,
:func:`~mssoracle.experiment.runner.run_unit`, :mod:`mssoracle.aggregation`; the SDR fast path through the
registered ``snr`` metric), :mod:`.study` (storage URLs, the settings check, seeded samplers, stale trials,
the worker loop) and :mod:`.outputs` (``search.json``, ``trials.csv``, ``best.txt``).  The command
(:mod:`mssoracle.commands.search`) puts them together and runs the final ``eval`` of the best
configurations and the STFT control through :func:`~mssoracle.experiment.run_experiment`.
"""

from .objective import Objective, Scorer, resolve_objective
from .outputs import TRIAL_COLUMNS
from .space import SearchSpace
from .study import open_storage, run_worker, storage_url
from .trackcache import CachedDataset, build_cache

__all__ = ["SearchSpace", "Objective", "Scorer", "resolve_objective", "open_storage", "storage_url", "run_worker",
           "CachedDataset", "build_cache", "TRIAL_COLUMNS"]
