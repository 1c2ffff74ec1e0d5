"""Tidy result tables: ``results.csv`` rebuilt from the score files, aggregation, the printed summary.

A tidy table has one row per (method, track, target, metric, frame) with
columns ``dataset, method, subset, track, target, metric, time, score`` and
``cond`` (the reference Gram matrix condition estimate of the evaluation that
produced the row).  ``OUT/results.csv`` is a derived view of every score file
under ``OUT/scores`` (:func:`write_results`): rebuilt, atomically, when a
command ends or is stopped, and by ``mssoracle results OUT``; never appended
to, so it cannot hold only the last command's methods nor lose rows.  Aggregation follows museval (:func:`mssoracle.bsseval.aggregate`):
NaN-ignoring median over frames for each track, then median over tracks.
"""

from pathlib import Path

import numpy as np

from .bsseval.museval_io import aggregate, format_medians
from .constants import DISPLAY_TARGET_ORDER as TARGET_ORDER

__all__ = ["TARGET_ORDER", "COLUMNS", "aggregate", "aggregate_by_metric", "format_method", "format_results",
           "score_files", "collect_results", "write_results", "tidy", "remember_rows", "score_file"]

#: columns of ``results.csv``
COLUMNS = ["dataset", "method", "subset", "track", "target", "metric", "time", "score", "cond"]


def score_files(out):
    """Every score file ``OUT/scores/<dataset>/<method>/<subset>/<track>.json``, sorted, as ``(parts, path)``."""
    root = Path(out) / "scores"
    if not root.is_dir():
        return []
    found = []
    for path in root.glob("*/*/*/*.json"):
        if path.name.startswith("."):
            continue
        dataset, method, subset = path.parent.parent.parent.name, path.parent.parent.name, path.parent.name
        found.append(((dataset, method, subset, path.name[:-len(".json")]), path))
    found.sort(key=lambda item: item[0])
    return found


def tidy(scores, parts):
    """The rows of one result (a :class:`~mssoracle.bsseval.TrackScores`) with the columns :data:`COLUMNS`;
    ``parts`` is ``(dataset, method, subset, track)``."""
    dataset, method, subset, _track = parts
    scores.method = method
    df = scores.df
    df.insert(0, "dataset", dataset)
    df.insert(2, "subset", subset)
    return df


def _frame(parts, path):
    from .bsseval.museval_io import load_track_scores

    return tidy(load_track_scores(path, method=parts[1]), parts)


def _rows_cache(out, parts):
    return Path(out) / ROWS_CACHE / Path(*parts[:3]) / f"{parts[3]}.csv"


def _store_rows(out, parts, stamp, rows):
    from ._atomic import write_text

    try:
        write_text(_rows_cache(out, parts), stamp + rows)
    except OSError:  # pragma: no cover - the cache is an optimisation only
        pass


def remember_rows(out, parts, path, df):
    """Cache the rows of the score file ``path`` just written from ``df`` (its :func:`tidy` table), so that
    the next rebuild of ``results.csv`` does not parse it again."""
    _store_rows(out, parts, _stamp(path), df.to_csv(index=False, header=False))


def score_file(out, parts):
    """The score file of ``parts = (dataset, method, subset, track)``: ``OUT/scores/<dataset>/<method>/<subset>/<track>.json``."""
    dataset, method, subset, track = parts
    return Path(out) / "scores" / dataset / method / subset / f"{track}.json"


def collect_results(out, *, jobs=None, known=None):
    """The tidy table of the score files under ``out`` (all of them, or those of ``jobs``, in their order).

    Parameters
    ----------
    out : Path
        Output folder of ``mssoracle eval``.
    jobs : list of mssoracle.experiment.Job, optional
        Only these results, in this order (missing files are left out).
    known : dict, optional
        ``{(dataset, method, subset, track): DataFrame}`` of results already in memory (not read again).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`.
    """
    import pandas as pd

    if jobs is None:
        items = score_files(out)
    else:
        seen, items = set(), []
        for j in jobs:
            parts = (j.dataset, j.method, j.subset, j.track_name)
            path = score_file(out, parts)
            if parts not in seen and path.is_file():
                seen.add(parts)
                items.append((parts, path))
    known = known or {}
    frames = [known[parts] if parts in known else _frame(parts, path) for parts, path in items]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=float if c in ("time", "score", "cond") else object)
                             for c in COLUMNS})
    return pd.concat(frames, ignore_index=True)[COLUMNS]


#: per score file, its rows of ``results.csv``, cached beside the output (see :func:`write_results`)
ROWS_CACHE = Path(".mssoracle") / "rows"


def _stamp(path):
    st = path.stat()
    return f"# {st.st_size} {st.st_mtime_ns}\n"


def _cached_rows(out, parts, path):
    """The CSV rows (no header) of one score file: from its cache when the file is unchanged, else made now."""
    stamp = _stamp(path)
    cache = _rows_cache(out, parts)
    try:
        with open(cache, encoding="utf-8") as f:
            if f.readline() == stamp:
                return f.read()
    except OSError:
        pass
    rows = _frame(parts, path).to_csv(index=False, header=False)
    _store_rows(out, parts, stamp, rows)
    return rows


def write_results(out):
    """Rebuild ``out/results.csv`` from every score file under ``out`` (atomically); return its path.

    Each score file's rows are cached in ``out/.mssoracle/rows/`` under the file's size and modification
    time, so a rebuild parses only the score files written since the last one and then streams the rows
    into the new table: a command that adds a few results to a large study does not re-read the study
    (``benchmarks/bench_results.py``).  The table is the same, byte for byte, as one built from scratch.
    """
    from ._atomic import atomic_path

    path = Path(out) / "results.csv"
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(",".join(COLUMNS) + "\n")
            for parts, score_path in score_files(out):
                f.write(_cached_rows(out, parts, score_path))
    return path


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
