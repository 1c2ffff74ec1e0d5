"""The Optuna study of a search: storage, settings, samplers, stale trials, and the worker loop.

Storage (:func:`open_storage`)
    ``journal:///ABS/PATH`` (Optuna's ``JournalStorage(JournalFileBackend(path))``, the default:
    ``OUT/study.journal``; safe for several processes on one machine and, on a file system with working
    locks, several machines) or any SQLAlchemy URL of Optuna's ``RDBStorage`` (``sqlite:///PATH``,
    ``postgresql+psycopg2://USER:PASSWORD@HOST/DB``).  An unreachable storage is one line
    (:class:`~mssoracle.errors.OutputError`).
Settings (:func:`check_settings`)
    ``study.user_attrs["mssoracle"]`` holds the settings dict of the command that created the study (space,
    tracks and their fingerprints, oracle, objective, target, scoring, mixture, precision, version); a rerun
    with other settings is refused naming the first field that differs, and the study is not touched.
Trials (:func:`run_worker`)
    Each worker loads the study with its own seeded sampler (:func:`sampler_seed`: from the seed, the
    number of trials already in the study and the worker index), fails the stale trials
    (:func:`fail_stale_trials`: a running trial of a dead pid on this host, or of another host whose last
    heartbeat is older than the lease) and enqueues their parameters again, then runs
    ``study.optimize`` until the study holds ``n_trials`` completed trials (Optuna's
    ``MaxTrialsCallback``: one worker stops at exactly N, W workers at N .. N + W - 1) or
    ``10 * n_trials`` trials in all.  Every trial records ``host``, ``pid``, ``worker``, ``started`` and
    ``heartbeat`` (after each track), ``spec`` (canonical), ``targets`` ({target: value}) or
    ``prune_reason``.  A proposal whose canonical spec equals a completed trial's, or a running trial's of a
    lower number, is pruned as a duplicate; the check runs after the trial wrote its own spec and again
    before it reports its value, so between racing workers the lowest-numbered trial wins.
"""

import dataclasses
import os
import signal
import socket
import sys
import threading
import time
import uuid
from pathlib import Path

from ..errors import MssOracleError, OutputError, ParameterError

__all__ = ["keep_freed_memory", "SETTINGS_KEY", "JOURNAL_PREFIX", "storage_url", "open_storage", "check_settings",
           "sampler_seed", "make_sampler", "fail_stale_trials", "WorkerConfig", "run_worker", "TrialTimeout", "count_states"]

SETTINGS_KEY = "mssoracle"
JOURNAL_PREFIX = "journal:///"
#: attempts (trials of any state) per requested completed trial
ATTEMPTS_PER_TRIAL = 10
#: the worker tokens of this process's running worker loops (a trial of this pid with another token is stale)
_LIVE_WORKERS = set()


class TrialTimeout(MssOracleError):
    """A trial ran longer than ``--trial-timeout``."""


def storage_url(value, out):
    """The storage URL of ``--storage`` (default: the journal file ``OUT/study.journal``, absolute)."""
    if value is None:
        return JOURNAL_PREFIX + str((Path(out) / "study.journal").resolve()).lstrip("/")
    value = str(value).strip()
    if not value:
        raise ParameterError("--storage is empty; give a URL (journal:///ABS/PATH, sqlite:///PATH, "
                             "postgresql://...) or leave it out for OUT/study.journal")
    if value.startswith(JOURNAL_PREFIX):
        path = Path("/" + value[len(JOURNAL_PREFIX):])
        return JOURNAL_PREFIX + str(path.resolve()).lstrip("/")
    if "://" not in value:
        raise ParameterError(f"--storage {value}: not a URL; give journal:///ABS/PATH, sqlite:///PATH or an "
                             "SQLAlchemy database URL such as postgresql+psycopg2://USER:PASSWORD@HOST/DB")
    return value


def journal_path(url):
    return Path("/" + url[len(JOURNAL_PREFIX):]) if url.startswith(JOURNAL_PREFIX) else None


def open_storage(url, *, create=True):
    """The Optuna storage of ``url`` (journal or RDB), connected; one line when it cannot be reached.

    ``create=False`` refuses a journal file that does not exist (nothing is created).
    """
    import optuna

    path = journal_path(url)
    try:
        if path is not None:
            if not path.parent.is_dir():
                if not create:
                    raise OutputError(f"--storage {url}: the folder {path.parent} does not exist")
                path.parent.mkdir(parents=True, exist_ok=True)
            if not create and not path.is_file():
                raise OutputError(f"--storage {url}: no such journal file")
            from optuna.storages.journal import JournalFileBackend

            with open(path, "ab"):
                pass
            return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
        for attempt in range(10):  # two processes creating the tables of one new database race: retry
            try:
                return optuna.storages.RDBStorage(url)
            except Exception as exc:  # noqa: BLE001 - SQLAlchemy's OperationalError
                racing = ("already exists", "UNIQUE constraint failed", "database is locked")
                if not any(r in str(exc) for r in racing) or attempt == 9:
                    raise
                time.sleep(0.2 * (attempt + 1))
    except MssOracleError:
        raise
    except ImportError as exc:
        raise OutputError(f"--storage {url}: a driver is missing ({exc}); install it (e.g. pip install "
                          "psycopg2-binary for PostgreSQL)") from None
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy, OSError, ValueError: one line
        text = str(exc).strip().splitlines()
        raise OutputError(f"--storage {url}: cannot open the storage ({type(exc).__name__}: "
                          f"{text[0][:200] if text else ''})") from None


def find_study(storage, name):
    """The study ``name`` in ``storage`` or None (nothing created)."""
    import optuna

    for s in storage.get_all_studies():
        if s.study_name == name:
            return optuna.load_study(study_name=name, storage=storage)
    return None


def _first_difference(stored, wanted, prefix=""):
    if isinstance(stored, dict) and isinstance(wanted, dict):
        for key in list(dict.fromkeys(list(wanted) + list(stored))):
            d = _first_difference(stored.get(key), wanted.get(key), f"{prefix}{key}.")
            if d:
                return d
        return None
    return None if stored == wanted else (prefix.rstrip("."), stored, wanted)


def check_settings(study, settings):
    """Refuse a study created with other settings: ParameterError naming the first field that differs."""
    stored = study.user_attrs.get(SETTINGS_KEY)
    if stored is None:
        raise ParameterError(f"study {study.study_name!r} exists and was not created by mssoracle search; "
                             "give another --study name")
    diff = _first_difference(stored, settings)
    if diff:
        field, was, now = diff
        raise ParameterError(f"study {study.study_name!r} was created with other settings: {field} is "
                             f"{_short(was)} there, {_short(now)} now; rerun with the study's settings or give "
                             "another --study (or --out)")


def _short(v):
    text = repr(v)
    return text if len(text) <= 80 else text[:77] + "..."


def count_states(study):
    """``{state name: count}`` of the study's trials."""
    out = {}
    for t in study.get_trials(deepcopy=False):
        out[t.state.name] = out.get(t.state.name, 0) + 1
    return out


def sampler_seed(seed, n_trials, worker):
    """A sampler seed from (``--seed``, trials already in the study, worker index): reproducible, distinct."""
    import numpy as np

    return int(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(n_trials), int(worker)]).generate_state(1)[0])


def make_sampler(name, seed, *, grid=None):
    """The Optuna sampler of ``--sampler``: ``tpe`` (constant liar: running trials count as bad, so
    parallel workers spread out), ``random`` or ``grid`` (over ``{"spec": grid}``)."""
    import optuna

    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "grid":
        return optuna.samplers.GridSampler({"spec": list(grid)}, seed=seed)
    raise ParameterError(f"--sampler must be tpe, random or grid, got {name!r}")


def _pid_alive(pid):
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, ValueError, TypeError):
        return True
    return True


def fail_stale_trials(study, storage, *, lease, log=None, now=None):
    """Fail the running trials whose worker is gone, enqueue their parameters again; return their numbers.

    Stale: on this host, a pid that no longer runs (or this process's pid with a worker token no worker loop
    of this process holds); on another host, a last heartbeat (or start) older than ``lease`` seconds.
    """
    from optuna.trial import TrialState

    host, pid = socket.gethostname(), os.getpid()
    now = time.time() if now is None else now
    study_id = storage.get_study_id_from_name(study.study_name)
    failed = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        a = t.user_attrs
        why = None
        if a.get("host") == host:
            if a.get("pid") is not None and int(a["pid"]) != pid and not _pid_alive(a["pid"]):
                why = f"worker pid {a['pid']} on {host} is gone"
            elif a.get("pid") is not None and int(a["pid"]) == pid and a.get("worker") not in _LIVE_WORKERS:
                why = f"worker {a.get('worker')} of this process (pid {pid}) is gone"
        else:
            beat = a.get("heartbeat", a.get("started"))
            if beat is None and t.datetime_start is not None:
                beat = t.datetime_start.timestamp()
            if beat is not None and now - float(beat) > lease:
                why = (f"no heartbeat from {a.get('host', '?')} pid {a.get('pid', '?')} for "
                       f"{now - float(beat):.0f} s (--lease {lease:g})")
        if why is None:
            continue
        tid = storage.get_trial_id_from_study_id_trial_number(study_id, t.number)
        try:
            storage.set_trial_user_attr(tid, "fail_reason", why)
            storage.set_trial_state_values(tid, state=TrialState.FAIL)
        except Exception:  # noqa: BLE001 - another worker finished or failed it first
            continue
        failed.append(t.number)
        if t.params:
            study.enqueue_trial(dict(t.params), user_attrs={"retry_of": t.number})
        if log is not None:
            log(f"trial {t.number} failed: {why}; {'retried' if t.params else 'dropped (no parameters yet)'}")
    return failed


@dataclasses.dataclass
class WorkerConfig:
    """Everything a search worker needs (picklable: sent to worker processes and Dask workers)."""

    storage: str
    study: str
    space: object
    scorer: object
    n_trials: int
    sampler: str
    seed: int
    worker: int = 0
    grid: list = None
    max_sllen: int = None
    memory_budget: int = None
    shapes: list = dataclasses.field(default_factory=list)  # (samples, channels, signals) of every track
    trial_timeout: float = None
    lease: float = 3600.0
    quiet: bool = False


def _log(cfg, msg):
    import sys

    if not cfg.quiet:
        print(f"mssoracle search: {msg}", file=sys.stderr, flush=True)


def _spec_of(cfg, trial):
    """Suggest the parameters, return ``(params, canonical spec or None, prune reason or None)``."""
    from ..transforms import from_spec

    if cfg.sampler == "grid":
        raw = trial.suggest_categorical("spec", list(cfg.grid))
        params = None
    else:
        params = cfg.space.suggest(trial)
        raw = cfg.space.spec(params)
    try:
        t = from_spec(raw)
    except ParameterError as exc:
        return params, raw, f"cannot be built: {str(exc).splitlines()[0]}"
    reason = None
    sllen = getattr(t, "sllen", None)
    if cfg.max_sllen is not None and sllen is not None and sllen > cfg.max_sllen:
        reason = f"sllen {sllen} > --max-sllen {cfg.max_sllen}"
    elif cfg.memory_budget:
        from .objective import coefficient_bytes

        need = max((coefficient_bytes(t, n, channels=c, signals=s) for n, c, s in cfg.shapes), default=0)
        if need > cfg.memory_budget:
            reason = f"coefficients of {_bytes(need)} > --memory-budget {_bytes(cfg.memory_budget)}"
    return params, t.spec, reason


def _bytes(n):
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


def _duplicate(study, trial_number, spec):
    """The number of a trial that owns ``spec`` before ``trial_number`` (completed, or running and lower)."""
    from optuna.trial import TrialState

    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING)):
        if t.number == trial_number or t.user_attrs.get("spec") != spec:
            continue
        if t.state == TrialState.COMPLETE or t.number < trial_number:
            return t.number
    return None


class _Alarm:
    """``--trial-timeout``: SIGALRM raises :class:`TrialTimeout` in the main thread; elsewhere the
    heartbeat after each track checks the elapsed time."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.armed = False
        self.t0 = time.monotonic()

    def __enter__(self):
        if self.seconds and threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
            def handler(signum, frame):
                raise TrialTimeout(f"the trial ran longer than --trial-timeout {self.seconds:g} s")

            self.old = signal.signal(signal.SIGALRM, handler)
            signal.setitimer(signal.ITIMER_REAL, float(self.seconds))
            self.armed = True
        return self

    def check(self):
        if self.seconds and time.monotonic() - self.t0 > self.seconds:
            raise TrialTimeout(f"the trial ran longer than --trial-timeout {self.seconds:g} s")

    def __exit__(self, *exc):
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.old)
        return False


def _objective(cfg, study, token):
    import optuna

    def objective(trial):
        now = time.time()
        for key, value in (("host", socket.gethostname()), ("pid", os.getpid()), ("worker", token),
                           ("started", now), ("heartbeat", now)):
            trial.set_user_attr(key, value)
        params, spec, reason = _spec_of(cfg, trial)
        trial.set_user_attr("spec", spec)
        if reason is None:
            dup = _duplicate(study, trial.number, spec)
            if dup is not None:
                reason = f"duplicate of trial {dup}"
        if reason is not None:
            trial.set_user_attr("prune_reason", reason)
            raise optuna.TrialPruned(reason)
        with _Alarm(cfg.trial_timeout) as alarm:
            def beat(index, seconds):
                trial.set_user_attr("heartbeat", time.time())
                alarm.check()

            try:
                value, targets = cfg.scorer.evaluate(spec, on_track=beat)
            except Exception as exc:
                text = str(exc).strip().splitlines()
                trial.set_user_attr("fail_reason", f"{type(exc).__name__}: {text[0] if text else ''}"[:300])
                raise
        dup = _duplicate(study, trial.number, spec)  # a racing worker's lower-numbered trial of the same spec
        if dup is not None:
            reason = f"duplicate of trial {dup}"
            trial.set_user_attr("prune_reason", reason)
            raise optuna.TrialPruned(reason)
        trial.set_user_attr("targets", {k: (None if v != v else v) for k, v in targets.items()})
        if value != value:
            trial.set_user_attr("fail_reason", "the objective is NaN (no finite frame)")
            raise optuna.TrialPruned("the objective is NaN (no finite frame)")
        return value

    return objective


def keep_freed_memory():
    """Let glibc keep freed large blocks for reuse instead of unmapping them (a search worker only).

    Every trial allocates the same large arrays (estimates, coefficient blocks); glibc serves blocks over
    its mmap threshold with fresh mappings and unmaps them when freed, so each trial pays a page fault per
    4 KiB page again (about 1 s of a 6 s Bark-262 trial on a 4-minute track, benchmarks/bench_search.py).
    Raising the mmap and trim thresholds keeps those pages in the process: the peak resident set is
    unchanged, the worker just does not hand it back between trials.  A no-op where glibc's ``mallopt``
    is not available; returns whether it took effect.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(name)
        m_trim_threshold, m_mmap_threshold = -1, -3
        mmap_ok = libc.mallopt(m_mmap_threshold, 1 << 30)
        return bool(mmap_ok) and bool(libc.mallopt(m_trim_threshold, (1 << 31) - 1))
    except (OSError, AttributeError):
        return False


def run_worker(cfg):
    """One search worker: stale trials failed and retried, then trials until the study has ``cfg.n_trials``
    completed ones (or ``10 * n_trials`` attempts).  Returns ``{state: count}`` of the trials it ran."""
    import optuna
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    keep_freed_memory()
    storage = open_storage(cfg.storage)
    token = uuid.uuid4().hex[:12]
    _LIVE_WORKERS.add(token)
    try:
        probe = optuna.load_study(study_name=cfg.study, storage=storage)
        fail_stale_trials(probe, storage, lease=cfg.lease, log=lambda m: _log(cfg, m))
        n_in_study = len(probe.get_trials(deepcopy=False))
        sampler = make_sampler(cfg.sampler, sampler_seed(cfg.seed, n_in_study, cfg.worker), grid=cfg.grid)
        study = optuna.load_study(study_name=cfg.study, storage=storage, sampler=sampler)
        cap = ATTEMPTS_PER_TRIAL * cfg.n_trials
        ran = {}

        def done(st, n):
            return sum(1 for t in st.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE) >= n

        def cap_cb(st, frozen):
            ran[frozen.state.name] = ran.get(frozen.state.name, 0) + 1
            _log(cfg, _describe_trial(frozen, cfg.scorer.objective))
            if len(st.get_trials(deepcopy=False)) >= cap:
                st.stop()

        if done(study, cfg.n_trials) or len(study.get_trials(deepcopy=False)) >= cap:
            return ran
        left = cap - len(study.get_trials(deepcopy=False))
        study.optimize(_objective(cfg, study, token), n_trials=left, catch=(TrialTimeout, MssOracleError),
                       callbacks=[MaxTrialsCallback(cfg.n_trials, states=(TrialState.COMPLETE,)), cap_cb])
        return ran
    finally:
        _LIVE_WORKERS.discard(token)


def _describe_trial(t, objective):
    spec = t.user_attrs.get("spec", "?")
    if t.state.name == "COMPLETE":
        return f"trial {t.number} {spec}: {objective.output} {t.value:.3f}"
    why = t.user_attrs.get("prune_reason") or t.user_attrs.get("fail_reason") or ""
    return f"trial {t.number} {spec}: {t.state.name.lower()}{': ' + why if why else ''}"
