"""``eval --preset seed`` (issue 10): the seed project's STFT (scipy, noverlap=W//4), IRM1 and MPI (the phase of
eps + the sum of the stems) with float32's eps, in float32; its estimates equal the seed's pipeline written
out with scipy.signal.stft/istft; conflicting options are one-line errors."""

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.signal
import soundfile as sf

from conftest import SHARED, requires_shared
from mssoracle import cli
from mssoracle.commands.eval import SEED_EPS, SEED_PRESET_ORACLES, seed_stft_spec

SR = 8000
STEMS = ("drums", "bass", "other", "vocals")
BANDS = ((60, 400), (400, 1100), (1100, 2200), (2200, 3800))
W = 256


@pytest.fixture
def root(tmp_path):
    rng = np.random.default_rng(3)
    n = int(2.5 * SR)
    folder = tmp_path / "data" / "test" / "Track A"
    folder.mkdir(parents=True)
    stems = {}
    for i, name in enumerate(STEMS):
        x = rng.standard_normal((n, 2))
        x = scipy.signal.sosfilt(scipy.signal.butter(4, BANDS[i], "bandpass", fs=SR, output="sos"), x, axis=0)
        x = (0.2 * x + 0.01 * rng.standard_normal((n, 2))) * [1.0, 0.5 + 0.2 * i]
        x[: SR // 4] = 0  # digital silence, where eps decides
        stems[name] = x.astype(np.float32)
        sf.write(str(folder / f"{name}.wav"), stems[name], SR, subtype="FLOAT")
    mix = (sum(stems.values()) * 0.999).astype(np.float32)  # a mixture file that is not exactly the sum
    sf.write(str(folder / "mixture.wav"), mix, SR, subtype="FLOAT")
    return tmp_path / "data", stems, mix


def _seed_pipeline(stems, mix, oracle):
    """The seed's ideal_mask(alpha=1) / ideal_mixphase written out (scipy STFT, complex64, float32 eps)."""
    eps = np.float32(SEED_EPS)

    def fwd(a):
        return scipy.signal.stft(a.T, nperseg=W, noverlap=W // 4)[-1].astype(np.complex64)

    def inv(z, n):
        return scipy.signal.istft(z, nperseg=W, noverlap=W // 4)[1].T.astype(np.float32)[:n]

    X = fwd(mix)
    coefs = {k: fwd(v) for k, v in stems.items()}
    out = {}
    if oracle == "irm1":
        model = eps + sum(np.abs(c) for c in coefs.values())
        for k, c in coefs.items():
            out[k] = inv(X * (np.abs(c) / model), len(mix))
    else:
        model = eps + sum(coefs.values())
        mag = np.abs(model)
        phase = model / np.where(mag == 0, 1, mag)  # librosa.magphase
        phase = np.where(mag == 0, 1, phase)
        for k, c in coefs.items():
            out[k] = inv(np.abs(c) * phase, len(mix))
    return out


def test_preset_seed_estimates_equal_the_seeds_pipeline(root, tmp_path, capsys):
    data, stems, mix = root
    out = tmp_path / "out"
    assert cli.main(["eval", "--preset", "seed", "--root", str(data), "--out", str(out), "--no-progress",
                     "--transform", seed_stft_spec(W), "--save-estimates"]) == 0
    text = capsys.readouterr().out
    assert "median SDR over drums, bass, other, vocals:" in text
    for oracle in ("irm1", "mpi"):
        spec = [s for s in SEED_PRESET_ORACLES.split("],") if s.startswith(oracle)][0]
        spec = spec if spec.endswith("]") else spec + "]"
        method = f"{spec}-stft-{W}-{W - W // 4}"
        assert method in text
        want = _seed_pipeline(stems, mix, oracle)
        for k, ref in want.items():
            got, sr = sf.read(str(out / "estimates" / "musdb18hq" / method / "test" / "Track A" / f"{k}.wav"),
                              dtype="float32")
            assert sr == SR and got.shape == ref.shape
            np.testing.assert_allclose(got, ref, rtol=0, atol=2e-6 * np.abs(ref).max(), err_msg=f"{method} {k}")


def test_preset_seed_defaults(root, tmp_path, capsys):
    data = root[0]
    assert cli.main(["eval", "--preset", "seed", "--root", str(data), "--out", str(tmp_path / "o"),
                     "--dry-run"]) == 0
    text = capsys.readouterr().out
    for w, hop in ((2048, 1536), (4096, 3072)):
        assert f"irm1[eps=1.1920928955078125e-07]-stft-{w}-{hop}" in text
        assert f"mpi[phase=sum,eps=1.1920928955078125e-07]-stft-{w}-{hop}" in text
    assert "4 job(s) would run" in text


@pytest.mark.parametrize("extra,words", [
    (["--oracle", "irm2"], "drop --oracle"),
    (["--precision", "float64"], "drop --precision float64"),
    (["--mixture", "sum"], "drop --mixture sum"),
    (["--transform", "stft:2048"], "--transform stft:2048"),
    (["--transform", "stft:2048:1536:hamming"], "hop 3W/4"),
])
def test_preset_seed_conflicts_are_one_line(root, tmp_path, capsys, extra, words):
    code = cli.main(["eval", "--preset", "seed", "--root", str(root[0]), "--out", str(tmp_path / "o"),
                     "--no-progress", *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and words in err, err
    assert not (tmp_path / "o").exists()


SEED_REFERENCE = Path(__file__).parent / "data" / "seed" / "preset-seed-previews.json"


@requires_shared
def test_preset_seed_equals_the_seeds_own_code_on_the_previews(tmp_path, capsys):
    """Stored outputs of the seed's own oracle functions (its repository, run by
    ``benchmarks/bench_fidelity.py --write-reference``): ``eval --preset seed`` gives every target's median
    SDR within 1e-3 dB on both shared previews, both windows, both oracles."""
    import pandas as pd

    ref = json.loads(SEED_REFERENCE.read_text())
    assert ref["start"] is None and ref["duration"] is None and len(ref["rows"]) == 2 * 2 * 2 * 4
    out = tmp_path / "o"
    assert cli.main(["eval", "--preset", "seed", "--root", str(SHARED / "musdb18hq-sample"), "--subset",
                     ref["subset"], "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    df = pd.read_csv(out / "results.csv")
    df = df[df.metric == "SDR"]
    ours = df.groupby(["method", "track", "target"])["score"].median()
    worst = 0.0
    for row in ref["rows"]:
        w = row["window"]
        eps = "eps=1.1920928955078125e-07"
        method = (f"irm1[{eps}]" if row["oracle"] == "irm1" else f"mpi[phase=sum,{eps}]") + f"-stft-{w}-{3 * w // 4}"
        worst = max(worst, abs(ours[(method, row["track"], row["target"])] - row["SDR"]))
    assert worst <= 1e-3, worst
