"""The inputs of ``mssoracle plot`` and ``report``, read into one :class:`PlotData`.

An input is one of

* an ``eval`` or ``search`` output folder: ``DIR/results.csv`` (rebuilt from ``DIR/scores`` when missing) and,
  per run (dataset, method), the configuration stored in its first score file; a search folder's
  ``search.json`` also names its Optuna study;
* a museval results folder (``DIR/<subset>/<track>.json``, museval's or ``mssoracle museval``'s layout): one
  method, named by ``--name`` (default: the folder's name) and drawn in the "yours" colour;
* a ``search.json`` file (its study, for ``--kind search``);
* ``--sisec18 [METHODS]``: the published SiSEC 2018 submissions (:func:`mssoracle.sisec18.load_published`), per
  track medians only (no frames);
* ``--storage URL --study NAME``: an Optuna study (``journal:///abs/path``, ``sqlite:///path``, other RDB URLs).

Every method gets a :class:`MethodInfo`: its label (the method name; ``dataset/method`` when one name occurs
in two datasets), its kind (``oracle``, ``model`` or ``yours``), its transform family (``stft``, ``nsgt``,
``slicq``...; None when unknown), where it came from, and its configuration and versions.
"""

import dataclasses
import json
from pathlib import Path

import numpy as np

from ..errors import DatasetError, ParameterError

__all__ = ["MethodInfo", "PlotData", "StudyRef", "load_inputs", "read_eval_folder", "read_museval_folder",
           "read_sisec18", "open_study", "split_list", "target_order", "KINDS"]

#: method kinds, in legend order
KINDS = ("oracle", "model", "yours")
_TIDY = ["dataset", "method", "subset", "track", "target", "metric", "time", "score"]


@dataclasses.dataclass
class MethodInfo:
    """What is known of one method of a :class:`PlotData`.

    Attributes
    ----------
    label : str
        The name figures and tables show.
    kind : {"oracle", "model", "yours"}
        Fill colour of its boxes: an oracle (ours or SiSEC 2018's), a SiSEC 2018 model, the user's (museval folder).
    family : str or None
        Transform family (``stft``, ``nsgt``, ``slicq``, ...), hatching of its boxes.
    source : str
        Where it came from (a folder, ``SiSEC 2018``).
    frames : bool
        True when its rows are per frame (False: per-track medians only, SiSEC 2018's).
    dataset : str or None
    method : str
        The method name in its source.
    config : dict or None
        The configuration stored with its scores (first score file), or SiSEC 2018's submission row.
    versions : dict
        Versions recorded with its scores (``mssoracle``, ``museval``, algorithm versions).
    """

    label: str
    kind: str
    family: object
    source: str
    frames: bool = True
    dataset: object = None
    method: str = ""
    config: object = None
    versions: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class StudyRef:
    """An Optuna study to open: storage URL and study name (and the folder or file that named it)."""

    storage: str
    study: str
    source: str = ""


@dataclasses.dataclass
class PlotData:
    """Everything the figures are drawn from.

    Attributes
    ----------
    rows : pandas.DataFrame
        Tidy table ``dataset, method, subset, track, target, metric, time, score, label``: one row per frame
        (``MethodInfo.frames``) or per track (SiSEC 2018's medians, ``time`` NaN); ``label`` is the method's
        :attr:`MethodInfo.label`.
    methods : dict
        label -> :class:`MethodInfo`, in input order.
    studies : list of StudyRef
    folders : list of Path
        The eval/search folders read (for the report's configurations and ``--root``-less audio lookup).
    """

    rows: object
    methods: dict
    studies: list
    folders: list

    def select(self, *, methods=None, targets=None, metrics=None, tracks=None):
        """A copy holding only these methods (labels), targets, metrics and tracks (None: all)."""
        df = self.rows
        if methods is not None:
            df = df[df["label"].isin(list(methods))]
        if targets is not None:
            df = df[df["target"].isin(list(targets))]
        if metrics is not None:
            df = df[df["metric"].isin(list(metrics))]
        if tracks is not None:
            df = df[df["track"].isin(list(tracks))]
        keep = list(dict.fromkeys(df["label"]))
        order = [m for m in self.methods if m in keep]
        return PlotData(df.reset_index(drop=True), {m: self.methods[m] for m in order}, self.studies, self.folders)

    @property
    def targets(self):
        return target_order(self.rows["target"])

    @property
    def metrics(self):
        from ..aggregation import metric_order

        return metric_order(self.rows["metric"])

    @property
    def labels(self):
        return list(self.methods)

    @property
    def tracks(self):
        return sorted(set(self.rows["track"]))


def target_order(names):
    """Target names in display order (:data:`mssoracle.constants.DISPLAY_TARGET_ORDER`), then the others."""
    from ..constants import DISPLAY_TARGET_ORDER

    names = list(dict.fromkeys(names))
    return [t for t in DISPLAY_TARGET_ORDER if t in names] + [t for t in names if t not in DISPLAY_TARGET_ORDER]


def split_list(values):
    """Names of a repeatable comma-separated option (``--targets a,b --targets c``), in order, without repeats;
    None when not given."""
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    names = [s.strip() for v in values for s in str(v).split(",") if s.strip()]
    return list(dict.fromkeys(names))


def _family_of(method, config):
    spec = config.get("transform") if isinstance(config, dict) else None
    if isinstance(spec, str) and spec:
        return spec.split(":", 1)[0].strip().lower() or None
    try:
        from ..experiment.names import parse_method_name

        return parse_method_name(method).transform.name.split("-", 1)[0]
    except Exception:  # not a method name of ours (a museval folder, an older table): no family
        return None


def _versions(doc):
    out = {}
    if not isinstance(doc, dict):
        return out
    cfg = doc.get("config") if isinstance(doc.get("config"), dict) else {}
    if cfg.get("mssoracle_version"):
        out["mssoracle"] = cfg["mssoracle_version"]
    if doc.get("museval_version"):
        out["museval (score format)"] = doc["museval_version"]
    for k, v in (cfg.get("versions") or {}).items():
        out[f"algorithm {k}"] = v
    bss = doc.get("bsseval")
    if isinstance(bss, dict) and bss.get("engine"):
        out["scoring engine"] = bss["engine"]
    return out


def _first_doc(paths):
    for path in paths:
        try:
            return json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return None


def read_eval_folder(folder):
    """``(rows, {(dataset, method): (config, versions)})`` of an ``eval``/``search`` output folder.

    Raises
    ------
    DatasetError
        The folder holds no results (no score file, an empty ``results.csv``) or an unreadable table.
    """
    import pandas as pd

    from ..results import collect_results, score_files

    folder = Path(folder)
    csv = folder / "results.csv"
    files = score_files(folder)
    if files and not csv.is_file():  # results.csv is the score files' derived view, rebuilt by every command
        rows = collect_results(folder)
    elif csv.is_file():
        try:
            rows = pd.read_csv(csv, keep_default_na=False, na_values=[""],
                               dtype={c: str for c in ("dataset", "method", "subset", "track", "target", "metric")})
        except (OSError, ValueError) as exc:
            raise DatasetError(f"{csv}: cannot read the results table ({exc})") from None
        missing = {"method", "track", "target", "metric", "score"} - set(rows.columns)
        if missing:
            raise DatasetError(f"{csv}: not an mssoracle results table (missing {', '.join(sorted(missing))})")
    else:
        raise DatasetError(f"{folder}: no results (no results.csv, no scores/*/*/*/*.json); give the --out folder "
                           "of `mssoracle eval` or `mssoracle search`, or a museval results folder")
    if not len(rows):
        raise DatasetError(f"{folder}: no results (the results table is empty)")
    for c in ("dataset", "subset"):
        if c not in rows.columns:
            rows[c] = None
    if "time" not in rows.columns:
        rows["time"] = 0.0
    configs = {}
    by_run = {}
    for parts, path in files:
        by_run.setdefault((parts[0], parts[1]), []).append(path)
    for key, paths in by_run.items():
        doc = _first_doc(paths)
        cfg = doc.get("config") if isinstance(doc, dict) and isinstance(doc.get("config"), dict) else None
        configs[key] = (cfg, _versions(doc))
    return rows[_TIDY].copy(), configs


def _museval_files(folder):
    """``<subset>/<track>.json`` under ``folder``; hidden files and folders (``.mssoracle/``, the caches of an
    eval or search folder) are not score files."""
    return sorted(p for p in Path(folder).glob("*/*.json")
                  if not p.name.startswith(".") and not p.parent.name.startswith("."))


def read_museval_folder(folder, name):
    """The tidy rows of a museval results folder (``<subset>/<track>.json``), as method ``name``.

    Raises
    ------
    DatasetError
        No score file in it, or one that is not museval's format (named).
    """
    import pandas as pd

    from ..bsseval.museval_io import load_track_scores
    from ..errors import MssOracleError

    files = _museval_files(folder)
    if not files:
        raise DatasetError(f"{folder}: no results (no <subset>/<track>.json score files)")
    frames = []
    for path in files:
        try:
            scores = load_track_scores(path, method=name)
        except MssOracleError as exc:
            raise DatasetError(str(exc)) from None
        df = scores.df
        df.insert(0, "dataset", None)
        df.insert(2, "subset", path.parent.name)
        frames.append(df)
    rows = pd.concat(frames, ignore_index=True)
    if not len(rows):
        raise DatasetError(f"{folder}: no results (its score files hold no frames)")
    doc = _first_doc(files)
    return rows[_TIDY].copy(), (doc.get("config") if isinstance(doc, dict) else None), _versions(doc)


def read_sisec18(methods=None):
    """The published SiSEC 2018 rows (per-track medians, ``time`` NaN) of ``methods`` (default all 31), and
    their :class:`MethodInfo` s."""
    from ..sisec18 import load_published, load_submissions, select_methods

    names = select_methods(methods)
    pub = load_published(names)
    rows = pub.assign(dataset="musdb18", subset="test", time=np.nan)[_TIDY]
    sub = load_submissions().set_index("method")
    infos = {}
    for m in names:
        row = sub.loc[m].to_dict()
        infos[m] = MethodInfo(label=m, kind="oracle" if row["kind"] == "oracle" else "model",
                              family="stft" if row["kind"] == "oracle" else None, source="SiSEC 2018 (published)",
                              frames=False, dataset="musdb18", method=m,
                              config={"submission": m, **row,
                                      "data": "MUSDB18 test (50 tracks), per-track medians over 1 s frames"},
                              versions={"museval (SiSEC 2018)": "0.2"})
    return rows, infos


def _is_study_url(text):
    return "://" in str(text)


def _study_from_json(path):
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path}: cannot read the search description ({exc})") from None
    if not isinstance(doc, dict) or not doc.get("storage") or not doc.get("study"):
        raise DatasetError(f"{path}: not an mssoracle search.json (needs \"storage\" and \"study\")")
    return StudyRef(str(doc["storage"]), str(doc["study"]), str(path))


def open_study(ref):
    """The Optuna study of ``ref`` (:class:`StudyRef`), opened read-only in spirit: nothing is created.

    Raises
    ------
    ParameterError
        Optuna is missing, the storage does not exist (a journal or SQLite file that is not there is not
        created), or it holds no study of that name (the message lists the ones it has).
    """
    try:
        import optuna
    except ImportError:
        raise ParameterError("an Optuna study needs optuna: pip install 'mssoracle[search]'") from None
    url = ref.storage
    if url.startswith("journal:///") or url.startswith("sqlite:///"):
        path = Path(url.split(":///", 1)[1])
        if url.startswith("journal:///") and not path.is_absolute():
            path = Path("/") / path
        if not path.is_file():
            raise ParameterError(f"--storage {url}: no such file ({path}); give the storage of an existing study")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        if url.startswith("journal:///"):
            from optuna.storages import JournalStorage
            from optuna.storages.journal import JournalFileBackend

            storage = JournalStorage(JournalFileBackend(str(path)))
        else:
            storage = url
        names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
        if ref.study not in names:
            have = ", ".join(names) if names else "none"
            raise ParameterError(f"--study {ref.study}: no such study in {url} (studies there: {have})")
        return optuna.load_study(study_name=ref.study, storage=storage)
    except ParameterError:
        raise
    except Exception as exc:  # optuna's own errors: a bad URL, an unreadable database
        raise ParameterError(f"--storage {url}: cannot open it ({type(exc).__name__}: {exc})") from None


def _label_runs(rows):
    """Method labels of an eval folder's rows: ``method``, or ``dataset/method`` when the folder has one method
    name in two datasets."""
    runs = rows[["dataset", "method"]].drop_duplicates()
    two = runs["method"].duplicated(keep=False)
    labels = {}
    for (dataset, method), dup in zip(runs.itertuples(index=False), two):
        labels[(dataset, method)] = f"{dataset}/{method}" if dup else str(method)
    return labels


def load_inputs(paths, *, names=None, sisec18=None, storage=None, study=None, need_rows=True):
    """Read every input into one :class:`PlotData`.

    Parameters
    ----------
    paths : list of str
        eval/search folders, museval folders, ``search.json`` files.
    names : list of str, optional
        ``--name`` of each museval folder, in order (default: the folder's name).
    sisec18 : str or list of str, optional
        SiSEC 2018 submissions to add (``all``, ``oracles``, ``models`` or names); None: none.
    storage, study : str, optional
        An Optuna study (both needed).
    need_rows : bool
        Refuse inputs that give no scores at all (False for ``--kind search``).

    Raises
    ------
    DatasetError, ParameterError
        A missing path, a folder without results, a bad ``--name``/``--study``/``--storage``.
    """
    import pandas as pd

    names = list(names or [])
    frames, methods, studies, folders = [], {}, [], []
    museval_index = 0

    def add(rows, info):
        label = info.label
        n = 2
        while label in methods:  # the same name from two inputs: keep both
            label = f"{info.label} ({n})"
            n += 1
        info.label = label
        methods[label] = info
        frames.append(rows.assign(label=label))

    if (storage is None) != (study is None):
        raise ParameterError("--storage and --study go together (or give a search folder holding search.json)")
    if storage is not None:
        studies.append(StudyRef(storage, study, "--storage"))
    for given in paths:
        path = Path(given).expanduser()
        if not path.exists():
            raise DatasetError(f"{given}: no such file or folder")
        if path.is_file():
            if path.suffix == ".json":
                studies.append(_study_from_json(path))
                continue
            raise DatasetError(f"{given}: not an input (give an eval/search folder, a museval folder or search.json)")
        if (path / "search.json").is_file():
            studies.append(_study_from_json(path / "search.json"))
        if (path / "results.csv").is_file() or (path / "scores").is_dir():
            try:
                rows, configs = read_eval_folder(path)
            except DatasetError:
                if (path / "search.json").is_file() and not need_rows:
                    continue  # a search still running: its study is what is drawn
                raise
            folders.append(path)
            labels = _label_runs(rows)
            for (dataset, method), part in rows.groupby(["dataset", "method"], sort=False, dropna=False):
                cfg, versions = configs.get((dataset, method), (None, {}))
                info = MethodInfo(label=labels[(dataset, method)], kind="oracle", family=_family_of(method, cfg),
                                  source=str(path), frames=True,
                                  dataset=None if dataset is None or pd.isna(dataset) else str(dataset),
                                  method=str(method), config=cfg, versions=versions)
                add(part, info)
        elif (path / "search.json").is_file():
            continue  # a search folder without a final eval (--no-final-eval): its study is what is drawn
        elif _museval_files(path):
            name = names[museval_index] if museval_index < len(names) else path.resolve().name
            museval_index += 1
            rows, cfg, versions = read_museval_folder(path, name)
            add(rows, MethodInfo(label=name, kind="yours", family=None, source=str(path), frames=True,
                                 method=name, config=cfg, versions=versions))
        else:
            raise DatasetError(f"{given}: no results (no results.csv or scores/ of `mssoracle eval`/`search`, no "
                               "museval <subset>/<track>.json files)")
    if names and museval_index < len(names):
        raise ParameterError(f"--name given {len(names)} time(s) for {museval_index} museval folder(s); give one "
                             "--name per museval results folder, in their order")
    if sisec18 is not None:
        rows, infos = read_sisec18(sisec18)
        for m, info in infos.items():
            add(rows[rows["method"] == m], info)
    if not frames and need_rows:
        raise ParameterError("no scores to draw: give an eval/search folder, a museval folder or --sisec18")
    if frames:
        table = pd.concat(frames, ignore_index=True)
    else:
        table = pd.DataFrame({c: pd.Series(dtype=float if c in ("time", "score") else object)
                              for c in _TIDY + ["label"]})
    table["score"] = table["score"].astype(float)
    return PlotData(table, methods, studies, folders)
