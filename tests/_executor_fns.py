"""Toy module-level functions for tests/test_executors.py (importable by spawned and Dask workers).

Pytest puts ``tests/`` on ``sys.path``; spawned workers (``processes`` and a
Dask ``LocalCluster``'s nannies use ``spawn``) receive the parent's
``sys.path``, so they import this module by name.
"""

import os
import time
from pathlib import Path

#: set by the test process before starting workers: a forked child would see the change, a spawned one not
MARK = "fresh"

#: how long the waiting items wait for their release file at most (a safety net, never reached in a pass)
WAIT_CAP_S = 60.0


class Item:
    """An item with a ``describe()``, as the runner's units have."""

    def __init__(self, name, *, value=0, folder=None):
        self.name = name
        self.value = value
        self.folder = folder

    def describe(self):
        return f"toy item {self.name!r}"

    def __repr__(self):
        return f"Item({self.name!r})"


def square(item):
    """``item.value ** 2`` (or ``item ** 2`` for a number)."""
    v = item.value if isinstance(item, Item) else item
    return v * v


def fail_on(item):
    """Raise for items named ``bad``; the value otherwise."""
    if item.name == "bad":
        raise ValueError(f"item {item.name} is bad")
    return item.value


def _wait_for(path):
    t0 = time.monotonic()
    while not path.exists():
        if time.monotonic() - t0 > WAIT_CAP_S:
            raise TimeoutError(f"{path} never appeared")
        time.sleep(0.02)


def gated(item):
    """``bad`` raises at once, ``quick`` returns at once; others record their pid, wait for
    ``folder/release``, then write ``<name>.done``."""
    folder = Path(item.folder)
    if item.name == "bad":
        raise ValueError("bad item")
    if item.name == "quick":
        return item.value
    (folder / f"{item.name}.pid").write_text(str(os.getpid()))
    _wait_for(folder / "release")
    (folder / f"{item.name}.done").write_text("done")
    return item.value


def budget(item):
    """The worker's thread budget, its start method's tell-tale and its pid."""
    from mssoracle import threads

    return threads.budget(), MARK, os.getpid()


def allocate(item):
    """Grow memory by 64 MiB steps (touched) until ``item.value`` MiB: a nanny with a small limit kills it."""
    import numpy as np

    blocks = []
    for _ in range(max(1, item.value // 64)):
        blocks.append(np.ones(64 << 17))  # 64 MiB of float64, every page written
        time.sleep(0.05)
    return len(blocks)


def die(item):
    """Kill this worker process outright (as the kernel's out-of-memory killer would)."""
    import signal

    if item.name == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    return item.value


def probe():
    """What the lead's probe reports, reduced: the package version and whether a path exists."""
    import mssoracle

    return {"mssoracle": mssoracle.__version__, "data": os.path.isdir(os.path.dirname(__file__))}


def set_version(version):
    """Change ``mssoracle.__version__`` in this (worker) process."""
    import mssoracle

    mssoracle.__version__ = version
    return version
