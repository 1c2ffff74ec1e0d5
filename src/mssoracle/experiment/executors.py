"""Executors: where the units of an experiment run (this process, worker processes, a Dask cluster).

Every executor has one interface::

    ex = get_executor("processes", jobs=2)
    with ex:                              # starts the workers; leaving abandons anything in flight
        ex.check(probe)                   # probe() -> dict, run on every worker, compared with probe() here
        for outcome in ex.run(fn, items): # fn(item) on the workers; outcomes as each item finishes
            outcome.item, outcome.value, outcome.error, outcome.traceback

``fn`` is a module-level (picklable) function and items and results are
picklable.  An item that raises gives an :class:`Outcome` whose ``error`` is
the exception (and ``traceback`` its formatted traceback) as soon as it fails;
the other items go on.  Closing the generator (``break``, an exception, an
interrupt) cancels the items not started and abandons those in flight.

``serial``
    One item after the other in this process.
``processes`` (alias ``process``)
    ``jobs`` worker processes started with ``spawn`` (never ``fork``: no
    process forks while threads run), one item at a time each, each with a
    thread budget of ``max(1, threads.budget() // jobs)``
    (:mod:`mssoracle.threads`).  Abandoning terminates the busy workers; a
    worker that dies (killed by the kernel's out-of-memory killer, a crash)
    gives its item a :class:`~mssoracle.errors.WorkerLostError` and is replaced.
``dask``
    ``scheduler=None`` or ``"local"``: a :class:`dask.distributed.LocalCluster`
    of ``jobs`` worker processes with one thread each and
    ``memory_limit or DEFAULT_MEMORY_LIMIT`` each; ``scheduler="tcp://HOST:PORT"``:
    a running cluster (``dask scheduler``, ``dask worker``).  Each task sets its
    worker's thread budget to the worker's cores divided by the threads of all
    the workers on its host.  A task whose worker died (KilledWorker; the
    nanny kills a worker at 95% of its memory limit) gives a
    :class:`~mssoracle.errors.WorkerLostError` naming the item, the limit and
    what to do.  Needs ``pip install 'mssoracle[dask]'``.

New executors register with :func:`register_executor`; a registered class is
built as ``cls(jobs=, scheduler=, memory_limit=)`` and implements
:class:`Executor`'s ``start``, ``close``, ``check`` and ``run``.
"""

import contextlib
import dataclasses
import itertools
import logging
import multiprocessing
import pickle
import signal
import traceback
import uuid
import warnings
from multiprocessing import connection as mp_connection
from typing import Any, Optional

from .. import threads, validators
from ..errors import ParameterError, WorkerLostError
from ..registry import Registry

__all__ = ["EXECUTORS", "register_executor", "get_executor", "Outcome", "Executor", "SerialExecutor",
           "ProcessExecutor", "DaskExecutor", "DEFAULT_MEMORY_LIMIT", "describe"]

#: executor name -> class built as ``cls(jobs=, scheduler=, memory_limit=)``
EXECUTORS = Registry("executor")

#: Memory limit of each worker of ``--scheduler local`` (Dask's nanny restarts a worker at 95% of it).
#: ``mssoracle eval`` peaks at about 1.7 GiB on a 4-minute track and grows by about 4.7 MiB per second
#: of audio (bench_memory.py, issue 7; the bound is 2.5 GiB): 4 GiB (3.8 GiB at 95%) leaves room for
#: tracks up to about 11 minutes, whatever the number of oracles and transforms.  ``--memory-limit``
#: overrides it; with ``--precision float64`` the signals double (raise it for long tracks).
DEFAULT_MEMORY_LIMIT = "4GiB"

_DASK_HINT = "pip install 'mssoracle[dask]'"

#: below this a Dask worker (about 0.3 GiB with mssoracle imported) is killed by its nanny as it starts
_MIN_MEMORY_LIMIT = 256 << 20


def register_executor(name, *, aliases=(), description=""):
    """Class decorator: register an executor class under ``name`` (and ``aliases``)."""
    return EXECUTORS.register(name, aliases=aliases, description=description)


def get_executor(name, *, jobs=1, scheduler=None, memory_limit=None):
    """Build the executor registered as ``name``.

    Parameters
    ----------
    name : str
        ``serial``, ``processes`` (``process``), ``dask`` or any registered name.
    jobs : int
        Worker processes (``processes``; ``dask`` with a local cluster).
    scheduler : str, optional
        ``dask`` only: ``"local"`` (default) or a scheduler address ``tcp://HOST:PORT``.
    memory_limit : str or int, optional
        ``dask`` with a local cluster only: memory limit per worker (``"4GiB"``, bytes);
        default :data:`DEFAULT_MEMORY_LIMIT`.

    Raises
    ------
    ParameterError
        Unknown name, bad ``jobs``/``memory_limit``, an option the executor does not take,
        or Dask missing.
    """
    return EXECUTORS.get(name)(jobs=jobs, scheduler=scheduler, memory_limit=memory_limit)


@dataclasses.dataclass
class Outcome:
    """What became of one item: its ``value``, or its ``error`` (an exception) and ``traceback`` (text)."""

    item: Any
    value: Any = None
    error: Optional[BaseException] = None
    traceback: Optional[str] = None

    @property
    def ok(self):
        return self.error is None


def describe(item):
    """How messages name an item: its ``describe()`` if it has one, else a short ``repr``."""
    if isinstance(item, str):
        return item
    d = getattr(item, "describe", None)
    if callable(d):
        with contextlib.suppress(Exception):
            return str(d())
    r = repr(item)
    return r if len(r) <= 80 else r[:77] + "..."


def _first_line(exc):
    text = str(exc).strip()
    return (text.splitlines()[0] if text else "") or type(exc).__name__


_MISSING = "<missing>"


def _compare(expected, found, what):
    """ParameterError for the first worker whose probe differs from ``expected`` (or failed)."""
    hint = "every worker needs the same mssoracle, numpy and scipy versions and the same data paths"
    for name, got in found.items():
        if isinstance(got, BaseException):
            raise ParameterError(f"{what} {name} cannot run the start-up check ({type(got).__name__}: "
                                 f"{_first_line(got)}); {hint}")
        if not isinstance(got, dict):
            raise ParameterError(f"{what} {name} answered the start-up check with {got!r}, not a dict")
        for key in list(expected) + [k for k in got if k not in expected]:
            ours, theirs = expected.get(key, _MISSING), got.get(key, _MISSING)
            if ours != theirs:
                raise ParameterError(f"{what} {name} differs from this machine: {key} is {theirs!r} there "
                                     f"and {ours!r} here; {hint}")


def _call(fn):
    """Run a no-argument function (how ``check`` sends a probe through ``run``'s machinery)."""
    return fn()


class Executor:
    """Base class: a context manager (``start``/``close``) with ``check`` and ``run``.

    Subclasses implement :meth:`run` (and, when they have workers, :meth:`start`,
    :meth:`close` and :meth:`check`).
    """

    name = "executor"

    def __init__(self, *, jobs=1, scheduler=None, memory_limit=None):
        self.jobs = validators.integer(jobs, "--jobs", minimum=1)
        if scheduler is not None:
            raise ParameterError(f"--scheduler applies to --executor dask only, not --executor {self.name}")
        if memory_limit is not None:
            raise ParameterError(f"--memory-limit applies to --executor dask only, not --executor {self.name}")

    def start(self):
        """Start the workers (``__enter__`` calls it)."""

    def close(self):
        """Stop the workers, abandoning anything in flight (``__exit__`` calls it)."""

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def check(self, probe):
        """Run ``probe()`` on every worker; :class:`ParameterError` if one's dict differs from ``probe()`` here."""

    def run(self, fn, items):  # pragma: no cover - interface
        """Yield an :class:`Outcome` for each item of ``items`` as it finishes."""
        raise NotImplementedError


@register_executor("serial", description="one job after the other in this process")
class SerialExecutor(Executor):
    """Run the items one after the other, in order, in this process."""

    name = "serial"

    def __init__(self, *, jobs=1, scheduler=None, memory_limit=None):
        super().__init__(jobs=jobs, scheduler=scheduler, memory_limit=memory_limit)
        if self.jobs != 1:
            raise ParameterError(f"--executor serial runs one job at a time, got --jobs {self.jobs}; "
                                 "use --executor processes or dask for more")

    def run(self, fn, items):
        for item in items:
            try:
                value = fn(item)
            except Exception as exc:  # the item's error is its outcome; interrupts propagate
                yield Outcome(item, error=exc, traceback=traceback.format_exc())
            else:
                yield Outcome(item, value=value)


# ---------------------------------------------------------------------------------------------------------
# worker processes


def _error_reply(exc):
    tb = traceback.format_exc()
    try:
        return pickle.dumps(("error", exc, tb), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception that does not pickle travels as its text
        return pickle.dumps(("error", RuntimeError(f"{type(exc).__name__}: {exc}"), tb),
                            protocol=pickle.HIGHEST_PROTOCOL)


def _exit_with_parent():
    """A watcher thread: end this worker as soon as its client dies (even by SIGKILL, mid-item)."""
    import os
    import threading

    parent = multiprocessing.parent_process()
    if parent is None or getattr(parent, "sentinel", None) is None:  # pragma: no cover - not a spawned child
        return

    def watch():
        mp_connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="mssoracle-parent-watch", daemon=True).start()


def _process_worker(conn, budget):
    """Main loop of a worker process: receive ``(fn, item)``, send back ``("ok", value)`` or ``("error", ...)``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the client handles Ctrl-C and terminates its workers
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threads.set_budget(budget)
    _exit_with_parent()
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):  # the client closed the pipe (or died)
            return
        if not data:
            return
        try:
            fn, item = pickle.loads(data)
            reply = pickle.dumps(("ok", fn(item)), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            reply = _error_reply(exc)
        try:
            conn.send_bytes(reply)
        except OSError:
            return


class _Worker:
    """One worker process and the client's end of its pipe."""

    def __init__(self, ctx, budget, name):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_process_worker, args=(child, budget), name=name, daemon=True)
        self.process.start()
        child.close()

    def send(self, payload):
        self.conn.send_bytes(payload)

    def stop(self, *, terminate):
        """End the worker: terminate it at once (``terminate``), else let it exit after closing its pipe."""
        with contextlib.suppress(OSError):
            self.conn.close()
        if terminate and self.process.is_alive():
            self.process.terminate()

    def reap(self, timeout=5.0):
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(1.0)


def _how_it_died(exitcode):
    if exitcode is None:
        return "it stopped answering"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        if -exitcode == signal.SIGKILL:
            return f"killed by {name}, most likely by the system's out-of-memory killer"
        return f"killed by {name}"
    return f"exit status {exitcode}"


@register_executor("processes", aliases=("process",),
                   description="JOBS worker processes (spawned), one job each at a time")
class ProcessExecutor(Executor):
    """Run the items in ``jobs`` spawned worker processes, one item at a time each.

    Each worker's thread budget is ``max(1, threads.budget() // jobs)``.  The
    workers start with :meth:`start` (or the ``with`` block) and stop with
    :meth:`close`; a worker that dies is replaced for the next item.
    """

    name = "processes"
    start_method = "spawn"

    def __init__(self, *, jobs=1, scheduler=None, memory_limit=None):
        super().__init__(jobs=jobs, scheduler=scheduler, memory_limit=memory_limit)
        self._context = multiprocessing.get_context(self.start_method)
        self._workers = []
        self._budget = None
        self._names = itertools.count(1)

    def start(self):
        if self._budget is None:
            self._budget = max(1, threads.budget() // self.jobs)
        self._fill()

    def _fill(self):
        while len(self._workers) < self.jobs:
            self._workers.append(_Worker(self._context, self._budget, f"mssoracle-worker-{next(self._names)}"))

    def _drop(self, worker, *, terminate):
        worker.stop(terminate=terminate)
        worker.reap()
        self._workers.remove(worker)

    def close(self):
        workers, self._workers = self._workers, []
        for w in workers:  # idle workers exit at the end of their pipe; busy ones are terminated
            w.stop(terminate=True)
        for w in workers:
            w.reap()

    def _lost(self, worker, item):
        worker.reap()
        how = _how_it_died(worker.process.exitcode)
        return WorkerLostError(f"{describe(item)}: its worker process {worker.process.pid} died ({how}); "
                               "if it ran out of memory, lower --jobs (each worker holds one track)")

    def _receive(self, worker, item):
        """The outcome of ``item`` from ``worker`` (which has answered or died)."""
        try:
            data = worker.conn.recv_bytes()
        except (EOFError, OSError):
            err = self._lost(worker, item)
            self._drop(worker, terminate=True)
            return Outcome(item, error=err)
        try:
            status, *payload = pickle.loads(data)
        except Exception as exc:  # e.g. an exception class this process cannot import
            return Outcome(item, error=exc, traceback=traceback.format_exc())
        if status == "ok":
            return Outcome(item, value=payload[0])
        return Outcome(item, error=payload[0], traceback=payload[1])

    def check(self, probe):
        self.start()
        expected = probe()
        payload = pickle.dumps((_call, probe), protocol=pickle.HIGHEST_PROTOCOL)
        found, asked = {}, []
        for w in list(self._workers):
            try:
                w.send(payload)
                asked.append(w)
            except OSError:  # died while idle
                found[w.process.pid] = self._lost(w, "the start-up check")
                self._drop(w, terminate=True)
        for w in asked:
            out = self._receive(w, "the start-up check")
            found[w.process.pid] = out.value if out.ok else out.error
        _compare(expected, found, "worker process")

    def run(self, fn, items):
        self.start()
        pending = iter(items)
        carry = _MISSING  # an item whose worker was found dead before it got it
        exhausted = False
        busy = {}  # worker -> item
        try:
            while True:
                self._fill()
                for w in list(self._workers):
                    if w in busy:
                        continue
                    while not exhausted:
                        item, carry = (next(pending, _MISSING), _MISSING) if carry is _MISSING else (carry, _MISSING)
                        if item is _MISSING:
                            exhausted = True
                            break
                        try:
                            payload = pickle.dumps((fn, item), protocol=pickle.HIGHEST_PROTOCOL)
                        except Exception as exc:  # this item cannot travel: its outcome, then the next item
                            yield Outcome(item, error=exc, traceback=traceback.format_exc())
                            continue
                        try:
                            w.send(payload)
                        except OSError:  # the worker died while idle: the item goes to its replacement
                            carry = item
                            self._drop(w, terminate=True)
                            break
                        busy[w] = item
                        break
                if not busy:
                    if exhausted and carry is _MISSING:
                        return
                    continue
                waits = {}
                for w in busy:
                    waits[w.conn] = w
                    waits[w.process.sentinel] = w
                ready = {waits[r] for r in mp_connection.wait(list(waits))}
                for w in [w for w in list(busy) if w in ready]:
                    yield self._receive(w, busy.pop(w))
        finally:
            for w in list(busy):  # abandoned: the items in flight are dropped with their workers
                self._drop(w, terminate=True)


# ---------------------------------------------------------------------------------------------------------
# Dask


def _import_distributed():
    try:
        import dask  # noqa: F401
        import distributed
    except ImportError:
        raise ParameterError(f"--executor dask needs Dask (dask and distributed): {_DASK_HINT}") from None
    return distributed


#: loggers kept quiet while a Dask executor runs (their warnings are reported as one-line errors here)
_DASK_LOGGERS = ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker",
                 "distributed.core", "distributed.client", "distributed.comm", "distributed.batched",
                 "distributed.worker_memory", "distributed.deploy", "distributed.deploy.spec",
                 "distributed.process", "tornado.application", "bokeh")


#: a Dask worker process's own budget, read before any task of it sets one
_WORKER_CORES = None


def _dask_task(fn, item, host_threads):
    """Run ``fn(item)`` on a Dask worker with its thread budget: its cores over the worker threads of its host.

    ``host_threads`` maps each host of the cluster to the number of worker threads it runs (all workers
    together); a host not in it (a worker that joined later) counts this worker's threads alone.
    """
    global _WORKER_CORES
    try:
        from distributed import get_worker
        from distributed.comm import get_address_host

        worker = get_worker()
        host = get_address_host(worker.address)
    except (ImportError, ValueError, AttributeError):  # not on a worker (e.g. a test calling it directly)
        return fn(item)
    if _WORKER_CORES is None:
        _WORKER_CORES = threads.budget()
    share = host_threads.get(host) or int(getattr(worker, "nthreads", 1) or 1)
    threads.set_budget(max(1, _WORKER_CORES // share))  # every task of this worker sets the same value
    return fn(item)


def _handshake(address, timeout):
    """Open and close one Dask connection to ``address`` (handshake included), in a loop of its own.

    A TCP address is first tried with a plain socket, so that a refused connection or an unknown host
    fails at once (Dask retries those until its timeout).
    """
    import asyncio
    import socket
    import threading

    from distributed.comm import connect
    from distributed.comm.addressing import get_address_host_port, parse_address

    if parse_address(address)[0] in ("tcp", "tls"):
        host, port = get_address_host_port(address)
        socket.create_connection((host, port), timeout=timeout).close()

    async def go():
        comm = await connect(address, timeout=timeout)
        await comm.close()

    result = {}

    def target():
        try:
            asyncio.run(go())
        except BaseException as exc:  # handed to the caller
            result["error"] = exc

    th = threading.Thread(target=target, name="mssoracle-dask-handshake", daemon=True)
    th.start()
    th.join(timeout + 5)
    if th.is_alive():
        raise TimeoutError(f"no answer from {address} after {timeout:g} s")
    if "error" in result:
        raise result["error"]


async def _stop_nannies(nannies):
    """Close a local cluster's nannies at once (a busy worker gets 1 s, then SIGKILL; idle ones just stop)."""
    import asyncio

    await asyncio.gather(*(n.close(timeout=1) for n in nannies), return_exceptions=True)


def _format_bytes(n):
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} B"


@register_executor("dask", description="a Dask cluster: --scheduler local (JOBS workers) or tcp://HOST:PORT")
class DaskExecutor(Executor):
    """Run the items on a Dask cluster: a local one (``scheduler="local"``) or a running one (an address).

    Parameters
    ----------
    jobs : int
        Workers of the local cluster (one thread each); ignored with an address (the cluster has its own).
    scheduler : str, optional
        ``None``/``"local"``, or the address of a running scheduler, e.g. ``tcp://HOST:8786``.
    memory_limit : str or int, optional
        Memory limit of each local worker (``"4GiB"``); default :data:`DEFAULT_MEMORY_LIMIT`.
        The workers of a running cluster have their own (``dask worker --memory-limit``).
    """

    name = "dask"
    #: seconds to wait for a running scheduler (and for its first worker)
    CONNECT_TIMEOUT = 10.0

    def __init__(self, *, jobs=1, scheduler=None, memory_limit=None):
        self.jobs = validators.integer(jobs, "--jobs", minimum=1)
        _import_distributed()
        from dask.utils import parse_bytes

        s = "local" if scheduler is None else str(scheduler).strip()
        if not s:
            raise ParameterError("--scheduler is empty; write local or a scheduler address such as tcp://HOST:8786")
        self.scheduler = "local" if s.lower() == "local" else s
        self.local = self.scheduler == "local"
        if not self.local and memory_limit is not None:
            raise ParameterError(f"--memory-limit applies to --scheduler local only; the workers of "
                                 f"{self.scheduler} have their own (dask worker --memory-limit SIZE)")
        limit = DEFAULT_MEMORY_LIMIT if memory_limit is None else memory_limit
        try:
            self.memory_limit = int(parse_bytes(limit)) if isinstance(limit, str) else int(limit)
        except (ValueError, TypeError):
            self.memory_limit = None
        if not self.memory_limit or self.memory_limit <= 0:
            raise ParameterError(f"--memory-limit must be a size such as 4GiB or 1500MB, got {memory_limit!r}")
        if self.memory_limit < _MIN_MEMORY_LIMIT:
            raise ParameterError(f"--memory-limit {memory_limit} is below {_format_bytes(_MIN_MEMORY_LIMIT)}, less "
                                 f"than a worker needs to start; the default is {DEFAULT_MEMORY_LIMIT}")
        self._client = None
        self._cluster = None
        self._loggers = None

    # -- lifetime --------------------------------------------------------------------------------------

    def _quiet(self):
        if self._loggers is None:
            self._loggers = {}
            for name in _DASK_LOGGERS:
                lg = logging.getLogger(name)
                self._loggers[name] = lg.level
                lg.setLevel(logging.CRITICAL)

    def _unquiet(self):
        for name, level in (self._loggers or {}).items():
            logging.getLogger(name).setLevel(level)
        self._loggers = None

    def start(self):
        if self._client is not None:
            return
        import dask
        from distributed import Client

        self._quiet()
        try:
            if self.local:
                from distributed import LocalCluster

                config = {
                    "distributed.scheduler.allowed-failures": 0,  # a worker's death is its task's: report it
                    "distributed.scheduler.worker-saturation": 1.0,  # one task per worker; the rest wait
                    "distributed.worker.memory.target": False,  # results are small: nothing to spill
                    "distributed.worker.memory.spill": False,
                    "distributed.worker.memory.pause": False,  # one task per worker: pausing helps nothing
                    # Dask's MALLOC_TRIM_THRESHOLD_=65536 turns off glibc's dynamic mmap threshold: every
                    # large temporary becomes a fresh mmap (page faults, zeroing); jobs took 1.55x as long
                    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
                    # the 10-ms stack sampler takes CPU from the jobs when they use every core (15%, measured)
                    "distributed.worker.profile.enabled": False,
                }
                with dask.config.set(config), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self._cluster = LocalCluster(n_workers=self.jobs, threads_per_worker=1,
                                                 memory_limit=self.memory_limit, processes=True,
                                                 dashboard_address=None, silence_logs=logging.CRITICAL)
                    self._client = Client(self._cluster, set_as_default=False)
            else:
                self._connect(Client)
            self._check_versions()
        except BaseException:
            self.close()
            raise

    def _connect(self, Client):
        t = self.CONNECT_TIMEOUT
        try:
            _handshake(self.scheduler, t)  # first alone: a failed Client lingers (its __del__ waits 20 s)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._client = Client(self.scheduler, timeout=t, set_as_default=False)
        except Exception as exc:  # refused, timed out, unresolvable, or something else answering there
            raise ParameterError(f"--scheduler {self.scheduler}: no Dask scheduler answers there "
                                 f"({type(exc).__name__}: {_first_line(exc)}; waited at most {t:g} s); "
                                 f"start one with `dask scheduler` "
                                 f"(and workers with `dask worker {self.scheduler}`), or use --scheduler local"
                                 ) from None
        try:
            self._client.wait_for_workers(1, timeout=t)
        except (OSError, TimeoutError):
            raise ParameterError(f"--scheduler {self.scheduler}: the scheduler has no worker after {t:g} s; "
                                 f"start some with `dask worker {self.scheduler}`") from None

    def _check_versions(self):
        """One-line ParameterError when the client, the scheduler and the workers run other dask versions."""
        from distributed import versions as dv

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            info = self._client.get_versions(check=False)

        def pkgs(v):
            d = dict((v or {}).get("packages") or {})
            py = ((v or {}).get("host") or {}).get("python")
            if py:
                d["python"] = ".".join(str(py).split(".")[:2])
            return d

        ours = pkgs(info["client"])
        places = [("the scheduler", pkgs(info["scheduler"]), set(dv.scheduler_relevant_packages) | {"python"})]
        checked = set(dv.required_packages) | {"python", "numpy", "pandas"}
        places += [(f"worker {addr}", pkgs(v), checked) for addr, v in sorted(info["workers"].items())]
        for where, theirs, names in places:
            for pkg in sorted(names):
                a, b = ours.get(pkg), theirs.get(pkg)
                if a != b:
                    raise ParameterError(f"--scheduler {self.scheduler}: {pkg} {b or 'missing'} on {where} but "
                                         f"{a or 'missing'} here; install the same versions of dask, distributed "
                                         f"and their dependencies everywhere ({_DASK_HINT})")

    def _host_threads(self):
        """Worker threads per host of the cluster (what the cores of each host are shared among)."""
        from collections import Counter

        from distributed.comm import get_address_host

        per_host = Counter()
        with contextlib.suppress(Exception):
            for addr, w in self._client.scheduler_info(n_workers=-1)["workers"].items():
                per_host[w.get("host") or get_address_host(addr)] += int(w.get("nthreads") or 1)
        return dict(per_host)

    def close(self):
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        try:
            if cluster is not None:  # stop the local workers first, busy or not: 1 s grace, then SIGKILL
                with contextlib.suppress(Exception):
                    cluster.sync(_stop_nannies, list(cluster.workers.values()))
            if client is not None:
                with contextlib.suppress(Exception):
                    client.close(timeout=5)
            if cluster is not None:
                with contextlib.suppress(Exception):
                    cluster.close(timeout=10)
        finally:
            self._unquiet()

    # -- work ------------------------------------------------------------------------------------------

    def _require_client(self):
        if self._client is None:
            self.start()
        return self._client

    def check(self, probe):
        client = self._require_client()
        expected = probe()
        found = client.run(probe, on_error="return")
        if not found:
            raise ParameterError(f"--scheduler {self.scheduler}: the cluster has no worker; "
                                 f"start some with `dask worker {self.scheduler}`")
        _compare(expected, found, "Dask worker")

    def _limit_of(self, exc):
        if self.local:
            return self.memory_limit
        limit = getattr(getattr(exc, "last_worker", None), "memory_limit", None)
        return limit if isinstance(limit, int) and limit > 0 else None

    def _memory_killed(self, address):
        """Whether the nanny reported restarting the worker at ``address`` for its memory (an event)."""
        with contextlib.suppress(Exception):
            for _, event in self._client.get_events("worker-restart-memory"):
                if isinstance(event, dict) and event.get("worker") == address:
                    return True
        return False

    def _killed(self, exc, item):
        """The WorkerLostError of a KilledWorker: the item, how the worker died, the limit, what to do."""
        limit = self._limit_of(exc)
        limit_text = f"{_format_bytes(limit)} per worker" if limit else "its memory limit"
        address = getattr(getattr(exc, "last_worker", None), "address", None)
        if self.local:
            todo = "raise --memory-limit or lower --jobs"
        else:
            todo = "give the workers more memory (dask worker --memory-limit SIZE) or fewer threads each"
        import dask

        frac = dask.config.get("distributed.worker.memory.terminate", 0.95) if self.local else 0.95
        at = f"{float(frac) * 100:.0f}%" if frac else "95%"
        if address and self._memory_killed(address):
            how = f"killed by its nanny at {at} of its memory limit, {limit_text}"
        else:
            how = f"it crashed or was killed; the nanny kills a worker at {at} of its memory limit, {limit_text}"
        return WorkerLostError(f"{describe(item)}: the Dask worker running it died ({how}); {todo}")

    def _outcome(self, future, item):
        from distributed import KilledWorker

        if future.status == "finished":
            try:
                return Outcome(item, value=future.result())
            except Exception as exc:  # the result did not arrive (deserialisation, a lost connection)
                return Outcome(item, error=exc, traceback=traceback.format_exc())
        if future.status == "error":
            exc = future.exception()
            if isinstance(exc, KilledWorker):
                return Outcome(item, error=self._killed(exc, item))
            tb = future.traceback()
            text = "".join(traceback.format_exception(type(exc), exc, tb)) if tb is not None else None
            return Outcome(item, error=exc, traceback=text)
        return Outcome(item, error=WorkerLostError(
            f"{describe(item)}: Dask {future.status} it (the cluster was restarted or the scheduler lost)"))

    def _capacity(self):
        """Tasks to keep submitted: one per worker thread (so a dying worker takes only its own task with it)."""
        if self.local:
            return self.jobs
        with contextlib.suppress(Exception):
            return max(1, sum(int(n) for n in self._client.nthreads().values()))
        return 1

    def run(self, fn, items):
        from distributed import as_completed

        client = self._require_client()
        token = uuid.uuid4().hex[:8]
        host_threads = self._host_threads()
        pending = enumerate(items)
        futures = {}
        done = as_completed(loop=client.loop)
        try:
            while True:
                cap = self._capacity()
                while len(futures) < cap:
                    i, item = next(pending, (None, _MISSING))
                    if item is _MISSING:
                        break
                    try:
                        fut = client.submit(_dask_task, fn, item, host_threads, pure=False,
                                            key=f"mssoracle-{token}-{i}")
                    except Exception as exc:  # e.g. an item that does not pickle
                        yield Outcome(item, error=exc, traceback=traceback.format_exc())
                        continue
                    futures[fut] = item
                    done.add(fut)
                if not futures:
                    return
                fut = next(done)
                item = futures.pop(fut)
                outcome = self._outcome(fut, item)
                fut.release()
                yield outcome
        finally:
            if futures and self._client is not None:  # abandoned: cancel what is queued or running
                with contextlib.suppress(Exception):
                    self._client.cancel(list(futures), force=True)
