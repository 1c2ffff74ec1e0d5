"""One thread budget for the whole process.

The usable cores (``os.sched_getaffinity`` and the cgroup CPU quota) are the
budget; ``--jobs J`` worker processes each get ``budget // J`` of them
(:func:`set_budget` in the worker), and every layer inside a process (transform
threads, ``scipy.fft`` workers, BSS Eval pools) asks :func:`budget` instead of
``os.cpu_count()``.  BLAS calls whose result depends on their thread count are
run under :func:`single_threaded_blas`.

Parallel sums must not depend on the budget: layers plan their chunks from the
data size alone and reduce partial results in a fixed order, so the numbers are
bit-identical whatever the budget.
"""

import contextlib
import os

__all__ = ["usable_cores", "budget", "set_budget", "limited", "single_threaded_blas"]

_BUDGET = None


def _cgroup_quota():
    """CPUs allowed by the cgroup quota (v2 ``cpu.max`` or v1 ``cfs_quota``), or None."""
    try:
        with open("/sys/fs/cgroup/cpu.max") as fh:
            quota, period = fh.read().split()[:2]
        if quota != "max":
            return max(1, int(int(quota) // int(period)))
    except (OSError, ValueError):
        pass
    try:
        with open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") as fh:
            quota = int(fh.read())
        with open("/sys/fs/cgroup/cpu/cpu.cfs_period_us") as fh:
            period = int(fh.read())
        if quota > 0 and period > 0:
            return max(1, quota // period)
    except (OSError, ValueError):
        pass
    return None


def usable_cores():
    """Cores this process may use: its CPU affinity, capped by the cgroup quota (at least 1)."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    q = _cgroup_quota()
    return max(1, min(n, q) if q else n)


def budget():
    """Threads this process may run at once (``MSSORACLE_THREADS``, :func:`set_budget`, else the usable cores)."""
    if _BUDGET is not None:
        return _BUDGET
    env = os.environ.get("MSSORACLE_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return usable_cores()


def set_budget(n):
    """Set the process budget (``None``: back to the default); returns the previous explicit value."""
    global _BUDGET
    old = _BUDGET
    _BUDGET = None if n is None else max(1, int(n))
    return old


@contextlib.contextmanager
def limited(n):
    """Run a block with a budget of ``n`` threads."""
    old = set_budget(n)
    try:
        yield budget()
    finally:
        set_budget(old)


def single_threaded_blas():
    """Context manager: BLAS/LAPACK single-threaded (results independent of the thread count)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")
