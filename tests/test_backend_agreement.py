"""The backend is recorded with a result, not compared (issue 8): in float64, numpy and torch agree on SDR to
1e-9 dB and on SIR/ISR/SAR to 1e-3 dB where the reference Gram matrix is well conditioned (cond < 1e12)."""

import numpy as np
import pytest

from conftest import HQ_ROOT, requires_shared

torch = pytest.importorskip("torch")


def _both(references, estimates, win, hop):
    from mssoracle.bsseval import evaluate

    a = evaluate(references, estimates, win=win, hop=hop, backend="numpy")
    b = evaluate(references, estimates, win=win, hop=hop, backend="torch")
    return [np.asarray(x, dtype=float) for x in a[:4]], [np.asarray(x, dtype=float) for x in b[:4]]


def _check(a, b):
    (sdr_a, isr_a, sir_a, sar_a), (sdr_b, isr_b, sir_b, sar_b) = a, b
    finite = np.isfinite(sdr_a)
    assert finite.any()
    assert np.max(np.abs(sdr_a - sdr_b)[finite]) < 1e-9
    for x, y in ((isr_a, isr_b), (sir_a, sir_b), (sar_a, sar_b)):
        assert np.max(np.abs(x - y)[finite]) < 1e-3


def test_numpy_and_torch_agree_on_synthetic_stems():
    rng = np.random.default_rng(4)
    refs = rng.standard_normal((3, 3 * 8000, 2))
    ests = refs + 0.3 * rng.standard_normal(refs.shape)
    _check(*_both(refs, ests, 8000, 8000))


@requires_shared
def test_numpy_and_torch_agree_on_a_lossless_musdb_track():
    """Falcon 69 (16-bit PCM stems, cond 2e11-3e11): noisy estimates of its stems."""
    import soundfile as sf

    folder = HQ_ROOT / "train" / "The Easton Ellises - Falcon 69"
    refs = np.stack([sf.read(str(folder / f"{s}.wav"), always_2d=True)[0][: 4 * 44100]
                     for s in ("drums", "bass", "other", "vocals")])
    rng = np.random.default_rng(5)
    ests = refs + 0.05 * rng.standard_normal(refs.shape) * refs.std()
    _check(*_both(refs, ests, 44100, 44100))
