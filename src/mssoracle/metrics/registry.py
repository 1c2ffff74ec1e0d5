"""The metric registry (see :mod:`mssoracle.metrics`)."""

import dataclasses

import numpy as np

from ..errors import ParameterError
from ..registry import Registry

__all__ = ["METRICS", "Metric", "MetricContext", "register_metric", "get_metric", "parse_metrics"]

#: metric name -> :class:`Metric`
METRICS = Registry("metric")


@dataclasses.dataclass(frozen=True)
class Metric:
    """A registered metric.

    Attributes
    ----------
    name : str
        Registry name (``bssv4``), as given to ``--metrics``.
    outputs : tuple of str
        Tidy-table ``metric`` values it produces (``SDR``, ``SIR``, ...).
    framewise : bool
        One value per BSS Eval frame (True) or one per track (False: stored
        under the JSON's ``track_metrics`` with ``time = 0``).
    frames_agg, tracks_agg : {"median", "mean"}
        Aggregation over frames (framewise metrics) and over tracks.
    description : str
    compute : callable or None
        ``compute(context) -> {target: {output: values}}``; None for ``bssv4``,
        which the runner computes with :class:`mssoracle.bsseval.TrackEvaluator`.
    version : int
        Algorithm version (>= 1): bumped whenever the metric's numbers change
        (``bssv4``'s numbers also depend on :data:`mssoracle.bsseval.ALGORITHM_VERSION`).
    """

    name: str
    outputs: tuple
    framewise: bool
    frames_agg: str = "median"
    tracks_agg: str = "median"
    description: str = ""
    compute: object = None
    version: int = 1


@dataclasses.dataclass
class MetricContext:
    """What a metric sees for one (track, method).

    Attributes
    ----------
    track : str
    sample_rate : int
    win, hop : int
        BSS Eval framing in samples (museval: ``int(1.0 * sample_rate)``).
    references, estimates : dict of str -> array ``(channels, time)``
        The stems and their estimates (numpy arrays or torch tensors, the
        run's precision).  Derived targets (``accompaniment``) are not
        materialised: use :meth:`reference` and :meth:`estimate`, which sum
        their parts on demand.
    derived : dict of str -> tuple of str
        Derived target -> the stems it is the sum of.
    """

    track: str
    sample_rate: int
    win: int
    hop: int
    references: dict
    estimates: dict
    derived: dict

    def targets(self):
        return list(self.references) + [d for d in self.derived if d not in self.references]

    def _get(self, signals, name):
        if name in signals:
            return signals[name]
        parts = self.derived.get(name)
        if not parts:
            raise KeyError(name)
        total = signals[parts[0]] * 1  # a copy in the same precision
        for p in parts[1:]:
            total += signals[p]
        return total

    def reference(self, name):
        return self._get(self.references, name)

    def estimate(self, name):
        return self._get(self.estimates, name)

    def nwin(self):
        """museval's number of frames."""
        n = int(next(iter(self.references.values())).shape[-1])
        if n < self.win:
            return 1
        return int(np.floor((n - self.win + self.hop) / self.hop))


def register_metric(name, *, outputs, framewise, frames_agg="median", tracks_agg="median", description="",
                    version=1):
    """Decorator: register ``compute(context)`` as the metric ``name``.

    ``version`` (an integer >= 1, default 1) is the metric's algorithm version: bump it whenever its
    numbers change (``tests/test_versions.py`` compares them with a stored reference); read it with
    ``METRICS.info(name)["version"]`` or ``get_metric(name).version``.

    Examples
    --------
    >>> @register_metric("peak", outputs=("PEAK",), framewise=False, description="peak of the estimate")
    ... def peak(ctx):
    ...     return {t: {"PEAK": float(abs(ctx.estimate(t)).max())} for t in ctx.targets()}
    """
    outputs = tuple(outputs)
    if not outputs:
        raise ParameterError(f"metric {name!r}: declare at least one output name")
    for agg in (frames_agg, tracks_agg):
        if agg not in ("median", "mean"):
            raise ParameterError(f"metric {name!r}: aggregation must be 'median' or 'mean', got {agg!r}")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ParameterError(f"metric {name!r}: version must be an integer >= 1 (bump it when its numbers "
                             f"change), got {version!r}")

    def deco(fn):
        METRICS.register(name, Metric(name=str(name).lower(), outputs=outputs, framewise=bool(framewise),
                                      frames_agg=frames_agg, tracks_agg=tracks_agg, description=description,
                                      compute=fn, version=version), description=description, version=version)
        return fn
    return deco


def get_metric(name):
    return METRICS.get(name)


def parse_metrics(values):
    """``["bssv4,NAME", ...]`` -> list of :class:`Metric` (case-insensitive, duplicates dropped)."""
    names = []
    for value in values:
        names.extend(v.strip() for v in str(value).split(","))
    names = [n for n in names if n]
    if not names:
        raise ParameterError(f"--metrics: no metric given; valid: {', '.join(METRICS.names())}")
    out = {}
    for n in names:
        if n not in METRICS:
            raise ParameterError(f"--metrics: unknown metric {n!r}; valid: {', '.join(METRICS.names())}")
        m = METRICS.get(n)
        out.setdefault(m.name, m)
    return list(out.values())
