"""SI-SDR / SI-SDRi: :func:`mssoracle.metrics.si_sdr` against torchmetrics and the published formula."""

import numpy as np
import pytest

from mssoracle.errors import AudioError, ParameterError
from mssoracle.metrics import METRICS, si_sdr
from mssoracle.metrics import _blocks

from test_metrics_usdr import STEMS, _context, estimates_of, previews


def si_sdr_formula(references, estimates, zero_mean=False, eps=None):
    """Transcription of SI-SDR (Le Roux et al. 2019) with torchmetrics' eps placement, float64 numpy,
    per channel (last axis: time), then the mean over channels."""
    eps = np.finfo(np.asarray(estimates).dtype).eps if eps is None else eps
    s = np.asarray(references, dtype=np.float64)
    x = np.asarray(estimates, dtype=np.float64)
    if zero_mean:
        s = s - s.mean(axis=-1, keepdims=True)
        x = x - x.mean(axis=-1, keepdims=True)
    alpha = (np.sum(x * s, axis=-1, keepdims=True) + eps) / (np.sum(s ** 2, axis=-1, keepdims=True) + eps)
    target = alpha * s
    noise = target - x
    return (10 * np.log10((np.sum(target ** 2, axis=-1) + eps) / (np.sum(noise ** 2, axis=-1) + eps))).mean(-1)


def _torchmetrics(references, estimates, zero_mean):
    tm = pytest.importorskip("torchmetrics.functional.audio")
    import torch

    v = tm.scale_invariant_signal_distortion_ratio(torch.as_tensor(estimates), torch.as_tensor(references),
                                                   zero_mean=zero_mean)
    return v.double().mean(-1).numpy()


def _signals(shape, seed, dtype=np.float64, offset=0.0):
    rs = np.random.RandomState(seed)
    s = rs.standard_normal(shape) + offset
    e = rs.uniform(0.3, 2.0, shape[:-1] + (1,)) * s + rs.uniform(0.01, 1.0, shape[:-1] + (1,)) * \
        rs.standard_normal(shape) + 0.1
    return s.astype(dtype), e.astype(dtype)


@pytest.mark.parametrize("zero_mean", [False, True])
@pytest.mark.parametrize("shape", [(2, 4000), (3, 2, 5000)])
def test_equals_torchmetrics_float64(shape, zero_mean, monkeypatch):
    s, e = _signals(shape, 0, offset=0.5)
    want = _torchmetrics(s, e, zero_mean)
    np.testing.assert_allclose(si_sdr(s, e, zero_mean=zero_mean), want, rtol=0, atol=1e-6)
    monkeypatch.setattr(_blocks, "BLOCK_BYTES", 1)  # several blocks
    np.testing.assert_allclose(si_sdr(s, e, zero_mean=zero_mean), want, rtol=0, atol=1e-6)


@pytest.mark.parametrize("zero_mean", [False, True])
def test_equals_torchmetrics_float32(zero_mean):
    s, e = _signals((3, 2, 6000), 1, dtype=np.float32, offset=0.3)
    got = si_sdr(s, e, zero_mean=zero_mean)
    # the same numbers in float64 arithmetic: torchmetrics on the float32 samples cast to float64 (its eps
    # is then float64's; float32's eps moves these sums of ~6000 by < 1e-9 dB)
    np.testing.assert_allclose(got, _torchmetrics(s.astype(np.float64), e.astype(np.float64), zero_mean),
                               rtol=0, atol=1e-6)
    # torchmetrics' own float32 arithmetic: within float32 rounding
    np.testing.assert_allclose(got, _torchmetrics(s, e, zero_mean), rtol=0, atol=1e-3)


def test_real_previews_equal_torchmetrics():
    rs = np.random.RandomState(2)
    for track, stems in previews().items():
        est = estimates_of(stems, rs)
        R = np.stack([stems[x] for x in STEMS]).astype(np.float64)
        E = np.stack([est[x] for x in STEMS]).astype(np.float64)
        for zm in (False, True):
            np.testing.assert_allclose(si_sdr(R, E, zero_mean=zm), _torchmetrics(R, E, zm), rtol=0, atol=1e-6,
                                       err_msg=track)
            got32 = si_sdr([stems[x] for x in STEMS], [est[x] for x in STEMS], zero_mean=zm)
            np.testing.assert_allclose(got32, si_sdr_formula(R, E, zm, eps=np.finfo(np.float32).eps), rtol=0,
                                       atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("zero_mean", [False, True])
def test_direct_formula(dtype, zero_mean):
    """Without torchmetrics: the published formula, eps of the estimates' dtype, also where eps matters."""
    for scale in (1.0, 1e-4):  # 1e-4: energies ~1e-5, where float32's eps is visible
        s, e = _signals((2, 2, 3000), 3, dtype=dtype, offset=0.2)
        s, e = (s * scale).astype(dtype), (e * scale).astype(dtype)
        want = si_sdr_formula(s, e, zero_mean)
        np.testing.assert_allclose(si_sdr(s, e, zero_mean=zero_mean), want, rtol=0, atol=1e-9)
    assert np.all(np.abs(si_sdr(s, e, eps=0.0) - si_sdr_formula(s, e, eps=0.0)) < 1e-9)
    if dtype is np.float32:  # eps follows the estimates' dtype, as torchmetrics' preds
        assert abs(si_sdr(s, e) - si_sdr(s.astype(np.float64), e.astype(np.float64))).max() > 1e-6


def test_scale_invariance_and_near_perfect_estimates():
    s, e = _signals((2, 5000), 4)
    np.testing.assert_allclose(si_sdr(s, 3.0 * e, eps=0), si_sdr(s, e, eps=0), rtol=0, atol=1e-9)
    # the noise energy comes from alpha s - s_hat itself: a 150 dB estimate keeps its digits
    rs = np.random.RandomState(5)
    x = s + 1e-7 * rs.standard_normal(s.shape)
    assert si_sdr(s, x, eps=0) == pytest.approx(float(si_sdr_formula(s, x, eps=0)), abs=1e-6)


def test_torch_equals_numpy():
    torch = pytest.importorskip("torch")
    s, e = _signals((3, 2, 3000), 6, dtype=np.float32)
    for zm in (False, True):
        got = si_sdr(torch.from_numpy(s), torch.from_numpy(e), zero_mean=zm)
        assert isinstance(got, torch.Tensor) and got.dtype == torch.float64 and got.shape == (3,)
        np.testing.assert_allclose(got.numpy(), si_sdr(s, e, zero_mean=zm), rtol=0, atol=1e-9)


def test_bad_input():
    x = np.ones((2, 10))
    with pytest.raises(ParameterError, match=r"references.shape = \(2, 10\), estimates.shape = \(1, 10\)"):
        si_sdr(x, np.ones((1, 10)))
    with pytest.raises(ParameterError, match="expected"):
        si_sdr(np.ones(10), np.ones(10))
    bad = x.copy()
    bad[0, 0] = np.inf
    with pytest.raises(AudioError, match="references: 1 NaN/inf"):
        si_sdr(bad, x)
    with pytest.raises(AudioError, match="estimates"):
        si_sdr(x, bad, zero_mean=True)
    with pytest.raises(ParameterError, match="eps"):
        si_sdr(x, x, eps=-1.0)


def test_registered_sisdr_and_sisdri():
    m = METRICS.get("si-sdr")
    assert m is METRICS.get("sisdr") is METRICS.get("si_sdr")
    assert m.outputs == ("SI-SDR",) and not m.framewise and m.reported_by == "nussl, asteroid, torchmetrics"
    ctx = _context()
    got = m.compute(ctx)
    assert list(got) == list(STEMS) + ["accompaniment"]
    for t in list(STEMS) + ["accompaniment"]:
        want = float(si_sdr_formula(ctx.reference(t), ctx.estimate(t)))
        assert got[t]["SI-SDR"] == pytest.approx(want, abs=1e-5)
    mi = METRICS.get("si-sdr-i")
    assert mi is METRICS.get("sisdri") is METRICS.get("si-sdri") is METRICS.get("si_sdri")
    assert mi.needs_mixture and mi.outputs == ("SI-SDRi",)
    goti = mi.compute(ctx)
    for t in got:
        base = float(si_sdr_formula(ctx.reference(t), ctx.mixture))
        assert goti[t]["SI-SDRi"] == pytest.approx(got[t]["SI-SDR"] - base, abs=1e-5)
    with pytest.raises(ParameterError, match="needs one"):
        mi.compute(_context(mixture=False))
