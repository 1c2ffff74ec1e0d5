"""``mssoracle bsseval`` and ``mssoracle museval`` through ``cli.main``."""

import json

import numpy as np
import pytest
import soundfile as sf

from conftest import SHARED, STEM_ROOT
from museval_live import import_museval
from mssoracle.bsseval import eval_track, load_track_scores
from mssoracle.cli import main

SR = 8000
MUSDB_STEMS = ("drums", "bass", "other", "vocals")


def _write(path, x, sr=SR, subtype="DOUBLE"):
    """Write a (nsampl, nchan) array; DOUBLE keeps float64 samples exact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), x, sr, subtype=subtype)
    return path


def _signals(names, seconds=3, nchan=2, seed=0):
    rng = np.random.default_rng(seed)
    return {n: rng.standard_normal((int(seconds * SR), nchan)) for n in names}


def _noisy(refs, seed=1):
    rng = np.random.default_rng(seed)
    names = list(refs)
    return {n: refs[n] + 0.3 * refs[names[(i + 1) % len(names)]] + 0.5 * rng.standard_normal(refs[n].shape)
            for i, n in enumerate(names)}


def _dirs(tmp_path, refs, ests):
    rd, ed = tmp_path / "ref", tmp_path / "est"
    for n, x in refs.items():
        _write(rd / f"{n}.wav", x)
    for n, x in ests.items():
        _write(ed / f"{n}.wav", x)
    return rd, ed


def _fails(capsys, argv, *fragments):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert "Traceback" not in err, err
    last = err.splitlines()[-1]  # notices may precede the one-line error
    assert last.startswith(f"mssoracle {argv[0]}: error: "), err
    for f in fragments:
        assert f in last, err
    return err


# ------------------------------------------------------------------ bsseval
def test_bsseval_table_json_and_museval_numbers(tmp_path, capsys):
    refs = _signals(["b_src", "a_src"], nchan=1)
    ests = _noisy(refs)
    rd, ed = _dirs(tmp_path, refs, ests)
    out = tmp_path / "o" / "scores.json"
    assert main(["bsseval", str(rd), str(ed), "--json", str(out), "-o", str(tmp_path / "odir")]) == 0
    text = capsys.readouterr().out
    lines = [line for line in text.splitlines() if "==>" in line]
    assert [line.split()[0] for line in lines] == ["a_src", "b_src"]  # sorted names
    assert all(f"{m}:" in lines[0] for m in ("SDR", "SIR", "ISR", "SAR"))
    doc = json.loads(out.read_text())
    assert (tmp_path / "odir" / "ref.json").read_text() == out.read_text()
    assert [t["name"] for t in doc["targets"]] == ["a_src", "b_src"]
    assert doc["bsseval"]["grouping"] == "joint" and doc["config"]["command"] == "bsseval"
    # one joint BSS Eval call, as museval's eval_dir (but in sorted order)
    with import_museval() as museval:
        if museval is None:
            pytest.skip("museval is not installed")
        sdr, isr, sir, sar = museval.evaluate([refs["a_src"], refs["b_src"]], [ests["a_src"], ests["b_src"]],
                                              win=SR, hop=SR)
    scores = load_track_scores(out)
    for i, name in enumerate(["a_src", "b_src"]):
        v = scores.values(name)
        np.testing.assert_allclose(v["SDR"], sdr[i], atol=1.01e-5, rtol=0)
        np.testing.assert_allclose(v["SIR"], sir[i], atol=1e-3, rtol=0)
        np.testing.assert_allclose(v["ISR"], isr[i], atol=1e-3, rtol=0)
        np.testing.assert_allclose(v["SAR"], sar[i], atol=1e-3, rtol=0)
        # the printed table holds the medians over frames
        assert f"SDR:{np.median(v['SDR']):>8.3f}" in lines[i]


def test_bsseval_lengths_mode_and_silent_estimate(tmp_path, capsys):
    refs = _signals(["x", "y", "z"], seconds=2, nchan=1)
    ests = _noisy(refs)
    ests["x"] = ests["x"][:-900]   # padded with zeros
    ests["y"] = np.concatenate([ests["y"], np.ones((500, 1))])  # cut
    ests["z"] = np.zeros_like(ests["z"])  # silent: NaN with a warning
    rd, ed = _dirs(tmp_path, refs, ests)
    out = tmp_path / "s.json"
    assert main(["bsseval", str(rd), str(ed), "-m", "v3", "--win", "0.75", "--hop", "0.5", "--json", str(out)]) == 0
    captured = capsys.readouterr()
    assert "warning: ref: z: silent estimate" in captured.err
    scores = load_track_scores(out)
    assert np.isnan(scores.values("z")["SDR"]).all()
    assert json.loads(out.read_text())["cond"][0]["excluded"] == {"z": "silent estimate"}
    fixed = {"x": np.pad(ests["x"], [(0, 900), (0, 0)]), "y": ests["y"][: len(refs["y"])]}
    expected = eval_track({k: refs[k] for k in "xy"}, fixed, sample_rate=SR, win=0.75, hop=0.5, mode="v3",
                          grouping="joint")
    for t in "xy":
        for m in ("SDR", "SIR", "SAR", "ISR"):
            np.testing.assert_array_equal(scores.values(t)[m], expected.values(t)[m])
    assert len(scores.values("x")["SDR"]) == 3  # floor((16000 - 6000 + 4000) / 4000)


def test_bsseval_bad_input(tmp_path, capsys):
    refs = _signals(["a", "b"], seconds=2)
    rd, ed = _dirs(tmp_path, refs, _noisy(refs))
    out = tmp_path / "never.json"
    base = ["--json", str(out)]
    _fails(capsys, ["bsseval", str(tmp_path / "nope"), str(ed)] + base, "nope: no such folder")
    _fails(capsys, ["bsseval", str(rd), str(rd / "a.wav")] + base, "a.wav: not a folder")
    empty = tmp_path / "empty"
    empty.mkdir()
    _fails(capsys, ["bsseval", str(empty), str(ed)] + base, "empty: no .wav files")
    _fails(capsys, ["bsseval", str(rd), str(empty)] + base, "empty: no .wav files")
    _fails(capsys, ["bsseval", str(rd), str(ed), "--win", "0"] + base, "--win must be a positive")
    _fails(capsys, ["bsseval", str(rd), str(ed), "--device", "cuda"] + base, "needs --backend torch")

    def variant(name, mutate):
        d = tmp_path / name
        d.mkdir()
        for p in ed.iterdir():
            (d / p.name).write_bytes(p.read_bytes())
        mutate(d)
        return d

    d = variant("missing", lambda d: (d / "b.wav").unlink())
    _fails(capsys, ["bsseval", str(rd), str(d)] + base, "no estimate for reference(s) b.wav")
    d = variant("extra", lambda d: _write(d / "c.wav", refs["a"]))
    _fails(capsys, ["bsseval", str(rd), str(d)] + base, "no reference for estimate(s) c.wav")
    d = variant("garbage", lambda d: (d / "b.wav").write_bytes(b"RIFF0000WAVEjunk" * 4))
    _fails(capsys, ["bsseval", str(rd), str(d)] + base, "b.wav: cannot read audio file")
    d = variant("rate", lambda d: _write(d / "b.wav", refs["b"], sr=16000))
    _fails(capsys, ["bsseval", str(rd), str(d)] + base, "b.wav: 16000 Hz", "same sample rate")
    d = variant("chans", lambda d: _write(d / "b.wav", refs["b"][:, :1]))
    _fails(capsys, ["bsseval", str(rd), str(d)] + base, "b.wav: 1 channel(s)", "same channel count")
    bad = refs["b"].copy()
    bad[10, 1] = np.nan
    d = variant("nan", lambda d: _write(d / "b.wav", bad))
    _fails(capsys, ["bsseval", str(rd), str(d)] + base, "b.wav: 1 NaN/inf sample(s)")
    d = variant("short", lambda d: _write(d / "b.wav", refs["b"][:1]))
    _fails(capsys, ["bsseval", str(rd), str(d)] + base, "b.wav: only 1 sample(s)")
    r2 = variant("reflen", lambda d: _write(d / "b.wav", refs["b"][:-10]))
    _fails(capsys, ["bsseval", str(r2), str(ed)] + base, "b.wav: 15990 samples", "same length")
    assert not out.exists()
    # an unwritable --json target (a folder) fails cleanly, leaving no temporary file behind
    _fails(capsys, ["bsseval", str(rd), str(ed), "--json", str(empty)])
    assert list(empty.iterdir()) == []


# ------------------------------------------------------------------ museval
def _hq_tree(root, tracks, seconds=3, nchan=1, seed=0):
    """A tiny MUSDB18-HQ tree; returns {(subset, name): stems dict of (nsampl, nchan)}."""
    out = {}
    for k, (subset, name) in enumerate(tracks):
        stems = _signals(MUSDB_STEMS, seconds=seconds, nchan=nchan, seed=seed + k)
        for n, x in stems.items():
            _write(root / subset / name / f"{n}.wav", x)
        _write(root / subset / name / "mixture.wav", sum(stems.values()))
        out[(subset, name)] = stems
    return out


def _acc(stems):
    return stems["drums"] + stems["bass"] + stems["other"]


@pytest.fixture(scope="module")
def musdb_tree(tmp_path_factory):
    base = tmp_path_factory.mktemp("musdb")
    root = base / "root"
    stems = _hq_tree(root, [("test", "A"), ("test", "B"), ("train", "C")])
    return root, stems


def _estimates_for(stems, targets, seed=3):
    refs = dict(stems)
    refs["accompaniment"] = _acc(stems)
    est = _noisy(refs, seed=seed)
    return {t: est[t] for t in targets}


def test_museval_command_writes_museval_json(musdb_tree, tmp_path, capsys):
    root, stems = musdb_tree
    est = tmp_path / "my-method"
    a = _estimates_for(stems[("test", "A")], ["vocals", "drums", "bass", "other", "accompaniment"])
    b = _estimates_for(stems[("test", "B")], ["vocals", "accompaniment"])
    for t, x in a.items():
        _write(est / "test" / "A" / f"{t}.wav", x)
    for t, x in b.items():
        _write(est / "test" / "B" / f"{t}.wav", x)
    _write(est / "test" / "B" / "notes.wav", b["vocals"])  # not a target: ignored with a notice
    (est / "test" / "Z").mkdir()  # no such reference track
    assert main(["museval", str(est), "--root", str(root)]) == 0
    captured = capsys.readouterr()
    # default output folder: EST_DIR, as museval
    a_json, b_json = est / "test" / "A.json", est / "test" / "B.json"
    assert a_json.is_file() and b_json.is_file() and not (est / "train").exists()
    assert "1 track(s) without estimates skipped" in captured.err
    assert "test/Z" in captured.err and "notes.wav" in captured.err
    ours = load_track_scores(a_json)
    assert ours.targets == ["drums", "bass", "other", "vocals", "accompaniment"]
    assert ours.track_name == "A" and ours.config["method"] == "my-method" and ours.config["subset"] == "test"
    refs = dict(stems[("test", "A")])
    refs["accompaniment"] = _acc(refs)
    expected = eval_track(refs, a, sample_rate=SR, track_name="A")
    assert json.loads(ours.json)["targets"] == json.loads(expected.json)["targets"]
    assert load_track_scores(b_json).targets == ["vocals", "accompaniment"]
    # final table: median over frames then tracks, one line per target
    lines = [line for line in captured.out.splitlines() if "==>" in line]
    assert [line.split()[0] for line in lines] == ["drums", "bass", "other", "vocals", "accompaniment"]
    vocals_sdr = np.median([np.median(load_track_scores(p).values("vocals")["SDR"]) for p in (a_json, b_json)])
    assert f"SDR:{vocals_sdr:>8.3f}" in lines[3]


def test_museval_aliases_subset_track_and_silent(musdb_tree, tmp_path, capsys):
    root, stems = musdb_tree
    est = tmp_path / "est"
    a = _estimates_for(stems[("test", "A")], ["vocals", "drums", "bass", "other"])
    a["bass"] = np.zeros_like(a["bass"])
    for t, x in a.items():
        _write(est / "test" / "A" / f"{t}.wav", x)
    c = _estimates_for(stems[("train", "C")], ["vocals", "accompaniment"])
    for t, x in c.items():
        _write(est / "train" / "C" / f"{t}.wav", x)
    out = tmp_path / "out"
    assert main(["museval", str(est), "--musdb", str(root), "-o", str(out), "--is-wav", "-m", "v4",
                 "--subset", "test", "--track", "A"]) == 0
    captured = capsys.readouterr()
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.json")) == ["test/A.json"]
    assert "warning: A: bass: silent estimate" in captured.err
    scores = load_track_scores(out / "test" / "A.json")
    assert np.isnan(scores.values("bass")["SDR"]).all()
    assert not np.isnan(scores.values("drums")["SDR"]).any()
    # the train subset is scored by default (museval scores every track with estimates)
    out2 = tmp_path / "out2"
    assert main(["museval", str(est), "--root", str(root), "--out", str(out2)]) == 0
    assert sorted(str(p.relative_to(out2)) for p in out2.rglob("*.json")) == ["test/A.json", "train/C.json"]


def test_museval_bad_input(musdb_tree, tmp_path, capsys):
    root, stems = musdb_tree
    est = tmp_path / "est"
    _fails(capsys, ["museval", str(est), "--root", str(root)], "est: no such folder")
    est.mkdir()
    _fails(capsys, ["museval", str(est), "--root", str(root)], "no estimates for any of the 3 track(s)")
    _fails(capsys, ["museval", str(est), "--root", str(tmp_path / "nowhere")], "nowhere")
    good = _estimates_for(stems[("test", "A")], ["vocals", "accompaniment"])
    folder = est / "test" / "A"
    for t, x in good.items():
        _write(folder / f"{t}.wav", x)
    _write(folder / "vocals.wav", good["vocals"], sr=16000)
    mix = str(root / "test" / "A" / "mixture.wav")
    _fails(capsys, ["museval", str(est), "--root", str(root)], "vocals.wav: 16000 Hz but the reference",
           f"{mix} is 8000 Hz")
    _write(folder / "accompaniment.wav", good["accompaniment"], sr=16000)
    _fails(capsys, ["museval", str(est), "--root", str(root)], "accompaniment.wav: 16000 Hz but the reference",
           f"{mix} is 8000 Hz")
    _write(folder / "vocals.wav", np.repeat(good["vocals"], 2, axis=1))
    _write(folder / "accompaniment.wav", np.repeat(good["accompaniment"], 2, axis=1))
    _fails(capsys, ["museval", str(est), "--root", str(root)], "accompaniment.wav: 2 channel(s) but the reference",
           f"{mix} has 1")
    bad = good["vocals"].copy()
    bad[3, 0] = np.inf
    _write(folder / "vocals.wav", bad)
    _write(folder / "accompaniment.wav", good["accompaniment"])
    err = _fails(capsys, ["museval", str(est), "--root", str(root)], "1 of 1 track(s) failed", "test/A")
    assert "vocals.wav: 1 NaN/inf sample(s)" in err
    (folder / "vocals.wav").write_bytes(b"not audio")
    _fails(capsys, ["museval", str(est), "--root", str(root)], "vocals.wav: cannot read audio file")
    _fails(capsys, ["museval", str(est), "--root", str(root), "--hop", "-1"], "--hop must be a positive")
    assert not list(est.rglob("*.json"))


@pytest.mark.skipif(not (STEM_ROOT / "train" / "Music Delta - 80s Rock.stem.mp4").is_file(),
                    reason=f"shared MUSDB18 stem sample not found under {STEM_ROOT}")
def test_museval_reproduces_stored_museval_sdr(tmp_path, capsys):
    """museval 0.3.0's JSON for the 80s Rock stem file with seeded random vocals/accompaniment."""
    from mssoracle.datasets import open_dataset

    track = open_dataset(STEM_ROOT, subset="train")[0]
    audio = track.load()
    shape = audio.mixture.T.shape
    np.random.seed(0)
    vocals = np.random.random(shape)
    accompaniment = np.random.random(shape)
    est = tmp_path / "est"
    _write(est / "train" / track.name / "vocals.wav", vocals, sr=audio.sample_rate)  # DOUBLE: exact
    _write(est / "train" / track.name / "accompaniment.wav", accompaniment, sr=audio.sample_rate)
    assert main(["museval", str(est), "--musdb", str(STEM_ROOT), "-o", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "ill-conditioned" in err  # AAC references
    ours = load_track_scores(tmp_path / "out" / "train" / f"{track.name}.json")
    ref = load_track_scores(SHARED / "museval-reference-80s-rock-random-estimates.json")
    assert ours.targets == ref.targets == ["vocals", "accompaniment"]
    for t in ref.targets:
        # both sides rounded to 1e-5: at most one quantum apart
        np.testing.assert_allclose(ours.values(t)["SDR"], ref.values(t)["SDR"], atol=1.01e-5, rtol=0)
    assert json.loads((tmp_path / "out" / "train" / f"{track.name}.json").read_text())["cond"][0]["cond"] > 1e12
