"""What an oracle run is: the :class:`Experiment` (the ``eval`` options), its jobs and their stored configuration."""

import dataclasses
import json
from pathlib import Path

from .. import __version__
from ..constants import DEFAULT_PRECISION, PRECISIONS
from ..errors import ParameterError
from .identity import same_result

__all__ = ["Experiment", "Job", "method_name", "MIXTURE_CHOICES"]

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
    sample_rate: int = 44100


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
        Targets printed and saved; never changes which sources an evaluation includes.
    win, hop : float
        BSS Eval framing in seconds (museval: 1.0, 1.0).
    save_estimates : bool
        Write estimates as float WAV files.
    backend, device : str
        ``numpy``, or ``torch``: transforms, oracles and BSS Eval then run on
        torch tensors on ``device`` (e.g. ``cuda``; default CPU).
    precision : {"float32", "float64"}
        Signals, coefficients and estimates (BSS Eval accumulates in float64 either way).
    metrics : list of str
        Registered metrics to compute (:mod:`mssoracle.metrics`; default ``bssv4``).
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
        if self.win <= 0 or self.hop <= 0:
            raise ParameterError(f"--win and --hop must be positive seconds, got {self.win} and {self.hop}")
        self._rates = {}
        self._at_rate = {}

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

    def jobs(self):
        """All jobs, track-major (track, then transform, then oracle)."""
        out = []
        for i, track in enumerate(self.dataset):
            sr = self.sample_rate_of(i)
            for tspec in self._transforms:
                transform = self.transform_at(tspec, sr)
                for oname, oracle in self._oracles.items():
                    out.append(Job(i, track.name, _subset_dir(track.subset), tspec, oname,
                                   method_name(oracle, transform), sr))
        return out

    def config(self, job):
        """The configuration stored with (and compared against) a job's result (see :mod:`.identity`)."""
        transform = self.transform_at(job.transform_spec, job.sample_rate)
        oracle = self._oracles[job.oracle_spec]
        return {
            "method": job.method,
            "track": job.track_name,
            "subset": job.subset,
            "data": str(self.dataset[job.track_index].path),
            "oracle": oracle.name,
            "oracle_options": dict(oracle.options),
            "transform": transform.spec,
            "sample_rate": job.sample_rate,
            "mixture": self.mixture,
            "precision": self.precision,
            "scoring": {"win": self.win, "hop": self.hop, "mode": self.mode, "engine": "mssoracle.bsseval"},
            "accompaniment": "sum of the drums, bass and other estimates",
            "metrics": list(self.metrics),
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
        if not same_result(stored, self.config(job)):
            return False, f"{path}: stored configuration differs from this run's, recomputing"
        if set(self.metrics) - set((stored or {}).get("metrics", ["bssv4"])):
            return False, None
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
