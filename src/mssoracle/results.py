"""Tidy result tables: ``results.csv`` rebuilt from the score files, aggregation, the printed summary.

A tidy table has one row per (method, track, target, metric, frame) with
columns ``dataset, method, subset, track, target, metric, time, score`` and
``cond`` (the reference Gram matrix condition estimate of the evaluation that
produced the row).  ``OUT/results.csv`` is a derived view of every score file
under ``OUT/scores`` (:func:`write_results`): rebuilt, atomically, when a
command ends or is stopped, and by ``mssoracle results OUT``; never appended
to, so it cannot hold only the last command's methods nor lose rows.
``OUT/summary.csv``, rebuilt with it, has one row per (dataset, method, subset,
track, target) and one column per metric: its track value (BSS Eval metrics:
the NaN-ignoring median over frames), the table users paste into papers
(:func:`mssoracle.aggregation.summary_table`).  Aggregation over tracks is the
convention's (``--aggregate sisec|mdx``, :mod:`mssoracle.aggregation`).
"""

from pathlib import Path

from .bsseval.museval_io import aggregate
from .constants import DISPLAY_TARGET_ORDER as TARGET_ORDER

__all__ = ["TARGET_ORDER", "COLUMNS", "aggregate", "score_files", "collect_results", "write_results", "tidy",
           "remember_rows", "score_file", "SUMMARY_KEYS"]

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


def _rows_cache(out, parts, kind="rows"):
    return Path(out) / CACHE / kind / Path(*parts[:3]) / f"{parts[3]}.csv"


def _store_rows(out, parts, stamp, rows, kind="rows"):
    from ._atomic import write_text

    try:
        write_text(_rows_cache(out, parts, kind), stamp + rows)
    except OSError:  # pragma: no cover - the cache is an optimisation only
        pass


def _track_rows(df):
    """The track values of one result's tidy table as CSV rows (columns :data:`SUMMARY_KEYS` + metric, score)."""
    from .aggregation import track_values

    return track_values(df)[list(SUMMARY_KEYS) + ["metric", "score"]].to_csv(index=False, header=False)


def remember_rows(out, parts, path, df):
    """Cache the rows of the score file ``path`` just written from ``df`` (its :func:`tidy` table), so that
    the next rebuild of ``results.csv`` and ``summary.csv`` does not parse it again."""
    stamp = _stamp(path)
    _store_rows(out, parts, stamp, df.to_csv(index=False, header=False))
    _store_rows(out, parts, stamp, _track_rows(df), kind="track")


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


#: per score file, its rows of ``results.csv`` (``rows/``) and of the track values behind ``summary.csv``
#: (``track/``), cached beside the output (see :func:`write_results`)
CACHE = Path(".mssoracle")
ROWS_CACHE = CACHE / "rows"
#: key columns of ``summary.csv`` (then one column per metric)
SUMMARY_KEYS = ("dataset", "method", "subset", "track", "target")


def _stamp(path):
    st = path.stat()
    return f"# {st.st_size} {st.st_mtime_ns}\n"


def _read_cache(out, parts, stamp, kind):
    try:
        with open(_rows_cache(out, parts, kind), encoding="utf-8") as f:
            if f.readline() == stamp:
                return f.read()
    except OSError:
        pass
    return None


def _cached_rows(out, parts, path):
    """``(results rows, track-value rows)`` (CSV, no header) of one score file: from its cache when the
    file is unchanged, else made now."""
    import io

    import pandas as pd

    stamp = _stamp(path)
    rows = _read_cache(out, parts, stamp, "rows")
    track = _read_cache(out, parts, stamp, "track")
    if rows is None:
        df = _frame(parts, path)
        rows = df.to_csv(index=False, header=False)
        _store_rows(out, parts, stamp, rows)
    elif track is None:  # a cache written before summary.csv existed
        df = pd.read_csv(io.StringIO(rows), names=COLUMNS, header=None, keep_default_na=False,
                         na_values=[""], dtype={c: str for c in COLUMNS[:6]})
    if track is None:
        track = _track_rows(df)
        _store_rows(out, parts, stamp, track, kind="track")
    return rows, track


def write_results(out):
    """Rebuild ``out/results.csv`` and ``out/summary.csv`` from every score file under ``out`` (atomically);
    return the path of ``results.csv``.

    Each score file's rows (and its track values) are cached in ``out/.mssoracle/`` under the file's size and
    modification time, so a rebuild parses only the score files written since the last one and then streams
    the rows into the new tables: a command that adds a few results to a large study does not re-read the
    study (``benchmarks/bench_results.py``).  The tables are the same, byte for byte, as ones built from scratch.
    """
    import io

    import pandas as pd

    from ._atomic import atomic_path
    from .aggregation import summary_table

    path = Path(out) / "results.csv"
    track = []
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(",".join(COLUMNS) + "\n")
            for parts, score_path in score_files(out):
                rows, values = _cached_rows(out, parts, score_path)
                f.write(rows)
                track.append(values)
    names = list(SUMMARY_KEYS) + ["metric", "score"]
    values = pd.read_csv(io.StringIO("".join(track)), names=names, header=None, keep_default_na=False,
                         na_values=[""], dtype={c: str for c in names[:-1]})
    # stored scores have 5 decimals (museval's rounding): a median of two has 6 at most, so 6 loses nothing
    summary = summary_table(values).round(6)
    with atomic_path(Path(out) / "summary.csv") as tmp:
        summary.to_csv(tmp, index=False)
    return path
