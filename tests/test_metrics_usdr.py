"""uSDR / uSDRi: :func:`mssoracle.metrics.usdr` against the MDX / demucs formula, and the registered metrics."""

import numpy as np
import pytest

from mssoracle.errors import AudioError, ParameterError
from mssoracle.metrics import METRICS, MetricContext, usdr
from mssoracle.metrics import _blocks
from mssoracle.metrics.usdr import FLOAT32_BOUND_DB

from conftest import HQ_ROOT

STEMS = ("drums", "bass", "other", "vocals")


def new_sdr_formula(references, estimates):
    """Transcription of demucs' ``new_sdr`` (and the MDX 2021/2023 evaluator's ``sdr``) from its published
    definition, in float64 numpy, sums over the last two axes (channels, time)."""
    references = np.asarray(references, dtype=np.float64)
    estimates = np.asarray(estimates, dtype=np.float64)
    delta = 1e-7
    num = np.sum(np.square(references), axis=(-2, -1))
    den = np.sum(np.square(references - estimates), axis=(-2, -1))
    num += delta
    den += delta
    return 10 * np.log10(num / den)


def previews():
    """``{track: {stem: (channels, time) float32}}`` of the real previews (skip when absent)."""
    sf = pytest.importorskip("soundfile")
    if not HQ_ROOT.is_dir():
        pytest.skip(f"shared test data not found at {HQ_ROOT}")
    out = {}
    for track in sorted((HQ_ROOT / "train").iterdir()):
        out[track.name] = {s: np.ascontiguousarray(sf.read(str(track / f"{s}.wav"), dtype="float32")[0].T)
                           for s in STEMS}
    return out


def estimates_of(stems, rs):
    """Plausible estimates: each stem plus leakage of the others and a little noise (float32)."""
    out = {}
    for i, s in enumerate(STEMS):
        leak = sum(rs.uniform(0.0, 0.4) * stems[o] for o in STEMS if o != s)
        out[s] = (stems[s] + leak + 0.01 * rs.standard_normal(stems[s].shape)).astype(np.float32)
    return out


def test_real_previews_equal_the_formula():
    rs = np.random.RandomState(0)
    for track, stems in previews().items():
        est = estimates_of(stems, rs)
        for s in STEMS:
            got = float(usdr(stems[s], est[s]))
            assert abs(got - float(new_sdr_formula(stems[s], est[s]))) < 1e-9, (track, s)
        # a batch: (sources, channels, time) and a list give the same per-source values
        R = np.stack([stems[s] for s in STEMS])
        E = np.stack([est[s] for s in STEMS])
        np.testing.assert_allclose(usdr(R, E), new_sdr_formula(R, E), rtol=0, atol=1e-9)
        np.testing.assert_allclose(usdr([stems[s] for s in STEMS], [est[s] for s in STEMS]),
                                   new_sdr_formula(R, E), rtol=0, atol=1e-9)


@pytest.mark.parametrize("shape", [(2, 1000), (3, 2, 5000), (2, 3, 2, 777)])
def test_synthetic_shapes_views_and_blocks(shape, monkeypatch):
    rs = np.random.RandomState(1)
    s = rs.standard_normal(shape)
    e = s + rs.uniform(0.01, 1.0, shape[:-2] + (1, 1)) * rs.standard_normal(shape)
    want = new_sdr_formula(s, e)
    assert usdr(s, e).shape == shape[:-2]
    np.testing.assert_allclose(usdr(s, e), want, rtol=0, atol=1e-9)
    # strided views (time-major storage), float32 and many small blocks
    st = np.ascontiguousarray(np.swapaxes(s, -1, -2)).swapaxes(-1, -2)
    np.testing.assert_allclose(usdr(st, e), want, rtol=0, atol=1e-9)
    monkeypatch.setattr(_blocks, "BLOCK_BYTES", 1)  # 4096-sample blocks
    np.testing.assert_allclose(usdr(st, e), want, rtol=0, atol=1e-9)
    s32, e32 = s.astype(np.float32), e.astype(np.float32)
    np.testing.assert_allclose(usdr(s32, e32), new_sdr_formula(s32, e32), rtol=0, atol=1e-9)


def test_silent_signals_and_delta():
    z = np.zeros((2, 100))
    assert float(usdr(z, z)) == 0.0  # delta / delta
    x = np.ones((2, 100))
    assert float(usdr(x, z)) == pytest.approx(0.0, abs=1e-9)
    assert float(usdr(z, x)) == pytest.approx(10 * np.log10(1e-7 / (200 + 1e-7)))
    assert float(usdr(x, x)) == pytest.approx(10 * np.log10((200 + 1e-7) / 1e-7))
    assert float(usdr(x, 0.5 * x, delta=0)) == pytest.approx(10 * np.log10(4.0))
    # integer audio is read as numbers
    assert float(usdr(np.full((1, 4), 2, dtype=np.int16), np.ones((1, 4), dtype=np.int16))) == \
        pytest.approx(float(new_sdr_formula(np.full((1, 4), 2.0), np.ones((1, 4)))))


def _float32_cases():
    rs = np.random.RandomState(3)
    cases = []
    try:
        tracks = previews()
    except pytest.skip.Exception:
        tracks = {}
    for stems in tracks.values():
        for s in STEMS:
            for level in (3.0, 1.0, 0.1, 1e-2, 1e-3):  # about -10 to 60 dB
                noise = (level * np.abs(stems[s]).mean() * rs.standard_normal(stems[s].shape)).astype(np.float32)
                cases.append((stems[s], (stems[s] + noise).astype(np.float32)))
    n = 44100 * 60
    x = (0.2 * rs.standard_normal((2, n))).astype(np.float32)
    for level in (1.0, 1e-2, 1e-3):
        cases.append((x, (x + level * 0.2 * rs.standard_normal((2, n))).astype(np.float32)))
    return cases


def test_float32_variant_within_the_stated_bound():
    worst = 0.0
    for s, e in _float32_cases():
        a, b = float(usdr(s, e, dtype="float32")), float(usdr(s, e))
        worst = max(worst, abs(a - b))
    assert worst <= FLOAT32_BOUND_DB, worst
    # float32 arithmetic really is float32: it differs from float64 somewhere
    s, e = _float32_cases()[-1]
    assert float(usdr(s, e, dtype="float32")) != float(usdr(s, e))


def test_torch_equals_numpy():
    torch = pytest.importorskip("torch")
    rs = np.random.RandomState(4)
    s = rs.standard_normal((3, 2, 3000)).astype(np.float32)
    e = (s + 0.3 * rs.standard_normal(s.shape)).astype(np.float32)
    got = usdr(torch.from_numpy(s), torch.from_numpy(e))
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float64 and got.shape == (3,)
    np.testing.assert_allclose(got.numpy(), usdr(s, e), rtol=0, atol=1e-9)
    got32 = usdr(torch.from_numpy(s), torch.from_numpy(e), dtype="float32")
    np.testing.assert_allclose(got32.numpy(), usdr(s, e, dtype="float32"), rtol=0, atol=FLOAT32_BOUND_DB)
    lst = usdr([torch.from_numpy(x) for x in s], list(e))
    assert isinstance(lst, torch.Tensor)
    np.testing.assert_allclose(lst.numpy(), usdr(s, e), rtol=0, atol=1e-9)


def test_bad_input():
    x = np.zeros((2, 10))
    with pytest.raises(ParameterError, match=r"references.shape = \(2, 10\), estimates.shape = \(2, 11\)"):
        usdr(x, np.zeros((2, 11)))
    with pytest.raises(ParameterError, match="expected"):
        usdr(np.zeros(10), np.zeros(10))
    with pytest.raises(ParameterError, match="empty"):
        usdr(np.zeros((2, 0)), np.zeros((2, 0)))
    with pytest.raises(ParameterError, match="different shapes"):
        usdr([np.zeros((2, 10)), np.zeros((2, 9))], [np.zeros((2, 10)), np.zeros((2, 9))])
    bad = x.copy()
    bad[1, 3] = np.nan
    with pytest.raises(AudioError, match="estimates: 1 NaN/inf"):
        usdr(x, bad)
    with pytest.raises(AudioError, match=r"references \(list entry 1\)"):
        usdr([x, np.where(bad == bad, x, np.inf)], [x, x])
    with pytest.raises(AudioError, match="dtype"):
        usdr(x.astype(complex), x)
    with pytest.raises(ParameterError, match="dtype"):
        usdr(x, x, dtype="float16")
    with pytest.raises(ParameterError, match="delta"):
        usdr(x, x, delta=-1)


# -- registered metrics ---------------------------------------------------------------------------------------

def _context(mixture=True, rate=8000, seconds=2, seed=5):
    rs = np.random.RandomState(seed)
    n = rate * seconds
    refs = {s: (0.2 * rs.standard_normal((2, n))).astype(np.float32) for s in STEMS}
    est = {s: (refs[s] + 0.3 * sum(refs[o] for o in STEMS if o != s) / 3
               + 0.02 * rs.standard_normal((2, n))).astype(np.float32) for s in STEMS}
    mix = sum(refs.values()) if mixture else None
    return MetricContext(track="t", sample_rate=rate, win=rate, hop=rate, references=refs, estimates=est,
                         derived={"accompaniment": ("drums", "bass", "other")}, mixture=mix)


def test_registered_usdr_and_usdri():
    m = METRICS.get("u-sdr")
    assert m is METRICS.get("usdr") is METRICS.get("U_SDR")
    assert m.outputs == ("uSDR",) and not m.framewise and m.version == 1 and not m.needs_mixture
    assert m.reported_by == "MDX 2021/2023 (uSDR), demucs (new_sdr)"
    ctx = _context()
    got = m.compute(ctx)
    assert list(got) == list(STEMS) + ["accompaniment"]
    for t in STEMS:
        assert got[t]["uSDR"] == pytest.approx(float(new_sdr_formula(ctx.references[t], ctx.estimates[t])),
                                               abs=1e-9)
    # the accompaniment: the formula on the materialised sums (the context's own, in the run's precision)
    acc = float(new_sdr_formula(ctx.reference("accompaniment"), ctx.estimate("accompaniment")))
    assert got["accompaniment"]["uSDR"] == pytest.approx(acc, abs=1e-5)
    mi = METRICS.get("usdr-i")
    assert mi is METRICS.get("usdri") is METRICS.get("usdr_i") and mi.needs_mixture and mi.outputs == ("uSDRi",)
    goti = mi.compute(ctx)
    for t in list(STEMS) + ["accompaniment"]:
        base = float(new_sdr_formula(ctx.reference(t), ctx.mixture))
        assert goti[t]["uSDRi"] == pytest.approx(got[t]["uSDR"] - base, abs=1e-5)
    with pytest.raises(ParameterError, match="needs one"):
        mi.compute(_context(mixture=False))


def test_registered_usdr_on_torch_context():
    torch = pytest.importorskip("torch")
    ctx = _context()
    tctx = MetricContext(track="t", sample_rate=ctx.sample_rate, win=ctx.win, hop=ctx.hop,
                         references={k: torch.from_numpy(v) for k, v in ctx.references.items()},
                         estimates={k: torch.from_numpy(v) for k, v in ctx.estimates.items()},
                         derived=ctx.derived, mixture=torch.from_numpy(ctx.mixture))
    for name in ("usdr", "usdri"):
        a, b = METRICS.get(name).compute(ctx), METRICS.get(name).compute(tctx)
        assert a.keys() == b.keys()
        for t in a:
            (k, v), = a[t].items()
            assert isinstance(b[t][k], float) and b[t][k] == pytest.approx(v, abs=1e-9)
