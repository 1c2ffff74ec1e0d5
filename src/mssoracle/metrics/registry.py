"""The metric registry (see :mod:`mssoracle.metrics`)."""

import dataclasses

import numpy as np

from ..errors import ParameterError
from ..registry import Registry

__all__ = ["METRICS", "Metric", "MetricContext", "register_metric", "get_metric", "parse_metrics", "add_scores"]

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
        under the JSON's ``track_metrics`` with ``time = 0``).  How values are
        aggregated is the convention's (``--aggregate sisec|mdx``,
        :mod:`mssoracle.aggregation`), not the metric's: per track the median
        over frames (or the track value), then the median or mean over tracks.
    description : str
    compute : callable or None
        ``compute(context) -> {target: {output: values}}``; None for ``bssv4``,
        which the runner computes with :class:`mssoracle.bsseval.TrackEvaluator`.
    version : int
        Algorithm version (>= 1): bumped whenever the metric's numbers change
        (``bssv4``'s numbers also depend on :data:`mssoracle.bsseval.ALGORITHM_VERSION`).
    needs_mixture : bool
        The metric reads :attr:`MetricContext.mixture` (improvements over the
        mixture); commands refuse it, before any work, where no mixture exists.
    reported_by : str
        Who reports it (e.g. ``"SiSEC 2018, museval"``), for ``mssoracle metrics``.
    """

    name: str
    outputs: tuple
    framewise: bool
    description: str = ""
    compute: object = None
    version: int = 1
    needs_mixture: bool = False
    reported_by: str = ""


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
    mixture : array ``(channels, time)`` or None
        The mixture the estimates were separated from (``eval``: the one the
        oracles were given, ``--mixture file|sum``); None when there is none.
    grouping : {"museval", "joint"}
        How BSS Eval groups the targets into calls (:func:`mssoracle.bsseval.plan_evaluations`):
        a framewise metric that follows museval's NaN rule (a frame is NaN for every
        target of a call when any reference or estimate of the call is silent in it)
        needs it.
    baselines : dict
        Values that depend only on the references and the mixture (:meth:`baseline`), shared by
        the contexts of one track's methods when the caller passes the same dict.
    values : dict
        This context's own memo (:meth:`memo`).
    """

    track: str
    sample_rate: int
    win: int
    hop: int
    references: dict
    estimates: dict
    derived: dict
    mixture: object = None
    grouping: str = "museval"
    baselines: dict = dataclasses.field(default_factory=dict)
    values: dict = dataclasses.field(default_factory=dict)

    def memo(self, key, fn):
        """``fn()``, computed once per context (e.g. a target's SI-SDR, needed by ``sisdr`` and ``sisdri``)."""
        if key not in self.values:
            self.values[key] = fn()
        return self.values[key]

    def baseline(self, key, fn):
        """``fn()`` for a value that depends only on the references and the mixture (an improvement
        metric's score of the mixture as the estimate), computed once per :attr:`baselines` dict: the
        runner shares one between every method of a track."""
        if key not in self.baselines:
            self.baselines[key] = fn()
        return self.baselines[key]

    def targets(self):
        return list(self.references) + [d for d in self.derived if d not in self.references]

    def parts(self, name, *, estimates=False):
        """The signals whose sum is target ``name``'s reference (or estimate): ``[signal]`` for a target
        given as such, its parts' signals for a derived one (not summed).  KeyError for an unknown name."""
        signals = self.estimates if estimates else self.references
        if name in signals:
            return [signals[name]]
        parts = self.derived.get(name)
        if not parts:
            raise KeyError(name)
        return [signals[p] for p in parts]

    def _get(self, name, estimates):
        parts = self.parts(name, estimates=estimates)
        if name in (self.estimates if estimates else self.references):
            return parts[0]
        total = parts[0] * 1  # a derived target: a new sum, in the same precision
        for p in parts[1:]:
            total += p
        return total

    def reference(self, name):
        return self._get(name, False)

    def estimate(self, name):
        return self._get(name, True)

    def calls(self):
        """The BSS Eval calls of these targets: ``[(sources, scored), ...]``
        (:func:`~mssoracle.bsseval.plan_evaluations`, targets in museval's order)."""
        from ..bsseval.track import plan_evaluations
        from ..constants import MUSEVAL_TARGET_ORDER

        names = self.targets()
        order = [t for t in MUSEVAL_TARGET_ORDER if t in names] + [t for t in names if t not in MUSEVAL_TARGET_ORDER]
        return plan_evaluations(order, self.grouping)[0]

    def nwin(self):
        """museval's number of frames."""
        n = int(next(iter(self.references.values())).shape[-1])
        if n < self.win:
            return 1
        return int(np.floor((n - self.win + self.hop) / self.hop))


def register_metric(name, *, outputs, framewise, description="", version=1, needs_mixture=False, reported_by="",
                    aliases=()):
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
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ParameterError(f"metric {name!r}: version must be an integer >= 1 (bump it when its numbers "
                             f"change), got {version!r}")

    def deco(fn):
        METRICS.register(name, Metric(name=str(name).lower(), outputs=outputs, framewise=bool(framewise),
                                      description=description, compute=fn, version=version,
                                      needs_mixture=bool(needs_mixture), reported_by=reported_by),
                         aliases=tuple(aliases), description=description, version=version)
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


def add_scores(scores, metrics, ctx):
    """Compute every metric of ``metrics`` that has a ``compute`` (all but ``bssv4``) on ``ctx`` and add its
    values to ``scores`` (a :class:`~mssoracle.bsseval.TrackScores`: framewise values per frame, the others
    under ``track_metrics``).  Returns ``scores``."""
    for metric in metrics:
        if metric.compute is None:
            continue
        if metric.needs_mixture and ctx.mixture is None:
            raise ParameterError(f"metric {metric.name!r} needs the mixture (scored as the estimate of every "
                                 f"target) and none was given")
        for target, outputs in metric.compute(ctx).items():
            for out_name, v in outputs.items():
                scores.add_metric(target, out_name, v, framewise=metric.framewise)
    return scores
