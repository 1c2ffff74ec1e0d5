"""Running an experiment: plan, units of work on an executor, results written by the client, the tidy table.

Plan.  Every job (track x transform x oracle) gets a :class:`~.jobs.JobStatus`:
skipped when a stored result has the same identity (:mod:`.identity`), run
otherwise (``--dry-run`` prints the plan and why).  Pending jobs are grouped
into *units*, one per (track, transform) with all its pending oracles: the unit
an executor runs (:mod:`.executors`).

Units.  A worker decodes the track once per unit, in the run's precision, into
one array (mixture and stems); the BSS Eval references are views of it,
prepared once and shared by every oracle of the unit
(:class:`~mssoracle.bsseval.TrackEvaluator`).  The oracle estimates come from
:func:`.pipeline.compute_estimates` (blocks of time, at most
:data:`~.pipeline.ESTIMATES_IN_FLIGHT` estimate signals alive); each estimate
is scored and dropped before the next one is made.  Estimate WAVs (with
``save_estimates``) are written by the worker, atomically; the scores come back
to the client, which alone writes the score JSONs and ``results.csv``.  The
serial executor keeps the last track decoded while the next unit is of the
same track.

Failures.  A unit that fails (bad audio found at decode, a worker lost) is
reported at once with its track and method while the other units go on
(``fail_fast`` stops at the first); no file of it is written, and the command
ends with :class:`JobsFailed` naming every failed track.

Interruptions.  SIGINT and SIGTERM raise :class:`~mssoracle.errors.Interrupted`
in the client: the units in flight are abandoned, ``results.csv`` is rebuilt
from the results written so far, and the command exits 130 / 143.  After a
SIGKILL nothing but the jobs in flight is lost: every result file is written
atomically, a result is written only when complete, the temporary files of a
killed run are swept by the next one, which also rebuilds ``results.csv``.

Output layout (``out`` folder)::

    scores/<dataset>/<method>/<subset>/<track>.json             museval format + "config"
    estimates/<dataset>/<method>/<subset>/<track>/<target>.wav  (with save_estimates; every target)
    results.csv                                                 every result under out (see mssoracle.results)
"""

import contextlib
import dataclasses
import functools
import shutil
import signal
import sys
import threading

import numpy as np

from .. import threads
from ..constants import ACCOMPANIMENT, derived_targets
from ..errors import Interrupted, MssOracleError
from .pipeline import compute_estimates

__all__ = ["Unit", "UnitResult", "JobsFailed", "plan", "run_unit", "run_track", "run_experiment",
           "probe_environment"]


class JobsFailed(MssOracleError):
    """Some units failed (each was reported when it failed); the others completed and were written."""

    def __init__(self, failures, table=None):
        self.failures = list(failures)
        self.table = table  # the tidy table of the jobs that completed (or were done before)
        tracks = list(dict.fromkeys(u.track_name for u, _ in self.failures))
        shown = "; ".join(f"{u.describe()}: {_one_line(e)}" for u, e in self.failures[:5])
        more = f"; and {len(self.failures) - 5} more (each reported above)" if len(self.failures) > 5 else ""
        super().__init__(f"{len(self.failures)} unit(s) of {len(tracks)} track(s) failed "
                         f"({', '.join(repr(t) for t in tracks)}): {shown}{more} "
                         "(the other results were written; fix the track(s) and rerun the same command)")


def _one_line(exc):
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@dataclasses.dataclass
class Unit:
    """One (track, transform) with the statuses of its pending jobs (one per oracle): what an executor runs."""

    experiment: object
    track_index: int
    track_name: str
    transform_spec: str
    tasks: list
    keep_loaded: bool = False

    def describe(self):
        e = self.experiment
        t = e.transform_at(self.transform_spec, self.tasks[0].job.sample_rate).name
        return f"track {self.track_name!r}, {t} ({', '.join(s.job.oracle_spec for s in self.tasks)})"


@dataclasses.dataclass
class UnitResult:
    """What a worker sends back: per task ``(status, scores or None, estimates info or None)``, warnings."""

    results: list
    warnings: list


# ------------------------------------------------------------------------------------------ worker side
def _to_device(x, experiment):
    """A numpy signal as what the transforms, oracles and scorer run on (torch: on the device)."""
    if experiment.backend != "torch":
        return x
    import torch

    if torch.get_num_threads() != threads.budget():  # torch's CPU pool joins the process's thread budget
        torch.set_num_threads(threads.budget())
    return torch.from_numpy(np.ascontiguousarray(x)).to(experiment.device or "cpu")


def _host(x):
    """A signal on the host as numpy (for writing to disk only)."""
    if isinstance(x, np.ndarray):
        return x
    return x.detach().to("cpu").numpy()


def _load(track, experiment):
    """Decode a track once: ``(mixture (C, T), stems (nsrc, C, T), names)`` in the run's precision."""
    offset, frames = experiment.excerpt_samples(track.sample_rate)
    audio = track.load(dtype=experiment.dtype, offset=offset, frames=frames)
    names = list(audio.stems)
    stems = getattr(audio, "stem_stack", None)
    if stems is None:  # a TrackAudio without one stacked array
        stems = np.stack([audio.stems[n] for n in names])
    mixture = audio.mixture
    del audio
    if experiment.mixture == "sum":
        mixture = stems.sum(axis=0, dtype=stems.dtype)
    return mixture, stems, names


#: the serial executor's last decoded track: key -> (mixture, stems, names, evaluator)
_LOADED = {}


def _loaded(experiment, track_index, keep):
    from ..bsseval import TrackEvaluator

    track = experiment.dataset[track_index]
    key = (str(track.path), track.name, experiment.precision, experiment.mixture, experiment.backend,
           str(experiment.device), experiment.win, experiment.hop, experiment.mode, experiment.start,
           experiment.duration)
    if key in _LOADED:
        value = _LOADED[key]
    else:
        _LOADED.clear()
        sr = experiment.sample_rate_of(track_index)
        mixture, stems, names = _load(track, experiment)
        mixture = _to_device(mixture, experiment)
        stems = _to_device(stems, experiment)
        # references: views of the stems, (nsampl, nchan) per museval
        evaluator = TrackEvaluator(
            {n: stems[i].T for i, n in enumerate(names)}, sample_rate=sr, win=experiment.win, hop=experiment.hop,
            mode=experiment.mode, backend=experiment.backend, device=experiment.device, track_name=track.name,
            on_silent="nan", emit_warnings=False,
        )
        # baselines: the improvement metrics' scores of the mixture, shared by every method of the track
        value = (mixture, stems, names, evaluator, {})
        if keep:
            _LOADED[key] = value
    if not keep:
        _LOADED.clear()
    return value


def run_unit(unit):
    """Compute the pending jobs of one (track, transform) unit; write its estimate WAVs; return the scores.

    Runs in a worker (or in this process for the serial executor).  Nothing but
    estimate WAVs is written here.

    Returns
    -------
    UnitResult
    """
    experiment = unit.experiment
    track = experiment.dataset[unit.track_index]
    sr = experiment.sample_rate_of(unit.track_index)
    mixture, stems, names, evaluator, baselines = _loaded(experiment, unit.track_index, unit.keep_loaded)
    derive = tuple(derived_targets(names))
    transform = experiment.transform_at(unit.transform_spec, sr)
    by_oracle = {experiment._oracles[s.job.oracle_spec]: s for s in unit.tasks}
    results, notes, figures = [], [], {}
    # the audio was checked finite when it was decoded (Track.load)
    for oracle, est in compute_estimates(transform, list(by_oracle), mixture, stems, checked=True,
                                         stability=figures):
        status = by_oracle[oracle]
        scores = None
        stability = _stability(oracle, names, figures.get(oracle))
        if stability is not None:
            warning = _stability_warning(track.name, status.job.method, stability, experiment.precision)
            if warning:
                notes.append(warning)
        if status.metrics:
            scores = _score(experiment, evaluator, status, names, derive, est, stems, mixture, sr, track.name,
                            notes, baselines)
            scores.stability = stability
        saved = _save_estimates(experiment, status.job, names, derive, est, sr) if status.estimates else None
        del est
        results.append((status, scores, saved))
    del mixture, stems, evaluator, baselines
    # a call's reference warnings (ill-conditioning) come with every method's scores: report each once per track
    return UnitResult(results, list(dict.fromkeys(notes)))


def _stability(oracle, names, figure):
    """The score JSON's ``"stability"`` entry of one oracle's figure (None when it measures none)."""
    from ..oracles import stability as st

    if figure is None:
        return None
    return {"oracle": oracle.name, "thresholds": {"cond": st.COND_WARN, "cancelled": st.CANCELLED_WARN},
            "targets": {n: dict(f) for n, f in zip(names, figure)}}


def _stability_warning(track_name, method, stability, precision="float32"):
    """One line naming the track, the method and each target whose figure is above a threshold, or None."""
    from ..oracles import stability as st

    bad = [(n, st.flagged(f)) for n, f in stability["targets"].items()]
    bad = [f"{n} ({'; '.join(parts)})" for n, parts in bad if parts]
    if not bad:
        return None
    base = stability["oracle"].split("[")[0]
    reg = st.SUGGESTED_REG.get(str(precision), st.SUGGESTED_REG["float32"])
    hint = (f" (mwf[reg={reg:g}] gives stable numbers in {precision})" if base == "mwf"
            and "reg=" not in stability["oracle"] else f" (mwf[reg={reg:g}] bounds it in {precision})"
            if base == "mwf" else "")
    return (f"track {track_name!r}, {method}: the oracle is ill-conditioned for {', '.join(bad)}: its scores "
            f"may move by dB under rounding-level input noise{hint}")


def _score(experiment, evaluator, status, names, derive, est, stems, mixture, sr, track_name, notes, baselines):
    """The metrics ``status.metrics`` of one estimate set -> TrackScores (every target).

    ``mixture`` is the one the oracles were given (``--mixture file|sum``): the
    improvement metrics (uSDRi, SI-SDRi) score it as the estimate of every target,
    once per track (``baselines``, shared by the track's methods).
    """
    from ..bsseval import TrackScores
    from ..metrics.registry import MetricContext, add_scores

    wanted = [m for m in experiment._metrics if m.name in status.metrics]
    estimates = {n: est[i].T for i, n in enumerate(names)}
    scores = None
    for metric in wanted:
        if metric.compute is None:  # bssv4
            scores = evaluator.evaluate(estimates, derived=derive, emit_warnings=False)
            notes.extend(str(w["message"]) for w in scores.warnings)
    if scores is None:
        scores = TrackScores(track_name, win=experiment.win, hop=experiment.hop, bsseval=evaluator.parameters())
        scores.duration = float(stems.shape[-1]) / sr
    others = [m for m in wanted if m.compute is not None]
    if others:
        ctx = MetricContext(track=track_name, sample_rate=sr, win=int(experiment.win * sr),
                            hop=int(experiment.hop * sr), references={n: stems[i] for i, n in enumerate(names)},
                            estimates={n: est[i] for i, n in enumerate(names)},
                            derived={k: v for k, v in derived_targets(names).items() if k in derive},
                            mixture=mixture, grouping=evaluator.grouping, baselines=baselines)
        add_scores(scores, others, ctx)
    scores.warnings = []  # reported through the unit's warnings; not sent back twice
    return scores


def _save_estimates(experiment, job, names, derive, est, sr):
    """Write every target's estimate (atomically); return ``{target: {"file", "bytes", "frames"}}``."""
    from ..audio import write_audio

    folder = experiment.estimate_dir(job)
    info = {}

    def write(name, signal_):
        path = folder / f"{name}.wav"
        data = _host(signal_).astype(np.float32, copy=False)
        write_audio(path, data, sr)
        info[name] = {"file": path.name, "bytes": path.stat().st_size, "frames": int(data.shape[-1])}

    for i, name in enumerate(names):
        write(name, est[i])
    if ACCOMPANIMENT in derive:
        parts = [names.index(p) for p in derived_targets(names)[ACCOMPANIMENT]]
        acc = est[parts[0]] * 1
        for k in parts[1:]:
            acc += est[k]
        write(ACCOMPANIMENT, acc)
    return info


def run_track(experiment, track_index, jobs):
    """Compute ``jobs`` (all of one track) in this process, write their results; return the tidy frames.

    A convenience for notebooks and tests: the planning, executors and
    ``results.csv`` of :func:`run_experiment` are skipped.
    """
    from .jobs import JobStatus

    frames, notes = [], []
    by_transform = {}
    for job in jobs:
        by_transform.setdefault(job.transform_spec, []).append(
            JobStatus(job, True, tuple(experiment.metrics), experiment.save_estimates, "run_track"))
    for tspec, tasks in by_transform.items():
        unit = Unit(experiment, track_index, experiment.dataset[track_index].name, tspec, tasks)
        result = run_unit(unit)
        notes.extend(result.warnings)
        for status, scores, saved in result.results:
            frames.append(_finish(experiment, status, scores, saved)[1])
    return frames, list(dict.fromkeys(notes))


# ------------------------------------------------------------------------------------------ client side
def plan(experiment, *, force=False):
    """The :class:`~.jobs.JobStatus` of every job of ``experiment`` (track-major order)."""
    return [experiment.status(job, force=force) for job in experiment.jobs()]


def units_of(experiment, statuses, *, serial=False):
    """Group the pending statuses into :class:`Unit` s, one per (track, transform), in job order."""
    groups = {}
    for s in statuses:
        if s.run:
            groups.setdefault((s.job.track_index, s.job.transform_spec), []).append(s)
    units = [Unit(experiment, i, tasks[0].job.track_name, tspec, tasks) for (i, tspec), tasks in groups.items()]
    if serial:  # keep a decoded track while the next unit is of the same track
        for a, b in zip(units, units[1:]):
            a.keep_loaded = a.track_index == b.track_index
    return units


def _merge(stored_path, status, fresh, experiment):
    """Stored scores of the same identity, with the metrics ``status.metrics`` replaced by ``fresh``'s."""
    from ..bsseval import load_track_scores

    stored = load_track_scores(stored_path)
    if fresh is None:  # only estimates were (re)written
        return stored
    recomputed = {out for m in experiment._metrics if m.name in status.metrics for out in m.outputs}
    if "bssv4" in status.metrics:  # fresh holds museval's frames and cond: keep the stored others on it
        base, extra = fresh, stored
    else:
        base, extra = stored, fresh
        recomputed = None
    for target in extra.targets:
        for metric, values in extra.values(target).items():
            if metric not in extra.metrics(target):
                continue
            if recomputed is not None and metric in recomputed:
                continue
            base.add_metric(target, metric, values)
    for entry in extra.track_metrics:
        for metric, value in entry["metrics"].items():
            if recomputed is None or metric not in recomputed:
                base.add_metric(entry["name"], metric, float(value), framewise=False)
    return base


def _finish(experiment, status, scores, saved):
    """Write one job's result (client side): estimates recorded, metrics merged, the JSON written last.

    Returns ``((dataset, method, subset, track), tidy rows)``.
    """
    from ..results import remember_rows, tidy

    job = status.job
    fresh = getattr(scores, "stability", None)
    path = experiment.score_path(job)
    config = experiment.config(job)
    stored = status.stored if isinstance(status.stored, dict) else None
    if stored is not None:  # a result of the same identity: keep what is still valid
        kept = {m: v for m, v in (stored.get("metrics") or {}).items() if m not in status.metrics}
        config["metrics"] = {**kept, **{m: config["metrics"][m] for m in status.metrics}}
        if saved is None and isinstance(stored.get("estimates"), dict):
            saved = stored["estimates"]
        if path.is_file():
            scores = _merge(path, status, scores, experiment)
    if saved is not None:
        config["estimates"] = saved
    else:
        folder = experiment.estimate_dir(job)
        if folder.is_dir():  # WAVs of an earlier result: they would no longer match this one
            shutil.rmtree(folder, ignore_errors=True)
    if fresh is not None:  # this run's figure (a merge keeps the stored one otherwise)
        scores.stability = fresh
    scores.config = config
    scores.method = job.method
    scores.save(path)
    parts = (job.dataset, job.method, job.subset, job.track_name)
    df = tidy(scores, parts)
    remember_rows(experiment.out, parts, path, df)  # the next rebuild of results.csv reads it from here
    return parts, df


def probe_environment(paths):
    """What a worker sees: package versions and whether the data paths exist (compared with the client's)."""
    import os
    import platform

    import numpy
    import scipy

    from .. import __version__

    return {"mssoracle": __version__, "numpy": numpy.__version__, "scipy": scipy.__version__,
            "python": platform.python_version(),
            "data paths": "all present" if all(os.path.exists(p) for p in paths) else
            "missing: " + ", ".join(p for p in paths if not os.path.exists(p))[:200]}


@contextlib.contextmanager
def _signals_raise_interrupted():
    """SIGINT and SIGTERM raise :class:`Interrupted` in this (main) thread while the block runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Interrupted(signum)

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _preload():
    """Import now what writing results needs (a signal raised inside a first import breaks the module)."""
    import json  # noqa: F401

    import pandas  # noqa: F401
    import soundfile  # noqa: F401

    from .. import results  # noqa: F401
    from ..bsseval import museval_io  # noqa: F401


def _rebuild_after_error(experiment, log):
    """Save the fingerprints and rebuild ``results.csv`` while an error or a signal stops the command;
    a failure here is one line (the first error is the one reported)."""
    from ..results import write_results

    try:
        experiment.save_fingerprints()
        write_results(experiment.out)
    except BaseException as exc:  # noqa: BLE001 - a second signal, a full disk: never mask the first error
        log(f"could not rebuild {experiment.out / 'results.csv'} ({_one_line(exc) or type(exc).__name__}); "
            f"`mssoracle results {experiment.out}` rebuilds it")


def _log_recomputed(experiment, statuses, log):
    """One line per reason a stored result is not reused (with its first file), not one per job."""
    why = {}
    for st in statuses:
        if st.run and st.reason.startswith(("stored configuration differs", "unreadable stored result")):
            why.setdefault(st.reason, []).append(st)
    for reason, sts in why.items():
        first = experiment.score_path(sts[0].job)
        more = f" and {len(sts) - 1} other(s)" if len(sts) > 1 else ""
        log(f"{first}{more}: {reason}; recomputing")


def _format_plan(statuses):
    return "\n".join(f"{'run ' if st.run else 'skip'}  {st.job.method}  "
                     f"{st.job.dataset}/{st.job.subset}/{st.job.track_name}: {st.reason}" for st in statuses)


def run_experiment(experiment, *, executor=None, progress=True, log=None, force=False, dry_run=False,
                   fail_fast=False):
    """Run every pending job of ``experiment``; return the tidy table of this run's jobs.

    Parameters
    ----------
    experiment : Experiment
    executor : an executor of :mod:`.executors`, optional
        Defaults to serial execution.
    progress : bool
        Show a tqdm progress bar over jobs (on stderr).
    log : callable, optional
        Receives notices and warnings (one line each); defaults to printing on stderr.
    force : bool
        Recompute every job, whatever is stored.
    dry_run : bool
        Print the jobs that would run and those that would be skipped, and why; compute and write nothing.
    fail_fast : bool
        Stop at the first failed unit (default: report it and go on with the others).

    Returns
    -------
    pandas.DataFrame or None
        Columns ``dataset, method, subset, track, target, metric, time, score,
        cond`` of this run's jobs (every target), finished now or earlier; None
        for a dry run.  ``out/results.csv`` holds every result under ``out``.

    Raises
    ------
    JobsFailed
        Some units failed (after the others completed and ``results.csv`` was rebuilt).
    Interrupted
        SIGINT/SIGTERM (after ``results.csv`` was rebuilt).
    """
    from .._atomic import sweep_temporaries
    from ..results import collect_results, write_results
    from .executors import get_executor

    log = log or (lambda msg: print(f"mssoracle: {msg}", file=sys.stderr))
    executor = executor or get_executor("serial")
    if len(experiment.dataset) == 0:
        raise MssOracleError("no track to evaluate: the dataset selection is empty")
    _preload()  # no signal may land inside the first import of a library the writes need
    with _signals_raise_interrupted():
        statuses = plan(experiment, force=force)
        if dry_run:
            n = sum(s.run for s in statuses)
            print(_format_plan(statuses))
            print(f"{n} job(s) would run, {len(statuses) - n} would be skipped (dry run: nothing computed)")
            return None
        swept = sweep_temporaries(experiment.out)
        if swept:
            log(f"removed {swept} temporary file(s) left by an interrupted run")
        _log_recomputed(experiment, statuses, log)
        done = [s for s in statuses if not s.run]
        if done:
            log(f"{len(done)} of {len(statuses)} job(s) already done with the same configuration: skipped")
        partial = [s for s in statuses if s.run and s.stored is not None]
        if partial:
            log(f"{len(partial)} job(s) keep their stored scores and compute only what is missing "
                f"(e.g. {partial[0].job.method} {partial[0].job.track_name}: {partial[0].reason})")
        units = units_of(experiment, statuses, serial=getattr(executor, "name", "") == "serial")
        failures, known = [], {}
        if units:
            paths = sorted({str(p) for u in units for p in experiment.dataset[u.track_index].files.values()})
            with executor:  # an unreachable or mismatched cluster fails here, before anything is written
                executor.check(functools.partial(probe_environment, tuple(paths)))
                try:
                    _run_units(experiment, executor, units, failures, progress, log, fail_fast, known)
                except BaseException:  # interrupted or failed: rebuild what can be, keep the first error
                    _LOADED.clear()
                    _rebuild_after_error(experiment, log)
                    raise
                _LOADED.clear()
                experiment.save_fingerprints()
                write_results(experiment.out)
        else:  # nothing to compute: the table is still rebuilt (e.g. after a run killed by SIGKILL)
            experiment.save_fingerprints()
            write_results(experiment.out)
        table = collect_results(experiment.out, jobs=[s.job for s in statuses], known=known)
        if failures:
            raise JobsFailed(failures, table)
        return table


def _run_units(experiment, executor, units, failures, progress, log, fail_fast, known):
    from tqdm import tqdm

    with tqdm(total=sum(len(u.tasks) for u in units), unit="job", disable=not progress or None,
              file=sys.stderr, leave=False) as bar:
        outcomes = executor.run(run_unit, units)
        try:
            for outcome in outcomes:
                unit = outcome.item
                if outcome.error is not None:
                    failures.append((unit, outcome.error))
                    if not isinstance(outcome.error, MssOracleError) and outcome.traceback:
                        bar.write(outcome.traceback.rstrip(), file=sys.stderr)
                    log(f"error: {unit.describe()}: {_one_line(outcome.error)}")
                    if fail_fast:
                        log("--fail-fast: stopping at the first failure")
                        break
                    continue
                for status, scores, saved in outcome.value.results:
                    parts, df = _finish(experiment, status, scores, saved)
                    known[parts] = df
                for line in outcome.value.warnings:
                    log(f"warning: {line}")
                bar.update(len(unit.tasks))
        finally:
            close = getattr(outcomes, "close", None)
            if close is not None:
                close()

