"""STFT transform: exact inverse, scipy parity (SiSEC 2018 preset), torch parity, spec grammar."""

import numpy as np
import pytest
import scipy.signal

from mssoracle.errors import ParameterError
from mssoracle.transforms import from_spec
from mssoracle.transforms.stft import SISEC18_STFT_SPEC, STFT, parse_window

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional extra
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")

TOL = {np.float64: 1e-12, np.float32: 2e-6}

CONFIGS = [
    (2048, 512, "hann"),
    (4096, 1024, "hann"),
    (2048, 1024, "hann"),
    (1001, 250, "hann"),       # odd n_fft
    (1000, 333, "kaiser-8.6"),  # non power of two, parameterised window
    (777, 777, "boxcar"),      # hop == n_fft
    (256, 100, "blackman"),
    (512, 128, "tukey-0.25"),
    (96, 40, "hamming"),
    (5, 1, "hann"),
    (2, 1, "hann"),
]


def _signal(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("n_fft,hop,window", CONFIGS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_round_trip(n_fft, hop, window, dtype):
    t = STFT(n_fft, hop, window=window)
    x = _signal((2, 5003), dtype)
    coefs = t.forward(x)
    assert isinstance(coefs, list) and len(coefs) == 1
    z = coefs[0]
    assert z.shape == (2, n_fft // 2 + 1, t.n_frames(5003))
    assert z.dtype == (np.complex64 if dtype == np.float32 else np.complex128)
    y = t.inverse(coefs, 5003)
    assert y.dtype == dtype and y.shape == x.shape
    assert np.max(np.abs(y - x)) / np.max(np.abs(x)) < TOL[dtype]


@pytest.mark.parametrize("shape", [(4000,), (3, 2, 4000), (2, 1, 1, 999)])
def test_leading_axes(shape):
    t = from_spec("stft:256:64")
    x = _signal(shape, np.float64, seed=1)
    z = t.forward(x)[0]
    assert z.shape == shape[:-1] + (129, t.n_frames(shape[-1]))
    # each leading slice equals the transform of that slice alone
    flat_x = x.reshape(-1, shape[-1])
    flat_z = z.reshape((-1,) + z.shape[-2:])
    for i in range(flat_x.shape[0]):
        np.testing.assert_allclose(flat_z[i], t.forward(flat_x[i])[0], rtol=0, atol=1e-14)
    np.testing.assert_allclose(t.inverse([z], shape[-1]), x, rtol=0, atol=1e-12)


def test_short_signals_and_lengths():
    t = from_spec("stft:512:128")
    for n in (1, 7, 255, 256, 257, 511, 512, 513):
        x = _signal((2, n), np.float64, seed=n)
        z = t.forward(x)[0]
        assert z.shape[-1] == t.n_frames(n) >= 1
        np.testing.assert_allclose(t.inverse([z], n), x, atol=1e-12)
    x = _signal((1, 3000), np.float64)
    z = t.forward(x)
    y = t.inverse(z, 3500)  # longer than the frames cover: zero-filled tail
    assert y.shape == (1, 3500)
    np.testing.assert_allclose(y[:, :3000], x, atol=1e-12)
    assert not np.any(y[:, 3000 + 256 + 128:])
    np.testing.assert_allclose(t.inverse(z, 1000), x[:, :1000], atol=1e-12)


def test_frame_count_formula():
    for n_fft, hop in [(2048, 512), (1001, 250), (64, 64)]:
        t = STFT(n_fft, hop, window="boxcar" if hop == n_fft else "hann")
        for n in (1, 100, 4096, 44100):
            padded = n + 2 * (n_fft // 2)
            expected = 1 if padded <= n_fft else 1 + int(np.ceil((padded - n_fft) / hop))
            assert t.n_frames(n) == expected == t.forward(np.zeros(n))[0].shape[-1]


def test_not_centered():
    t = from_spec("stft:n_fft=64,hop=16,center=false")
    assert t.name == "stft-64-16-nocenter" and t.pad == 0
    x = _signal((2, 1000), np.float64)
    z = t.forward(x)[0]
    # frame 0 starts at sample 0
    expected0 = np.fft.rfft(x[:, :64] * scipy.signal.get_window("hann", 64)) / scipy.signal.get_window("hann", 64).sum()
    np.testing.assert_allclose(z[..., 0], expected0, atol=1e-14)
    y = t.inverse([z], 1000)
    # sample 0 has a zero window weight (Hann); everything else is recovered
    np.testing.assert_allclose(y[:, 1:], x[:, 1:], atol=1e-12)
    box = from_spec("stft:n_fft=50,hop=50,window=boxcar,center=false")
    np.testing.assert_allclose(box.inverse(box.forward(x), 1000), x, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sisec18_preset_matches_scipy(dtype):
    """Forward equals scipy.signal.stft(x, nperseg=2048) and masked inverses equal scipy's istft."""
    t = from_spec(SISEC18_STFT_SPEC)
    assert (t.n_fft, t.hop, t.window, t.center) == (2048, 1024, "hann", True)
    n = 3 * 44100 + 123
    x = _signal((2, n), dtype, seed=3)
    z = t.forward(x)[0]
    _, _, zs = scipy.signal.stft(x, nperseg=2048, noverlap=1024, window="hann", boundary="zeros", padded=True)
    assert z.shape == zs.shape
    # the same scale as scipy (factor 1): the SiSEC oracles' eps act identically
    scale = np.vdot(zs, z) / np.vdot(zs, zs)
    assert abs(scale - 1) < TOL[dtype]
    np.testing.assert_allclose(z, zs, rtol=0, atol=TOL[dtype] * np.abs(zs).max())
    mask = np.random.default_rng(4).random(z.shape)
    for m in (mask, mask > 0.5, np.ones(z.shape)):
        ys = scipy.signal.istft(zs * m)[1][..., :n]  # sigsep-mus-oracle: istft(Yj)[1].T[:N, :]
        y = t.inverse([z * m], n)
        assert np.max(np.abs(y - ys)) <= TOL[dtype] * max(1.0, np.abs(ys).max())


@pytest.mark.parametrize("n_fft,hop,window", [(1001, 250, "hann"), (1000, 333, "kaiser-8.6"), (256, 100, "blackman")])
def test_other_configs_match_scipy(n_fft, hop, window):
    t = STFT(n_fft, hop, window=window)
    x = _signal((2, 7001), np.float64, seed=5)
    win = parse_window(window)
    sw = ("kaiser", 8.6) if win.startswith("kaiser") else win
    _, _, zs = scipy.signal.stft(x, nperseg=n_fft, noverlap=n_fft - hop, window=sw, boundary="zeros", padded=True)
    z = t.forward(x)[0]
    np.testing.assert_allclose(z, zs, rtol=0, atol=1e-13)
    m = np.random.default_rng(6).random(z.shape)
    ys = scipy.signal.istft(zs * m, nperseg=n_fft, noverlap=n_fft - hop, window=sw)[1][..., :7001]
    np.testing.assert_allclose(t.inverse([z * m], 7001), ys, rtol=0, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_fft,hop,window", [(2048, 512, "hann"), (1001, 250, "hamming"), (777, 777, "boxcar")])
def test_torch_matches_numpy(n_fft, hop, window, dtype):
    t = STFT(n_fft, hop, window=window)
    x = _signal((2, 2, 6000), dtype, seed=7)
    z = t.forward(x)[0]
    zt = t.forward(torch.from_numpy(x))[0]
    assert isinstance(zt, torch.Tensor)
    assert zt.dtype == (torch.complex64 if dtype == np.float32 else torch.complex128)
    scale = np.abs(z).max()
    np.testing.assert_allclose(zt.numpy(), z, rtol=0, atol=TOL[dtype] * scale)
    yt = t.inverse([zt], 6000)
    assert isinstance(yt, torch.Tensor) and yt.dtype == torch.from_numpy(x).dtype
    np.testing.assert_allclose(yt.numpy(), t.inverse([z], 6000), rtol=0, atol=TOL[dtype] * np.abs(x).max())
    np.testing.assert_allclose(yt.numpy(), x, rtol=0, atol=TOL[dtype] * np.abs(x).max())


@pytest.mark.parametrize("spec,name,canonical", [
    ("stft:4096", "stft-4096-1024", "stft:4096:1024"),
    ("stft:4096:1024", "stft-4096-1024", "stft:4096:1024"),
    ("stft:n_fft=4096,hop=1024,window=hann", "stft-4096-1024", "stft:4096:1024"),
    ("STFT:2048", "stft-2048-512", "stft:2048:512"),
    ("stft:nfft=2048,hop_length=512,win=hanning", "stft-2048-512", "stft:2048:512"),
    ("stft:2048:512:blackman", "stft-2048-512-blackman", "stft:2048:512:blackman"),
    ("stft:2048:512:Kaiser-8.60", "stft-2048-512-kaiser-8.6", "stft:2048:512:kaiser-8.6"),
    ("stft:n_fft=1001,window=general_gaussian-1.5-300", "stft-1001-250-general_gaussian-1.5-300",
     "stft:1001:250:general_gaussian-1.5-300"),
    ("stft:n_fft=2048,hop=512,center=false", "stft-2048-512-nocenter",
     "stft:n_fft=2048,hop=512,window=hann,center=false"),
    ("stft:n_fft=2048,center=true", "stft-2048-512", "stft:2048:512"),
    ("stft:1000:250:kaiser-1e-05", "stft-1000-250-kaiser-1e-05", "stft:1000:250:kaiser-1e-05"),
])
def test_spec_parsing(spec, name, canonical):
    t = from_spec(spec)
    assert isinstance(t, STFT)
    assert (t.name, t.spec) == (name, canonical)
    again = from_spec(t.spec)
    assert again == t and (again.name, again.spec) == (t.name, t.spec)
    assert all(c.isalnum() or c in "-_." for c in t.name)


def test_constructor_forms():
    assert STFT(2048).hop == 512
    assert STFT(2048, window=("kaiser", 8.6)).name == "stft-2048-512-kaiser-8.6"
    assert from_spec("stft:4096", sample_rate=22050).sample_rate == 22050
    assert from_spec(STFT(1024)) .spec == "stft:1024:256"


@pytest.mark.parametrize("spec,needle", [
    ("stft", "lacks n_fft"),
    ("stft:1", "n_fft must be an integer >= 2"),
    ("stft:0", "n_fft must be an integer >= 2"),
    ("stft:2048:0", "hop must be an integer from 1 to 2048"),
    ("stft:2048:-5", "hop must be an integer from 1 to 2048"),
    ("stft:2048:4096", "hop must be an integer from 1 to 2048"),
    ("stft:2048:2048", "NOLA"),
    ("stft:2048:512:nosuchwindow", "valid: hann"),
    ("stft:2048:512:kaiser", "kaiser"),
    ("stft:2048:512:kaiser-8.6-", "malformed window"),
    ("stft:2048:512:hann_symmetric", "symmetric"),
    ("stft:abc", "n_fft in transform spec 'stft:abc' must be an integer"),
    ("stft:2048:1.5", "hop in transform spec 'stft:2048:1.5' must be an integer"),
    ("stft:n_fft=2048,foo=1", "unknown key 'foo'"),
    ("stft:n_fft=2048,hop", "malformed item"),
    ("stft:2048:512:hann:1", "too many values"),
    ("stft:n_fft=2048,center=maybe", "true or false"),
    ("stft:n_fft=2048,nfft=1024", "given twice"),
])
def test_bad_specs(spec, needle):
    with pytest.raises(ParameterError) as info:
        from_spec(spec)
    msg = str(info.value)
    assert needle in msg and "\n" not in msg


def test_nola_message_names_a_working_hop():
    with pytest.raises(ParameterError, match=r"largest hop below 2048 that works is (\d+)") as info:
        STFT(2048, 2048)
    import re

    good = int(re.search(r"works is (\d+)", str(info.value)).group(1))
    STFT(2048, good)  # does not raise
    assert scipy.signal.check_NOLA(scipy.signal.get_window("hann", 2048), 2048, 2048 - good)


def test_bad_inputs():
    t = from_spec("stft:256")
    with pytest.raises(ParameterError, match="real"):
        t.forward(np.ones((2, 1000), dtype=complex))
    with pytest.raises(ParameterError, match="time > 0"):
        t.forward(np.ones((2, 0)))
    z = t.forward(np.ones((2, 1000)))
    with pytest.raises(ParameterError, match="one group"):
        t.inverse(z + z, 1000)
    with pytest.raises(ParameterError, match="expects coefficients"):
        t.inverse([z[0][:, :10]], 1000)
    with pytest.raises(ParameterError, match="length"):
        t.inverse(z, -1)
