"""Oracle experiments: jobs = track x transform x oracle, executed, scored, resumed.

For every track the audio is loaded once, the references are prepared for
BSS Eval once (:class:`~mssoracle.bsseval.TrackEvaluator`), every transform
analyses the mixture and the stems once, and every oracle of that transform
is then only a mask, an inverse transform and a scoring of estimates.

Signals are ``(channels, time)`` inside; the BSS Eval boundary takes museval's
``(nsampl, nchan)`` per named target.

Output layout (``out`` folder)::

    scores/<method>/<subset>/<track>.json          museval format + "config"
    estimates/<method>/<subset>/<track>/<target>.wav   (with save_estimates)
    results.csv                                    tidy: method, track, target, metric, time, score, cond

``method`` is ``<oracle name>-<transform name>``, e.g. ``irm1-stft-2048-512``.
A (track, method) pair whose stored ``config`` equals the one the run would
write is skipped; one whose configuration differs is recomputed with a notice.
"""

import concurrent.futures
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

from . import __version__
from .errors import MssOracleError, ParameterError

__all__ = ["Experiment", "Job", "method_name", "run_experiment", "SerialExecutor", "ProcessExecutor"]

MIXTURE_CHOICES = ("file", "sum")


def method_name(oracle, transform):
    """Canonical method name: the oracle's name, then the transform's, e.g. ``irm1-stft-2048-512``."""
    return f"{oracle.name}-{transform.name}"


def _subset_dir(subset):
    return subset if subset else "all"


@dataclasses.dataclass(frozen=True)
class Job:
    """One unit of result: a track scored for one (transform, oracle) pair."""

    track_index: int
    track_name: str
    subset: str
    transform_spec: str
    oracle_spec: str
    method: str


@dataclasses.dataclass
class Experiment:
    """Everything that defines an oracle run (the CLI's ``eval`` options).

    Parameters
    ----------
    dataset : mssoracle.datasets.Dataset
        The tracks, loaded lazily one at a time.
    transforms : list of str
        Transform specs (see :func:`mssoracle.transforms.from_spec`).
    oracles : list of str
        Oracle specs (see :func:`mssoracle.oracles.get_oracle`).
    out : Path
        Output folder.
    mixture : {"file", "sum"}
        Mixture fed to the oracles: the real mixture file (as SiSEC 2018) or the sum of the stems.
    targets : list of str or None
        Targets printed and saved; never changes which sources an evaluation includes.
    win, hop : float
        BSS Eval framing in seconds (museval: 1.0, 1.0).
    save_estimates : bool
        Write estimates as float WAV files.
    backend, device : str
        ``numpy``, or ``torch``: transforms, oracles and BSS Eval then run on
        torch tensors on ``device`` (e.g. ``cuda``; default CPU).
    """

    dataset: object
    transforms: list
    oracles: list
    out: Path
    mixture: str = "file"
    targets: list = None
    win: float = 1.0
    hop: float = 1.0
    mode: str = "v4"
    save_estimates: bool = False
    backend: str = "numpy"
    device: str = None

    def __post_init__(self):
        from .oracles import get_oracle
        from .transforms import from_spec

        if self.mixture not in MIXTURE_CHOICES:
            raise ParameterError(f"--mixture must be one of {', '.join(MIXTURE_CHOICES)}, got {self.mixture!r}")
        if not self.transforms:
            raise ParameterError("no transform given; e.g. --transform stft:2048,stft:4096")
        if not self.oracles:
            raise ParameterError("no oracle given; e.g. --oracle irm1,mpi")
        self.out = Path(self.out)
        # canonicalise (and validate) every spec now, before any work starts
        self._transforms = {}
        for spec in self.transforms:
            t = _with_context("--transform", spec, from_spec)
            self._transforms.setdefault(t.spec, t)
        self._oracles = {}
        for spec in self.oracles:
            o = _with_context("--oracle", spec, get_oracle)
            self._oracles.setdefault(o.name, o)
        self.transforms = list(self._transforms)
        self.oracles = list(self._oracles)
        if self.win <= 0 or self.hop <= 0:
            raise ParameterError(f"--win and --hop must be positive seconds, got {self.win} and {self.hop}")

    # ------------------------------------------------------------------ jobs
    def jobs(self):
        """All jobs, track-major (track, then transform, then oracle)."""
        out = []
        for i, track in enumerate(self.dataset):
            for tspec, transform in self._transforms.items():
                for oname, oracle in self._oracles.items():
                    out.append(Job(i, track.name, _subset_dir(track.subset), tspec, oname,
                                   method_name(oracle, transform)))
        return out

    def config(self, job):
        """The configuration stored with (and compared against) a job's result."""
        transform = self._transforms[job.transform_spec]
        oracle = self._oracles[job.oracle_spec]
        return {
            "method": job.method,
            "track": job.track_name,
            "subset": job.subset,
            "data": str(self.dataset[job.track_index].path),
            "oracle": oracle.name,
            "oracle_options": dict(oracle.options),
            "transform": transform.spec,
            "mixture": self.mixture,
            "scoring": {"win": self.win, "hop": self.hop, "mode": self.mode, "engine": "mssoracle.bsseval"},
            "accompaniment": "sum of the drums, bass and other estimates",
            "mssoracle_version": __version__,
        }

    def score_path(self, job):
        return self.out / "scores" / job.method / job.subset / f"{job.track_name}.json"

    def estimate_dir(self, job):
        return self.out / "estimates" / job.method / job.subset / job.track_name

    def is_done(self, job):
        """Return ``(done, notice)``: done when a result with an identical configuration exists."""
        path = self.score_path(job)
        if not path.is_file():
            return False, None
        try:
            stored = json.loads(path.read_text()).get("config")
        except (OSError, ValueError):
            return False, f"{path}: unreadable result, recomputing"
        if _comparable(stored) != _comparable(self.config(job)):
            return False, f"{path}: stored configuration differs from this run's, recomputing"
        if self.save_estimates and not self.estimate_dir(job).is_dir():
            return False, None
        return True, None


def _with_context(option, spec, build):
    """Build from ``spec``, naming the option and spec in the error message."""
    try:
        return build(spec)
    except ParameterError as exc:
        msg = str(exc)
        raise ParameterError(msg if spec in msg else f"{option} {spec}: {msg}") from None


def _comparable(config):
    # JSON round trip so that tuples/lists and float formatting compare alike
    return json.loads(json.dumps(config, sort_keys=True)) if config is not None else None


# --------------------------------------------------------------------- work
def run_track(experiment, track_index, jobs):
    """Compute every job of one track; write its JSON (and estimates). Return the tidy frames."""
    from .bsseval import TrackEvaluator

    track = experiment.dataset[track_index]
    audio = track.load()
    sr = audio.sample_rate
    names = list(audio.stems)
    stems = np.stack([audio.stems[n] for n in names])  # (nsrc, channels, time)
    length = stems.shape[-1]
    mixture = stems.sum(axis=0) if experiment.mixture == "sum" else audio.mixture
    references = audio.references()
    has_acc = "accompaniment" in references
    evaluator = TrackEvaluator(
        {k: v.T for k, v in references.items()}, sample_rate=sr, win=experiment.win, hop=experiment.hop,
        mode=experiment.mode, backend=experiment.backend, device=experiment.device,
        track_name=track.name, on_silent="nan",
    )
    frames = []
    for job, est in _estimates(experiment, jobs, mixture, stems, sr):
        estimates = {n: est[i] for i, n in enumerate(names)}
        if has_acc:
            estimates["accompaniment"] = sum(est[i] for i, n in enumerate(names) if n != "vocals")
        scores = evaluator.evaluate({k: v.T for k, v in estimates.items()}, config=experiment.config(job))
        scores = scores.select(experiment.targets) if experiment.targets else scores
        if experiment.save_estimates:
            from .audio import write_audio

            for name, sig in estimates.items():
                if experiment.targets and name not in experiment.targets:
                    continue
                write_audio(experiment.estimate_dir(job) / f"{name}.wav", sig.astype(np.float32), sr)
        scores.save(experiment.score_path(job))
        frames.append(scores.df.assign(method=job.method))
    return frames


#: transforms of one track analysed at the same time (threads; numpy and scipy.fft release the GIL)
TRANSFORM_THREADS = 2
_DONE = object()


def _estimates(experiment, jobs, mixture, stems, sr):
    """Yield ``(job, estimates (nsrc, channels, time) float64)`` for the jobs of one track.

    Each transform runs in a worker thread (at most :data:`TRANSFORM_THREADS` at once) that
    analyses the mixture and the stems once and then builds every oracle's estimate for that
    transform; the caller scores them while the workers go on.  A bounded queue keeps at most a
    few estimates in memory; an error in a worker is raised here.
    """
    import queue
    import threading
    from concurrent.futures import ThreadPoolExecutor

    by_transform = {}
    for job in jobs:
        by_transform.setdefault(job.transform_spec, []).append(job)
    length = stems.shape[-1]
    results = queue.Queue(maxsize=2)
    stop = threading.Event()

    def work(tspec, tjobs):
        try:
            transform = experiment._transforms[tspec]
            if transform.sample_rate != sr:
                transform = _rebuild_for_rate(transform, sr)
            X = transform.forward(_to_backend(mixture, experiment))
            S = transform.forward(_to_backend(stems, experiment))
            for job in tjobs:
                if stop.is_set():
                    return
                with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 in masks of silent bins
                    Y = experiment._oracles[job.oracle_spec](X, S)
                results.put((job, _to_numpy(transform.inverse(Y, length))))
                del Y
        except BaseException as exc:  # re-raised by the consumer
            results.put((None, exc))
        finally:
            results.put(_DONE)

    workers = max(1, min(TRANSFORM_THREADS, len(by_transform)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mssoracle-transform") as pool:
        for tspec, tjobs in by_transform.items():
            pool.submit(work, tspec, tjobs)
        remaining = len(by_transform)
        try:
            while remaining:
                item = results.get()
                if item is _DONE:
                    remaining -= 1
                    continue
                job, est = item
                if job is None:
                    raise est
                yield job, est
        finally:
            stop.set()
            while remaining:  # let blocked workers finish
                if results.get() is _DONE:
                    remaining -= 1


def _to_backend(x, experiment):
    """numpy signal -> what the transforms and oracles run on: numpy, or a torch tensor on the device."""
    if experiment.backend != "torch":
        return x
    import torch

    return torch.from_numpy(np.ascontiguousarray(x)).to(experiment.device or "cpu")


def _to_numpy(x):
    if isinstance(x, np.ndarray):
        return np.asarray(x, dtype=np.float64)
    return x.detach().to("cpu").double().numpy()


def _rebuild_for_rate(transform, sr):
    from .transforms import from_spec

    return from_spec(transform.spec, sample_rate=sr)


def _load_done(experiment, job):
    from .bsseval import load_track_scores

    scores = load_track_scores(experiment.score_path(job))
    if experiment.targets:
        scores = scores.select(experiment.targets)
    return scores.df.assign(method=job.method)


class SerialExecutor:
    """Run track units one after the other in this process."""

    def map(self, fn, items):
        for item in items:
            yield fn(*item)


class ProcessExecutor:
    """Run track units in ``jobs`` worker processes (one track in memory per worker)."""

    def __init__(self, jobs):
        self.jobs = int(jobs)

    def map(self, fn, items):
        with concurrent.futures.ProcessPoolExecutor(max_workers=self.jobs) as pool:
            futures = [pool.submit(fn, *item) for item in items]
            for fut in concurrent.futures.as_completed(futures):
                yield fut.result()


def _run_unit(experiment, track_index, jobs):
    return len(jobs), run_track(experiment, track_index, jobs)


def run_experiment(experiment, *, executor=None, progress=True, log=None):
    """Run every pending job of ``experiment``; return the tidy results table.

    Parameters
    ----------
    experiment : Experiment
    executor : SerialExecutor or ProcessExecutor, optional
        Defaults to serial execution.
    progress : bool
        Show a tqdm progress bar over jobs (on stderr).
    log : callable, optional
        Receives notices (one line each); defaults to printing on stderr.

    Returns
    -------
    pandas.DataFrame
        Columns ``method, track, target, metric, time, score, cond`` for every
        job, finished now or earlier; also written atomically to
        ``out/results.csv``.
    """
    import pandas as pd
    from tqdm import tqdm

    from ._atomic import atomic_path

    log = log or (lambda msg: print(f"mssoracle: {msg}", file=sys.stderr))
    executor = executor or SerialExecutor()
    all_jobs = experiment.jobs()
    if not all_jobs:
        raise MssOracleError("no track to evaluate: the dataset selection is empty")
    done, pending = [], {}
    for job in all_jobs:
        ok, notice = experiment.is_done(job)
        if notice:
            log(notice)
        if ok:
            done.append(job)
        else:
            pending.setdefault(job.track_index, []).append(job)
    if done:
        log(f"{len(done)} of {len(all_jobs)} job(s) already done with the same configuration: skipped")
    frames = [_load_done(experiment, job) for job in done]
    units = [(experiment, i, jobs) for i, jobs in pending.items()]
    with tqdm(total=sum(len(j) for _, _, j in units), unit="job", disable=not progress or None,
              file=sys.stderr, leave=False) as bar:
        for n, result in executor.map(_run_unit, units):
            frames.extend(result)
            bar.update(n)
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    columns = ["method", "track", "target", "metric", "time", "score", "cond"]
    table = table[[c for c in columns if c in table.columns]]
    order = {m: i for i, m in enumerate(dict.fromkeys(j.method for j in all_jobs))}
    table = table.sort_values(["method", "track", "target", "metric", "time"],
                              key=lambda s: s.map(order) if s.name == "method" else s, kind="stable")
    table = table.reset_index(drop=True)
    with atomic_path(experiment.out / "results.csv") as tmp:
        table.to_csv(tmp, index=False)
    return table
