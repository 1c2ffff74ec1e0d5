"""The published SiSEC 2018 scores (every submission, models and oracles), and comparison of a run against them.

The per-track medians of all 31 submissions on the 50 MUSDB18 test tracks ship as package data
(``data/sisec18-all-per-track-medians.csv.gz``, one row per method, track, target and metric; the submission
table ``data/sisec18-submissions.csv``: oracle or model, blind, additional training data; sources in
``data/SOURCES.md``).  Median over tracks of the per-track medians gives the published figures, e.g. IRM2
vocals SDR 9.43 dB, TAK2 7.16 dB.  Models submitted for vocals/accompaniment only have no drums, bass and
other rows.  :func:`load_published` reads them, :func:`load_submissions` the submission table,
:func:`select_methods` checks a user's list of names (``--sisec18 TAK2,IRM1``) and :func:`ranking` puts
runs among every submission.

:func:`check_runs` says, for each run (dataset, method) of a results table, whether it
was made in SiSEC 2018's configuration (:data:`SISEC18_CONFIG`): its method name is
parsed back to its configuration (:func:`mssoracle.experiment.names.parse_method_name`).
:func:`compare` puts the runs that match (or differ only in the flagged ways) beside the
published medians over the same test tracks.

The oracles' own conditioning: :func:`read_stability` reads the ``"stability"`` entries of a run's
score files (:mod:`mssoracle.oracles.stability`); :func:`compare` counts, per MWF run and target, the
tracks whose figure is above the threshold (column ``unstable``) and :func:`unstable_tracks` lists those
per-track values, which :func:`format_unstable` prints marked ``!``: there SiSEC 2018's MWF numbers
(and ours) are not stable under rounding-level input noise.
"""

import dataclasses
import functools
from importlib import resources

import numpy as np
import pandas as pd

from .bsseval import aggregate
from .constants import DISPLAY_TARGET_ORDER as TARGET_ORDER
from .constants import SISEC18_ORACLES, SISEC18_STFT_SPEC
from .errors import DatasetError, ParameterError

__all__ = ["SISEC18_NAMES", "SISEC18_CONFIG", "SISEC18_TRACKS", "RunCheck", "load_published", "load_submissions",
           "submission_names", "select_methods", "published_medians", "ranking", "format_ranking", "check_runs", "compare", "format_checks", "format_comparison", "read_stability",
           "unstable_tracks", "format_unstable"]

#: our oracle name -> SiSEC 2018 method name (the oracles of :data:`mssoracle.constants.SISEC18_ORACLES`)
SISEC18_NAMES = {name: name.upper() for name in SISEC18_ORACLES}
#: the number of MUSDB18 test tracks SiSEC 2018 scored
SISEC18_TRACKS = 50
#: SiSEC 2018's configuration: sigsep-mus-oracle on the MUSDB18 stem files (AAC), test subset, the
#: mixture file, float64, museval's scoring (1 s frames and hop, v4, 512-tap filters, images).
#: A run that differs in a key marked ``refuse`` is left out; in ``flag``, shown with a note.
SISEC18_CONFIG = {
    "transform": SISEC18_STFT_SPEC, "subset": "test", "dataset": "musdb18",
    "qualifiers": {"mixture": "file", "precision": "float64", "win": 1, "hop": 1, "mode": "v4",
                   "filters": 512, "sources": "images"},
}
_QUALIFIER_WORDS = {"mixture": "mixture", "precision": "precision", "win": "scoring win", "hop": "scoring hop",
                    "mode": "scoring mode", "filters": "filter length", "sources": "scoring variant"}


#: package data: the per-track medians of every submission, and the submission table
PUBLISHED_FILE = "data/sisec18-all-per-track-medians.csv.gz"
SUBMISSIONS_FILE = "data/sisec18-submissions.csv"


@functools.lru_cache(maxsize=1)
def _published():
    with resources.files("mssoracle").joinpath(PUBLISHED_FILE).open("rb") as f:
        return pd.read_csv(f, compression="gzip")


def load_published(methods=None):
    """Per-track medians of the SiSEC 2018 submissions: columns ``method, track, target, metric, score``.

    Parameters
    ----------
    methods : sequence of str, optional
        Only these submissions (names as :func:`select_methods` returns them); default all 31.

    Returns
    -------
    pandas.DataFrame
        24,200 rows for all submissions (a copy: callers may modify it).
    """
    df = _published()
    if methods is not None:
        df = df[df["method"].isin(list(methods))]
    return df.copy()


@functools.lru_cache(maxsize=1)
def _submissions():
    with resources.files("mssoracle").joinpath(SUBMISSIONS_FILE).open("rb") as f:
        return pd.read_csv(f, dtype=str)


def load_submissions():
    """The SiSEC 2018 submission table: columns ``method, kind`` (``oracle`` or ``model``), ``blind``,
    ``additional_training_data`` (``yes``/``no``), one row per submission, sorted by name."""
    return _submissions().copy()


def submission_names(kind=None):
    """The submissions' names, sorted; ``kind``: only ``"oracle"`` or ``"model"`` ones."""
    sub = _submissions()
    if kind is not None:
        sub = sub[sub["kind"] == kind]
    return sorted(sub["method"])


def select_methods(names, *, option="--sisec18"):
    """The SiSEC 2018 submissions a user names: ``None``/empty/``all`` means every one; ``oracles`` and
    ``models`` their groups; names are matched case-insensitively.

    Returns
    -------
    list of str
        Canonical names, in the given order (groups expanded in sorted order), without repeats.

    Raises
    ------
    ParameterError
        An unknown name (the message lists the valid ones).
    """
    if isinstance(names, str):
        names = [n for n in (s.strip() for s in names.split(",")) if n]
    if not names:
        return submission_names()
    canon = {n.lower(): n for n in submission_names()}
    out = []
    for name in names:
        key = str(name).strip().lower()
        if key == "all":
            out += submission_names()
        elif key in ("oracles", "models"):
            out += submission_names(key[:-1])
        elif key in canon:
            out.append(canon[key])
        else:
            raise ParameterError(f"{option}: unknown SiSEC 2018 submission {name!r}; valid: all, oracles, models, "
                                 f"{', '.join(submission_names())}")
    return list(dict.fromkeys(out))


def published_medians(metric="SDR", tracks=None, methods=None):
    """Median over tracks (optionally only ``tracks``) per SiSEC method and target (``methods``: only these)."""
    df = _published()
    df = df[df["metric"] == metric]
    if tracks is not None:
        df = df[df["track"].isin(list(tracks))]
    if methods is not None:
        df = df[df["method"].isin(list(methods))]
    return df.groupby(["method", "target"])["score"].median()


@dataclasses.dataclass(frozen=True)
class RunCheck:
    """How one run (dataset, method) of a results table compares with :data:`SISEC18_CONFIG`.

    ``status``: ``"match"``, ``"flagged"`` (compared, with ``notes``), ``"refused"`` (left out:
    ``notes`` say what differs) or ``"other"`` (no SiSEC 2018 counterpart).  ``sisec18``: the
    SiSEC 2018 method name; ``tracks``: the run's tracks that SiSEC 2018 scored.
    """

    dataset: object
    method: str
    status: str
    notes: tuple = ()
    sisec18: str = None
    tracks: tuple = ()

    @property
    def label(self):
        return self.method if self.dataset is None else f"{self.dataset}/{self.method}"


def _same(value, expected):
    try:
        return float(value) == float(expected)
    except (TypeError, ValueError):
        return str(value) == str(expected)


def _show(value):
    return f"{value:g}" if isinstance(value, float) else str(value)


def _check_one(dataset, method, rows, *, recorded, test_tracks):
    from .experiment.names import parse_method_name
    from .transforms import from_spec

    def done(status, notes, **kw):
        return RunCheck(dataset, method, status, tuple(notes), **kw)

    try:
        cfg = parse_method_name(method)
    except ParameterError as exc:
        return done("refused", [f"not a method name mssoracle can parse ({exc})"])
    oracle = cfg.oracle.name
    if oracle not in SISEC18_NAMES:
        return done("other", [f"{oracle} has no SiSEC 2018 counterpart ({', '.join(SISEC18_ORACLES)})"])
    refuse, flag = [], []
    sisec_transform = from_spec(SISEC18_CONFIG["transform"]).name
    if cfg.transform.name != sisec_transform:
        refuse.append(f"transform {cfg.transform.name}, not {sisec_transform}")
    for key, expected in SISEC18_CONFIG["qualifiers"].items():
        value = cfg.qualifiers.get(key)
        if not _same(value, expected) and (recorded or f"+{key}=" in method):
            refuse.append(f"{_QUALIFIER_WORDS[key]} {_show(value)}, not {_show(expected)}")
    start, duration = cfg.qualifiers.get("start", 0.0), cfg.qualifiers.get("duration")
    if (start or 0.0) != 0.0 or duration is not None:  # SiSEC 2018 scored whole tracks
        refuse.append(f"an excerpt (start {_show(start or 0.0)} s"
                      f"{'' if duration is None else f', duration {_show(duration)} s'}), not whole tracks")
    if dataset is not None and dataset not in ("musdb18", "musdb18hq"):
        refuse.append(f"dataset {dataset}, not MUSDB18")
    if "subset" in rows.columns:
        subsets = set(rows["subset"].astype(str))
        if SISEC18_CONFIG["subset"] not in subsets:
            refuse.append(f"subset {', '.join(sorted(subsets))}, not test")
        rows = rows[rows["subset"].astype(str) == SISEC18_CONFIG["subset"]]
    tracks = tuple(sorted(set(rows["track"]) & test_tracks))
    if not tracks and not refuse:
        refuse.append("none of its tracks is a MUSDB18 test track scored in SiSEC 2018")
    if refuse:
        return done("refused", refuse)
    if dataset == "musdb18hq":
        flag.append("MUSDB18-HQ; SiSEC 2018 scored the MUSDB18 stem files (AAC)")
    elif not recorded:
        flag.append("an older results.csv: dataset, mixture, precision and scoring not recorded")
    if len(tracks) < SISEC18_TRACKS:
        flag.append(f"{len(tracks)} of {SISEC18_TRACKS} test tracks")
    return done("flagged" if flag else "match", flag, sisec18=SISEC18_NAMES[oracle], tracks=tracks)


def check_runs(results):
    """Check every run (dataset, method) of a results table against SiSEC 2018's configuration.

    Parameters
    ----------
    results : pandas.DataFrame
        Tidy table (``results.csv``): ``dataset, method, subset, track, ...``; tables of
        earlier versions without ``dataset`` and ``subset`` are read too (their
        tracks are matched by name, their mixture and precision are not recorded).

    Returns
    -------
    list of RunCheck
        In the table's order.
    """
    test_tracks = set(_published()["track"])
    recorded = "dataset" in results.columns
    keys = ["dataset", "method"] if recorded else ["method"]
    checks = []
    for key, rows in results.groupby(keys, sort=False, dropna=False):
        dataset, method = key if recorded else (None, key[0] if isinstance(key, tuple) else key)
        dataset = None if dataset is None or (isinstance(dataset, float) and np.isnan(dataset)) else str(dataset)
        checks.append(_check_one(dataset, str(method), rows, recorded=recorded, test_tracks=test_tracks))
    return checks


def format_checks(checks):
    """SiSEC 2018's configuration, then one line per run: ``irm1-...: matches SiSEC 2018`` or why not."""
    from .transforms import from_spec

    q = SISEC18_CONFIG["qualifiers"]
    head = (f"SiSEC 2018: MUSDB18 stem files, subset {SISEC18_CONFIG['subset']} ({SISEC18_TRACKS} tracks), "
            f"{from_spec(SISEC18_CONFIG['transform']).name}, mixture {q['mixture']}, precision {q['precision']}, museval scoring "
            f"(win {q['win']} s, hop {q['hop']} s, {q['mode']}, filter length {q['filters']}, {q['sources']})")
    words = {"match": "matches SiSEC 2018", "flagged": "compared, flagged:", "refused": "refused:",
             "other": "left out:"}
    return "\n".join([head] + [f"{c.label}: {words[c.status]}" + (f" {'; '.join(c.notes)}" if c.notes else "")
                               for c in checks])


def read_stability(out, results, checks):
    """``{(dataset, method, track): {target: figure}}`` from the score files of the compared MWF runs.

    ``out`` is the folder holding ``scores/``; files without a ``"stability"`` entry (other oracles, older
    runs) and unreadable ones are left out.  Tables without ``dataset``/``subset`` columns give ``{}``.
    """
    import json

    from .results import score_file

    found = {}
    if out is None or "dataset" not in results.columns:
        return found
    for c in checks:
        if c.status not in ("match", "flagged") or c.sisec18 != "MWF":
            continue
        for track in c.tracks:
            path = score_file(out, (c.dataset, c.method, SISEC18_CONFIG["subset"], track))
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            stab = doc.get("stability") if isinstance(doc, dict) else None
            if isinstance(stab, dict) and isinstance(stab.get("targets"), dict):
                found[(c.dataset, c.method, track)] = stab["targets"]
    return found


def unstable_tracks(results, stability, *, metric="SDR"):
    """The per-track values of ``stability``'s runs whose figure is above the threshold.

    Returns a DataFrame ``dataset, method, track, target, ours, published, diff, figure`` (``ours``: the
    track's median over frames; ``published``: SiSEC 2018's per-track median; ``figure``: as printed).
    """
    from .oracles.stability import describe, flagged

    pub = _published()
    pub = pub[pub["metric"] == metric].set_index(["method", "track", "target"])["score"]
    df = results[results["metric"] == metric]
    rows = []
    for (dataset, method, track), targets in stability.items():
        for target, figure in targets.items():
            if not flagged(figure):
                continue
            sel = (df["method"] == method) & (df["track"] == track) & (df["target"] == target)
            if "dataset" in df.columns:
                sel &= df["dataset"].astype(str) == str(dataset)
            ours = float(df[sel]["score"].median()) if sel.any() else np.nan
            theirs = float(pub.get(("MWF", track, target), np.nan))
            rows.append({"dataset": dataset, "method": method, "track": track, "target": target, "ours": ours,
                         "published": theirs, "diff": ours - theirs, "figure": describe(figure)})
    return pd.DataFrame(rows, columns=["dataset", "method", "track", "target", "ours", "published", "diff",
                                       "figure"])


def format_unstable(table, metric="SDR"):
    """The per-track MWF values whose stability figure is above the threshold, each line marked ``!``."""
    from .oracles.stability import CANCELLED_WARN, COND_WARN

    head = (f"! unstable MWF values ({metric}, dB, per track): the oracle's stability figure is above the "
            f"threshold (cond > {COND_WARN:g} or cancelled > {100 * CANCELLED_WARN:g}% of the stem's energy); "
            "these numbers, SiSEC 2018's included, move by dB under rounding-level input noise "
            "(mwf[reg=1e-6] gives stable ones in float64)")
    if not len(table):
        return ""
    width = max([28] + [len(f"{d}/{m}") for d, m in zip(table["dataset"], table["method"])])
    tw = max([24] + [len(t) for t in table["track"]])
    lines = [head, f"  {'run':<{width}} {'track':<{tw}} {'target':<8} {'ours':>8} {'SiSEC18':>8} {'diff':>7}  figure"]
    for r in table.itertuples():
        lines.append(f"! {f'{r.dataset}/{r.method}':<{width}} {r.track:<{tw}} {r.target:<8} {r.ours:8.3f} "
                     f"{r.published:8.3f} {r.diff:+7.3f}  {r.figure}")
    return "\n".join(lines)


def compare(results, *, metric="SDR", checks=None, stability=None):
    """Put the runs made in SiSEC 2018's configuration beside the published oracle medians.

    Parameters
    ----------
    results : pandas.DataFrame
        Tidy table (``mssoracle eval``'s ``results.csv``).
    metric : str
        One of SDR, SIR, ISR, SAR.
    checks : list of RunCheck, optional
        :func:`check_runs`'s result (computed when not given).
    stability : dict, optional
        :func:`read_stability`'s result: adds the column ``unstable`` (the number of the run's tracks
        whose stability figure for the target is above the threshold).

    Returns
    -------
    pandas.DataFrame
        One row per (dataset, method, target) of the runs that match or are flagged:
        ``ours`` (museval aggregation over the run's test tracks that SiSEC 2018 scored),
        ``published`` (SiSEC 2018 median over the same tracks), ``diff`` (ours - published),
        ``published_all`` (median over all 50 test tracks), ``tracks`` (number of tracks); ``unstable``
        with ``stability``.

    Raises
    ------
    DatasetError
        When no run is comparable (one line naming each run and why).
    """
    from .oracles.stability import flagged

    checks = check_runs(results) if checks is None else checks
    kept = [c for c in checks if c.status in ("match", "flagged")]
    if not kept:
        groups = {}
        for c in checks:
            groups.setdefault(c.notes, []).append(c.label)
        why = " | ".join(f"{', '.join(labels[:3])}{f' and {len(labels) - 3} more' if len(labels) > 3 else ''}: "
                         f"{'; '.join(notes)}" for notes, labels in groups.items())
        raise DatasetError(f"no run in the results matches the SiSEC 2018 configuration ({why}); "
                           "run `mssoracle eval --preset sisec18 --subset test` on MUSDB18")
    recorded = "dataset" in results.columns
    df = results[results["metric"] == metric]
    ref_all = published_medians(metric)
    rows = []
    for c in kept:
        sel = (df["method"] == c.method) & df["track"].isin(c.tracks)
        if recorded:
            sel &= df["dataset"].astype(str) == c.dataset
        if "subset" in df.columns:
            sel &= df["subset"].astype(str) == SISEC18_CONFIG["subset"]
        sub = df[sel]
        ours = aggregate(sub[["track", "target", "metric", "score"]]).set_index("target")["score"]
        ref = published_medians(metric, c.tracks)
        for target in sorted(ours.index, key=lambda t: (TARGET_ORDER.index(t) if t in TARGET_ORDER else 99, t)):
            pub = ref.get((c.sisec18, target), np.nan)
            row = {"dataset": c.dataset, "method": c.method, "sisec18": c.sisec18, "target": target,
                   "ours": ours[target], "published": pub, "diff": ours[target] - pub,
                   "published_all": ref_all.get((c.sisec18, target), np.nan), "tracks": len(c.tracks)}
            if stability is not None:
                row["unstable"] = sum(bool(flagged(stability.get((c.dataset, c.method, t), {}).get(target)))
                                      for t in c.tracks)
            rows.append(row)
    return pd.DataFrame(rows)


def format_comparison(table, metric="SDR"):
    """Text table of :func:`compare`'s output; the header says how many of the 50 test tracks it covers."""
    counts = sorted(set(int(n) for n in table["tracks"])) if len(table) else [0]
    n = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    cover = "all 50 test tracks" if counts == [SISEC18_TRACKS] else f"{n} of {SISEC18_TRACKS} test tracks"
    labels = [m if d is None or (isinstance(d, float) and np.isnan(d)) else f"{d}/{m}"
              for d, m in zip(table["dataset"], table["method"])]
    width = max([28] + [len(s) for s in labels])
    lines = [f"{metric} (dB), median over tracks, {cover}",
             f"{'run':<{width}} {'target':<14} {'ours':>8} {'SiSEC18':>8} {'diff':>7} {'all 50':>8}  tracks"]
    marks = "unstable" in table.columns and bool((table["unstable"] > 0).any())
    if marks:
        lines[-1] += "  unstable"
    for label, r in zip(labels, table.itertuples()):
        line = (f"{label:<{width}} {r.target:<14} {r.ours:8.3f} {r.published:8.3f} {r.diff:+7.3f} "
                f"{r.published_all:8.3f}  {r.tracks:>6}")
        if marks and r.unstable:
            line += f"  ! {int(r.unstable)}"
        lines.append(line)
    return "\n".join(lines)


def ranking(table, *, metric="SDR", methods=None, checks=None):
    """The compared runs among every SiSEC 2018 submission: one row per method, one column per target.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`compare`'s output (the runs' ``ours`` values over their test tracks).
    metric : str
    methods : sequence of str, optional
        Submissions to list (default all 31).
    checks : list of RunCheck, optional
        The runs' checks: the submissions' medians are taken over the tracks the runs share (all 50 when
        the runs cover them).

    Returns
    -------
    pandas.DataFrame
        Columns ``method, kind, <target>...`` (kind ``oracle``, ``model`` or ``ours``), sorted by the vocals
        column, descending (missing values last); a submission's target it did not submit is NaN.
        ``attrs["tracks"]``: the number of test tracks the medians are over.
    """
    methods = submission_names() if methods is None else list(methods)
    tracks = None
    if checks:
        shared = None
        for c in checks:
            if c.status in ("match", "flagged"):
                shared = set(c.tracks) if shared is None else shared & set(c.tracks)
        tracks = sorted(shared) if shared else None
    pub = published_medians(metric, tracks, methods)
    kinds = dict(zip(_submissions()["method"], _submissions()["kind"]))
    targets = [t for t in TARGET_ORDER if t in set(pub.index.get_level_values(1)) | set(table.get("target", []))]
    rows = []
    for m in methods:
        rows.append({"method": m, "kind": kinds.get(m, "model"),
                     **{t: float(pub.get((m, t), np.nan)) for t in targets}})
    for (dataset, method), part in table.groupby(["dataset", "method"], sort=False, dropna=False):
        label = method if dataset is None or (isinstance(dataset, float) and np.isnan(dataset)) else f"{dataset}/{method}"
        values = dict(zip(part["target"], part["ours"]))
        rows.append({"method": label, "kind": "ours", **{t: float(values.get(t, np.nan)) for t in targets}})
    out = pd.DataFrame(rows, columns=["method", "kind"] + targets)
    key = "vocals" if "vocals" in targets else (targets[0] if targets else None)
    if key is not None:
        out = out.sort_values(key, ascending=False, na_position="last", kind="stable")
    out = out.reset_index(drop=True)
    out.attrs["tracks"] = SISEC18_TRACKS if tracks is None else len(tracks)
    return out


def format_ranking(rank, metric="SDR", tracks=SISEC18_TRACKS):
    """Text table of :func:`ranking`: the runs (marked ``*``) among the SiSEC 2018 submissions."""
    targets = [c for c in rank.columns if c not in ("method", "kind")]
    width = max([12] + [len(str(m)) for m in rank["method"]])
    cover = "all 50 test tracks" if tracks == SISEC18_TRACKS else f"{tracks} of {SISEC18_TRACKS} test tracks"
    lines = [f"{metric} (dB), median over tracks ({cover}): your runs (*) among the SiSEC 2018 submissions, "
             "sorted by vocals; - : not submitted for that target",
             f"  {'method':<{width}} {'kind':<6} " + " ".join(f"{t[:13]:>13}" for t in targets)]
    for r in rank.itertuples(index=False):
        vals = " ".join(f"{'-':>13}" if np.isnan(v) else f"{v:13.3f}" for v in r[2:])
        lines.append(f"{'*' if r.kind == 'ours' else ' '} {r.method:<{width}} {r.kind:<6} {vals}")
    return "\n".join(lines)
