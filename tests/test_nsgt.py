"""NSGT and sliCQT: exact inverse, the definition, the frame theory, specs, torch parity."""

import math
import re

import numpy as np
import pytest

from mssoracle.errors import ParameterError
from mssoracle.transforms import from_spec
from mssoracle.transforms.nsgt import NSGT, SliCQT

SR = 16000  # a low rate keeps the slices and signals of these tests small
RNG = np.random.default_rng(1234)
#: the documented round-trip bound (README, "NSGT/sliCQT": reconstruction error <= 1e-15 relative, float64)
ROUND_TRIP_F64 = 1e-15

SCALE_SPECS = [
    "scale=oct,bins=6,fmin=60",
    "scale=log,bins=40,fmin=60",
    "scale=log,bins=40,fmin=60,fmax=7000",
    "scale=lin,bins=30,fmin=0",
    "scale=lin,bins=30,fmin=150,fmax=7900",
    "scale=mel,bins=48,fmin=20",
    "scale=bark,bins=60,fmin=40",
    "scale=vqlog,bins=40,fmin=60,gamma=30",
]


def rel_err(a, b):
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - b) / np.linalg.norm(b))


def energy(coefs):
    return float(sum(np.sum(np.abs(np.asarray(c, dtype=np.complex128)) ** 2) for c in coefs))


@pytest.mark.parametrize("kind", ["nsgt", "slicq"])
@pytest.mark.parametrize("form", ["ragged", "matrix"])
@pytest.mark.parametrize("scale", SCALE_SPECS)
def test_exact_inverse_float64(kind, form, scale):
    t = from_spec(f"{kind}:{scale},form={form}", sample_rate=SR)
    x = RNG.standard_normal((2, 9001))
    c = t.forward(x)
    assert all(g.dtype == np.complex128 and g.shape[:2] == (2, len(lay["bands"]))
               for g, lay in zip(c, t.layout(9001)))
    assert form == "ragged" or len(c) == 1
    assert rel_err(t.inverse(c, 9001), x) <= ROUND_TRIP_F64
    # energy within the frame bounds (slicing is tight, so the NSGT bounds carry over)
    lo, hi = t.frame_bounds(9001)
    assert lo >= 0.5 - 1e-9 or "vqlog" in scale
    e = energy(c) / float(np.sum(x ** 2))
    assert lo * (1 - 1e-9) <= e <= hi * (1 + 1e-9)


@pytest.mark.parametrize("spec", ["nsgt:bark:60:40", "slicq:bark:60:40", "slicq:scale=log,bins=40,fmin=60,form=matrix"])
def test_exact_inverse_float32_and_shapes(spec):
    t = from_spec(spec, sample_rate=SR)
    x = RNG.standard_normal((3, 2, 5000)).astype(np.float32)
    c = t.forward(x)
    assert all(g.dtype == np.complex64 and g.shape[:2] == (3, 2) for g in c)
    y = t.inverse(c, 5000)
    assert y.dtype == np.float32 and y.shape == x.shape
    assert rel_err(y, x) <= 1e-5
    # 1-d signals and odd / tiny lengths
    for n in (1, 2, 7, 333):
        x1 = RNG.standard_normal(n)
        assert rel_err(t.inverse(t.forward(x1), n), x1) <= ROUND_TRIP_F64


def test_default_fmax_nyquist_44k_seed_configuration():
    t = from_spec("slicq:bark:262:32.9", sample_rate=44100)
    assert (t.sllen, t.trlen) == (18060, 4516)
    assert t.name == "slicq-bark-262-32.9-sllen18060-trlen4516"
    assert t.frequencies[-1] == 22050 and t.scale.bands == 263
    x = RNG.standard_normal((2, 44100))
    assert rel_err(t.inverse(t.forward(x), 44100), x) <= ROUND_TRIP_F64


def test_masks_apply_elementwise_and_linearity():
    t = from_spec("slicq:bark:60:40", sample_rate=SR)
    a, b = RNG.standard_normal((2, 2, 6000))
    ca, cb, cab = t.forward(a), t.forward(b), t.forward(a + b)
    for g1, g2, g3 in zip(ca, cb, cab):
        np.testing.assert_allclose(g1 + g2, g3, atol=1e-12)
    # a Wiener-like mask splits the mixture; the parts add back to the mixture
    masks = [np.abs(g1) ** 2 / (np.abs(g1) ** 2 + np.abs(g2) ** 2 + 1e-30) for g1, g2 in zip(ca, cb)]
    ya = t.inverse([m * g for m, g in zip(masks, cab)], 6000)
    yb = t.inverse([(1 - m) * g for m, g in zip(masks, cab)], 6000)
    assert rel_err(ya + yb, a + b) <= 1e-10
    assert rel_err(ya, a) < 0.6  # the mask does separate


# ---------------------------------------------------------------------------
# the definition, written out window by window
def direct_windows(scale_kind, bins, fmin, fmax, sr):
    """Band centres, half-widths and shapes from the scale formulas (independent of the module)."""
    warp = {"log": (np.log, np.exp), "lin": (lambda f: f, lambda u: u)}[scale_kind]
    u0, u1 = warp[0](fmin), warp[0](fmax)
    du = (u1 - u0) / (bins - 1)
    f = warp[1](u0 + du * np.arange(-1, bins + 1))
    f[1], f[bins] = fmin, fmax
    nyq = sr / 2
    bands = []  # (centre, lower width, upper width, flat or None, w)
    for k in range(1, bins + 1):
        bands.append([f[k], f[k] - f[k - 1], f[k + 1] - f[k], None, 2.0])
    if f[1] == 0:
        bands[0] = [0.0, f[2], f[2], 0.0, 1.0]
    else:
        bands.insert(0, [0.0, f[1], f[1], f[0], 1.0])  # flat up to the first window's start
    if f[bins] == nyq:
        bands[-1] = [nyq, nyq - f[bins - 1], nyq - f[bins - 1], 0.0, 1.0]
    else:
        bands.append([nyq, nyq - f[bins], nyq - f[bins], nyq - f[bins + 1], 1.0])
    return bands


def direct_window_value(band, freq):
    c, lo, hi, flat, _ = band
    d = freq - c
    if flat is None:  # Hann halves
        if -lo < d <= 0:
            return math.cos(math.pi / 2 * d / lo) ** 2
        if 0 < d < hi:
            return math.cos(math.pi / 2 * d / hi) ** 2
        return 0.0
    a = abs(d)
    if a >= lo:
        return 0.0
    if a <= flat:
        return 1.0
    return math.sin(math.pi / 2 * (lo - a) / (lo - flat)) ** 2


def direct_nsgt(x, bands, Ms, sr):
    """c_k[m] = sqrt(w M / N) / M * sum_n F[n] g_k[n] exp(2 i pi n m / M), n over the window's support."""
    N = len(x)
    F = np.fft.fft(x)
    out = []
    for band, M in zip(bands, Ms):
        c, lo, hi = band[0], band[1], band[2]
        w = band[4]
        c_bins, lo_bins, hi_bins = c * N / sr, lo * N / sr, hi * N / sr
        coefs = np.zeros(M, dtype=complex)
        for n in range(math.floor(c_bins - lo_bins), math.ceil(c_bins + hi_bins) + 1):
            g = direct_window_value(band, n * sr / N)
            if g == 0:
                continue
            for m in range(M):
                coefs[m] += F[n % N] * g * np.exp(2j * np.pi * n * m / M)
        out.append(coefs * math.sqrt(w * M / N) / M)
    return out


def flatten_bands(t, coefs, length, slices=1):
    """Band-ordered list of per-band coefficient arrays (slices, M) from the grouped output."""
    per_band = {}
    for g, lay in zip(coefs, t.layout(length)):
        for i, b in enumerate(lay["bands"]):
            per_band[int(b)] = g[i].reshape(slices, lay["M"])
    Ms = {int(b): lay["M"] for lay in t.layout(length) for b in lay["bands"]}
    return [per_band[b] for b in sorted(per_band)], [Ms[b] for b in sorted(Ms)]


@pytest.mark.parametrize("scale,bins,fmin,fmax", [("log", 8, 20.0, 300.0), ("lin", 9, 0.0, 500.0),
                                                  ("lin", 7, 35.0, 420.0)])
@pytest.mark.parametrize("form", ["ragged", "matrix"])
def test_nsgt_coefficients_equal_direct_definition(scale, bins, fmin, fmax, form):
    sr, N = 1000, 240
    x = RNG.standard_normal(N)
    t = NSGT(scale, bins, fmin, fmax, sample_rate=sr, form=form)
    got, Ms = flatten_bands(t, t.forward(x), N)
    want = direct_nsgt(x, direct_windows(scale, bins, fmin, fmax, sr), Ms, sr)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g[0], w, atol=1e-10)


@pytest.mark.parametrize("form", ["ragged", "matrix"])
def test_slicq_coefficients_equal_direct_definition(form):
    sr, L, sllen, trlen = 1000, 700, 172, 40  # 172 = 4 * 43: padded to 180
    x = RNG.standard_normal(L)
    t = SliCQT("log", 8, 20.0, 300.0, sample_rate=sr, sllen=sllen, trlen=trlen, form=form)
    hop = sllen // 2
    S = math.ceil((L + trlen) / hop)
    got, Ms = flatten_bands(t, t.forward(x), L, slices=S)
    bands = direct_windows("log", 8, 20.0, 300.0, sr)
    # slice window: zeros, sin rise over trlen centred at sllen/4, flat, cos fall centred at 3 sllen/4
    win = np.zeros(sllen)
    z = sllen // 4 - trlen // 2
    for i in range(trlen):
        win[z + i] = math.sin(math.pi / 2 * (i + 0.5) / trlen)
        win[sllen - z - trlen + i] = math.cos(math.pi / 2 * (i + 0.5) / trlen)
    win[z + trlen:sllen - z - trlen] = 1
    N = t.plan(L).N  # each windowed slice is zero-padded to a fast FFT length N >= sllen
    assert N >= sllen and N == t.plan(1).N
    for j in range(S):
        start = j * hop - sllen // 4 - trlen // 2
        seg = np.array([x[start + i] if 0 <= start + i < L else 0.0 for i in range(sllen)]) * win
        want = direct_nsgt(np.concatenate([seg, np.zeros(N - sllen)]), bands, Ms, sr)
        for b in range(len(bands)):
            np.testing.assert_allclose(got[b][j], want[b], atol=1e-10)
    # the slice windows' squares sum to one over the signal (a tight slicing)
    total = np.zeros(L + 2 * sllen)
    for j in range(S):
        start = j * hop - sllen // 4 - trlen // 2 + sllen
        total[start:start + sllen] += win ** 2
    np.testing.assert_allclose(total[sllen:sllen + L], 1.0, atol=1e-12)


# ---------------------------------------------------------------------------
# frame theory on small signals, with explicit matrices
@pytest.mark.parametrize("spec,N", [("nsgt:scale=log,bins=8,fmin=20,fmax=300", 240),
                                    ("nsgt:scale=lin,bins=7,fmin=35,fmax=420", 250),
                                    ("nsgt:scale=vqlog,bins=8,fmin=20,gamma=25", 200),
                                    ("nsgt:scale=log,bins=8,fmin=20,fmax=300,form=matrix", 240)])
def test_painless_frame_and_canonical_dual(spec, N):
    t = from_spec(spec, sample_rate=1000)
    p = t.plan(N)
    # painless: every band's support fits in M_k samples, no two positions alias
    for g in p.groups:
        assert np.all(g.fwin.astype(bool).sum(axis=1) <= g.M)
    # analysis matrix of the real frame: columns = coefficients of the unit impulses
    A = np.concatenate([c.reshape(N, -1) for c in t.forward(np.eye(N))], axis=1).T  # (K, N)
    Ar = np.concatenate([A.real, A.imag])
    S = Ar.T @ Ar
    # frame operator = convolution (circulant) with symbol D; D >= lower frame bound > 0
    sym = np.fft.fft(S[:, 0])
    D_full = np.concatenate([p.D, p.D[1:(N + 1) // 2][::-1]])
    np.testing.assert_allclose(sym.real, D_full, atol=1e-10)
    np.testing.assert_allclose(S, np.real(np.fft.ifft(np.fft.fft(np.eye(N), axis=0) * D_full[:, None], axis=0)),
                               atol=1e-10)
    eig = np.linalg.eigvalsh(S)
    lo, hi = t.frame_bounds(N)
    assert lo * (1 - 1e-9) <= eig.min() and eig.max() <= hi * (1 + 1e-9)
    assert lo > 0.5 - 1e-9
    # the inverse is the canonical dual frame: S^-1 A_r^T [Re c; Im c] for ANY coefficients
    rand = [RNG.standard_normal(c.shape) + 1j * RNG.standard_normal(c.shape) for c in t.forward(np.zeros(N))]
    cflat = np.concatenate([c.ravel() for c in rand])
    want = np.linalg.solve(S, Ar.T @ np.concatenate([cflat.real, cflat.imag]))
    np.testing.assert_allclose(t.inverse(rand, N), want, atol=1e-10)
    # dual windows: the synthesis atom of a scale band has spectrum g_k / D on the band's support
    mid = t.scale.bands // 2  # a band away from 0 Hz and Nyquist
    g0 = next(g for g in p.groups if mid in g.bands)
    i = int(np.flatnonzero(g0.bands == mid)[0])
    unit = [np.zeros(c.shape, dtype=complex) for c in rand]
    unit[p.groups.index(g0)][i, 0] = 1.0
    Y = np.fft.rfft(t.inverse(unit, N))
    band = int(g0.bands[i])
    n = np.arange(len(Y))
    g = np.array([t.scale.window(band, k * 1000 / N) for k in n])
    inside = g > 1e-6
    ratio = Y[inside] * p.D[inside] / g[inside]
    w, s_k = 2.0, math.sqrt(2.0 * g0.M / N)
    np.testing.assert_allclose(ratio, (w / 2) / s_k, rtol=1e-9)
    assert np.allclose(Y[~inside], 0, atol=1e-12)


@pytest.mark.parametrize("spec", ["nsgt:bark:60:40", "slicq:mel:48:20", "slicq:scale=vqlog,bins=40,fmin=60,gamma=30"])
def test_energy_within_frame_bounds_random_signals(spec):
    t = from_spec(spec, sample_rate=SR)
    lo, hi = t.frame_bounds(4000)
    for _ in range(5):
        x = RNG.standard_normal((2, 4000)) * RNG.uniform(0.1, 10)
        e = energy(t.forward(x)) / float(np.sum(x ** 2))
        assert lo * (1 - 1e-9) <= e <= hi * (1 + 1e-9)
    # a pure tone lands in the band whose window peaks at it
    f0 = float(t.frequencies[20])
    tone = np.cos(2 * np.pi * f0 * np.arange(8000) / SR)
    c = t.forward(tone)
    per_band = np.zeros(len(t.frequencies))
    for g, lay in zip(c, t.layout(8000)):
        per_band[lay["bands"]] = np.sum(np.abs(g) ** 2, axis=-1)
    assert int(np.argmax(per_band)) == 20


def test_windows_cached_per_configuration():
    t = from_spec("slicq:bark:60:40", sample_rate=SR)
    assert t.plan(1000) is t.plan(5000)  # sliced: one plan for every length
    u = from_spec("nsgt:bark:60:40", sample_rate=SR)
    assert u.plan(1000) is from_spec("nsgt:bark:60:40", sample_rate=SR).plan(1000)
    # bounded: least recently used plans go first, by count and by bytes
    from mssoracle.transforms.nsgt_plan import PlanCache as _PlanCache

    cache = _PlanCache(max_plans=2)
    a, b = cache(u._scale_key, 1000, False), cache(u._scale_key, 2000, False)
    assert cache(u._scale_key, 1000, False) is a
    cache(u._scale_key, 3000, False)  # evicts 2000, the least recently used
    assert cache(u._scale_key, 1000, False) is a and cache(u._scale_key, 2000, False) is not b
    tiny = _PlanCache(max_bytes=1)
    first = tiny(u._scale_key, 1000, False)
    assert tiny(u._scale_key, 1000, False) is first  # the newest plan always stays
    tiny(u._scale_key, 2000, False)
    assert tiny(u._scale_key, 1000, False) is not first


# ---------------------------------------------------------------------------
# specs, names, errors
def test_spec_parsing_and_canonical_names():
    t = from_spec("slicq:bark:262:32.9")
    assert isinstance(t, SliCQT) and t.scale.kind == "bark" and t.scale.bins == 262
    u = from_spec("slicq:scale=bark,bins=262,fmin=32.9,fmax=22050,sllen=18060,trlen=4516,gamma=0")
    assert t == u and hash(t) == hash(u) and t.name == u.name and t.spec == u.spec
    assert from_spec(t.spec) == t
    v = from_spec("nsgt:scale=vqlog,bins=100,fmin=30,fmax=16000,gamma=12.5,form=matrix")
    assert v.name == "nsgt-vqlog-100-30-fmax16000-gamma12.5-matrix"
    assert from_spec(v.spec) == v and v != from_spec("nsgt:scale=vqlog,bins=100,fmin=30,fmax=16000,gamma=12.5")
    assert from_spec("nsgt:cqlog:48:50").name == "nsgt-log-48-50"
    assert from_spec("nsgt").name == "nsgt-bark-262-32.9"
    assert from_spec("nsgt:oct").scale.bins_arg == 24
    for tr in (t, u, v, from_spec("slicq:scale=lin,bins=10,fmin=0,sllen=400,trlen=0")):
        assert re.fullmatch(r"[A-Za-z0-9._-]+", tr.name)
        assert from_spec(tr.spec) == tr and repr(tr)
    assert from_spec("nsgt:bark:50:40", sample_rate=SR) != from_spec("nsgt:bark:50:40", sample_rate=22050)


@pytest.mark.parametrize("spec,match", [
    ("nsgt:bark:abc", "bins must be an integer"),
    ("nsgt:bark:10:x", "fmin must be a finite number"),
    ("nsgt:bark:10:20:30", "too many values"),
    ("nsgt:scale=bark,bogus=1", "unknown key 'bogus'"),
    ("nsgt:scale=bark,bins", "malformed item"),
    ("nsgt:scale=bark,sllen=1000", "slicq only"),
    ("nsgt:erb:10:50", "unknown scale"),
    ("nsgt:bark:0:50", "bins must be an integer >= 1"),
    ("nsgt:scale=bark,fmin=9000,fmax=8000", "below fmax"),
    ("nsgt:scale=bark,fmax=30000", "above Nyquist"),
    ("nsgt:scale=log,fmin=0", "fmin must be > 0"),
    ("nsgt:scale=bark,form=square", "form must be ragged or matrix"),
    ("nsgt:scale=bark,gamma=3", "vqlog"),
    ("slicq:scale=bark,bins=262,fmin=32.9,sllen=1000", "too short"),
    ("slicq:scale=bark,sllen=18061", "multiple of 4"),
    ("slicq:scale=bark,sllen=18060,trlen=9032", "trlen must be an even number"),
    ("slicq:scale=bark,sllen=18060,trlen=3", "trlen must be an even number"),
    ("stft2:bark", "unknown transform"),
])
def test_spec_errors_one_line(spec, match):
    with pytest.raises(ParameterError, match=match) as exc:
        from_spec(spec)
    assert "\n" not in str(exc.value)


def test_inverse_checks_shapes():
    t = from_spec("slicq:bark:60:40", sample_rate=SR)
    c = t.forward(RNG.standard_normal((2, 3000)))
    with pytest.raises(ParameterError, match="does not match length"):
        t.inverse(c, 9000)
    with pytest.raises(ParameterError, match="coefficient groups"):
        t.inverse(c[:-1], 3000)
    with pytest.raises(ParameterError, match="length must be an integer >= 1"):
        t.inverse(c, 0)
    with pytest.raises(ParameterError, match="real signals"):
        t.forward(np.ones(100, dtype=complex))


# ---------------------------------------------------------------------------
@pytest.mark.parametrize("native", [False, True])
def test_torch_parity(native, monkeypatch):
    """Torch tensors in, torch tensors out; CPU tensors are handed to the kernels as numpy arrays
    unless TORCH_NATIVE_CPU is set, which runs them with torch's ops as on CUDA."""
    torch = pytest.importorskip("torch")
    from mssoracle.transforms import nsgt as mod

    monkeypatch.setattr(mod, "TORCH_NATIVE_CPU", native)
    for spec in ("nsgt:bark:60:40", "slicq:bark:60:40", "slicq:scale=lin,bins=30,fmin=150,fmax=7900,form=matrix",
                 "nsgt:scale=lin,bins=30,fmin=150,fmax=7900,form=matrix"):
        t = from_spec(spec, sample_rate=SR)
        x = RNG.standard_normal((2, 5003))
        cn = t.forward(x)
        ct = t.forward(torch.from_numpy(x))
        assert all(isinstance(g, torch.Tensor) and g.dtype == torch.complex128 for g in ct)
        for a, b in zip(cn, ct):
            np.testing.assert_allclose(b.numpy(), a, atol=1e-10)
        yt = t.inverse(ct, 5003)
        assert isinstance(yt, torch.Tensor) and yt.dtype == torch.float64
        assert rel_err(yt.numpy(), x) <= ROUND_TRIP_F64
        np.testing.assert_allclose(t.inverse(cn, 5003), yt.numpy(), atol=1e-10)
        c32 = t.forward(torch.from_numpy(x).float())
        assert c32[0].dtype == torch.complex64
        assert rel_err(t.inverse(c32, 5003).double().numpy(), x) <= 1e-5


@pytest.mark.parametrize("spec", ["nsgt:bark:60:40", "slicq:bark:60:40",
                                  "slicq:scale=lin,bins=30,fmin=150,fmax=7900,form=matrix"])
def test_torch_autograd(spec):
    """Tensors that require grad run torch's ops (one task): inverse(forward(x)) = x, so the gradient of
    <r, inverse(forward(x))> is r."""
    torch = pytest.importorskip("torch")
    t = from_spec(spec, sample_rate=SR)
    x = torch.from_numpy(RNG.standard_normal((2, 5003))).requires_grad_(True)
    r = torch.from_numpy(RNG.standard_normal((2, 5003)))
    y = t.inverse(t.forward(x), 5003)
    (y * r).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), r.numpy(), atol=1e-10)
