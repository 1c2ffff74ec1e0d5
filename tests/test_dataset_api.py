"""TrackAudio's one array and its views, the stemfile/selection/audio modules on their own."""

import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from conftest import STEM_ROOT, requires_shared
from mssoracle import audio as A
from mssoracle import datasets as D
from mssoracle import selection, stemfile
from mssoracle.constants import MUSDB_STEM_STREAMS, MUSDB_STEMS
from mssoracle.errors import AudioError, DatasetError, ParameterError

ROCK = "Music Delta - 80s Rock"


def _write_track(folder, stems=MUSDB_STEMS, *, n=500, sr=8000, dtype="float32", subtype="FLOAT"):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    sigs = {s: (0.1 * rng.standard_normal((n, 2))).astype(dtype) for s in ("mixture",) + tuple(stems)}
    for s, x in sigs.items():
        sf.write(str(folder / f"{s}.wav"), x, sr, subtype=subtype)
    return sigs


def test_track_audio_is_one_array_and_views(tmp_path):
    sigs = _write_track(tmp_path / "t")
    track = D.open_dataset(tmp_path)[0]
    assert track.sample_rate == 8000
    audio = track.load()
    s = audio.signals
    assert s.shape == (5, 2, 500) and s.dtype == np.float32 and s.flags.c_contiguous
    assert audio.stem_names == MUSDB_STEMS and audio.dtype == np.float32
    assert audio.channels == 2 and audio.length == 500
    assert audio.mixture.base is s and np.shares_memory(audio.mixture, s)
    assert audio.stem_stack.shape == (4, 2, 500) and audio.stem_stack.base is s
    for i, name in enumerate(MUSDB_STEMS):
        assert audio.stems[name].base is s
        assert audio.stems[name].__array_interface__["data"][0] == s[1 + i].__array_interface__["data"][0]
        np.testing.assert_array_equal(audio.stems[name], sigs[name].T)
    np.testing.assert_array_equal(audio.mixture, sigs["mixture"].T)
    with pytest.raises(TypeError):
        audio.stems["vocals"] = audio.mixture  # read-only mapping
    assert audio.derived == {"accompaniment": ("drums", "bass", "other")}
    assert set(audio.derived["accompaniment"]) == {"bass", "drums", "other"}
    refs = audio.references()
    assert not np.shares_memory(refs["accompaniment"], s)  # materialised, as documented
    assert refs["drums"] is audio.stems["drums"]


def test_float64_wav_rounds_to_float32_and_is_exact_in_float64(tmp_path):
    sigs = _write_track(tmp_path / "t", ("vocals", "piano"), dtype="float64", subtype="DOUBLE")
    track = D.open_dataset(tmp_path)[0]
    a32, a64 = track.load(), track.load(dtype=np.float64)
    np.testing.assert_array_equal(a64.stems["piano"], sigs["piano"].T)
    np.testing.assert_array_equal(a32.stems["piano"], sigs["piano"].T.astype(np.float32))


@pytest.mark.parametrize("bad", [np.int16, "float16", "complex64", "nonsense"])
def test_load_dtype_is_one_line_parameter_error(tmp_path, bad):
    _write_track(tmp_path / "t")
    track = D.open_dataset(tmp_path)[0]
    with pytest.raises(ParameterError) as exc:
        track.load(dtype=bad)
    assert "\n" not in str(exc.value) and "float32, float64" in str(exc.value)
    with pytest.raises(ParameterError):
        D.read_stem_file(D.default_sample_path(), dtype=bad)


def test_from_arrays_builds_one_array():
    mix = np.ones((2, 10), dtype=np.float32)
    a = D.TrackAudio.from_arrays("x", None, 8000, mix, {"vocals": 2 * mix, "bass": 3 * mix})
    assert a.signals.shape == (3, 2, 10) and a.stem_names == ("vocals", "bass")
    np.testing.assert_array_equal(a.references()["accompaniment"], 3 * mix)
    with pytest.raises(ValueError):
        D.TrackAudio("x", None, 8000, np.zeros((2, 2, 10)), ("a", "b"))


def test_read_audio_into_and_read_audio(tmp_path):
    x = np.random.default_rng(0).standard_normal((70000, 2)).astype(np.float32)
    f = tmp_path / "x.wav"
    sf.write(str(f), x, 16000, subtype="FLOAT")
    out = np.zeros((3, 2, 70000), dtype=np.float64)
    assert A.read_audio_into(f, out[1], block=4096) == 16000
    np.testing.assert_array_equal(out[1], x.T)
    assert not out[0].any() and not out[2].any()
    y, sr = A.read_audio(f, dtype=np.float32)
    assert sr == 16000 and y.flags.c_contiguous and np.array_equal(y, x.T)
    with pytest.raises(AudioError, match="1 x 70000"):
        A.read_audio_into(f, np.empty((1, 70000), dtype=np.float32))
    with pytest.raises(ParameterError):
        A.read_audio_into(f, np.empty((2, 70000), dtype=np.int16))


def test_count_nonfinite_and_valid_audio_in_blocks():
    x = np.zeros((2, 10), dtype=np.float32)
    x[0, 3], x[1, 9] = np.nan, -np.inf
    assert A.count_nonfinite(x, block=4) == 2
    with pytest.raises(AudioError, match="2 NaN/inf"):
        A.valid_audio(x)
    with pytest.raises(AudioError, match="silent"):
        A.valid_audio(np.zeros((2, 5)), allow_silent=False)


def test_sample_rate_rule_is_validators():
    assert A.checked_sample_rate(44100.0, "f.wav") == 44100
    with pytest.raises(AudioError, match=r"^f\.wav: sample rate must be a positive integer"):
        A.checked_sample_rate(0, "f.wav")


# --------------------------------------------------------------------------------------------
# stemfile
# --------------------------------------------------------------------------------------------

def test_probe_stem_file():
    info = stemfile.probe_stem_file(D.default_sample_path())
    assert info.n_streams == 5 and info.sample_rate == 44100 and info.channels == (2,) * 5
    assert info.capacity == 262 * 1024
    with pytest.raises(AudioError, match="no such file"):
        stemfile.probe_stem_file("/nonexistent.stem.mp4")


@requires_shared
@pytest.mark.parametrize("capacity", [None, 1000])
def test_stem_decode_without_or_with_a_wrong_header_bound(monkeypatch, capacity):
    """No bound in the header (None), or one too small (1000): measured first, same samples."""
    path = STEM_ROOT / "train" / f"{ROCK}.stem.mp4"
    ref, sr = stemfile.read_stem_file(path, dtype=np.float32)
    real = stemfile.probe_stem_file

    def probe(p):
        i = real(p)
        return stemfile.StemFileInfo(i.path, i.sample_rates, i.channels, capacity)

    monkeypatch.setattr(stemfile, "probe_stem_file", probe)
    x, sr2 = stemfile.read_stem_file(path, dtype=np.float32, streams=MUSDB_STEM_STREAMS)
    assert sr2 == sr and x.shape == (5, 2, 300032) and x.flags.c_contiguous
    assert np.array_equal(x, ref)


def test_stem_stream_count_checked_before_decoding():
    with pytest.raises(AudioError, match=r"5 audio stream\(s\), expected 3 \(a, b, c\)"):
        stemfile.read_stem_file(D.default_sample_path(), streams=("a", "b", "c"))


def test_datasets_reexports():
    assert D.read_stem_file is stemfile.read_stem_file
    assert D.default_sample_path is stemfile.default_sample_path
    assert D.MUSDB_VALIDATION_TRACKS is selection.MUSDB_VALIDATION_TRACKS
    assert D.DEFAULT_SAMPLE_NAME == "The Easton Ellises - Falcon 69"


def test_modules_import_alone_without_cycles():
    for mod in ("mssoracle.audio", "mssoracle.stemfile", "mssoracle.selection", "mssoracle.datasets"):
        code = f"import {mod}, sys; assert 'stempeg' not in sys.modules and 'av' not in sys.modules"
        subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------------------------
# selection on its own
# --------------------------------------------------------------------------------------------

class _T:
    def __init__(self, name, subset="train"):
        self.name, self.subset = name, subset


def test_selection_functions():
    tracks = [_T(n) for n in sorted(["A - a", "B - b", "C - c", "D - d"])]
    drawn = selection.draw_tracks(tracks, 2, 5, "root")
    keys = sorted(np.random.default_rng(5).choice([f"{t.name}\x00train" for t in tracks], 2, replace=False))
    assert [f"{t.name}\x00train" for t in drawn] == keys
    with pytest.raises(DatasetError, match="^root: 5 tracks asked for but only 4"):
        selection.draw_tracks(tracks, 5, 0, "root")
    assert [t.name for t in selection.select_by_name(tracks, ["C - c", "A - a"], "root")] == ["C - c", "A - a"]
    with pytest.raises(DatasetError, match="did you mean 'B - b' or"):
        selection.select_by_name(tracks, ["b - b"], "root")
    with pytest.raises(DatasetError, match="in the test subset, which was not selected"):
        selection.select_by_name(tracks, ["T - t"], "root", {"T - t": "in the test subset"})
    assert selection.check_selection(2.0, 3, None) == (2, 3, None)
    assert selection.check_selection(None, 0, "A - a") == (None, 0, ["A - a"])
    for bad in ({"n_tracks": 0}, {"n_tracks": 2.5}, {"n_tracks": True}, {"seed": -1}, {"seed": "x"},
                {"n_tracks": 1, "track_names": ["A"]}):
        args = {"n_tracks": None, "seed": 0, "track_names": None, **bad}
        with pytest.raises(ParameterError):
            selection.check_selection(**args)
    assert selection.in_split("Leaf - Summerghost", "valid") and not selection.in_split("Leaf - Summerghost", "train")
    assert selection.in_split("Anything", None)


def test_negative_seed_is_a_parameter_error(tmp_path):
    _write_track(tmp_path / "t")
    with pytest.raises(ParameterError, match="seed"):
        D.open_dataset(tmp_path, n_tracks=1, seed=-1)
