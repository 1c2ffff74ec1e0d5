"""Oracle experiments: jobs = track x transform x oracle, estimated in blocks, scored, resumed.

Modules: :mod:`.jobs` (the :class:`Experiment` and its jobs), :mod:`.identity`
(which configuration fields identify a result), :mod:`.pipeline` (estimates in
blocks of time, flat memory), :mod:`.executors` (serial, process; registry),
:mod:`.runner` (per-track work and :func:`run_experiment`).
"""

from .executors import EXECUTORS, ProcessExecutor, SerialExecutor, get_executor, register_executor
from .identity import IDENTITY_FIELDS
from .jobs import Experiment, Job, JobStatus, dataset_label, method_name
from .runner import JobsFailed, run_experiment, run_track

__all__ = ["Experiment", "Job", "JobStatus", "JobsFailed", "method_name", "dataset_label", "run_experiment",
           "run_track", "SerialExecutor", "ProcessExecutor", "EXECUTORS", "register_executor", "get_executor",
           "IDENTITY_FIELDS"]
