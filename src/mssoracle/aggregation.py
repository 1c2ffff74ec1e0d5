"""Aggregation conventions of tidy score tables: SiSEC 2018's (museval's) and MDX's, the report, the summary table.

A tidy table (:func:`mssoracle.results.collect_results`) has the columns
``[dataset,] method, [subset,] track, target, metric, time, score[, cond]``:
one row per frame for framewise metrics (BSS Eval's SDR, SIR, ISR, SAR, SNR),
one row per track (``time`` 0) for whole-track metrics (uSDR, SI-SDR, ...).

Every convention first reduces each (track, target, metric) to one **track
value** (:func:`track_values`): the NaN-ignoring median over its frames (museval's
``np.nanmedian``; a whole-track metric's single row is its value).  The
conventions differ in what follows:

``sisec`` (default; SiSEC 2018, museval's ``MethodStore.agg_frames_tracks_scores``)
    per (method, target, metric) the **median** over tracks of the track
    values; headline: the median over the four MUSDB18 targets of those.
``mdx`` (MDX 2021/2023 and demucs)
    per (method, target, metric) the **mean** over tracks; headline: per track
    the mean over the four targets (MDX's "song score"), then the mean over tracks.

NaN is left out everywhere (a silent frame, a track whose value is NaN, a
target whose value is NaN); a group with nothing finite is NaN.
"""

import math
from dataclasses import dataclass

import numpy as np

from .constants import DISPLAY_TARGET_ORDER, MUSDB_STEMS
from .errors import ParameterError
from .registry import Registry

__all__ = [
    "Convention", "CONVENTIONS", "DEFAULT_CONVENTION", "HEADLINE_TARGETS", "SUMMARY_COLUMNS_ORDER", "metric_order",
    "NON_HEADLINE_METRICS", "get_convention", "track_values", "aggregate", "headline", "describe",
    "format_report", "summary_table",
]

#: the targets a headline number is computed over (MUSDB18's four stems)
HEADLINE_TARGETS = MUSDB_STEMS
#: the metric vocabulary, in the order of printed tables and of :func:`summary_table`'s columns
SUMMARY_COLUMNS_ORDER = ("SDR", "SIR", "ISR", "SAR", "uSDR", "uSDRi", "SI-SDR", "SI-SDRi", "SNR")
#: BSS Eval's components: aggregated per target, but no headline number (papers report SDR only)
NON_HEADLINE_METRICS = ("SIR", "ISR", "SAR")
DEFAULT_CONVENTION = "sisec"

#: key columns of a tidy table, in their order (those present are used)
_KEYS = ("dataset", "method", "subset", "track", "target", "metric")
_TRACK_KEYS = ("dataset", "subset", "track")


@dataclass(frozen=True)
class Convention:
    """One way to aggregate a tidy table over tracks.

    Attributes
    ----------
    name : str
        Registry name (``--aggregate NAME``).
    tracks_agg : {"median", "mean"}
        Aggregation over tracks of the track values (NaN ignored).  It also
        picks the headline: ``"median"``: the median over the headline targets
        of the per-target aggregates (SiSEC); ``"mean"``: the mean over tracks of
        each track's mean over the headline targets (MDX's song score).
    reference : str
        Who uses it (printed by :func:`describe`).
    description : str
        One sentence for listings.
    """

    name: str
    tracks_agg: str
    reference: str
    description: str = ""

    def __post_init__(self):
        if self.tracks_agg not in ("median", "mean"):
            raise ParameterError(f"aggregation {self.name!r}: tracks_agg must be 'median' or 'mean', "
                                 f"got {self.tracks_agg!r}")


#: the aggregation conventions, by name (``--aggregate``)
CONVENTIONS = Registry("aggregation")
CONVENTIONS.register("sisec", Convention(
    "sisec", "median", "SiSEC 2018",
    "SiSEC 2018, museval: per track the median over frames, then the median over tracks; headline: the median "
    "over the targets"),
    description="SiSEC 2018 / museval: median over tracks")
CONVENTIONS.register("mdx", Convention(
    "mdx", "mean", "MDX 2021/2023, demucs",
    "MDX 2021/2023, demucs: per track the median over frames, then the mean over tracks; headline: the mean over "
    "tracks of each track's mean over the targets (song score)"),
    description="MDX 2021/2023, demucs: mean over tracks, song score")


def get_convention(name):
    """The :class:`Convention` registered as ``name`` (case-insensitive); a :class:`Convention` is returned as is.

    Raises
    ------
    ParameterError
        ``--aggregate: unknown aggregation 'x'; valid: sisec, mdx``.
    """
    if isinstance(name, Convention):
        return name
    if name not in CONVENTIONS:
        raise ParameterError(f"--aggregate: unknown aggregation {name!r}; valid: {', '.join(CONVENTIONS.names())}")
    return CONVENTIONS.get(name)


# ---------------------------------------------------------------- helpers
def _keys(df, keys=_KEYS):
    return [k for k in keys if k in df.columns]


def _reduce(series_groupby, how):
    # pandas' median/mean skip NaN; a group with nothing finite is NaN
    return series_groupby.median() if how == "median" else series_groupby.mean()


def metric_order(names):
    """Metric names in vocabulary order, then the others in the given order."""
    names = list(dict.fromkeys(names))
    return [m for m in SUMMARY_COLUMNS_ORDER if m in names] + [m for m in names if m not in SUMMARY_COLUMNS_ORDER]


def _target_order(names):
    names = list(dict.fromkeys(names))
    return [t for t in DISPLAY_TARGET_ORDER if t in names] + [t for t in names if t not in DISPLAY_TARGET_ORDER]


def _empty(columns):
    import pandas as pd

    return pd.DataFrame({c: pd.Series(dtype=float if c == "score" else object) for c in columns})


def _check(df, needed=("track", "target", "metric", "score")):
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise ParameterError(f"tidy table: missing column(s) {', '.join(missing)}")


# ---------------------------------------------------------------- aggregation
def track_values(df):
    """Each track's value of each (target, metric): the NaN-ignoring median over its rows.

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy table.

    Returns
    -------
    pandas.DataFrame
        Columns ``[dataset,] [method,] [subset,] track, target, metric, score`` (the key columns of
        ``df``), one row per key, in the order of first appearance.  Framewise metrics: the median over
        frames, NaN frames left out (NaN when all are); whole-track metrics: their single value.

    Notes
    -----
    The track values of a track-value table are itself, so every function of this module gives the same
    answer on ``track_values(df)`` (or on a concatenation of per-file track values) as on ``df``.
    """
    _check(df)
    keys = _keys(df)
    if not len(df):
        return _empty(keys + ["score"])
    out = df.groupby(keys, sort=False, dropna=False)["score"].median().reset_index()
    out["score"] = out["score"].astype(float)
    return out


def aggregate(df, *, convention=DEFAULT_CONVENTION):
    """Aggregate a tidy table over tracks: per (method, target, metric) the median (sisec) or mean (mdx).

    The track values (:func:`track_values`) are aggregated over every track of the method (each
    ``(dataset, subset, track)`` is one track); NaN track values are left out, nothing finite gives NaN.

    Returns
    -------
    pandas.DataFrame
        Columns ``method, target, metric, score`` (``method`` when ``df`` has it), in order of first
        appearance.
    """
    conv = get_convention(convention)
    tv = track_values(df)
    keys = _keys(tv, ("method", "target", "metric"))
    if not len(tv):
        return _empty(keys + ["score"])
    out = _reduce(tv.groupby(keys, sort=False, dropna=False)["score"], conv.tracks_agg).reset_index()
    out["score"] = out["score"].astype(float)
    return out


def _finite_mean(values):
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    return float(v.mean()) if v.size else math.nan


def _finite_median(values):
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    return float(np.median(v)) if v.size else math.nan


def headline(df, *, convention=DEFAULT_CONVENTION, targets=HEADLINE_TARGETS):
    """One headline number per (method, metric): the convention's summary over ``targets``.

    ``sisec``: the median over the targets of :func:`aggregate` (NaN targets left out).
    ``mdx``: per track the mean over the targets of its track values (MDX's song score, NaN targets
    left out), then the mean over tracks (NaN song scores left out).

    SIR, ISR and SAR get no row (:data:`NON_HEADLINE_METRICS`); every other metric does, when at least
    one of ``targets`` has rows for it.

    Returns
    -------
    pandas.DataFrame
        Columns ``method, metric, score, targets``; ``targets`` is the tuple of the headline targets the
        (method, metric) has rows for, in the order of ``targets``.  Methods in table order, metrics in
        vocabulary order (:data:`SUMMARY_COLUMNS_ORDER`, then others).
    """
    import pandas as pd

    conv = get_convention(convention)
    targets = tuple(targets)
    columns = ["method", "metric", "score", "targets"]
    _check(df)
    sub = df[df["target"].isin(targets) & ~df["metric"].isin(NON_HEADLINE_METRICS)]
    if not len(sub):
        return _empty(columns)
    tv = track_values(sub)
    has_method = "method" in tv.columns
    methods = list(dict.fromkeys(tv["method"])) if has_method else [None]
    rows = []
    for method in methods:
        mtv = tv[tv["method"] == method] if has_method else tv
        for metric in metric_order(mtv["metric"]):
            part = mtv[mtv["metric"] == metric]
            present = tuple(t for t in targets if t in set(part["target"]))
            if conv.tracks_agg == "median":
                per_target = _reduce(part.groupby("target", sort=False)["score"], "median")
                score = _finite_median([per_target[t] for t in present])
            else:
                tkeys = _keys(part, _TRACK_KEYS)
                song = part.groupby(tkeys, sort=False, dropna=False)["score"].mean()  # NaN targets left out
                score = _finite_mean(song.to_numpy())
            rows.append({"method": method, "metric": metric, "score": score, "targets": present})
    out = pd.DataFrame(rows, columns=columns)
    out["score"] = out["score"].astype(float)
    if not has_method:
        out = out.drop(columns="method")
    return out


def describe(convention=DEFAULT_CONVENTION, targets=HEADLINE_TARGETS):
    """One header line saying how the numbers below it were aggregated.

    >>> describe("sisec", ("drums", "vocals"))  # doctest: +NORMALIZE_WHITESPACE
    'aggregation: sisec (SiSEC 2018): per track the median over frames (whole-track metrics: the track value),
    then the median over tracks; headline: the median over drums, vocals'
    """
    conv = get_convention(convention)
    targets = tuple(targets)
    text = (f"aggregation: {conv.name} ({conv.reference}): per track the median over frames "
            f"(whole-track metrics: the track value), then the {conv.tracks_agg} over tracks; headline: ")
    if not targets:
        return text + "none (no headline target)"
    names = ", ".join(targets)
    if conv.tracks_agg == "median":
        return text + f"the median over {names}"
    return text + f"the mean over tracks of each track's mean over {names} (MDX's song score)"


def _headline_line(conv, metric, present, score):
    names = ", ".join(present)
    if conv.tracks_agg == "median":
        return f"median {metric} over {names}: {score:.3f}"
    return f"mean {metric} over {names} (song score): {score:.3f}"


def format_report(df, *, convention=DEFAULT_CONVENTION, headline_targets=HEADLINE_TARGETS, targets=None):
    """The printed summary of a tidy table under one convention.

    :func:`describe`'s line, a blank line, then per method (in table order) a block: the method name,
    one line per target in museval's layout (``vocals          ==> SDR:   6.712  SIR: ...``; metrics in
    vocabulary order, targets in :data:`~mssoracle.constants.DISPLAY_TARGET_ORDER` then others), then one
    line per headline metric (``median SDR over drums, bass, other, vocals: 5.395`` or, mdx, ``mean SDR
    over drums, bass, other, vocals (song score): 5.395``).  Blocks are separated by a blank line.

    When the table holds several datasets, each block is named ``<dataset>/<method>``: a method's
    results on two datasets are never aggregated together.

    Parameters
    ----------
    targets : sequence of str, optional
        Only these targets' lines (the headline is still over ``headline_targets``).
    """
    from .bsseval.museval_io import format_medians

    conv = get_convention(convention)
    tv = track_values(df)  # once: the functions below give the same answer on it as on df
    if "dataset" in tv.columns and "method" in tv.columns and tv["dataset"].nunique() > 1:
        # one method name in two datasets (MUSDB18 and MUSDB18-HQ in one OUT): two blocks, never one
        tv = tv.assign(method=tv["dataset"].astype(str) + "/" + tv["method"].astype(str))
    headline_targets = tuple(headline_targets)
    in_table = set(tv["target"])
    present = tuple(t for t in headline_targets if t in in_table)
    header = describe(conv, present)
    if not len(tv):
        return header
    agg = aggregate(tv, convention=conv)
    heads = headline(tv, convention=conv, targets=headline_targets)
    has_method = "method" in agg.columns
    methods = list(dict.fromkeys(tv["method"])) if has_method else [None]
    wanted = None if targets is None else set(targets)
    blocks = []
    for method in methods:
        magg = agg[agg["method"] == method] if has_method else agg
        if wanted is not None:
            magg = magg[magg["target"].isin(wanted)]
        lines = [] if method is None else [str(method)]
        if len(magg):
            lines.append(format_medians(magg, targets=_target_order(magg["target"]),
                                        metrics=metric_order(magg["metric"])))
        mheads = heads[heads["method"] == method] if has_method else heads
        for row in mheads.itertuples(index=False):
            lines.append(_headline_line(conv, row.metric, row.targets, row.score))
        blocks.append("\n".join(lines))
    return header + "\n\n" + "\n\n".join(blocks)


def summary_table(df):
    """One row per (dataset, method, subset, track, target), one column per metric: its track value.

    Columns: the key columns of ``df`` (of ``dataset, method, subset, track, target``), then the metrics in
    vocabulary order (:data:`SUMMARY_COLUMNS_ORDER`), then other metrics in order of appearance.  Rows in
    the table's order (first appearance); a metric a row does not have is NaN.
    """
    import pandas as pd

    tv = track_values(df)
    keys = [k for k in _keys(tv) if k != "metric"]
    metrics = metric_order(tv["metric"]) if len(tv) else []
    if not len(tv):
        return _empty(keys)
    rows = tv[keys].drop_duplicates()
    pos = tv.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()  # row of each track value
    table = {m: np.full(len(rows), np.nan) for m in metrics}
    for p, metric, score in zip(pos, tv["metric"].to_numpy(), tv["score"].to_numpy(dtype=float)):
        table[metric][p] = score
    out = rows.reset_index(drop=True)
    return pd.concat([out, pd.DataFrame(table, columns=metrics)], axis=1)
