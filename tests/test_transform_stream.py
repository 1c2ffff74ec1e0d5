"""Transform streams: blocks of time whose coefficients concatenate to ``forward`` and whose syntheses,
added up and finished, equal ``inverse`` for any (masked) coefficients."""

import numpy as np
import pytest

from mssoracle.errors import ParameterError
from mssoracle.transforms import BLOCK_SAMPLES, from_spec
from mssoracle.transforms import nsgt as nsgt_mod
from mssoracle.transforms import stft as stft_mod

RNG = np.random.default_rng(7)
SPECS = [
    ("stft:2048:512", 44100),
    ("stft:1001:250:kaiser-8.6", 44100),
    ("stft:n_fft=256,hop=100,center=false", 44100),
    ("slicq:bark:60:40", 16000),
    ("slicq:scale=log,bins=40,fmin=60,form=matrix", 16000),
    ("nsgt:bark:60:40", 16000),
]
RTOL = {np.float32: 1e-6, np.float64: 1e-12}


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of ~4000 samples, so that short signals have many blocks."""
    monkeypatch.setattr(stft_mod, "BLOCK_SAMPLES", 4000)
    monkeypatch.setattr(nsgt_mod, "BLOCK_SAMPLES", 4000)


def run_stream(t, x, Y=None, out_dtype=None):
    """(blockwise coefficients concatenated, the finished synthesis of Y (default: the stream's own))."""
    st = t.stream(x.shape[-1])
    parts = [st.forward(x, b) for b in st.blocks]
    cat = [np.concatenate([p[g] for p in parts], axis=-1) for g in range(len(parts[0]))]
    if Y is None:
        Y = cat
    out = np.zeros(x.shape, dtype=out_dtype or (np.float32 if Y[0].dtype == np.complex64 else np.float64))
    offsets = [0] * len(Y)
    for b, p in zip(st.blocks, parts):
        yb = []
        for g, pg in enumerate(p):
            yb.append(Y[g][..., offsets[g]:offsets[g] + pg.shape[-1]])
            offsets[g] += pg.shape[-1]
        st.inverse_add(yb, b, out)
    st.finish(out)
    return st, cat, out


@pytest.mark.parametrize("spec,sr", SPECS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stream_equals_whole_transform(spec, sr, dtype, small_blocks):
    t = from_spec(spec, sample_rate=sr)
    L = 30011
    x = RNG.standard_normal((L, 3, 2)).astype(dtype).transpose(1, 2, 0)  # a (3, 2, L) view, not contiguous
    whole = t.forward(x)
    assert all(c.dtype == (np.complex64 if dtype == np.float32 else np.complex128) for c in whole)
    masks = [RNG.uniform(0, 1, c.shape) for c in whole]
    Y = [(m * c).astype(c.dtype) for m, c in zip(masks, whole)]  # masked: not a transform of any signal
    st, cat, out = run_stream(t, x, Y)
    assert len(st.blocks) == 1 if spec.startswith("nsgt") else len(st.blocks) > 3
    assert st.frames == [c.shape[-1] for c in whole]
    assert [b.index for b in st.blocks] == list(range(len(st.blocks)))
    for a, b in zip(cat, whole):
        np.testing.assert_array_equal(a, b)  # the blocks' coefficients are the whole transform's, bit for bit
    ref = t.inverse(Y, L)
    assert out.dtype == ref.dtype == dtype
    np.testing.assert_allclose(out, ref, rtol=RTOL[dtype], atol=RTOL[dtype] * float(np.abs(ref).max()))
    if "slicq" in spec or "nsgt" in spec:  # tight slicing: the blocks' syntheses add up exactly
        np.testing.assert_array_equal(out, ref)


def test_block_planning_from_sizes():
    s = from_spec("stft:2048:512")
    st = s.stream(240 * 44100)
    assert s.frames_per_block * s.hop == BLOCK_SAMPLES == 1 << 18
    assert all(b.stop - b.start == s.frames_per_block for b in st.blocks[:-1])
    assert st.blocks[-1].stop == st.frames[0] == s.n_frames(240 * 44100)
    q = from_spec("slicq:bark:262:32.9")
    assert q.slices_per_block == 29  # 29 * 9030 samples ~ 2**18
    qs = q.stream(240 * 44100)
    assert qs.blocks[-1].stop == q.n_slices(240 * 44100)
    # one block of a (5, 2, T) float32 input: tens of MB of coefficients
    per_block = sum(n // len(qs.blocks) for n in qs.frames)  # frames of one block, all groups
    bands = [len(lay["bands"]) for lay in q.layout(240 * 44100)]
    nbytes = 5 * 2 * 8 * sum(b * f // len(qs.blocks) for b, f in zip(bands, qs.frames))
    assert per_block > 0 and 10e6 < nbytes < 100e6
    assert 10e6 < 5 * 2 * 8 * s.n_bins * s.frames_per_block < 100e6
    assert from_spec("nsgt:bark:60:40", sample_rate=16000).stream(5000).blocks == [(0, 0, 1)]


@pytest.mark.parametrize("spec,sr", [("stft:256:64", 44100), ("slicq:bark:60:40", 16000)])
def test_stream_checks_shapes(spec, sr):
    t = from_spec(spec, sample_rate=sr)
    st = t.stream(5000)
    b = st.blocks[0]
    c = st.forward(np.zeros((2, 5000)), b)
    with pytest.raises(ParameterError, match="stream output"):
        st.inverse_add(c, b, np.zeros((2, 4000)))
    with pytest.raises(ParameterError, match="stream input"):
        st.forward(np.zeros((2, 4000)), b)


@pytest.mark.parametrize("spec,sr", [("stft:512:128", 44100), ("slicq:bark:60:40", 16000),
                                     ("nsgt:bark:60:40", 16000)])
@pytest.mark.parametrize("native", [False, True])
def test_stream_torch(spec, sr, native, small_blocks, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(nsgt_mod, "TORCH_NATIVE_CPU", native)
    t = from_spec(spec, sample_rate=sr)
    x = RNG.standard_normal((2, 2, 20011))
    for dtype, tdtype, cdtype in ((np.float32, torch.float32, torch.complex64),
                                  (np.float64, torch.float64, torch.complex128)):
        xn = x.astype(dtype)
        xt = torch.from_numpy(xn)
        st = t.stream(xn.shape[-1])
        out = torch.zeros(xt.shape, dtype=tdtype)
        for b in st.blocks:
            c = st.forward(xt, b)
            assert all(isinstance(g, torch.Tensor) and g.dtype == cdtype for g in c)
            cn = st.forward(xn, b)
            for a, g in zip(cn, c):
                np.testing.assert_allclose(g.numpy(), a, rtol=RTOL[dtype], atol=RTOL[dtype] * float(np.abs(a).max()))
            st.inverse_add(c, b, out)
        st.finish(out)
        assert out.dtype == tdtype
        np.testing.assert_allclose(out.numpy(), xn, atol=10 * RTOL[dtype] * float(np.abs(xn).max()))


@pytest.mark.parametrize("spec", ["stft:2048:512", "slicq:bark:262:32.9"])
def test_stream_memory_does_not_grow_with_length(spec):
    """A stream holds one block's coefficients: its peak (numpy allocations, tracemalloc) is the same for 30 s
    and 90 s of stereo float32 and far below the whole track's coefficients (~130 MB at 90 s)."""
    import tracemalloc

    t = from_spec(spec)
    peaks = []
    for seconds in (30, 90):
        L = seconds * 44100
        x = np.random.default_rng(0).standard_normal((2, L), dtype=np.float32)
        out = np.zeros_like(x)
        st = t.stream(L)
        st.forward(x, st.blocks[0])  # plans and windows built outside the measurement
        tracemalloc.start()
        for b in st.blocks:
            st.inverse_add(st.forward(x, b), b, out)
        st.finish(out)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        bins = [t.n_bins] if spec.startswith("stft") else [len(lay["bands"]) for lay in t.layout(L)]
        whole = 2 * 8 * sum(b * n for b, n in zip(bins, st.frames))  # stereo complex64, whole track
    assert peaks[1] < 1.1 * peaks[0] + 1e6
    assert peaks[1] < 40e6 < whole / 3
