"""What an oracle run is: the :class:`Experiment` (the ``eval`` options), its jobs, their stored configuration
and whether a stored result can be reused (:meth:`Experiment.status`)."""

import dataclasses
import json
import re
from pathlib import Path

from .. import __version__, validators
from ..constants import DEFAULT_PRECISION, PRECISIONS, derived_targets
from ..errors import ParameterError
from .fingerprint import FingerprintCache
from .identity import component_versions, differences
from .names import DEFAULT_QUALIFIERS, method_name

__all__ = ["Experiment", "Job", "JobStatus", "dataset_label", "MIXTURE_CHOICES"]

MIXTURE_CHOICES = ("file", "sum")



def dataset_label(dataset):
    """The directory level of a dataset: ``musdb18hq``, ``musdb18``, ``default-sample`` or ``folder-<name>``.

    Same-named tracks of MUSDB18 and MUSDB18-HQ (or of two stem folders) never share a result file.
    """
    kind = getattr(dataset, "kind", None) or "folder"
    if kind == "folder":
        root = getattr(dataset, "root", None)
        name = Path(root).resolve().name if root is not None else ""
        name = re.sub(r"[^A-Za-z0-9._+=-]+", "_", name).strip("._") or "root"
        return f"folder-{name}"
    return str(kind)


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
    sample_rate: int = 44100
    dataset: str = "default-sample"


@dataclasses.dataclass(frozen=True)
class JobStatus:
    """Whether a job must run, and what: ``metrics`` (names) to compute, ``estimates`` to write, and why."""

    job: Job
    run: bool
    metrics: tuple = ()
    estimates: bool = False
    reason: str = ""
    stored: object = None  # the stored config when it identifies the same result (metrics are then merged)


@dataclasses.dataclass
class Experiment:
    """Everything that defines an oracle run (the CLI's ``eval`` options).

    Parameters
    ----------
    dataset : mssoracle.datasets.Dataset
        The tracks, loaded lazily one at a time.
    transforms : list of str
        Transform specs (see :func:`mssoracle.transforms.from_spec`); resolved at
        each track's sample rate.
    oracles : list of str
        Oracle specs (see :func:`mssoracle.oracles.get_oracle`).
    out : Path
        Output folder.
    mixture : {"file", "sum"}
        Mixture fed to the oracles: the real mixture file (as SiSEC 2018) or the sum of the stems.
    targets : list of str or None
        Targets printed; every target is always computed and stored.
    win, hop : float
        BSS Eval framing in seconds (museval: 1.0, 1.0).
    save_estimates : bool
        Write the estimates of every target as float WAV files.
    backend, device : str
        ``numpy``, or ``torch``: transforms, oracles and BSS Eval then run on
        torch tensors on ``device`` (e.g. ``cuda``; default CPU).
    precision : {"float32", "float64"}
        Signals, coefficients and estimates (BSS Eval accumulates in float64 either way).
    metrics : list of str
        Registered metrics to compute (:mod:`mssoracle.metrics`; default ``bssv4``).
    start, duration : float
        An excerpt of every track in seconds (``--start``/``--duration``), as musdb's ``chunk_start`` and
        ``chunk_duration``: samples ``int(start * rate) .. + int(duration * rate)`` (default 0 and None:
        the whole track).  Part of the method name (``+start=30+duration=10``) and of the identity.
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
    precision: str = DEFAULT_PRECISION
    metrics: list = dataclasses.field(default_factory=lambda: ["bssv4"])
    start: float = 0.0
    duration: float = None

    def __post_init__(self):
        from ..metrics import parse_metrics
        from ..oracles import get_oracle
        from ..transforms import from_spec

        if self.mixture not in MIXTURE_CHOICES:
            raise ParameterError(f"--mixture must be one of {', '.join(MIXTURE_CHOICES)}, got {self.mixture!r}")
        if self.precision not in PRECISIONS:
            raise ParameterError(f"--precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
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
        self._metrics = parse_metrics(self.metrics)
        self.metrics = [m.name for m in self._metrics]
        if not (self.win > 0 and self.hop > 0):
            raise ParameterError(f"--win and --hop must be positive seconds, got {self.win} and {self.hop}")
        self.start = float(validators.number(0.0 if self.start is None else self.start, "--start (seconds)",
                                             minimum=0))
        if self.duration is not None:
            self.duration = float(validators.number(self.duration, "--duration (seconds)", minimum=0, strict=True))
        self.label = dataset_label(self.dataset)
        self._caches()

    def _caches(self):
        self._rates = {}
        self._at_rate = {}
        self._fingerprints = FingerprintCache(self.out)
        self._track_prints = {}

    def __getstate__(self):  # what a worker gets: no caches (transform plans are rebuilt there)
        state = dict(self.__dict__)
        for k in ("_rates", "_at_rate", "_fingerprints", "_track_prints"):
            state.pop(k, None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._caches()
        self._fingerprints.path = None  # workers never write the cache

    # ------------------------------------------------------------------ jobs
    @property
    def dtype(self):
        import numpy as np

        return np.dtype(self.precision)

    def transform_at(self, spec, sample_rate):
        """The transform of ``spec`` resolved at ``sample_rate`` (cached)."""
        key = (spec, int(sample_rate))
        if key not in self._at_rate:
            self._at_rate[key] = self._transforms[spec].at_rate(int(sample_rate))
        return self._at_rate[key]

    def sample_rate_of(self, index):
        if index not in self._rates:  # from the file header, nothing decoded
            self._rates[index] = self.dataset[index].sample_rate
        return self._rates[index]

    def excerpt(self):
        """``{"start": seconds, "duration": seconds or None}`` (the whole track: 0 and None)."""
        return {"start": self.start, "duration": self.duration}

    def excerpt_samples(self, sample_rate):
        """``(offset, frames)`` of the excerpt at ``sample_rate`` (``frames`` None: to the end)."""
        from ..datasets import excerpt_samples

        return excerpt_samples(self.start, self.duration, sample_rate)

    def qualifiers(self):
        """The method-name qualifiers of this run (:mod:`.names`; defaults are left out of the name)."""
        return {"start": self.start, "duration": self.duration, "mixture": self.mixture,
                "precision": self.precision, "win": self.win, "hop": self.hop,
                "mode": self.mode, "filters": DEFAULT_QUALIFIERS["filters"], "sources": DEFAULT_QUALIFIERS["sources"]}

    def jobs(self):
        """All jobs, track-major (track, then transform, then oracle)."""
        out = []
        quals = self.qualifiers()
        for i, track in enumerate(self.dataset):
            sr = self.sample_rate_of(i)
            for tspec in self._transforms:
                transform = self.transform_at(tspec, sr)
                for oname, oracle in self._oracles.items():
                    out.append(Job(i, track.name, _subset_dir(track.subset), tspec, oname,
                                   method_name(oracle, transform, **quals), sr, self.label))
        return out

    def fingerprint(self, index):
        """The data fingerprint of track ``index`` (:mod:`.fingerprint`; cached)."""
        if index not in self._track_prints:
            self._track_prints[index] = self._fingerprints.track(self.dataset[index])
        return self._track_prints[index]

    def save_fingerprints(self):
        self._fingerprints.save()

    def versions(self, job):
        """``(identity versions, {metric: versions})`` of a job's components (:func:`.identity.component_versions`)."""
        transform = self.transform_at(job.transform_spec, job.sample_rate)
        allv = component_versions(self._oracles[job.oracle_spec], transform, self._metrics)
        ident = {k: v for k, v in allv.items() if not (k.startswith("metric:") or k == "bsseval")}
        per_metric = {}
        for m in self._metrics:
            v = {f"metric:{m.name}": allv.get(f"metric:{m.name}", 1)}
            if m.compute is None:  # bssv4: the scorer's numbers
                v["bsseval"] = allv.get("bsseval", 1)
            per_metric[m.name] = v
        return ident, per_metric

    def config(self, job):
        """The configuration stored with (and compared against) a job's result (see :mod:`.identity`)."""
        transform = self.transform_at(job.transform_spec, job.sample_rate)
        oracle = self._oracles[job.oracle_spec]
        track = self.dataset[job.track_index]
        ident_versions, metric_versions = self.versions(job)
        return {
            "method": job.method,
            "dataset": job.dataset,
            "track": job.track_name,
            "subset": job.subset,
            "data": self.fingerprint(job.track_index),
            "oracle": oracle.name,
            "oracle_options": dict(oracle.options),
            "transform": transform.spec,
            "sample_rate": job.sample_rate,
            "excerpt": self.excerpt(),
            "mixture": self.mixture,
            "precision": self.precision,
            "scoring": {"win": self.win, "hop": self.hop, "mode": self.mode,
                        "filters": DEFAULT_QUALIFIERS["filters"], "sources": DEFAULT_QUALIFIERS["sources"]},
            "accompaniment": "sum of the estimates of every stem but vocals",
            "versions": ident_versions,
            # recorded, not compared
            "data_files": {k: str(v) for k, v in track.files.items()},
            "backend": {"backend": self.backend, "device": None if self.device is None else str(self.device)},
            "metrics": metric_versions,
            "mssoracle_version": __version__,
        }

    def score_path(self, job):
        from ..results import score_file

        return score_file(self.out, (job.dataset, job.method, job.subset, job.track_name))

    def estimate_dir(self, job):
        return self.out / "estimates" / job.dataset / job.method / job.subset / job.track_name

    def estimate_targets(self, job):
        """Every target whose estimate is saved: the stems, then the derived targets (accompaniment)."""
        stems = list(self.dataset[job.track_index].stem_names)
        return stems + list(derived_targets(stems))

    def status(self, job, *, force=False):
        """Whether ``job`` must run (:class:`JobStatus`): only a result of the same identity is reused.

        A stored result of the same identity that lacks a requested metric (or holds
        an outdated version of it) computes only that metric; with
        ``save_estimates`` every estimate WAV is checked (present, same size and
        length as recorded).
        """
        everything = tuple(self.metrics)
        if force:
            return JobStatus(job, True, everything, self.save_estimates, "--force")
        path = self.score_path(job)
        if not path.is_file():
            return JobStatus(job, True, everything, self.save_estimates, "no stored result")
        try:
            stored = json.loads(path.read_text()).get("config")
        except (OSError, ValueError, AttributeError):
            return JobStatus(job, True, everything, self.save_estimates, "unreadable stored result")
        planned = self.config(job)
        diff = differences(stored, planned)
        if diff:
            return JobStatus(job, True, everything, self.save_estimates,
                             f"stored configuration differs in {', '.join(diff)}")
        have = stored.get("metrics") if isinstance(stored.get("metrics"), dict) else {}
        need = tuple(m for m in self.metrics if have.get(m) != planned["metrics"][m])
        est = False
        why = []
        if need:
            why.append(f"metric(s) {', '.join(need)} missing or of another version")
        if self.save_estimates:
            problem = self._estimates_problem(job, stored)
            if problem:
                est = True
                why.append(problem)
        if not need and not est:
            return JobStatus(job, False, (), False, "done with the same configuration", stored)
        return JobStatus(job, True, need, est, "; ".join(why), stored)

    def _estimates_problem(self, job, stored):
        import soundfile as sf

        recorded = stored.get("estimates") if isinstance(stored.get("estimates"), dict) else {}
        folder = self.estimate_dir(job)
        for target in self.estimate_targets(job):
            path = folder / f"{target}.wav"
            info = recorded.get(target)
            if not info:
                return f"estimate {target}.wav not recorded"
            if not path.is_file():
                return f"{path}: estimate missing"
            try:
                if path.stat().st_size != info.get("bytes") or sf.info(str(path)).frames != info.get("frames"):
                    return f"{path}: estimate changed since it was written"
            except (OSError, RuntimeError):
                return f"{path}: estimate unreadable"
        return None


def _with_context(option, spec, build):
    """Build from ``spec``, naming the option and spec in the error message."""
    try:
        return build(spec)
    except ParameterError as exc:
        msg = str(exc)
        raise ParameterError(msg if spec in msg else f"{option} {spec}: {msg}") from None
