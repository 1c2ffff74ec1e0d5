"""The objective of a trial: the metric ``eval`` reports, computed by ``eval``'s own code.

:class:`Scorer` scores one transform spec on the search's tracks the way ``mssoracle eval`` does: an
:class:`~mssoracle.experiment.Experiment` of that spec and the oracle, one
:class:`~mssoracle.experiment.runner.Unit` per track run by :func:`~mssoracle.experiment.runner.run_unit`
(the same decode-free estimates, :func:`~mssoracle.experiment.pipeline.compute_estimates`, and scoring
as ``eval``), the tidy rows of :func:`mssoracle.results.tidy`, and the aggregation ``eval`` prints
(:mod:`mssoracle.aggregation`, SiSEC's convention: per track the median over frames, the median over
tracks; the headline ``median`` target: the median over drums, bass, other and vocals).  Nothing is
written: the tracks come from the memory-mapped cache (:mod:`.trackcache`).

The objective (:func:`resolve_objective`) is an output of a registered metric (``SDR``, ``uSDR``,
``SI-SDR``, ``SNR``, ...; a metric's registry name means its first output).  ``SDR`` has a fast path:
BSS Eval v4's SDR in the images variant (``mode="v4"``) is, frame by frame, the SNR of the registered
``snr`` metric (museval's framing, silent-frame rule and four-/two-source calls,
:func:`mssoracle.metrics.snr_framewise`), so trials compute ``snr`` and name it ``SDR``
(``tests/test_search.py`` holds it equal to ``eval``'s median SDR to 1e-9 dB); ``fast=False`` runs
the full BSS Eval v4 engine instead.
"""

import dataclasses
import time

from ..errors import ParameterError

__all__ = ["Objective", "resolve_objective", "Scorer", "coefficient_bytes", "TARGET_MEDIAN"]

#: ``--target median``: the headline (median over the headline targets)
TARGET_MEDIAN = "median"


@dataclasses.dataclass(frozen=True)
class Objective:
    """What a trial maximises.

    Attributes
    ----------
    output : str
        The tidy-table metric scored (``SDR``).
    metric : str
        The registered metric ``eval`` reports it with (``bssv4``).
    computed : str
        The registered metric trials compute (``snr`` for the SDR fast path, else ``metric``).
    target : str
        ``median`` (the headline over drums, bass, other, vocals) or a target name.
    """

    output: str
    metric: str
    computed: str
    target: str = TARGET_MEDIAN

    @property
    def fast(self):
        return self.computed != self.metric

    def describe(self):
        what = "median over drums, bass, other, vocals" if self.target == TARGET_MEDIAN else self.target
        return f"{self.output} ({what}; per track the median over frames, the median over tracks)"


def resolve_objective(name, *, target=TARGET_MEDIAN, fast=True):
    """The :class:`Objective` of ``--objective NAME`` (an output such as ``SDR``/``uSDR`` or a metric name).

    Raises
    ------
    ParameterError
        No registered metric has that name or output.
    """
    from ..metrics import METRICS

    text = str(name).strip()
    if not text:
        raise ParameterError("--objective is empty; give a metric, e.g. --objective SDR")
    outputs = {}
    for m in METRICS.names():
        metric = METRICS.get(m)
        for out in metric.outputs:
            outputs.setdefault(out.lower(), (out, metric.name))
    if text.lower() in outputs:
        output, metric = outputs[text.lower()]
    elif text in METRICS:
        metric = METRICS.get(text).name
        output = METRICS.get(text).outputs[0]
    else:
        valid = sorted({o for o, _ in outputs.values()})
        raise ParameterError(f"--objective: unknown metric {text!r}; valid: {', '.join(valid)} "
                             f"(or a metric name: {', '.join(METRICS.names())})")
    computed = "snr" if (fast and metric == "bssv4" and output == "SDR") else metric
    return Objective(output=output, metric=metric, computed=computed, target=target)


def coefficient_bytes(transform, length, *, channels=2, signals=5, itemsize=8):
    """Bytes of the coefficients one block of ``signals`` signals holds (the mixture and the stems).

    The non-sliced NSGT's block is the whole track; a sliCQT's block is
    :attr:`~mssoracle.transforms.nsgt.SliCQT.slices_per_block` slices; an STFT's is bounded by the
    transform itself (its stream holds a few thousand frames).  ``itemsize``: a complex coefficient's bytes
    (8: complex64).
    """
    layout = getattr(transform, "layout", None)
    if not callable(layout) or getattr(transform, "kind", None) not in ("nsgt", "slicq"):  # ours or compat=nsgt
        return 0
    groups = layout(int(length))
    total = sum(len(g["bands"]) * int(g["frames"]) for g in groups)
    if getattr(transform, "sliced", False):
        n = max(1, transform.n_slices(int(length)))
        total = total * min(1.0, transform.slices_per_block / n)
    return int(total * channels * signals * itemsize)


class Scorer:
    """Scores transform specs on one set of tracks, as ``eval`` would (see the module docstring).

    Parameters
    ----------
    dataset : CachedDataset or Dataset
    oracle : str
        Oracle spec (``mpi``).
    objective : Objective
    out : Path
        The search's output folder (the experiment's ``out``; nothing is written there).
    mixture, precision, win, hop, start, duration, backend, device
        As ``eval``'s options.
    """

    def __init__(self, dataset, oracle, objective, out, *, mixture="file", precision="float32", win=1.0, hop=1.0,
                 start=0.0, duration=None, backend="numpy", device=None):
        self.dataset = dataset
        self.oracle = oracle
        self.objective = objective
        self.out = out
        self.options = dict(mixture=mixture, precision=precision, win=win, hop=hop, start=start, duration=duration,
                            backend=backend, device=device)

    def experiment(self, spec, metrics=None):
        """The :class:`~mssoracle.experiment.Experiment` of one spec (what ``eval --transform SPEC`` runs)."""
        from ..experiment import Experiment

        return Experiment(dataset=self.dataset, transforms=[spec], oracles=[self.oracle], out=self.out,
                          metrics=list(metrics or [self.objective.computed]), **self.options)

    def table(self, spec, *, on_track=None):
        """The tidy table of ``spec`` on every track (``eval``'s rows; the fast path's SNR named SDR).

        ``on_track(index, seconds)`` is called after each track (a heartbeat; it may raise to stop).
        """
        import pandas as pd

        from ..experiment.jobs import JobStatus
        from ..experiment.runner import Unit, run_unit
        from ..results import tidy

        exp = self.experiment(spec)
        frames = []
        for job in exp.jobs():
            t0 = time.perf_counter()
            status = JobStatus(job, True, (self.objective.computed,), False, "search trial")
            result = run_unit(Unit(exp, job.track_index, job.track_name, job.transform_spec, [status]))
            _, scores, _ = result.results[0]
            frames.append(tidy(scores, (job.dataset, job.method, job.subset, job.track_name)))
            del scores, result
            if on_track is not None:
                on_track(job.track_index, time.perf_counter() - t0)
        df = pd.concat(frames, ignore_index=True)
        if self.objective.fast:
            df["metric"] = df["metric"].replace({"SNR": self.objective.output})
        return df

    def evaluate(self, spec, *, on_track=None):
        """``(value, {target: value})`` of ``spec``: the objective of ``self.objective.target`` and every
        target's value of the objective's metric (NaN when nothing finite)."""
        return values_of(self.table(spec, on_track=on_track), self.objective)


def values_of(table, objective):
    """``(value, {target: value})`` of a tidy table under ``eval``'s aggregation (sisec), for one method."""
    from ..aggregation import HEADLINE_TARGETS, aggregate, headline

    sub = table[table["metric"] == objective.output]
    agg = aggregate(sub)
    per_target = {str(t): float(s) for t, s in zip(agg["target"], agg["score"])}
    if objective.target == TARGET_MEDIAN:
        heads = headline(sub, targets=HEADLINE_TARGETS)
        value = float(heads["score"].iloc[0]) if len(heads) else float("nan")
    else:
        value = per_target.get(objective.target, float("nan"))
    return value, per_target

