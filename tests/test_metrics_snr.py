"""Framewise SNR: :func:`mssoracle.metrics.snr_framewise` against the engine's BSS Eval v4 (images) SDR."""

import math

import numpy as np
import pytest

from mssoracle.bsseval import TrackEvaluator, museval_io
from mssoracle.bsseval.evaluator import evaluate
from mssoracle.errors import AudioError, ParameterError
from mssoracle.metrics import METRICS, MetricContext, snr_framewise

from test_metrics_usdr import STEMS, estimates_of, previews

TARGETS = ("vocals", "drums", "bass", "other", "accompaniment")


@pytest.fixture
def unrounded(monkeypatch):
    """TrackScores keep full precision (museval rounds to 1e-5; these tests compare to 1e-9 dB)."""
    monkeypatch.setattr(museval_io, "quantize", lambda v: math.nan if not math.isfinite(float(v)) else float(v))


def snr_formula(s, x, starts, stops):
    """Per frame 10 log10(sum s^2 / sum (s - x)^2), transcribed from the definition (numpy float64)."""
    s, x = np.asarray(s, dtype=np.float64), np.asarray(x, dtype=np.float64)
    return np.array([10 * np.log10(np.sum(s[..., a:b] ** 2) / np.sum((s[..., a:b] - x[..., a:b]) ** 2))
                     for a, b in zip(starts, stops)])


def _engine_sdr(refs, ests, rate, derived=True, grouping="museval"):
    ev = TrackEvaluator({k: v.T for k, v in refs.items()}, sample_rate=rate, on_silent="nan", grouping=grouping,
                        emit_warnings=False)
    scores = ev.evaluate({k: v.T for k, v in ests.items()}, derived=("accompaniment",) if derived else (),
                         emit_warnings=False)
    return {t: scores.values(t)["SDR"] for t in scores.targets}


def _ours(refs, ests, rate, grouping="museval", derived=True):
    ctx = MetricContext(track="t", sample_rate=rate, win=rate, hop=rate, references=refs, estimates=ests,
                        derived={"accompaniment": ("drums", "bass", "other")} if derived else {},
                        grouping=grouping)
    return {t: v["SNR"] for t, v in METRICS.get("snr").compute(ctx).items()}


def _same(got, want):
    assert set(got) == set(want)
    for t in want:
        assert got[t].shape == want[t].shape, t
        np.testing.assert_array_equal(np.isnan(got[t]), np.isnan(want[t]), err_msg=t)
        np.testing.assert_allclose(got[t], want[t], rtol=0, atol=1e-9, equal_nan=True, err_msg=t)


def test_real_preview_equals_engine_sdr(unrounded):
    tracks = previews()
    stems = tracks["Music Delta - 80s Rock"]
    rate = 44100
    n = 3 * rate + 12345  # 3 frames: museval's framing drops the partial tail
    refs = {s: np.ascontiguousarray(stems[s][:, :n]) for s in STEMS}
    est = estimates_of(refs, np.random.RandomState(0))
    est["bass"][:, rate : 2 * rate] = 0  # a silent estimate frame: NaN for the whole 4-source call there
    want = _engine_sdr(refs, est, rate)
    got = _ours(refs, est, rate)
    _same(got, want)
    assert np.isnan(got["drums"][1]) and not np.isnan(got["vocals"][1])  # vocals: scored in the 2-source call
    assert np.isfinite(got["drums"][[0, 2]]).all() and len(got["drums"]) == 3


def _synthetic(rate=8000, seconds=4, seed=1):
    rs = np.random.RandomState(seed)
    n = rate * seconds + 100
    refs = {s: (0.2 * rs.standard_normal((2, n))).astype(np.float32) for s in STEMS}
    est = {s: (refs[s] + 0.2 * sum(refs[o] for o in STEMS if o != s) / 3
               + 0.05 * rs.standard_normal((2, n))).astype(np.float32) for s in STEMS}
    return refs, est, rate


def test_synthetic_silent_frames_and_silent_target(unrounded):
    refs, est, rate = _synthetic()
    refs["other"][:, 2 * rate : 3 * rate] = 0  # a silent reference frame
    est["vocals"][0, :rate] = 0
    est["vocals"][1, :rate] = 0  # a silent estimate frame
    refs["drums"][1, 3 * rate : 4 * rate] = -refs["drums"][0, 3 * rate : 4 * rate]  # channel sum zero: silent
    _same(_ours(refs, est, rate), _engine_sdr(refs, est, rate))
    # a silent target (estimate zero over the whole track): NaN, left out of the other targets' call
    est["bass"] = np.zeros_like(est["bass"])
    want = _engine_sdr(refs, est, rate)
    got = _ours(refs, est, rate)
    _same(got, want)
    assert np.isnan(got["bass"]).all() and np.isfinite(got["drums"][1])
    # joint grouping: one call of all five
    _same(_ours(refs, est, rate, grouping="joint"), _engine_sdr(refs, est, rate, grouping="joint"))


def test_too_few_targets_score_nothing():
    refs, est, rate = _synthetic()
    assert _ours({"drums": refs["drums"]}, {"drums": est["drums"]}, rate, derived=False) == {}
    two = {s: refs[s] for s in ("drums", "bass")}
    assert set(_ours(two, {s: est[s] for s in two}, rate, derived=False)) == {"drums", "bass"}


def test_kernel_equals_evaluate_and_formula():
    rs = np.random.RandomState(2)
    S = rs.standard_normal((3, 2, 5000))
    X = S + 0.3 * rs.standard_normal(S.shape)
    X[2, :, 1000:2000] = 0
    for win, hop in ((1000, 1000), (1500, 700), (6000, 6000)):
        got = snr_framewise(S, X, win=win, hop=hop)
        from mssoracle.bsseval.validation import framing

        starts, stops = framing(5000, win, hop)
        assert got.shape == (3, len(starts))
        sdr = evaluate(S.transpose(0, 2, 1), X.transpose(0, 2, 1), win=win, hop=hop, filters_len=32)[0]
        np.testing.assert_array_equal(np.isnan(got), np.isnan(sdr))
        np.testing.assert_allclose(got, sdr, rtol=0, atol=1e-9, equal_nan=True)
        silent = np.zeros(len(starts), bool)
        for t, (a, b) in enumerate(zip(starts, stops)):
            silent[t] = (X[..., a:b].sum(axis=1) == 0).all(axis=-1).any()
        for j in range(3):
            want = snr_formula(S[j], X[j], starts, stops)
            want[silent] = np.nan
            np.testing.assert_allclose(got[j], want, rtol=0, atol=1e-9, equal_nan=True)
    # a perfect estimate: +inf -> NaN
    assert np.isnan(snr_framewise(S, S, win=1000, hop=1000)).all()
    # lists, float32, strided views
    lst = snr_framewise([s.T.copy().T for s in S], list(X.astype(np.float32)), win=1000, hop=1000)
    np.testing.assert_allclose(lst, snr_framewise(S, X.astype(np.float32), win=1000, hop=1000), rtol=0,
                               atol=1e-12, equal_nan=True)


def test_torch_equals_numpy():
    torch = pytest.importorskip("torch")
    rs = np.random.RandomState(3)
    S = rs.standard_normal((2, 2, 4000)).astype(np.float32)
    X = (S + 0.3 * rs.standard_normal(S.shape)).astype(np.float32)
    got = snr_framewise(torch.from_numpy(S), torch.from_numpy(X), win=1000, hop=1000)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float64 and got.shape == (2, 4)
    np.testing.assert_allclose(got.numpy(), snr_framewise(S, X, win=1000, hop=1000), rtol=0, atol=1e-9)
    refs, est, rate = _synthetic()
    tr = {k: torch.from_numpy(v) for k, v in refs.items()}
    te = {k: torch.from_numpy(v) for k, v in est.items()}
    a, b = _ours(refs, est, rate), _ours(tr, te, rate)
    assert a.keys() == b.keys()
    for t in a:
        assert isinstance(b[t], np.ndarray)
        np.testing.assert_allclose(b[t], a[t], rtol=0, atol=1e-9, equal_nan=True)


def test_bad_input():
    x = np.ones((2, 2, 100))
    with pytest.raises(ParameterError, match=r"references.shape = \(2, 2, 100\), estimates.shape = \(2, 2, 99\)"):
        snr_framewise(x, np.ones((2, 2, 99)), win=10, hop=10)
    with pytest.raises(ParameterError, match="sources, channels, time"):
        snr_framewise(np.ones((2, 100)), np.ones((2, 100)), win=10, hop=10)
    with pytest.raises(ParameterError, match="sources, channels, time"):
        snr_framewise(np.ones((1, 2, 2, 100)), np.ones((1, 2, 2, 100)), win=10, hop=10)
    with pytest.raises(ParameterError, match="win"):
        snr_framewise(x, x, win=0, hop=10)
    bad = x.copy()
    bad[1, 0, 5] = np.nan
    with pytest.raises(AudioError, match="estimates: NaN or inf samples in source 1"):
        snr_framewise(x, bad, win=10, hop=10)
    with pytest.raises(AudioError, match="references"):
        snr_framewise(bad, x, win=10, hop=10)


def test_registration():
    m = METRICS.get("snr-framewise")
    assert m is METRICS.get("snr") is METRICS.get("snr_framewise")
    assert m.outputs == ("SNR",) and m.framewise and not m.needs_mixture
