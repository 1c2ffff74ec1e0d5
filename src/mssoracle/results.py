"""Tidy result tables: aggregation and the per-method summary printed by ``mssoracle eval``.

A tidy table has one row per (method, track, target, metric, frame) with
columns ``method, track, target, metric, time, score`` (and ``cond``, the
reference Gram matrix condition estimate of the evaluation that produced the
row).  Aggregation follows museval (:func:`mssoracle.bsseval.aggregate`):
NaN-ignoring median over frames for each track, then median over tracks.
"""

import numpy as np

from .bsseval.museval_io import aggregate, format_medians
from .constants import DISPLAY_TARGET_ORDER as TARGET_ORDER

__all__ = ["TARGET_ORDER", "aggregate", "aggregate_by_metric", "format_method", "format_results"]


def _target_key(target):
    return (TARGET_ORDER.index(target), "") if target in TARGET_ORDER else (len(TARGET_ORDER), target)


def format_method(agg, method=None):
    """Format one method's aggregated scores in the seed's (and museval's) layout.

    ``vocals          ==> SDR:   6.712  SIR:  16.301  ISR:  13.098  SAR:   7.721``
    one line per target (every metric present, museval's four first), then, when SDR is present,
    ``median SDR: x`` (the median over the targets).
    """
    if method is not None and "method" in agg.columns:
        agg = agg[agg["method"] == method]
    targets = sorted(dict.fromkeys(agg["target"]), key=_target_key)
    text = format_medians(agg, targets=targets)
    sdr = agg[agg["metric"] == "SDR"].set_index("target")["score"]
    if not len(sdr):
        return text
    finite = [sdr[t] for t in targets if t in sdr.index and not np.isnan(sdr[t])]
    median = f"median SDR: {np.median(finite):.3f}" if finite else "median SDR: nan"
    return text + "\n" + median


def aggregate_by_metric(df):
    """Aggregate a tidy table, each metric by the convention its registered metric declares.

    Metrics of :mod:`mssoracle.metrics` declare ``frames_agg`` (over frames, per track) and
    ``tracks_agg`` (over tracks); names no registered metric produces get museval's median/median.
    """
    import pandas as pd

    from .metrics import METRICS

    rule = {}
    for _, m in METRICS.items():
        for out in m.outputs:
            rule.setdefault(out, (m.frames_agg, m.tracks_agg))
    parts = []
    for (frames_agg, tracks_agg), names in _group_rules(df["metric"].unique(), rule).items():
        parts.append(aggregate(df[df["metric"].isin(names)], frames_agg=frames_agg, tracks_agg=tracks_agg))
    return pd.concat(parts, ignore_index=True) if parts else aggregate(df)


def _group_rules(names, rule):
    groups = {}
    for n in names:
        groups.setdefault(rule.get(n, ("median", "median")), []).append(n)
    return groups


def format_results(df):
    """Aggregate a tidy table (each metric by its own convention) and format every method, in the table's order."""
    agg = aggregate_by_metric(df)
    blocks = []
    for method in dict.fromkeys(df["method"]):
        blocks.append(f"{method}\n{format_method(agg, method)}")
    return "\n\n".join(blocks)
