"""museval's per-track JSON format, the tidy score table and museval's aggregation.

A track's scores are stored as museval's ``TrackStore`` writes them::

    {
      "targets": [
        {"name": "drums",
         "frames": [{"time": 0.0, "duration": 1.0,
                     "metrics": {"SDR": 5.12345, "SIR": ..., "SAR": ..., "ISR": ...}},
                    ...]},
        ...
      ],
      "museval_version": "0.4.1",
      "config": {...},     # mssoracle: the caller's description of what was scored
      "bsseval": {...},    # mssoracle: the scoring parameters (win, hop, mode, backend, version...)
      "cond": [...],       # mssoracle: one entry per BSS Eval call (sources, condition number)
      "track_metrics": [   # mssoracle: whole-track metrics (only when some were added)
        {"name": "vocals", "time": 0.0, "duration": 240.0, "metrics": {"SI-SDR": 7.1}}, ...
      ],
      "stability": {       # mssoracle: the oracle's own conditioning (mwf, wienerK only)
        "oracle": "mwf", "thresholds": {"cond": 1e8, "cancelled": 0.01},
        "targets": {"bass": {"cond": 1.2e15, "cancelled": 0.999}, ...}
      }
    }

``"stability"`` (beside ``"cond"``, which is about the *references* of the BSS Eval calls) is about
the *oracle*: per stem, ``cond`` is the energy-weighted geometric mean of the condition numbers of the
matrices the oracle inverted and ``cancelled`` the share of the stem's energy whose refined PSD was
negative or cancelled (``mwf``; null for ``wienerK``); a figure above a threshold means the oracle's
scores for that stem are not stable under rounding-level input noise.  Definitions and thresholds:
:mod:`mssoracle.oracles.stability`.

A target may carry framewise metrics besides museval's four (any name, in each
frame's ``"metrics"``; museval's readers melt only SDR/SAR/ISR/SIR and ignore
them) and whole-track metrics (under ``"track_metrics"``, which museval's
readers ignore): :meth:`TrackScores.add_metric`.  The tidy table
(:attr:`TrackScores.df`) holds them all.

Every metric value is rounded as museval rounds it (``Decimal(x).quantize(Decimal(".00001"))``,
round-half-even on the exact binary value) and ±inf is written as ``NaN``; the
text is byte-identical to museval's for the keys museval writes (``indent=2``,
``allow_nan``).  The extra top-level keys are allowed by museval's
``musdb.schema.json`` (it sets no ``additionalProperties``), and museval's own
readers (``json2df``, ``EvalStore.add_eval_dir``) ignore them.
"""

import json
import math
import uuid
from decimal import Decimal
from pathlib import Path

import numpy as np

from .._atomic import write_text
from ..errors import MssOracleError

__all__ = [
    "METRICS",
    "MUSEVAL_VERSION",
    "TrackScores",
    "load_track_scores",
    "aggregate",
    "aggregate_frames",
    "format_medians",
]

#: metric order of museval's JSON frames
METRICS = ("SDR", "SIR", "SAR", "ISR")
#: metric order of museval's printed tables (``TrackStore.__repr__``)
PRINT_METRICS = ("SDR", "SIR", "ISR", "SAR")
#: metric order of museval's tidy table (``json2df`` melts SDR, SAR, ISR, SIR)
DF_METRICS = ("SDR", "SAR", "ISR", "SIR")
#: the museval release whose file format (and numbers) mssoracle reproduces
MUSEVAL_VERSION = "0.4.1"
#: columns of the tidy table
COLUMNS = ["method", "track", "target", "metric", "time", "score", "cond"]

_PRECISION = Decimal(".00001")


def quantize(value):
    """Round a score as museval's ``TrackStore._q`` does.

    Returns a :class:`decimal.Decimal` with five decimals, or ``nan`` for
    ±inf and NaN (museval writes both as ``NaN``).
    """
    value = float(value)
    if math.isinf(value) or math.isnan(value):
        return math.nan
    return Decimal(value).quantize(_PRECISION)


def _dumps(obj):
    """``json.dumps(obj, indent=2, allow_nan=True)`` writing Decimals as their exact text.

    This is what ``simplejson.dumps(..., use_decimal=True)`` (museval) writes;
    the standard library cannot emit a Decimal, so each one is written as a
    unique placeholder string that is then replaced by the Decimal's text.
    """
    token = uuid.uuid4().hex
    marker = f"@{token}@"
    decimals = []

    def default(o):
        if isinstance(o, Decimal):
            decimals.append(o)
            return f"{marker}{len(decimals) - 1}"
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, (np.ndarray, tuple, set)):
            return list(o)
        if isinstance(o, Path):
            return str(o)
        raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")

    text = json.dumps(obj, indent=2, allow_nan=True, default=default)
    if not decimals:
        return text
    parts = text.split(f'"{marker}')
    out = [parts[0]]
    for part in parts[1:]:
        index, rest = part.split('"', 1)
        out.append(str(decimals[int(index)]))
        out.append(rest)
    return "".join(out)


def _to_float(x):
    return math.nan if x is None else float(x)


class TrackScores:
    """Frame-wise BSS Eval scores of one track, in museval's ``TrackStore`` format.

    Parameters
    ----------
    track_name : str
        Track name (the ``track`` column of :attr:`df`).
    win, hop : float
        Frame length and hop in seconds, written as each frame's ``duration``
        and ``time = i * hop`` (as museval writes them).
    method : str, optional
        Method name for the ``method`` column of :attr:`df` (default: the
        ``"method"`` entry of ``config``, else the empty string).
    config : dict, optional
        Everything that produced the estimates, stored verbatim under
        ``"config"`` (JSON-serialisable).
    bsseval : dict, optional
        Scoring parameters, stored under ``"bsseval"``.
    frames_agg : {"median", "mean"} or callable
        Aggregation over frames used by :meth:`medians` and ``repr``
        (NaN-ignoring, as museval's).

    Attributes
    ----------
    scores : dict
        museval's dictionary: ``{"targets": [...], "museval_version": ...}``,
        metric values rounded (:func:`quantize`).
    cond : list of dict
        One entry per BSS Eval call: ``sources`` (targets passed to it, in
        order), ``scored`` (targets whose scores were kept from it),
        ``excluded`` (targets left out because their reference or estimate is
        silent), ``cond`` (condition-number estimate of the reference Gram
        matrix, NaN when the call did not happen).
    track_metrics : list of dict
        Whole-track metrics: ``{"name": target, "time": 0.0, "duration": seconds,
        "metrics": {metric: value}}`` (see :meth:`add_metric`).
    warnings : list of dict
        Warnings of the scoring (not written to the JSON): ``{"track", "call",
        "category", "message"}``; ``call`` is the comma-joined sources of the BSS
        Eval call concerned (empty for the track), ``category`` the warning class name.
    duration : float or None
        Track length in seconds (the ``duration`` of whole-track metrics).
    stability : dict or None
        The oracle's stability figure, written under ``"stability"`` (see the module docstring):
        ``{"oracle", "thresholds", "targets": {stem: {"cond", "cancelled"}}}``.
    """

    def __init__(self, track_name, *, win=1.0, hop=1.0, method=None, config=None, bsseval=None,
                 frames_agg="median", museval_version=MUSEVAL_VERSION):
        self.track_name = track_name
        self.win = win
        self.hop = hop
        self.config = config
        self.bsseval = bsseval
        self.method = method
        self.cond = []
        self.track_metrics = []
        self.warnings = []
        self.duration = None
        self.stability = None
        if frames_agg == "median":
            self.frames_agg = np.nanmedian
        elif frames_agg == "mean":
            self.frames_agg = np.nanmean
        else:
            self.frames_agg = frames_agg
        self.scores = {"targets": [], "museval_version": museval_version}

    # ------------------------------------------------------------ building
    def add_target(self, target_name, values):
        """Add a target's frame-wise scores (museval's ``TrackStore.add_target``).

        Parameters
        ----------
        target_name : str
        values : dict
            metric name -> ``(nwin,)`` sequence of floats: museval's
            ``{"SDR", "SIR", "SAR", "ISR"}`` (written in that order) and any other
            framewise metric (written after them, in the given order).
        """
        names = [m for m in METRICS if m in values] + [m for m in values if m not in METRICS]
        if not names:
            raise ValueError(f"{target_name}: no metric given")
        n = len(values[names[0]])
        if any(len(values[m]) != n for m in names):
            raise ValueError(f"{target_name}: {', '.join(names)} must have the same number of frames")
        frames = []
        for i in range(n):
            frames.append({
                "time": i * self.hop,
                "duration": self.win,
                "metrics": {m: quantize(values[m][i]) for m in names},
            })
        self.scores["targets"].append({"name": target_name, "frames": frames})

    def add_metric(self, target, metric, values, *, framewise=True):
        """Add one metric of one target (the seam of the metric registry).

        Parameters
        ----------
        target : str
        metric : str
            Any name (museval's four are written in museval's order, others after).
        values : sequence of float or float
            ``framewise=True``: one value per frame (``(nwin,)``); the target is
            created (frames at ``i * hop``) when it has no scores yet, else the
            frame count must match.  ``framewise=False``: one value for the whole
            track, stored under ``"track_metrics"`` (``time`` 0, ``duration`` the
            track length when known).

        Values are rounded as museval rounds its metrics (:func:`quantize`).
        """
        target, metric = str(target), str(metric)
        if not framewise:
            value = float(np.asarray(values, dtype=float).reshape(()))
            for entry in self.track_metrics:
                if entry["name"] == target:
                    entry["metrics"][metric] = quantize(value)
                    return
            self.track_metrics.append({"name": target, "time": 0.0, "duration": self.duration,
                                       "metrics": {metric: quantize(value)}})
            return
        values = np.asarray(values, dtype=float).reshape(-1)
        for t in self.scores["targets"]:
            if t["name"] == target:
                if len(t["frames"]) != len(values):
                    raise ValueError(f"{target}: {metric} has {len(values)} frame(s), the target has "
                                     f"{len(t['frames'])}")
                for f, v in zip(t["frames"], values):
                    f["metrics"][metric] = quantize(v)
                return
        self.add_target(target, {metric: values})

    def add_evaluation(self, sources, scored, cond, excluded=None):
        """Record one BSS Eval call (see :attr:`cond`)."""
        self.cond.append({
            "sources": list(sources),
            "scored": list(scored),
            "excluded": dict(excluded or {}),
            "cond": None if cond is None else float(cond),
        })

    # ------------------------------------------------------------ access
    @property
    def targets(self):
        """Names of the scored targets, in the file's order."""
        return [t["name"] for t in self.scores["targets"]]

    def __contains__(self, target):
        return target in self.targets

    def __len__(self):
        return len(self.scores["targets"])

    def metrics(self, target=None):
        """Names of the framewise metrics (of ``target``, or of any target), in the file's order."""
        names = {}
        for t in self.scores["targets"]:
            if target is None or t["name"] == target:
                for f in t["frames"]:
                    names.update(dict.fromkeys(f["metrics"]))
        return list(names)

    def values(self, target):
        """Frame-wise scores of ``target`` as float arrays (rounded; NaN for ±inf).

        Returns
        -------
        dict
            metric name -> ``np.ndarray`` of shape ``(nwin,)``: museval's four
            (NaN arrays when absent) and any other framewise metric of the target.
        """
        for t in self.scores["targets"]:
            if t["name"] == target:
                names = list(METRICS) + [m for m in self.metrics(target) if m not in METRICS]
                return {m: np.array([_to_float(f["metrics"].get(m)) for f in t["frames"]], dtype=float)
                        for m in names}
        raise KeyError(target)

    def track_values(self, target):
        """Whole-track metrics of ``target``: metric name -> float (empty when none)."""
        for entry in self.track_metrics:
            if entry["name"] == target:
                return {m: _to_float(v) for m, v in entry["metrics"].items()}
        return {}

    def target_cond(self, target):
        """Condition estimate of the BSS Eval call ``target``'s scores come from (NaN if none)."""
        for entry in self.cond:
            if target in entry.get("scored", ()) and target not in entry.get("excluded", {}):
                c = entry.get("cond")
                return math.nan if c is None else float(c)
        return math.nan

    def select(self, targets):
        """Return a copy holding only ``targets`` (those present; file order kept)."""
        keep = set(targets)
        out = TrackScores(self.track_name, win=self.win, hop=self.hop, method=self.method,
                          config=self.config, bsseval=self.bsseval,
                          museval_version=self.scores.get("museval_version", MUSEVAL_VERSION))
        out.frames_agg = self.frames_agg
        out.cond = [dict(c) for c in self.cond]
        out.scores["targets"] = [t for t in self.scores["targets"] if t["name"] in keep]
        out.track_metrics = [t for t in self.track_metrics if t["name"] in keep]
        out.warnings = list(self.warnings)
        out.duration = self.duration
        if self.stability is not None:
            out.stability = {**self.stability,
                             "targets": {k: v for k, v in self.stability.get("targets", {}).items() if k in keep}}
        return out

    # ------------------------------------------------------------ output
    def to_dict(self):
        """The JSON document as a dict (metric values are Decimals or NaN)."""
        d = {"targets": self.scores["targets"], "museval_version": self.scores.get("museval_version")}
        if "museval_version" not in self.scores:
            del d["museval_version"]
        if self.config is not None:
            d["config"] = self.config
        if self.bsseval is not None:
            d["bsseval"] = self.bsseval
        if self.cond:
            d["cond"] = self.cond
        if self.track_metrics:
            d["track_metrics"] = self.track_metrics
        if self.stability is not None:
            d["stability"] = self.stability
        return d

    @property
    def json(self):
        """The JSON text: museval's (``indent=2``, NaN for ±inf, 5 decimals) plus the extra keys."""
        return _dumps(self.to_dict())

    def save(self, path):
        """Write :attr:`json` to ``path`` atomically (parent folders are created)."""
        write_text(path, self.json)

    def validate(self, schema=None):
        """Validate against museval's ``musdb.schema.json`` (needs ``jsonschema``).

        ``schema`` defaults to the schema shipped with museval when it is
        installed; raises ``jsonschema.ValidationError`` on failure.
        """
        import jsonschema

        if schema is None:
            schema = museval_schema()
        # validate what a reader sees (Decimals as numbers)
        doc = json.loads(self.json)
        jsonschema.validate(doc, schema)
        return True

    @property
    def df(self):
        """Tidy table: one row per (target, metric, frame).

        Columns ``method, track, target, metric, time, score, cond``.  Scores
        are the file's (rounded to 1e-5, ±inf as NaN), exactly what museval's
        ``TrackStore.df`` holds; rows are in museval's order (metric-major:
        SDR, SAR, ISR, SIR; then targets; then frames), followed by the other
        framewise metrics (same layout) and the whole-track metrics (one row
        each, ``time`` 0).  ``cond`` is the condition estimate of the BSS Eval
        call the target's scores come from.
        """
        import pandas as pd

        method = self.method
        if method is None:
            method = (self.config or {}).get("method") if isinstance(self.config, dict) else None
        method = "" if method is None else str(method)
        rows = {c: [] for c in COLUMNS}
        per_target = [(t["name"], self.values(t["name"]), [float(f["time"]) for f in t["frames"]],
                       self.target_cond(t["name"]), set(self.metrics(t["name"])))
                      for t in self.scores["targets"]]
        present = self.metrics()
        extra = [m for m in present if m not in DF_METRICS]
        for metric in [m for m in DF_METRICS if m in present] + extra:
            for name, vals, times, cond, has in per_target:
                if metric not in has:
                    continue
                n = len(times)
                rows["method"] += [method] * n
                rows["track"] += [self.track_name] * n
                rows["target"] += [name] * n
                rows["metric"] += [metric] * n
                rows["time"] += times
                rows["score"] += vals[metric].tolist()
                rows["cond"] += [cond] * n
        for entry in self.track_metrics:
            cond = self.target_cond(entry["name"])
            for metric, value in entry["metrics"].items():
                rows["method"].append(method)
                rows["track"].append(self.track_name)
                rows["target"].append(entry["name"])
                rows["metric"].append(metric)
                rows["time"].append(float(entry.get("time") or 0.0))
                rows["score"].append(_to_float(value))
                rows["cond"].append(cond)
        df = pd.DataFrame(rows, columns=COLUMNS)
        df["time"] = df["time"].astype(float)
        df["score"] = df["score"].astype(float)
        df["cond"] = df["cond"].astype(float)
        return df

    def medians(self):
        """Per-target aggregate over frames (``frames_agg``, NaN ignored).

        Returns
        -------
        dict
            target -> {metric -> float}
        """
        out = {}
        for name in self.targets:
            vals = self.values(name)
            # an all-NaN target aggregates to NaN (without numpy's all-NaN RuntimeWarning)
            out[name] = {m: float(self.frames_agg(vals[m])) if np.any(~np.isnan(vals[m])) else math.nan
                         for m in PRINT_METRICS}
        return out

    def __repr__(self):
        """museval's layout: ``vocals          ==> SDR:   3.123  SIR: ...`` per target."""
        out = ""
        for name, med in self.medians().items():
            out += name.ljust(16) + "==> "
            for metric in PRINT_METRICS:
                out += metric + ":" + "{:>8.3f}".format(med[metric]) + "  "
            out += "\n"
        return out


def museval_schema():
    """museval's ``musdb.schema.json`` as a dict (a copy is built in when museval is absent)."""
    import importlib.util

    spec = importlib.util.find_spec("museval")
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            path = Path(loc) / "musdb.schema.json"
            if path.is_file():
                return json.loads(path.read_text())
    return json.loads(json.dumps(_SCHEMA))


# museval 0.4.1's musdb.schema.json (fallback when museval is not installed)
_NUMBER = {"type": "number"}
_SCHEMA = {
    "type": "object",
    "properties": {
        "museval_version": {"type": "string"},
        "targets": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "frames": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "time": _NUMBER,
                                "duration": _NUMBER,
                                "metrics": {
                                    "type": "object",
                                    "properties": {m: _NUMBER for m in METRICS},
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def load_track_scores(path, *, track_name=None, method=None):
    """Read a per-track score file written by mssoracle or by museval.

    Parameters
    ----------
    path : str or Path
        JSON file.
    track_name : str, optional
        Track name (default: ``config["track"]`` when present, else the file
        name without ``.json``, as museval's ``EvalStore.add_eval_dir`` does).
    method : str, optional
        Method name for the tidy table (default: ``config["method"]``).

    Returns
    -------
    TrackScores
        Writing it again gives the same text (museval's files included).

    Raises
    ------
    MssOracleError
        The file is missing, not JSON, or not in museval's format.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MssOracleError(f"{path}: no such score file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MssOracleError(f"{path}: cannot read score file ({exc})") from None
    try:
        doc = json.loads(text)  # config, bsseval, cond as plain floats
        exact = json.loads(text, parse_float=Decimal)  # targets: keep the text of every number
    except ValueError as exc:
        raise MssOracleError(f"{path}: not a JSON file ({exc})") from None
    problem = _check_doc(doc)
    if problem:
        raise MssOracleError(f"{path}: not a museval score file ({problem})")
    config = doc.get("config")
    if track_name is None:
        track_name = config.get("track") if isinstance(config, dict) and config.get("track") else None
    if track_name is None:
        track_name = path.name[: -len(".json")] if path.name.endswith(".json") else path.stem
    win = hop = None
    for t in exact["targets"]:
        frames = t["frames"]
        if frames:
            win = frames[0].get("duration")
            if len(frames) > 1:
                hop = frames[1]["time"] - frames[0]["time"]
            break
    bsseval = doc.get("bsseval")
    if isinstance(bsseval, dict):
        win = bsseval.get("win", win)
        hop = bsseval.get("hop", hop)
    scores = TrackScores(track_name, win=_plain(win), hop=_plain(hop if hop is not None else win),
                         method=method, config=config, bsseval=bsseval)
    scores.scores = {k: v for k, v in exact.items() if k in ("targets", "museval_version")}
    if "museval_version" not in doc:
        scores.scores.pop("museval_version", None)
    scores.cond = list(doc.get("cond") or [])
    if isinstance(doc.get("stability"), dict):
        scores.stability = doc["stability"]
    scores.track_metrics = list(exact.get("track_metrics") or [])
    for entry in scores.track_metrics:
        entry["time"] = _plain(entry.get("time", 0.0))
        entry["duration"] = _plain(entry.get("duration"))
    if scores.track_metrics and scores.track_metrics[0].get("duration") is not None:
        scores.duration = scores.track_metrics[0]["duration"]
    return scores


def _plain(x):
    if isinstance(x, Decimal):
        return float(x)
    return x


def _check_doc(doc):
    if not isinstance(doc, dict):
        return "top level is not an object"
    targets = doc.get("targets")
    if not isinstance(targets, list):
        return 'no "targets" list'
    for t in targets:
        if not isinstance(t, dict) or not isinstance(t.get("name"), str) or not isinstance(t.get("frames"), list):
            return 'a target without "name" and "frames"'
        for f in t["frames"]:
            if not isinstance(f, dict) or not isinstance(f.get("metrics"), dict) or "time" not in f:
                return f'target {t["name"]!r}: a frame without "time" and "metrics"'
            for m, v in f["metrics"].items():
                if not isinstance(v, (int, float, Decimal)) or isinstance(v, bool):
                    return f'target {t["name"]!r}: metric {m} is not a number'
    stab = doc.get("stability")
    if stab is not None and not (isinstance(stab, dict) and isinstance(stab.get("targets", {}), dict)):
        return '"stability" is not an object with a "targets" object'
    tm = doc.get("track_metrics", [])
    if not isinstance(tm, list):
        return '"track_metrics" is not a list'
    for e in tm:
        if not isinstance(e, dict) or not isinstance(e.get("name"), str) or not isinstance(e.get("metrics"), dict):
            return 'a "track_metrics" entry without "name" and "metrics"'
        for m, v in e["metrics"].items():
            if not isinstance(v, (int, float, Decimal)) or isinstance(v, bool):
                return f'track metric {m} of {e["name"]!r} is not a number'
    return None


# ---------------------------------------------------------------- aggregation
def _agg(gb, how):
    if how == "median":
        return gb.median()
    if how == "mean":
        return gb.mean()
    raise ValueError(f"aggregation must be 'median' or 'mean', got {how!r}")


def aggregate_frames(df, *, frames_agg="median"):
    """Aggregate over frames per (method, track, target, metric), NaN ignored.

    museval's ``MethodStore.agg_frames_scores`` (``EvalStore``'s when ``df``
    has no ``method`` column).

    Returns
    -------
    pandas.DataFrame
        Columns ``[method,] track, target, metric, score``.
    """
    keys = [c for c in ("method", "track", "target", "metric") if c in df.columns]
    return _agg(df.groupby(keys, dropna=False)["score"], frames_agg).reset_index()


def aggregate(df, *, frames_agg="median", tracks_agg="median"):
    """museval's aggregation: per-track aggregate over frames, then over tracks.

    ``median`` is pandas' (NaN-ignoring): a target's NaN frames (silent
    frames, ±inf written as NaN) are left out, a track whose frames are all
    NaN is left out of the median over tracks.  This is museval's
    ``MethodStore.agg_frames_tracks_scores`` (``EvalStore``'s without a
    ``method`` column).

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy table (``track, target, metric, score`` and optionally ``method``).
    frames_agg, tracks_agg : {"median", "mean"}

    Returns
    -------
    pandas.DataFrame
        Columns ``[method,] target, metric, score``.
    """
    per_track = aggregate_frames(df, frames_agg=frames_agg)
    keys = [c for c in ("method", "target", "metric") if c in per_track.columns]
    return _agg(per_track.groupby(keys, dropna=False)["score"], tracks_agg).reset_index()


def format_medians(agg, *, targets=None, metrics=None):
    """Format aggregated scores (``target, metric, score``) in museval's layout, one line per target.

    ``metrics``: the metric names to print, in order; default: museval's four (SDR, SIR, ISR, SAR) that
    are present, then any other metric of ``agg`` in the order it appears.
    """
    table = {}
    for row in agg.itertuples(index=False):
        table.setdefault(row.target, {})[row.metric] = row.score
    if metrics is None:
        present = list(dict.fromkeys(agg["metric"])) if len(agg) else []
        metrics = [m for m in PRINT_METRICS if m in present] + [m for m in present if m not in PRINT_METRICS]
        metrics = metrics or list(PRINT_METRICS)
    order = list(targets) if targets is not None else list(table)
    lines = []
    for name in order:
        med = table.get(name, {})
        lines.append(name.ljust(16) + "==> " + "  ".join(
            f"{m}:{med.get(m, math.nan):>8.3f}" for m in metrics))
    return "\n".join(lines)
