"""Tidy result tables: aggregation and the per-method summary printed by ``mssoracle eval``.

A tidy table has one row per (method, track, target, metric, frame) with
columns ``method, track, target, metric, time, score`` (and ``cond``, the
reference Gram matrix condition estimate of the evaluation that produced the
row).  Aggregation follows museval: NaN-ignoring median over frames for each
track, then median over tracks.
"""

import numpy as np

__all__ = ["TARGET_ORDER", "METRICS", "aggregate", "format_method", "format_results"]

#: order of targets in printed tables (others follow alphabetically)
TARGET_ORDER = ("drums", "bass", "other", "vocals", "accompaniment")
#: metric order of museval's printed tables
METRICS = ("SDR", "SIR", "ISR", "SAR")


def aggregate(df, *, by=("method",)):
    """museval's aggregation: median over frames per track, then median over tracks.

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy table with columns ``track, target, metric, score`` and the
        columns in ``by``.
    by : tuple of str
        Extra grouping columns kept in the result (``method`` by default;
        columns missing from ``df`` are ignored).

    Returns
    -------
    pandas.DataFrame
        Columns ``*by, target, metric, score``; NaN frames are ignored, a
        target whose frames are all NaN gives NaN.
    """
    by = [c for c in by if c in df.columns]
    per_track = df.groupby([*by, "track", "target", "metric"], sort=False)["score"].median()
    return per_track.groupby(level=[*by, "target", "metric"], sort=False).median().reset_index()


def _target_key(target):
    return (TARGET_ORDER.index(target), "") if target in TARGET_ORDER else (len(TARGET_ORDER), target)


def format_method(agg, method=None):
    """Format one method's aggregated scores in the seed's (and museval's) layout.

    ``vocals          ==> SDR:   6.712  SIR:  16.301  ISR:  13.098  SAR:   7.721``
    one line per target, then ``median SDR: x`` (the median over the targets).
    """
    if method is not None and "method" in agg.columns:
        agg = agg[agg["method"] == method]
    table = agg.pivot_table(index="target", columns="metric", values="score", aggfunc="first", dropna=False)
    lines = []
    sdrs = []
    for target in sorted(table.index, key=_target_key):
        row = table.loc[target]
        parts = [f"{m}:{row.get(m, np.nan):8.3f}" for m in METRICS]
        lines.append(f"{target:<16}==> " + "  ".join(parts))
        sdrs.append(row.get("SDR", np.nan))
    finite = [s for s in sdrs if not np.isnan(s)]
    lines.append(f"median SDR: {np.median(finite):.3f}" if finite else "median SDR: nan")
    return "\n".join(lines)


def format_results(df):
    """Aggregate a tidy table and format every method, in the table's order."""
    agg = aggregate(df)
    blocks = []
    for method in dict.fromkeys(agg["method"]):
        blocks.append(f"{method}\n{format_method(agg, method)}")
    return "\n\n".join(blocks)
