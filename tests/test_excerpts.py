"""Excerpts (``--start``/``--duration``, issue 10): musdb's chunk_start/chunk_duration, sample-exact; scoring an
excerpt of WAV files equals scoring the files cut to it; the excerpt is part of the method name and identity."""

import json

import numpy as np
import pandas as pd
import pytest
import scipy.signal
import soundfile as sf

from mssoracle import cli
from mssoracle.datasets import excerpt_samples, open_dataset
from mssoracle.errors import ParameterError
from mssoracle.experiment.identity import same_result
from mssoracle.experiment.names import method_name, parse_method_name

SR = 8000
STEMS = ("drums", "bass", "other", "vocals")
BANDS = ((60, 400), (400, 1100), (1100, 2200), (2200, 3800))


def _stems(seconds=4.0, seed=0):
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    out = {}
    for i, name in enumerate(STEMS):
        x = rng.standard_normal((n, 2))
        x = scipy.signal.sosfilt(scipy.signal.butter(4, BANDS[i], "bandpass", fs=SR, output="sos"), x, axis=0)
        out[name] = (x + 0.03 * rng.standard_normal((n, 2))) * [1.0, 0.5 + 0.2 * i]
    return out


def _write(folder, stems, a=0, b=None):
    folder.mkdir(parents=True)
    for name, x in stems.items():
        sf.write(str(folder / f"{name}.wav"), x[a:b], SR, subtype="FLOAT")
    sf.write(str(folder / "mixture.wav"), sum(x[a:b] for x in stems.values()), SR, subtype="FLOAT")


@pytest.fixture
def roots(tmp_path):
    stems = _stems()
    start, duration = 1.3, 2.05
    a, n = excerpt_samples(start, duration, SR)
    assert (a, n) == (int(1.3 * SR), int(2.05 * SR))
    _write(tmp_path / "whole" / "test" / "Track A", stems)
    _write(tmp_path / "cut" / "test" / "Track A", stems, a, a + n)
    return tmp_path / "whole", tmp_path / "cut", start, duration


def test_load_excerpt_is_a_seek_of_the_same_samples(roots):
    whole, _, start, duration = roots
    track = open_dataset(whole)[0]
    full = track.load(dtype=np.float32)
    a, n = excerpt_samples(start, duration, SR)
    part = track.load(dtype=np.float32, offset=a, frames=n)
    np.testing.assert_array_equal(part.signals, full.signals[..., a:a + n])
    assert part.signals.flags.c_contiguous
    tail = track.load(dtype=np.float64, offset=a)
    assert tail.length == full.length - a
    with pytest.raises(ParameterError, match="Track A"):
        track.load(offset=full.length)
    with pytest.raises(ParameterError, match="--duration"):
        track.load(offset=a, frames=full.length)
    end = track.load(dtype=np.float32, offset=full.length - 1000, frames=1000)  # up to the last sample
    np.testing.assert_array_equal(end.signals, full.signals[..., -1000:])
    with pytest.raises(ParameterError, match="--duration"):  # past the decoded end, inside the header's bound
        track.load(offset=full.length - 1000, frames=1001)
    tail = track.load(dtype=np.float32, offset=a)  # to the end: decoded whole
    np.testing.assert_array_equal(tail.signals, full.signals[..., a:])


def test_excerpt_scores_equal_a_cut_file(roots, tmp_path, capsys):
    whole, cut, start, duration = roots
    common = ["--oracle", "irm1,mpi", "--transform", "stft:256", "--no-progress"]
    assert cli.main(["eval", "--root", str(whole), "--out", str(tmp_path / "o1"), "--start", str(start),
                     "--duration", str(duration), *common]) == 0
    text = capsys.readouterr().out
    assert "irm1-stft-256-64+start=1.3+duration=2.05" in text
    assert cli.main(["eval", "--root", str(cut), "--out", str(tmp_path / "o2"), *common]) == 0
    t1 = pd.read_csv(tmp_path / "o1" / "results.csv")
    t2 = pd.read_csv(tmp_path / "o2" / "results.csv")
    t1["method"] = t1["method"].str.replace("+start=1.3+duration=2.05", "", regex=False)
    key = ["method", "track", "target", "metric", "time"]
    m = t1.merge(t2, on=key, suffixes=("_x", "_c"))
    assert len(m) == len(t1) == len(t2) > 0
    np.testing.assert_allclose(m.score_x, m.score_c, rtol=0, atol=1e-9)
    doc = json.loads(next((tmp_path / "o1" / "scores").glob("*/irm1-*/*/*.json")).read_text())
    assert doc["config"]["excerpt"] == {"start": 1.3, "duration": 2.05}
    assert doc["config"]["method"] == "irm1-stft-256-64+start=1.3+duration=2.05"


def test_excerpt_in_names_and_identity():
    name = method_name("irm1", "stft:2048:1536", start=30, duration=10)
    assert name == "irm1-stft-2048-1536+start=30+duration=10"
    cfg = parse_method_name(name)
    assert cfg.qualifiers["start"] == 30.0 and cfg.qualifiers["duration"] == 10.0
    assert method_name("irm1", "stft:2048", start=0, duration=None) == "irm1-stft-2048-512"
    assert method_name("irm1", "stft:2048", start=46.5) == "irm1-stft-2048-512+start=46.5"
    with pytest.raises(ParameterError, match="not canonical"):
        parse_method_name("irm1-stft-2048-512+duration=10+start=30")
    with pytest.raises(ParameterError, match="duration"):
        method_name("irm1", "stft:2048", duration=0)
    old = {"method": "irm1-stft-2048-512", "oracle": "irm1"}  # stored before excerpts: the whole track
    assert same_result(old, dict(old, excerpt={"start": 0.0, "duration": None}))
    assert not same_result(old, dict(old, excerpt={"start": 30.0, "duration": 10.0}))


@pytest.mark.parametrize("extra,words", [
    (["--start", "5"], ["--start 5", "Track A", "4 s", "0 <= start < 4"]),
    (["--start", "3", "--duration", "2"], ["--duration 2", "Track A", "0 < duration <= 1"]),
    (["--duration", "0"], ["--duration 0", "> 0"]),
    (["--start", "-1"], ["--start -1", ">= 0"]),
])
def test_excerpt_outside_the_track_is_one_line_exit_2(roots, tmp_path, capsys, extra, words):
    whole = roots[0]
    out = tmp_path / "never"
    code = cli.main(["eval", "--root", str(whole), "--out", str(out), "--no-progress", "--oracle", "irm1",
                     "--transform", "stft:256", *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    for w in words:
        assert w in err, err
    assert not out.exists()


def test_museval_excerpt_equals_cut_references(roots, tmp_path, capsys):
    whole, cut, start, duration = roots
    excerpt = ["--start", str(start), "--duration", str(duration)]
    assert cli.main(["eval", "--root", str(whole), "--out", str(tmp_path / "o"), "--oracle", "irm1",
                     "--transform", "stft:256", "--no-progress", "--save-estimates", *excerpt]) == 0
    est = next((tmp_path / "o" / "estimates" / "musdb18hq").iterdir())
    assert cli.main(["museval", str(est), "--root", str(whole), "-o", str(tmp_path / "m1"), *excerpt]) == 0
    assert cli.main(["museval", str(est), "--root", str(cut), "-o", str(tmp_path / "m2")]) == 0
    capsys.readouterr()
    a = json.loads((tmp_path / "m1" / "test" / "Track A.json").read_text())
    b = json.loads((tmp_path / "m2" / "test" / "Track A.json").read_text())
    assert a["targets"] == b["targets"] and len(a["targets"]) == 5
    code = cli.main(["museval", str(est), "--root", str(whole), "-o", str(tmp_path / "m3"), "--start", "9"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--start 9" in err[0] and "Track A" in err[0]


def test_stem_file_excerpt_is_the_decoded_samples(monkeypatch):
    """A .stem.mp4 track (the stempeg preview): the excerpt is the decoded samples a .. a + n; outside the
    header's bound it is refused before decoding, inside it but past the decoded end after."""
    from mssoracle.stemfile import default_sample_path

    path = default_sample_path()
    if path is None or not path.is_file():
        pytest.skip("no stem-file preview installed")
    monkeypatch.delenv("MUSDB_PATH", raising=False)
    track = open_dataset(None)[0]
    assert track.path == path
    bound, exact = track.header_length()
    assert not exact and bound > 0
    full = track.load(dtype=np.float32)
    a, n = excerpt_samples(1.5, 2.0, full.sample_rate)
    part = track.load(dtype=np.float32, offset=a, frames=n)
    np.testing.assert_array_equal(part.signals, full.signals[..., a:a + n])
    with pytest.raises(ParameterError, match="--duration"):
        track.load(offset=a, frames=full.length)
    end = track.load(dtype=np.float32, offset=full.length - 1000, frames=1000)  # up to the last sample
    np.testing.assert_array_equal(end.signals, full.signals[..., -1000:])
    with pytest.raises(ParameterError, match="--duration"):  # past the decoded end, inside the header's bound
        track.load(offset=full.length - 1000, frames=1001)
    tail = track.load(dtype=np.float32, offset=a)  # to the end: decoded whole
    np.testing.assert_array_equal(tail.signals, full.signals[..., a:])
