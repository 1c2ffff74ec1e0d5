"""End-to-end tests of `mssoracle eval` (experiment runner, resume, outputs, errors)."""

import json

import numpy as np
import pandas as pd
import pytest
import scipy.signal
import soundfile as sf

from mssoracle import cli

SR = 8000
STEMS = ("drums", "bass", "other", "vocals")
BANDS = ((60, 400), (400, 1100), (1100, 2200), (2200, 3800))


def _write_track(folder, seconds=3.0, seed=0, silent=(), sr=SR, channels=1):
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    folder.mkdir(parents=True)
    stems = {}
    for i, name in enumerate(STEMS):
        # spectrally distinct sources on a broadband floor; channels are different signals, so that
        # the reference Gram matrix is well conditioned (a pure pan would make it singular).
        # Mono by default: BSS Eval's Gram matrix (sources x channels x 512 taps) dominates the cost
        band = BANDS[i]
        x = rng.standard_normal((n, channels))
        x = scipy.signal.sosfilt(scipy.signal.butter(4, band, "bandpass", fs=sr, output="sos"), x, axis=0)
        x = x + 0.03 * rng.standard_normal((n, channels))
        stems[name] = x * [1.0, 0.5 + 0.2 * i][:channels] * (0.0 if name in silent else 1.0)
        sf.write(str(folder / f"{name}.wav"), stems[name], sr, subtype="DOUBLE")
    sf.write(str(folder / "mixture.wav"), sum(stems.values()), sr, subtype="DOUBLE")
    return stems


@pytest.fixture
def hq_root(tmp_path):
    root = tmp_path / "musdb"
    _write_track(root / "test" / "Track A", seed=1)
    _write_track(root / "test" / "Track B", seed=2)
    return root


@pytest.fixture
def stereo_root(tmp_path):
    root = tmp_path / "musdb-stereo"
    _write_track(root / "test" / "Track A", seed=1, channels=2)
    _write_track(root / "test" / "Track B", seed=2, channels=2)
    return root


def _eval(root, out, *extra):
    return cli.main(["eval", "--root", str(root), "--out", str(out), "--no-progress", *extra])


def test_eval_writes_scores_table_and_prints(stereo_root, tmp_path, capsys):
    out = tmp_path / "out"
    assert _eval(stereo_root, out, "--oracle", "irm1,mpi", "--transform", "stft:512,stft:256:128") == 0
    text = capsys.readouterr().out
    for method in ["irm1-stft-512-128", "mpi-stft-512-128", "irm1-stft-256-128", "mpi-stft-256-128"]:
        assert method in text
        for track in ["Track A", "Track B"]:
            data = json.loads((out / "scores" / "musdb18hq" / method / "test" / f"{track}.json").read_text())
            assert sorted(t["name"] for t in data["targets"]) == sorted([*STEMS, "accompaniment"])
            assert data["config"]["method"] == method
            assert data["config"]["mixture"] == "file"
            assert len(data["targets"][0]["frames"]) == 3
    assert "vocals          ==> SDR:" in text and "median SDR over drums, bass, other, vocals:" in text
    table = pd.read_csv(out / "results.csv")
    assert {"method", "track", "target", "metric", "time", "score"} <= set(table.columns)
    assert len(table) == 4 * 2 * 5 * 4 * 3  # methods x tracks x targets x metrics x frames
    # IRM1 on well separated sources is far above the mixture lower bound
    irm = table[(table.method == "irm1-stft-512-128") & (table.metric == "SDR")]["score"].median()
    assert irm > 5


def test_eval_resume_skips_and_recomputes_on_changed_config(hq_root, tmp_path, capsys):
    out = tmp_path / "out"
    assert _eval(hq_root, out, "--oracle", "irm1", "--transform", "stft:256") == 0
    path = out / "scores" / "musdb18hq" / "irm1-stft-256-64" / "test" / "Track A.json"
    first = path.stat().st_mtime_ns
    capsys.readouterr()
    assert _eval(hq_root, out, "--oracle", "irm1", "--transform", "stft:256") == 0
    err = capsys.readouterr().err
    assert "2 of 2 job(s) already done" in err
    assert path.stat().st_mtime_ns == first
    # another mixture is another method name: its own files, the first results untouched
    assert _eval(hq_root, out, "--oracle", "irm1", "--transform", "stft:256", "--mixture", "sum") == 0
    other = out / "scores" / "musdb18hq" / "irm1-stft-256-64+mixture=sum" / "test" / "Track A.json"
    assert json.loads(other.read_text())["config"]["mixture"] == "sum"
    assert json.loads(path.read_text())["config"]["mixture"] == "file" and path.stat().st_mtime_ns == first


def test_eval_targets_filter_the_printout_only(hq_root, tmp_path, capsys):
    out_all, out_voc = tmp_path / "all", tmp_path / "voc"
    assert _eval(hq_root, out_all, "--oracle", "irm2", "--transform", "stft:256") == 0
    capsys.readouterr()
    assert _eval(hq_root, out_voc, "--oracle", "irm2", "--transform", "stft:256", "--targets", "vocals",
                 "--save-estimates") == 0
    lines = capsys.readouterr().out.splitlines()
    # the target lines are filtered; the headline stays over the four sources
    assert any(ln.startswith("vocals ") for ln in lines) and not any(ln.startswith("drums ") for ln in lines)
    a = pd.read_csv(out_all / "results.csv")
    v = pd.read_csv(out_voc / "results.csv")
    pd.testing.assert_frame_equal(a, v)  # every target computed and stored, the same numbers
    est = sorted((out_voc / "estimates" / "musdb18hq" / "irm2-stft-256-64" / "test" / "Track A").glob("*.wav"))
    assert [p.stem for p in est] == ["accompaniment", "bass", "drums", "other", "vocals"]


def test_eval_gt_and_cirm_with_sum_mixture_are_near_perfect(hq_root, tmp_path):
    out = tmp_path / "out"
    assert _eval(hq_root, out, "--oracle", "gt,cirm,mix", "--transform", "stft:256", "--mixture", "sum",
                 "--track", "Track A") == 0
    t = pd.read_csv(out / "results.csv")
    sdr = t[t.metric == "SDR"].groupby("method")["score"].median()
    assert sdr["gt-stft-256-64+mixture=sum"] > 100  # round-trip error only
    assert sdr["cirm-stft-256-64+mixture=sum"] > 60
    assert sdr["mix-stft-256-64+mixture=sum"] < 10


def test_eval_jobs_2_equals_serial(hq_root, tmp_path):
    assert _eval(hq_root, tmp_path / "a", "--oracle", "irm1", "--transform", "stft:256") == 0
    assert _eval(hq_root, tmp_path / "b", "--oracle", "irm1", "--transform", "stft:256", "--jobs", "2") == 0
    a = pd.read_csv(tmp_path / "a" / "results.csv")
    b = pd.read_csv(tmp_path / "b" / "results.csv")
    pd.testing.assert_frame_equal(a, b)


def test_eval_silent_stem_gives_nan_with_warning(tmp_path, capsys):
    root = tmp_path / "musdb"
    _write_track(root / "test" / "Instrumental", silent=("vocals",))
    assert _eval(root, tmp_path / "out", "--oracle", "irm1", "--transform", "stft:256") == 0
    err = capsys.readouterr().err
    # the scorer's warnings travel in its results and are printed by the runner, one line each
    assert "warning: Instrumental: vocals: silent reference over the whole track" in err
    t = pd.read_csv(tmp_path / "out" / "results.csv")
    assert t[t.target == "vocals"]["score"].isna().all()
    assert t[t.target == "drums"]["score"].notna().any()


def test_eval_on_nsgt_and_slicq(hq_root, tmp_path):
    out = tmp_path / "out"
    assert _eval(hq_root, out, "--oracle", "irm1,wiener1", "--track", "Track A",
                 "--transform", "nsgt:log:24:100,slicq:bark:24:100") == 0
    t = pd.read_csv(out / "results.csv")
    assert t.method.nunique() == 4
    assert t[t.metric == "SDR"]["score"].median() > 3


@pytest.mark.parametrize("args, message", [
    (["--root", "/no/such/folder"], "/no/such/folder"),
    (["--oracle", "nonsense"], "nonsense"),
    (["--transform", "stft:0"], "stft:0"),
    (["--targets", "piano"], "piano"),
    (["--jobs", "0"], "--jobs"),
])
def test_eval_bad_input_exits_2_with_one_line(hq_root, tmp_path, capsys, args, message):
    argv = ["eval", "--out", str(tmp_path / "out"), "--no-progress"]
    if "--root" not in args:
        argv += ["--root", str(hq_root)]
    assert cli.main(argv + args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "out" / "results.csv").exists()


def test_eval_unwritable_out(hq_root, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert _eval(hq_root, blocker, "--oracle", "irm1", "--transform", "stft:256") == 2
    assert "file" in capsys.readouterr().err


def test_eval_default_sample(tmp_path, capsys, monkeypatch):
    """No --root and no MUSDB_PATH: the preview shipped inside the stempeg wheel."""
    monkeypatch.delenv("MUSDB_PATH", raising=False)
    assert cli.main(["eval", "--out", str(tmp_path / "out"), "--no-progress", "--oracle", "irm1,mpi",
                     "--transform", "stft:2048"]) == 0
    captured = capsys.readouterr()
    assert "stempeg" in captured.err
    # the AAC preview's ill-conditioning: one line per BSS Eval call of the track, not one per method
    warned = [line for line in captured.err.splitlines() if "ill-conditioned" in line]
    assert len(warned) == 2 and len(set(warned)) == 2
    assert "irm1-stft-2048-512" in captured.out
    t = pd.read_csv(tmp_path / "out" / "results.csv")
    assert t.track.unique().tolist() == ["The Easton Ellises - Falcon 69"]


def test_eval_torch_backend_matches_numpy(hq_root, tmp_path):
    pytest.importorskip("torch")
    args = ["--oracle", "irm2,mwf", "--transform", "stft:256,slicq:bark:24:100", "--track", "Track A"]
    assert _eval(hq_root, tmp_path / "np", *args) == 0
    assert _eval(hq_root, tmp_path / "pt", *args, "--backend", "torch") == 0
    a = pd.read_csv(tmp_path / "np" / "results.csv")
    b = pd.read_csv(tmp_path / "pt" / "results.csv")
    assert len(a) == len(b)
    np.testing.assert_allclose(a.score, b.score, atol=2e-5)  # scores are rounded to 1e-5 in the JSON


def test_worker_error_is_reported_and_nothing_of_that_unit_written(hq_root, tmp_path):
    """An error inside an oracle fails its (track, transform) unit: no file of it; the other units complete."""
    from mssoracle.datasets import open_dataset
    from mssoracle.experiment import Experiment, JobsFailed, run_experiment

    exp = Experiment(dataset=open_dataset(hq_root, track_names=["Track A"]), transforms=["stft:256", "stft:128"],
                     oracles=["irm1", "mpi"], out=tmp_path / "out")
    original = exp._oracles["mpi"].apply

    def broken(state, X, S):
        if X[0].shape[-2] == 65:  # stft:128 only
            raise RuntimeError("boom in worker")
        return original(state, X, S)

    exp._oracles["mpi"].apply = broken
    lines = []
    with pytest.raises(JobsFailed, match="boom in worker"):
        run_experiment(exp, progress=False, log=lines.append)
    assert any("error: track 'Track A', stft-128-32 (irm1, mpi): boom in worker" in line for line in lines)
    written = sorted(p.parent.parent.name for p in (tmp_path / "out").rglob("*.json") if "scores" in p.parts)
    assert written == ["irm1-stft-256-64", "mpi-stft-256-64"]
    assert set(pd.read_csv(tmp_path / "out" / "results.csv")["method"]) == set(written)


def test_eval_resume_never_reuses_results_of_other_audio(hq_root, tmp_path, capsys):
    """Same track names under another root, other audio: the data fingerprint differs, so it is recomputed."""
    import shutil

    other = tmp_path / "other-copy"
    shutil.copytree(hq_root, other)
    _write_track(other / "test" / "Track C", seed=9)
    shutil.rmtree(other / "test" / "Track A")
    (other / "test" / "Track C").rename(other / "test" / "Track A")
    out = tmp_path / "out"
    assert _eval(hq_root, out, "--oracle", "irm1", "--transform", "stft:256", "--track", "Track A") == 0
    capsys.readouterr()
    assert _eval(other, out, "--oracle", "irm1", "--transform", "stft:256", "--track", "Track A") == 0
    assert "configuration differs in data" in capsys.readouterr().err


def test_precision_is_stored_and_part_of_the_result_identity(hq_root, tmp_path, capsys):
    out = tmp_path / "out"
    args = ("--oracle", "irm1,mpi,wiener1", "--transform", "stft:256", "--track", "Track A")
    assert _eval(hq_root, out, *args) == 0
    f32 = pd.read_csv(out / "results.csv")
    doc = json.loads(next((out / "scores").glob("*/irm1-*/*/*.json")).read_text())
    assert doc["config"]["precision"] == "float32" and doc["config"]["sample_rate"] == SR
    capsys.readouterr()
    assert _eval(hq_root, out, *args, "--precision", "float64") == 0
    assert "already done" not in capsys.readouterr().err  # never reuses float32 results
    both = pd.read_csv(out / "results.csv")
    f64 = both[both.method.str.endswith("+precision=float64")].assign(
        method=lambda t: t.method.str.replace("+precision=float64", "", regex=False))
    assert len(f64) == len(f32) == len(both) / 2
    m = f32.merge(f64, on=["method", "track", "target", "metric", "time"], suffixes=("_32", "_64"))
    sdr = m[m.metric == "SDR"]
    # well-conditioned synthetic stems: float32 is rounding, not another oracle (Wiener's eps is pinned)
    np.testing.assert_allclose(sdr["score_32"], sdr["score_64"], atol=2e-3)


def test_preset_sisec18_computes_in_float64(hq_root, tmp_path, capsys):
    out = tmp_path / "out"
    assert _eval(hq_root, out, "--preset", "sisec18", "--oracle", "irm1", "--track", "Track A") == 0
    doc = json.loads(next((out / "scores").glob("*/irm1-*/*/*.json")).read_text())
    assert doc["config"]["precision"] == "float64" and doc["config"]["transform"] == "stft:2048:1024"
    capsys.readouterr()
    assert _eval(hq_root, tmp_path / "o2", "--preset", "sisec18", "--precision", "float32") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "float64" in err
    assert not (tmp_path / "o2").exists()


def test_streamed_estimates_equal_whole_signal_estimates(tmp_path):
    """The block pipeline gives the estimates of the whole-signal transform/oracle/inverse chain."""
    from mssoracle.experiment.pipeline import compute_estimates
    from mssoracle.oracles import get_oracle
    from mssoracle.transforms import from_spec

    rng = np.random.default_rng(3)
    stems = rng.standard_normal((4, 2, 3 * 44100))
    mixture = stems.sum(0) + 0.01 * rng.standard_normal((2, 3 * 44100))
    oracles = [get_oracle(s) for s in ("irm1", "mpi", "mwf", "wiener2", "ibm2")]
    for spec in ("stft:2048", "slicq:bark:60:40"):
        t = from_spec(spec)
        got = dict(compute_estimates(t, oracles, mixture, stems))
        assert set(got) == set(oracles)
        X, S = t.forward(mixture), t.forward(stems)
        for o in oracles:
            want = t.inverse(o(X, S), stems.shape[-1])
            np.testing.assert_allclose(got[o], want, rtol=0, atol=1e-9 * np.abs(want).max(), err_msg=f"{spec} {o}")


def test_scores_are_bit_identical_whatever_the_thread_budget(stereo_root, tmp_path):
    """One thread or two: the same bytes in every score file (the executors rely on it)."""
    from mssoracle import threads

    args = ("--oracle", "irm1,mwf,wiener1", "--transform", "stft:512,slicq:bark:24:100", "--track", "Track A")
    for n in (1, 2):
        with threads.limited(n):
            assert _eval(stereo_root, tmp_path / f"t{n}", *args) == 0
    one = sorted((tmp_path / "t1" / "scores").rglob("*.json"))
    assert len(one) == 6
    for f in one:
        a = json.loads(f.read_text())
        b = json.loads((tmp_path / "t2" / f.relative_to(tmp_path / "t1")).read_text())
        assert a["targets"] == b["targets"] and a["cond"] == b["cond"], f.name


def test_saved_estimates_are_the_scored_ones_and_accompaniment_their_sum(hq_root, tmp_path):
    out = tmp_path / "out"
    assert _eval(hq_root, out, "--oracle", "irm1", "--transform", "stft:256", "--track", "Track A",
                 "--save-estimates") == 0
    folder = out / "estimates" / "musdb18hq" / "irm1-stft-256-64" / "test" / "Track A"
    wavs = {p.stem: sf.read(str(p), always_2d=True)[0] for p in folder.glob("*.wav")}
    assert set(wavs) == {"drums", "bass", "other", "vocals", "accompaniment"}
    np.testing.assert_allclose(wavs["accompaniment"], wavs["drums"] + wavs["bass"] + wavs["other"], atol=1e-6)
    # the estimates score as the JSON says (museval on the saved files is the user's check)
    from mssoracle.bsseval import eval_track, load_track_scores

    refs = {s: sf.read(str(hq_root / "test" / "Track A" / f"{s}.wav"), always_2d=True)[0] for s in STEMS}
    refs["accompaniment"] = refs["drums"] + refs["bass"] + refs["other"]
    again = eval_track(refs, wavs, sample_rate=SR, on_silent="nan")
    stored = load_track_scores(next((out / "scores").glob("*/irm1-*/*/Track A.json")))
    for t in STEMS + ("accompaniment",):
        np.testing.assert_allclose(again.values(t)["SDR"], stored.values(t)["SDR"], atol=1e-3)
