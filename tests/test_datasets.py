"""mssoracle.datasets: layouts, stem-file decoding, track selection, splits, bad input."""

import importlib.metadata
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import HQ_ROOT, STEM_ROOT, requires_shared
from mssoracle import datasets as D
from mssoracle.constants import MUSDB_STEMS
from mssoracle.errors import AudioError, DatasetError, MssOracleError, ParameterError

ROCK = "Music Delta - 80s Rock"
FALCON = "The Easton Ellises - Falcon 69"
SR = 8000
N = 400


# --------------------------------------------------------------------------------------------
# helpers: small synthetic trees
# --------------------------------------------------------------------------------------------

def _write_track(folder, stems=MUSDB_STEMS, *, n=N, sr=SR, channels=2, seed=0, subtype="FLOAT"):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    sigs = {s: 0.1 * rng.standard_normal((n, channels)) for s in stems}
    for s, x in sigs.items():
        sf.write(str(folder / f"{s}.wav"), x, sr, subtype=subtype)
    sf.write(str(folder / "mixture.wav"), sum(sigs.values()), sr, subtype=subtype)
    return sigs


def _make_hq(root, subsets):
    for sub, names in subsets.items():
        (root / sub).mkdir(parents=True, exist_ok=True)
        for i, name in enumerate(names):
            _write_track(root / sub / name, seed=i)
    return root


def _write_stem_file(path, streams, rates=None):
    """Encode (channels, time) arrays as AAC streams of one MP4 file with PyAV."""
    import av

    rates = rates or [44100] * len(streams)
    out = av.open(str(path), "w", format="mp4")
    ss = []
    for x, r in zip(streams, rates):
        s = out.add_stream("aac", rate=r)
        s.layout = "stereo" if x.shape[0] == 2 else "mono"
        ss.append(s)
    for s, x in zip(ss, streams):
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(x, dtype=np.float32), format="fltp",
                                           layout=s.layout.name)
        frame.sample_rate = s.rate
        frame.pts = 0
        for pkt in s.encode(frame):
            out.mux(pkt)
        for pkt in s.encode(None):
            out.mux(pkt)
    out.close()


def _best_lag(a, b, max_lag=2048):
    """Lag (samples) maximising the correlation of two (channels, time) signals."""
    a, b = a.sum(0), b.sum(0)
    n = len(a) + len(b)
    c = np.fft.irfft(np.fft.rfft(a, n) * np.conj(np.fft.rfft(b, n)), n)
    lags = np.r_[np.arange(0, max_lag + 1), np.arange(-max_lag, 0)]
    return int(lags[np.argmax(np.r_[c[:max_lag + 1], c[-max_lag:]])])


def _one_line(exc):
    msg = str(exc)
    assert "\n" not in msg
    return msg


# --------------------------------------------------------------------------------------------
# shared data: both layouts of the real previews
# --------------------------------------------------------------------------------------------

@requires_shared
def test_shared_musdb18hq_layout():
    ds = D.open_dataset(HQ_ROOT, subset="train")
    assert ds.kind == "musdb18hq" and ds.subset == "train"
    assert ds.names == [ROCK, FALCON]
    assert ds.targets == ("drums", "bass", "other", "vocals", "accompaniment")
    lengths = {ROCK: 300032, FALCON: 265216}
    for track in ds:
        assert track.subset == "train" and track.stem_names == MUSDB_STEMS and track.sample_rate == 44100
        audio = track.load()
        assert audio.sample_rate == 44100
        assert audio.signals.shape == (5, 2, lengths[track.name]) and audio.signals.flags.c_contiguous
        assert audio.mixture.shape == (2, lengths[track.name])
        assert audio.mixture.dtype == np.float32  # the default precision
        assert list(audio.stems) == list(MUSDB_STEMS)
        refs = audio.references()
        assert list(refs) == list(MUSDB_STEMS) + ["accompaniment"]
        np.testing.assert_array_equal(refs["accompaniment"],
                                      audio.stems["drums"] + audio.stems["bass"] + audio.stems["other"])
        assert refs["vocals"] is audio.stems["vocals"]
        # the WAVs themselves, read by soundfile: bit-identical in float32 (16-bit PCM and float32 files)
        for k, name in enumerate(("mixture",) + MUSDB_STEMS):
            x, _ = sf.read(str(track.path / f"{name}.wav"), dtype="float32", always_2d=True)
            assert np.array_equal(audio.signals[k], x.T)


@requires_shared
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shared_stem_file_bit_identical_to_ffmpeg_decoded_wavs(dtype):
    """As the README states: PyAV's decode of the 80s Rock stem file equals the ffmpeg-decoded WAVs
    bit for bit (max abs diff 0.0) in all five streams, 300032 samples, in float32 and in float64."""
    ds = D.open_dataset(STEM_ROOT, subset="train")
    assert ds.kind == "musdb18" and ds.names == [ROCK]
    mp4 = ds[0].load(dtype=dtype)
    wav = D.open_dataset(HQ_ROOT, subset="train", track_names=[ROCK])[0].load(dtype=dtype)
    assert mp4.sample_rate == wav.sample_rate == 44100
    assert mp4.signals.dtype == wav.signals.dtype == dtype
    assert mp4.signals.shape == wav.signals.shape == (5, 2, 300032)
    assert mp4.signals.flags.c_contiguous
    for k, name in enumerate(("mixture",) + MUSDB_STEMS):
        diff = float(np.max(np.abs(mp4.signals[k] - wav.signals[k])))
        assert diff == 0.0, (name, diff)
    assert np.array_equal(mp4.signals, wav.signals)


@requires_shared
def test_shared_stem_file_edit_list_is_honoured():
    """The 80s Rock stem file has an MP4 edit list (2048 priming samples): PyAV must honour it."""
    import av

    path = STEM_ROOT / "train" / f"{ROCK}.stem.mp4"
    mp4 = D.open_dataset(path)[0].load()
    # ignoring the edit list gives 295 whole AAC frames, 2048 priming samples first
    with av.open(str(path), options={"ignore_editlist": "1"}) as c:
        raw = np.concatenate([f.to_ndarray() for f in c.decode(c.streams.audio[0])], axis=1)
    assert raw.shape == (2, 295 * 1024)
    np.testing.assert_allclose(raw[:, 2048:], mp4.mixture, rtol=0, atol=1e-6)


@requires_shared
def test_shared_single_file_and_single_track_folder_roots():
    f = STEM_ROOT / "train" / f"{ROCK}.stem.mp4"
    ds = D.open_dataset(f)
    assert ds.kind == "musdb18" and ds.names == [ROCK] and ds[0].subset == "train"
    ds = D.open_dataset(HQ_ROOT / "train" / ROCK)
    assert ds.kind == "folder" and ds.names == [ROCK] and ds.stem_names == MUSDB_STEMS
    ds = D.open_dataset(HQ_ROOT / "train")  # a subset folder on its own: a folder of track folders
    assert ds.kind == "folder" and ds.names == [ROCK, FALCON] and ds[0].subset == "train"


@requires_shared
def test_shared_missing_test_subset_is_one_clear_line():
    with pytest.raises(DatasetError) as exc:
        D.open_dataset(HQ_ROOT)  # default subset "test", absent here
    msg = _one_line(exc.value)
    assert str(HQ_ROOT / "test") in msg and "--subset train" in msg


# --------------------------------------------------------------------------------------------
# the embedded default sample (stempeg is a dependency: always available)
# --------------------------------------------------------------------------------------------

def test_default_sample_path_found_without_importing_stempeg():
    code = ("import sys, mssoracle.datasets as d; p = d.default_sample_path(); "
            "assert 'stempeg' not in sys.modules, 'stempeg imported'; print(p)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    p = Path(out.stdout.strip())
    assert p.is_file() and p.name == f"{FALCON}.stem.mp4" and p.parent.parts[-2:] == ("stempeg", "data")


def test_default_sample_is_used_and_announced(monkeypatch, capsys):
    monkeypatch.delenv("MUSDB_PATH", raising=False)
    ds = D.open_dataset()  # the default subset "test" does not apply to the single preview
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no --root and no MUSDB_PATH" in err and str(D.default_sample_path()) in err
    assert ds.kind == "default-sample" and ds.root is None and ds.names == [FALCON]
    audio = ds[0].load()
    # no edit list in this file: 262 AAC frames, priming kept alike in every stream
    assert audio.sample_rate == 44100 and audio.mixture.shape == (2, 268288)
    assert all(s.shape == (2, 268288) for s in audio.stems.values())
    assert _best_lag(audio.mixture, sum(audio.stems.values())) == 0  # streams sample-aligned
    D.open_dataset(quiet=True)
    assert capsys.readouterr().err == ""


def test_default_sample_float32_and_read_stem_file():
    path = D.default_sample_path()
    x, sr = D.read_stem_file(path, dtype=np.float32)
    assert x.shape == (5, 2, 268288) and x.dtype == np.float32 and sr == 44100
    audio = D.open_dataset(path).tracks[0].load(dtype=np.float32)
    np.testing.assert_array_equal(audio.mixture, x[0])
    np.testing.assert_array_equal(audio.stems["vocals"], x[4])
    with pytest.raises(ParameterError):
        D.read_stem_file(path, dtype=np.int16)


def test_stempeg_missing_gives_clear_error(monkeypatch):
    def no_dist(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", no_dist)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(DatasetError, match="stempeg is not installed"):
        D.default_sample_path()


def test_root_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("MUSDB_PATH", raising=False)
    assert D.resolve_root() is None and D.resolve_root("") is None
    assert D.resolve_root(tmp_path) == tmp_path
    monkeypatch.setenv("MUSDB_PATH", str(tmp_path / "env"))
    assert D.resolve_root() == tmp_path / "env"
    assert D.resolve_root(tmp_path) == tmp_path  # the argument wins
    _make_hq(tmp_path / "env", {"test": ["A - a", "B - b"]})
    ds = D.open_dataset()
    assert ds.kind == "musdb18hq" and ds.root == tmp_path / "env" and ds.names == ["A - a", "B - b"]


# --------------------------------------------------------------------------------------------
# synthetic MUSDB18-HQ trees: subsets, selection, splits
# --------------------------------------------------------------------------------------------

TRAIN = ["Zed - Last", "Alpha - One", "Beta - Two", "Gamma - Three", "Delta - Four", "Eps - Five", "Mu - Six"]
TEST = ["Test - A", "Test - B", "Test - C"]


@pytest.fixture(scope="module")
def hq(tmp_path_factory):
    return _make_hq(tmp_path_factory.mktemp("hq"), {"train": TRAIN, "test": TEST})


def test_subsets(hq):
    assert D.open_dataset(hq).names == sorted(TEST)
    ds = D.open_dataset(hq, subset="train")
    assert ds.names == sorted(TRAIN) and {t.subset for t in ds} == {"train"}
    both = D.open_dataset(hq, subset=None)
    assert both.names == sorted(TRAIN + TEST) and both.subset is None
    assert {t.name: t.subset for t in both}["Test - A"] == "test"
    assert D.open_dataset(hq, subset="all").names == both.names
    with pytest.raises(ParameterError, match="unknown subset 'valid'"):
        D.open_dataset(hq, subset="valid")


def test_random_tracks_reproducible(hq):
    names = sorted(TRAIN)
    for seed in (0, 1, 42):
        expected = sorted(np.random.default_rng(seed).choice(names, 3, replace=False).tolist())
        a = D.open_dataset(hq, subset="train", n_tracks=3, seed=seed).names
        b = D.open_dataset(hq, subset="train", n_tracks=3, seed=seed).names
        assert a == b == expected  # drawn set, returned in sorted order
    draws = {tuple(D.open_dataset(hq, subset="train", n_tracks=3, seed=s).names) for s in range(8)}
    assert len(draws) > 1  # the seed matters
    assert D.open_dataset(hq, subset="train", n_tracks=len(TRAIN)).names == names
    with pytest.raises(DatasetError, match="8 tracks asked for but only 7"):
        D.open_dataset(hq, subset="train", n_tracks=8)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ParameterError):
            D.open_dataset(hq, subset="train", n_tracks=bad)


def test_tracks_by_name(hq):
    ds = D.open_dataset(hq, subset="train", track_names=["Zed - Last", "Alpha - One", "Zed - Last"])
    assert ds.names == ["Zed - Last", "Alpha - One"]  # given order, duplicates dropped
    assert ds["Alpha - One"].path == hq / "train" / "Alpha - One"
    with pytest.raises(DatasetError) as exc:
        D.open_dataset(hq, subset="train", track_names=["alpha - one"])
    assert "did you mean 'Alpha - One'" in _one_line(exc.value)
    with pytest.raises(DatasetError, match="'Test - A'.*in the test subset"):
        D.open_dataset(hq, subset="train", track_names=["Test - A"])
    with pytest.raises(DatasetError, match="no track named 'Nothing Like It'"):
        D.open_dataset(hq, subset="train", track_names=["Nothing Like It"])
    with pytest.raises(ParameterError, match="not both"):
        D.open_dataset(hq, subset="train", track_names=["Alpha - One"], n_tracks=1)


def test_validation_split(tmp_path):
    valid = list(D.MUSDB_VALIDATION_TRACKS[:3])
    other = ["Other - One", "Other - Two"]
    root = _make_hq(tmp_path, {"train": valid + other, "test": ["T - t"]})
    ds = D.open_dataset(root, subset="train", split="valid")
    assert ds.names == sorted(valid) and ds.split == "valid" and ds.subset == "train"
    assert D.open_dataset(root, subset="train", split="train").names == other
    assert D.open_dataset(root, subset=None, split="train").names == other  # split implies train
    with pytest.raises(ParameterError, match="cannot be combined with --subset test"):
        D.open_dataset(root, subset="test", split="valid")
    with pytest.raises(ParameterError, match="unknown split"):
        D.open_dataset(root, subset="train", split="validation")
    with pytest.raises(DatasetError, match="in the valid split"):
        D.open_dataset(root, subset="train", split="train", track_names=[valid[0]])
    sel = D.open_dataset(root, subset="train", split="valid", n_tracks=2, seed=3).names
    assert sel == sorted(np.random.default_rng(3).choice(sorted(valid), 2, replace=False).tolist())
    only_other = _make_hq(tmp_path / "b", {"train": other})
    with pytest.raises(DatasetError, match="none of its 2 track"):
        D.open_dataset(only_other, subset="train", split="valid")


def test_validation_list_matches_musdb():
    try:
        dist = importlib.metadata.distribution("musdb")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("musdb not installed")
    cfg = Path(dist.locate_file("musdb/configs/mus.yaml"))
    if not cfg.is_file():
        pytest.skip("musdb's mus.yaml not found")
    text = cfg.read_text()
    block = text.split("validation_tracks:")[1]
    names = []
    for line in block.splitlines()[1:]:
        m = re.match(r"\s*-\s*'?(.*?)'?\s*$", line)
        if not m or not line.strip().startswith("-"):
            break
        names.append(m.group(1))
    assert tuple(names) == D.MUSDB_VALIDATION_TRACKS and len(names) == 14


# --------------------------------------------------------------------------------------------
# folder-of-stems layout and references()
# --------------------------------------------------------------------------------------------

def test_folder_of_stems(tmp_path):
    stems = ("vocals", "piano", "guitar")
    sigs = _write_track(tmp_path / "song2", stems, seed=2)
    _write_track(tmp_path / "song1", stems, seed=1)
    ds = D.open_dataset(tmp_path, subset="train")  # subset does not apply to a plain folder
    assert ds.kind == "folder" and ds.subset is None and ds.names == ["song1", "song2"]
    assert ds.stem_names == ("guitar", "piano", "vocals")  # sorted
    assert ds.targets == ("guitar", "piano", "vocals", "accompaniment")
    audio = ds["song2"].load()
    assert audio.subset is None and audio.sample_rate == SR and audio.mixture.shape == (2, N)
    np.testing.assert_allclose(audio.stems["piano"], sigs["piano"].T.astype(np.float32), rtol=0, atol=0)
    refs = audio.references(["accompaniment", "vocals"])
    assert list(refs) == ["accompaniment", "vocals"]
    np.testing.assert_allclose(refs["accompaniment"], audio.stems["guitar"] + audio.stems["piano"])
    assert list(audio.references("vocals, piano")) == ["vocals", "piano"]
    with pytest.raises(DatasetError) as exc:
        audio.references(["vocals", "drums"])
    assert "'drums'" in _one_line(exc.value) and "guitar, piano, vocals, accompaniment" in str(exc.value)


def test_folder_without_vocals_has_no_accompaniment(tmp_path):
    _write_track(tmp_path / "t", ("a", "b"))
    audio = D.open_dataset(tmp_path).tracks[0].load()
    assert audio.targets == ("a", "b") and list(audio.references()) == ["a", "b"]
    with pytest.raises(DatasetError, match="valid targets: a, b"):
        audio.references(["accompaniment"])


def test_folder_with_musdb_stems_keeps_musdb_order(tmp_path):
    _write_track(tmp_path / "t")
    assert D.open_dataset(tmp_path).stem_names == MUSDB_STEMS


def test_folder_stem_sets_must_agree(tmp_path):
    _write_track(tmp_path / "a", ("vocals", "piano"))
    _write_track(tmp_path / "b", ("vocals", "guitar"))
    with pytest.raises(DatasetError) as exc:
        D.open_dataset(tmp_path)
    msg = _one_line(exc.value)
    assert str(tmp_path / "b" / "piano.wav") in msg and "missing stem file" in msg and "guitar.wav" in msg
    # selecting one track avoids the other
    assert D.open_dataset(tmp_path, track_names=["a"]).stem_names == ("piano", "vocals")


def test_folder_track_without_mixture(tmp_path):
    _write_track(tmp_path / "a", ("vocals", "piano"))
    (tmp_path / "b").mkdir()
    sf.write(str(tmp_path / "b" / "vocals.wav"), np.zeros((N, 2)), SR)
    with pytest.raises(DatasetError, match=re.escape(str(tmp_path / "b" / "mixture.wav"))):
        D.open_dataset(tmp_path)


# --------------------------------------------------------------------------------------------
# MUSDB18 stem-file layout, synthetic (PyAV encodes AAC)
# --------------------------------------------------------------------------------------------

def test_synthetic_stem_files_layout_and_alignment(tmp_path):
    rng = np.random.default_rng(0)
    n = 8192
    t = np.arange(n) / 44100
    stems = [0.2 * np.sin(2 * np.pi * f * t) * np.hanning(n) * np.array([[1.0], [0.5]])
             for f in (220, 330, 440, 550)]
    stems = [s + 0.01 * rng.standard_normal(s.shape) for s in stems]
    streams = [sum(stems)] + stems
    (tmp_path / "test").mkdir()
    _write_stem_file(tmp_path / "test" / "X - y.stem.mp4", streams)
    ds = D.open_dataset(tmp_path)
    assert ds.kind == "musdb18" and ds.names == ["X - y"] and ds[0].subset == "test"
    audio = ds[0].load()
    # the MP4 muxer writes an edit list for the encoder priming; honouring it gives back n samples
    assert audio.mixture.shape == (2, n)
    for dec, src in zip([audio.mixture] + list(audio.stems.values()), streams):
        assert _best_lag(dec, src) == 0
        snr = 10 * np.log10(np.sum(src ** 2) / np.sum((dec - src) ** 2))
        assert snr > 10, snr  # lossy, but the same signal at the same place


def test_stem_file_errors(tmp_path):
    x = [0.1 * np.random.default_rng(i).standard_normal((2, 2048)) for i in range(5)]
    bad_len = x[:2] + [0.1 * np.ones((2, 4096))] + x[3:]
    _write_stem_file(tmp_path / "len.stem.mp4", bad_len)
    with pytest.raises(AudioError) as exc:
        D.read_stem_file(tmp_path / "len.stem.mp4")
    msg = _one_line(exc.value)
    assert "len.stem.mp4" in msg and "different lengths" in msg and "stream 2: 4096" in msg

    _write_stem_file(tmp_path / "rate.stem.mp4", x, rates=[44100, 44100, 22050, 44100, 44100])
    with pytest.raises(AudioError, match=r"rate\.stem\.mp4: audio streams have different sample rates"):
        D.read_stem_file(tmp_path / "rate.stem.mp4")
    with pytest.raises(AudioError, match="different sample rates"):  # header check at open time
        D.open_dataset(tmp_path / "rate.stem.mp4")

    _write_stem_file(tmp_path / "three.stem.mp4", x[:3])
    with pytest.raises(AudioError, match=r"three\.stem\.mp4: 3 audio stream\(s\), expected 5"):
        D.open_dataset(tmp_path / "three.stem.mp4")
    with pytest.raises(AudioError, match="expected 5"):
        D.open_dataset(tmp_path / "three.stem.mp4", check=False)[0].load()

    junk = tmp_path / "junk.stem.mp4"
    junk.write_bytes(b"this is not an mp4 file" * 20)
    with pytest.raises(AudioError, match=r"junk\.stem\.mp4: cannot read stem file"):
        D.open_dataset(junk)
    with pytest.raises(AudioError, match=r"junk\.stem\.mp4: cannot read stem file"):
        D.open_dataset(junk, check=False)[0].load()


# --------------------------------------------------------------------------------------------
# bad input in WAV layouts: one line naming the file, at open time and at load time
# --------------------------------------------------------------------------------------------

def _broken_hq(tmp_path, mutate):
    root = _make_hq(tmp_path, {"test": ["Good - Song", "Bad - Song"]})
    folder = root / "test" / "Bad - Song"
    mutate(folder)
    return root, folder


def _expect(root, exc_type, file, fragment):
    """The error comes at open time (header check) and again at load time."""
    for check in (True, False):
        with pytest.raises(exc_type) as exc:
            ds = D.open_dataset(root, check=check)
            for t in ds:
                t.load()
        msg = _one_line(exc.value)
        assert msg.startswith(str(file)) and fragment in msg, msg
    D.open_dataset(root, track_names=["Good - Song"]).tracks[0].load()  # the others still work


def test_missing_stem(tmp_path):
    root, folder = _broken_hq(tmp_path, lambda f: (f / "bass.wav").unlink())
    _expect(root, DatasetError, folder / "bass.wav", "missing stem file")


def test_other_sample_rate(tmp_path):
    root, folder = _broken_hq(tmp_path, lambda f: sf.write(str(f / "bass.wav"), np.zeros((N, 2)), 2 * SR))
    _expect(root, AudioError, folder / "bass.wav",
            f"{2 * SR} Hz but mixture.wav is {SR} Hz; all stems of a track must share the mixture's sample rate")


def test_other_length(tmp_path):
    root, folder = _broken_hq(tmp_path, lambda f: sf.write(str(f / "drums.wav"), np.zeros((N - 1, 2)), SR))
    _expect(root, AudioError, folder / "drums.wav", f"{N - 1} samples but mixture.wav has {N}")


def test_other_channel_count(tmp_path):
    root, folder = _broken_hq(tmp_path, lambda f: sf.write(str(f / "vocals.wav"), np.zeros(N), SR))
    _expect(root, AudioError, folder / "vocals.wav", "1 channel(s) but mixture.wav has 2")


def test_nan_samples(tmp_path):
    def put_nan(f):
        x = np.zeros((N, 2))
        x[10, 1] = np.nan
        x[11, 0] = np.inf
        sf.write(str(f / "other.wav"), x, SR, subtype="FLOAT")

    root, folder = _broken_hq(tmp_path, put_nan)
    ds = D.open_dataset(root)  # headers are fine: open is lazy, the samples are checked on load
    with pytest.raises(AudioError) as exc:
        ds["Bad - Song"].load()
    msg = _one_line(exc.value)
    assert msg.startswith(str(folder / "other.wav")) and "2 NaN/inf sample(s)" in msg


def test_unreadable_file(tmp_path):
    root, folder = _broken_hq(tmp_path, lambda f: (f / "drums.wav").write_bytes(b"RIFF not really a wav"))
    _expect(root, AudioError, folder / "drums.wav", "cannot read audio file")


def test_empty_wrong_and_odd_roots(tmp_path):
    with pytest.raises(DatasetError) as exc:
        D.open_dataset(tmp_path)
    assert _one_line(exc.value).startswith(f"{tmp_path}: empty folder")
    with pytest.raises(DatasetError, match="no such file or directory"):
        D.open_dataset(tmp_path / "nope")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DatasetError, match="no MUSDB18-HQ .* layout found"):
        D.open_dataset(tmp_path)
    with pytest.raises(DatasetError, match="not a dataset folder nor a .stem.mp4 file"):
        D.open_dataset(tmp_path / "notes.txt")
    (tmp_path / "sub" / "test").mkdir(parents=True)
    with pytest.raises(DatasetError) as exc:
        D.open_dataset(tmp_path / "sub")
    assert _one_line(exc.value).startswith(str(tmp_path / "sub" / "test") + ": no tracks")
    with pytest.raises(ParameterError, match="float32, float64"):
        D.open_dataset(D.default_sample_path())[0].load(dtype=np.int16)


def test_errors_are_mssoracle_errors():
    for e in (AudioError, DatasetError, ParameterError):
        assert issubclass(e, MssOracleError)


def test_dataset_is_lazy_sequence(hq):
    ds = D.open_dataset(hq, subset="train")
    assert len(ds) == len(TRAIN) and isinstance(ds[0], D.Track) and ds[1:3] == ds.tracks[1:3]
    assert not any(isinstance(v, np.ndarray) for t in ds for v in vars(t).values())
    assert "MUSDB18-HQ" in ds.describe() and "7 track(s)" in ds.describe()
    a = ds[0].load(dtype=np.float32)
    assert a.mixture.dtype == np.float32 and a.stems["drums"].dtype == np.float32

