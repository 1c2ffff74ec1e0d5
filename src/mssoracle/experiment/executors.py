"""Executors: where the per-track units of an experiment run.

Each executor is registered with :func:`register_executor` and built as
``cls(jobs)``; it has ``map(fn, items)`` yielding ``fn(*item)`` results in any
order.  ``serial`` runs in this process; ``process`` runs ``jobs`` worker
processes (started with ``spawn``, so no process forks while threads run), each
with a thread budget of ``usable cores // jobs`` (:mod:`mssoracle.threads`).
"""

import concurrent.futures
import multiprocessing

from .. import threads
from ..registry import Registry

__all__ = ["EXECUTORS", "register_executor", "get_executor", "SerialExecutor", "ProcessExecutor"]

#: executor name -> class taking ``jobs``
EXECUTORS = Registry("executor")


def register_executor(name, *, description=""):
    """Class decorator: register an executor class under ``name``."""
    return EXECUTORS.register(name, description=description)


def get_executor(name, jobs=1):
    """Build the executor registered as ``name`` for ``jobs`` workers."""
    return EXECUTORS.get(name)(jobs)


@register_executor("serial", description="one track after the other in this process")
class SerialExecutor:
    """Run track units one after the other in this process."""

    def __init__(self, jobs=1):
        self.jobs = 1

    def map(self, fn, items):
        for item in items:
            yield fn(*item)


def _init_worker(budget):
    threads.set_budget(budget)


@register_executor("process", description="JOBS worker processes, one track each (spawned)")
class ProcessExecutor:
    """Run track units in ``jobs`` worker processes (one track in memory per worker).

    The first failing unit stops the run: its error is raised as soon as it
    arrives and the units not yet started are cancelled.
    """

    def __init__(self, jobs):
        self.jobs = max(1, int(jobs))

    def map(self, fn, items):
        items = list(items)
        budget = max(1, threads.budget() // self.jobs)
        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(max_workers=self.jobs, mp_context=ctx,
                                                    initializer=_init_worker, initargs=(budget,)) as pool:
            futures = [pool.submit(fn, *item) for item in items]
            try:
                for fut in concurrent.futures.as_completed(futures):
                    yield fut.result()
            finally:
                for fut in futures:
                    fut.cancel()
