"""Oracle experiments: jobs = track x transform x oracle, estimated in blocks, scored, resumed.

Modules: :mod:`.jobs` (the :class:`Experiment`, its jobs and their status), :mod:`.names`
(method names, parsed back), :mod:`.identity` (which configuration fields identify a
result; algorithm versions), :mod:`.fingerprint` (data identity), :mod:`.pipeline`
(estimates in blocks of time, flat memory), :mod:`.executors` (serial, processes, Dask;
registry), :mod:`.runner` (plan, units, :func:`run_experiment`).
"""

from .executors import EXECUTORS, ProcessExecutor, SerialExecutor, get_executor, register_executor
from .identity import IDENTITY_FIELDS
from .jobs import Experiment, Job, JobStatus, dataset_label
from .names import DEFAULT_QUALIFIERS, QUALIFIER_ORDER, MethodConfig, method_name, parse_method_name
from .runner import JobsFailed, run_experiment, run_track

__all__ = ["Experiment", "Job", "JobStatus", "JobsFailed", "method_name", "dataset_label", "run_experiment",
           "run_track", "SerialExecutor", "ProcessExecutor", "EXECUTORS", "register_executor", "get_executor",
           "IDENTITY_FIELDS", "parse_method_name", "MethodConfig", "DEFAULT_QUALIFIERS", "QUALIFIER_ORDER"]
