"""``mssoracle plot`` (issue 12): every kind to PNG and SVG from a small results table, one box per method x
target x metric, the sorting, museval folders and the SiSEC 2018 package data as inputs, Friedman/Conover equal
to scipy/scikit-posthocs, every text inside the figure, and the bad inputs."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("scikit_posthocs")

from conftest import SHARED, requires_shared  # noqa: E402
from mssoracle import cli  # noqa: E402
from mssoracle.plots import style  # noqa: E402
from mssoracle.plots.boxplot import boxplot  # noqa: E402
from mssoracle.plots.inputs import load_inputs  # noqa: E402

METHODS = {"irm1-stft-2048-512": 6.0, "mpi-nsgt-bark-262-32.9": 8.0, "ibm1-slicq-bark-262-32.9-sllen18060-trlen4516": 4.0}
TARGETS = ("vocals", "drums")
METRICS = ("SDR", "SIR", "ISR", "SAR")
TRACKS = [f"track {k}" for k in range(6)]


def _results(folder, methods=METHODS, tracks=TRACKS, frames=3):
    rng = np.random.default_rng(0)
    rows = []
    for method, base in methods.items():
        for k, track in enumerate(tracks):
            for target in TARGETS:
                for j, metric in enumerate(METRICS):
                    for i in range(frames):
                        rows.append({"dataset": "musdb18hq", "method": method, "subset": "test", "track": track,
                                     "target": target, "metric": metric, "time": float(i),
                                     "score": base + j + 0.3 * k + rng.normal(0, 0.5), "cond": 1.0})
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(folder / "results.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return _results(tmp_path_factory.mktemp("plots") / "out")


def _museval_folder(folder, tracks=("track 0", "track 1"), base=3.0):
    for k, track in enumerate(tracks):
        doc = {"targets": [{"name": t, "frames": [{"time": float(i), "duration": 1.0,
                                                   "metrics": {m: base + k + i for m in METRICS}}
                                                  for i in range(3)]} for t in TARGETS],
               "museval_version": "0.4.1"}
        (folder / "test").mkdir(parents=True, exist_ok=True)
        (folder / "test" / f"{track}.json").write_text(json.dumps(doc))
    return folder


@pytest.mark.parametrize("kind", ["boxplot", "heatmap", "significance", "frames"])
def test_each_kind_png_and_svg(small, tmp_path, kind, capsys):
    for ext in ("png", "svg"):
        out = tmp_path / f"{kind}.{ext}"
        extra = ["--track", "track 0"] if kind == "frames" else []
        assert cli.main(["plot", str(small), "--kind", kind, "--out", str(out), *extra]) == 0
        data = out.read_bytes()
        assert data.startswith(b"\x89PNG") if ext == "png" else b"<svg" in data[:2000]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_search_kind_png_and_svg(tmp_path):
    optuna = pytest.importorskip("optuna")
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    folder = tmp_path / "search"
    folder.mkdir()
    journal = folder / "study.journal"
    study = optuna.create_study(study_name="search", direction="maximize",
                                storage=JournalStorage(JournalFileBackend(str(journal))))
    # mssoracle search's settings (issue 11): objective {"output", "metric"}, target a target or "median"
    study.set_user_attr("mssoracle", {"objective": {"output": "SDR", "metric": "bssv4"}, "target": "vocals"})

    def objective(trial):
        bins = trial.suggest_int("bins", 12, 300)
        scale = trial.suggest_categorical("scale", ["log", "bark"])
        trial.set_user_attr("spec", f"nsgt:{scale}:{bins}")
        trial.set_user_attr("targets", {"vocals": 1.0})
        if bins > 290:
            raise optuna.TrialPruned()
        return -((bins - 150) / 50) ** 2 + (scale == "bark")

    study.optimize(objective, n_trials=8)
    (folder / "search.json").write_text(json.dumps({"storage": f"journal:///{journal.resolve()}", "study": "search",
                                                    "family": "nsgt", "objective": "SDR", "target": "vocals"}))
    # a search folder without its final eval holds its caches' JSON files, which are not score files
    for hidden in (folder / ".mssoracle" / "fingerprints.json", folder / "cache" / "0123abcd.json"):
        hidden.parent.mkdir()
        hidden.write_text("{}")
    for ext in ("png", "svg"):
        assert cli.main(["plot", str(folder), "--kind", "search", "--out", str(tmp_path / f"s.{ext}")]) == 0
    url = "journal:///" + str(journal.resolve())
    assert cli.main(["plot", "--storage", url, "--study", "search", "--kind", "search",
                     "--out", str(tmp_path / "t.png")]) == 0
    assert cli.main(["plot", "--storage", url, "--study", "nope", "--kind", "search",
                     "--out", str(tmp_path / "u.png")]) == 2
    assert not (tmp_path / "u.png").exists()
    from mssoracle.plots.inputs import StudyRef, open_study
    from mssoracle.plots.search import search

    fig, _ = search(open_study(StudyRef(url, "search")))
    assert style.text_outside(fig) == []
    assert fig.axes[0].get_ylabel() == "vocals SDR"
    assert len(fig.axes) == 4  # history, one slice per parameter (bins, scale), importances
    style.pyplot().close(fig)


def _boxes(fig):
    found = {}
    for ax in fig.axes:
        for patch in ax.patches:
            gid = patch.get_gid() or ""
            if gid.startswith("box:"):
                found[gid[4:]] = found.get(gid[4:], 0) + 1
    return found


def test_one_box_per_method_target_metric_and_sorting(small):
    data = load_inputs([str(small)])
    fig = boxplot(data, targets=list(TARGETS), metrics=list(METRICS))
    boxes = _boxes(fig)
    assert boxes == {f"{m}|{t}|{x}": 1 for m in METHODS for t in TARGETS for x in METRICS}
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    # best median vocals SDR on top: y positions descend in the sorted order, so the top label is the last tick
    ticks = fig.axes[0].get_yticks()
    top_down = [lab for _, lab in sorted(zip(ticks, labels), reverse=True)]
    assert top_down == ["mpi-nsgt-bark-262-32.9", "irm1-stft-2048-512",
                        "ibm1-slicq-bark-262-32.9-sllen18060-trlen4516"]
    assert "per-track medians (6 tracks)" in fig._suptitle.get_text()
    hatches = {data.methods[m].family: style.hatch_of(data.methods[m].family) for m in METHODS}
    assert hatches == {"stft": "", "nsgt": "////", "slicq": "xxx"}
    assert style.text_outside(fig) == []
    style.pyplot().close(fig)


def test_over_frames_with_few_tracks_said_in_title(tmp_path):
    data = load_inputs([str(_results(tmp_path / "few", tracks=TRACKS[:2]))])
    assert style.choose_over(data) == "frames"
    fig = boxplot(data, targets=["vocals"], metrics=["SDR"])
    assert "scoring frames (2 tracks)" in fig._suptitle.get_text()
    fig2 = boxplot(data, targets=["vocals"], metrics=["SDR"], over="tracks")
    assert "per-track medians (2 tracks)" in fig2._suptitle.get_text()
    style.pyplot().close("all")


@pytest.mark.parametrize("n", [2, 40])
def test_labels_inside_with_2_and_40_methods(tmp_path, n):
    methods = {f"irm1-stft-{512 * (k + 1)}-{128 * (k + 1)}+precision=float64" if k % 2 else f"method {k}": float(k)
               for k in range(n)}
    data = load_inputs([str(_results(tmp_path / "n", methods=methods, tracks=TRACKS[:5], frames=1))])
    fig = boxplot(data, targets=list(TARGETS), metrics=list(METRICS))
    assert style.text_outside(fig) == []
    assert len(_boxes(fig)) == n * len(TARGETS) * len(METRICS)
    style.pyplot().close(fig)
    from mssoracle.plots.heatmap import heatmap
    from mssoracle.plots.significance import significance

    fig = heatmap(data, target="vocals", metrics=["SDR", "SIR"])
    assert style.text_outside(fig) == []
    style.pyplot().close(fig)
    if n >= 3:
        fig, _ = significance(data, targets=list(TARGETS))
        assert style.text_outside(fig) == []
        style.pyplot().close(fig)


def test_text_outside_detects_a_label_past_the_edge():
    plt = style.pyplot()
    fig = plt.figure(figsize=(3, 2))
    fig.text(0.95, 0.5, "a label that runs past the right edge", fontsize=9)
    fig.text(0.1, 0.1, "tiny", fontsize=6)
    bad = style.text_outside(fig)
    assert {b[0] for b in bad} == {"a label that runs past the right edge", "tiny"}
    plt.close(fig)


def test_friedman_conover_equal_scipy_and_scikit_posthocs(small):
    import scikit_posthocs as sp
    from scipy import stats

    from mssoracle.aggregation import track_values
    from mssoracle.plots.significance import friedman_conover

    data = load_inputs([str(small)])
    got = friedman_conover(data, target="vocals", metric="SDR")
    df = pd.read_csv(small / "results.csv")
    tv = track_values(df[(df.target == "vocals") & (df.metric == "SDR")])
    mat = tv.pivot(index="track", columns="method", values="score")[got["methods"]]
    stat, p = stats.friedmanchisquare(*[mat[m].to_numpy() for m in got["methods"]])
    assert got["statistic"] == pytest.approx(stat, rel=1e-12) and got["pvalue"] == pytest.approx(p, rel=1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = sp.posthoc_conover_friedman(mat.to_numpy())
    np.testing.assert_allclose(got["pvalues"].to_numpy(), ref.to_numpy(), rtol=1e-12)
    assert got["tracks"] == sorted(TRACKS, key=lambda t: -float(mat.median(axis=1)[t])) or len(got["tracks"]) == 6


def test_significance_skipped_with_fewer_than_3_tracks(tmp_path, capsys):
    few = _results(tmp_path / "few", tracks=TRACKS[:2])
    assert cli.main(["plot", str(few), "--kind", "significance", "--out", str(tmp_path / "s.png")]) == 2
    err = capsys.readouterr().err
    assert "significance skipped (drums, vocals): 2 track(s)" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s.png").exists()


def test_museval_folder_and_sisec18_as_inputs(tmp_path, capsys):
    mine = _museval_folder(tmp_path / "mine")
    data = load_inputs([str(mine)], names=["my model"], sisec18="TAK2,IRM1")
    assert data.labels == ["my model", "TAK2", "IRM1"]
    assert [data.methods[m].kind for m in data.labels] == ["yours", "model", "oracle"]
    assert not data.methods["TAK2"].frames and data.rows[data.rows.label == "TAK2"].track.nunique() == 50
    out = tmp_path / "b.png"
    assert cli.main(["plot", str(mine), "--name", "my model", "--sisec18", "TAK2,IRM1", "--out", str(out)]) == 0
    fig = boxplot(data, targets=["vocals", "drums"], metrics=["SDR"])
    assert "my model|vocals|SDR" in _boxes(fig) and "TAK2|vocals|SDR" in _boxes(fig)
    assert "TAK2|drums|SDR" in _boxes(fig)
    style.pyplot().close(fig)
    # every submission: 31 methods; vocals/accompaniment-only models have no drums box
    data = load_inputs([], sisec18="all")
    assert len(data.labels) == 31
    fig = boxplot(data, targets=["vocals", "drums"], metrics=["SDR"])
    boxes = _boxes(fig)
    assert "MELO|vocals|SDR" in boxes and "MELO|drums|SDR" not in boxes
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ticks = fig.axes[0].get_yticks()
    order = [lab for _, lab in sorted(zip(ticks, labels), reverse=True)]
    assert order[:3] == ["IRM2", "MWF", "IRM1"] and order.index("TAK2") < order.index("UHL3")
    assert style.text_outside(fig) == []
    style.pyplot().close(fig)


def test_frames_rms_from_the_recorded_audio(tmp_path):
    """The default sample's score file records its stem file: the RMS is drawn without --root."""
    from mssoracle.datasets import open_dataset
    from mssoracle.plots.frames import find_reference, frame_rms, frames

    out = tmp_path / "demo"
    assert cli.main(["eval", "--out", str(out), "--oracle", "irm1", "--transform", "stft:2048", "--no-progress"]) == 0
    data = load_inputs([str(out)])
    track = data.tracks[0]
    signal, rate, win, hop = find_reference(data, track, "vocals")
    ref = open_dataset(None, quiet=True)[0].load().references(["vocals"])["vocals"]
    np.testing.assert_array_equal(signal, ref)
    times, rms = frame_rms(signal, rate=rate, win=win, hop=hop)
    assert len(times) == data.rows[(data.rows.metric == "SDR") & (data.rows.target == "vocals")].shape[0]
    fig, notes = frames(data, track=track, targets=["vocals"])
    assert notes == [] and len(fig.axes) == 2 and style.text_outside(fig) == []
    style.pyplot().close(fig)
    mine = _museval_folder(tmp_path / "mine")
    fig, notes = frames(load_inputs([str(mine)]), track="track 0", targets=["vocals"])
    assert notes and "give --root" in notes[0]
    style.pyplot().close(fig)
    hq = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "musdb18hq-sample"
    if hq.is_dir():  # --root: the track's lossless stems instead of the recorded stem file
        signal, rate, _, _ = find_reference(data, track, "vocals", root=hq)
        ref = open_dataset(hq, subset=None, track_names=[track], quiet=True)[0].load().references(["vocals"])
        np.testing.assert_array_equal(signal, ref["vocals"])
    assert cli.main(["plot", str(out), "--kind", "frames", "--root", str(tmp_path / "none"),
                     "--out", str(tmp_path / "f.png")]) == 2
    assert not (tmp_path / "f.png").exists()


def _one_line_error(capsys):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_bad_inputs(small, tmp_path, capsys):
    out = tmp_path / "f.png"
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [
        ([str(empty)], "no results"),
        ([str(tmp_path / "missing")], "no such file or folder"),
        ([str(small), "--metrics", "XYZ"], "--metrics: unknown metric(s) XYZ"),
        ([str(small), "--targets", "piano"], "--targets: unknown target(s) piano"),
        ([str(small), "--methods", "nope"], "--methods: unknown method(s) nope"),
        ([str(small), "--kind", "frames", "--track", "nope"], "--track: unknown track(s) nope"),
        ([str(small), "--sisec18", "NOPE"], "unknown SiSEC 2018 submission 'NOPE'"),
        (["--storage", f"sqlite:///{tmp_path / 'none.db'}", "--study", "x", "--kind", "search"], "no such file"),
        ([str(small), "--kind", "search"], "needs a study"),
    ]
    for argv, expect in cases:
        assert cli.main(["plot", *argv, "--out", str(out)]) == 2, argv
        assert expect in _one_line_error(capsys), argv
        assert not out.exists() and not (tmp_path / "none.db").exists()
    assert cli.main(["plot", str(small), "--out", str(tmp_path / "f.jpg")]) == 2
    assert ".png, .pdf or .svg" in _one_line_error(capsys)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        import os

        if os.access(locked, os.W_OK):  # root ignores permissions: a file in the way of the folder instead
            (tmp_path / "file").write_text("x")
            target = tmp_path / "file" / "f.png"
        else:
            target = locked / "f.png"
        assert cli.main(["plot", str(small), "--out", str(target)]) == 2
        assert "--out" in _one_line_error(capsys)
    finally:
        locked.chmod(0o700)


@requires_shared
def test_frames_rms_of_every_track_of_a_run_and_long_names_fit(tmp_path):
    """A run's method config is its first track's; the other tracks' audio is found beside it (the dataset
    root of the recorded files), and the legend of long method names stays inside the figure."""
    from mssoracle.datasets import open_dataset
    from mssoracle.plots.frames import find_reference, frames

    hq = SHARED / "musdb18hq-sample"
    out = tmp_path / "seed"
    assert cli.main(["eval", "--preset", "seed", "--root", str(hq), "--subset", "train", "--out", str(out),
                     "--no-progress", "--transform", "stft:1024:768,stft:2048:1536,stft:4096:3072"]) == 0
    data = load_inputs([str(out)])
    assert len(data.tracks) == 2
    for track in data.tracks:
        found = find_reference(data, track, "bass")
        assert found[0] is not None, found[1]
        ref = open_dataset(hq, subset="train", track_names=[track], quiet=True)[0].load().references(["bass"])
        np.testing.assert_array_equal(found[0], ref["bass"])
        fig, notes = frames(data, track=track, targets=["bass", "vocals"])
        assert notes == [] and style.text_outside(fig) == []
        style.pyplot().close(fig)
