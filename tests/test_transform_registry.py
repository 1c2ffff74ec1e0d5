"""Transform registries (kinds, scales) from outside the package, one thread budget, other sample rates."""

import numpy as np
import pytest

from mssoracle import cli, threads
from mssoracle.errors import ParameterError
from mssoracle.transforms import KINDS, SCALE_KINDS, TRANSFORMS, Transform, from_spec, register_scale, \
    register_transform

RNG = np.random.default_rng(11)


def rel_err(a, b):
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - b) / np.linalg.norm(b))


# ---------------------------------------------------------------------------- registries
@pytest.fixture
def toy_scale():
    @register_scale("sqrtwarp", inverse=lambda u: np.asarray(u, dtype=np.float64) ** 2,
                    description="centres equally spaced in sqrt(f) (test)", default_bins=30)
    def sqrt_warp(f):
        return np.sqrt(np.asarray(f, dtype=np.float64))

    yield "sqrtwarp"
    SCALE_KINDS.unregister("sqrtwarp")


def test_toy_scale_from_outside_builds_an_exact_slicqt(toy_scale, capsys):
    t = from_spec("slicq:scale=sqrtwarp,fmin=50", sample_rate=16000)
    assert t.scale.kind == "sqrtwarp" and t.scale.bins == 30  # the registered default
    f = t.scale.frequencies
    np.testing.assert_allclose(np.diff(np.sqrt(f)), np.sqrt(f[-1]) - np.sqrt(f[-2]), rtol=1e-9)
    assert t.name.startswith("slicq-sqrtwarp-30-50-sr16000-sllen")
    assert from_spec(t.spec, sample_rate=16000) == t
    x = RNG.standard_normal((2, 12000))
    assert rel_err(t.inverse(t.forward(x), 12000), x) <= 1e-15  # the documented float64 round trip
    st = t.stream(12000)
    out = np.zeros_like(x)
    for b in st.blocks:
        st.inverse_add(st.forward(x, b), b, out)
    st.finish(out)
    np.testing.assert_array_equal(out, t.inverse(t.forward(x), 12000))
    assert cli.main(["transforms"]) == 0
    listing = capsys.readouterr().out
    assert "sqrtwarp" in listing and "bark" in listing and "slicq" in listing
    with pytest.raises(ParameterError, match="already registered"):
        register_scale("sqrtwarp", np.sqrt, inverse=np.square)


def test_unknown_scale_lists_the_registered_ones():
    with pytest.raises(ParameterError, match="unknown scale 'erb'.*bark.*vqlog"):
        from_spec("slicq:scale=erb")


class _Identity(Transform):
    """One bin per sample, real coefficients stored as complex."""

    def __init__(self, sample_rate):
        self.sample_rate, self.name, self.spec = sample_rate, "ident", "ident"

    def forward(self, x):
        x = np.asarray(x)
        return [x[..., None, :].astype(np.complex64 if x.dtype == np.float32 else np.complex128)]

    def inverse(self, coefficients, length):
        return coefficients[0][..., 0, :length].real.copy()


def test_toy_transform_kind_from_outside():
    @register_transform("ident", description="identity (test)", example="ident")
    def ident(spec, *, sample_rate):
        return _Identity(sample_rate)

    try:
        assert "ident" in KINDS and "ident" in list(TRANSFORMS)
        t = from_spec("ident", sample_rate=8000)
        x = RNG.standard_normal((2, 100))
        st = t.stream(100)  # the default stream: one whole-signal block
        assert len(st.blocks) == 1 and st.frames == [100]
        out = np.zeros_like(x)
        st.inverse_add(st.forward(x, st.blocks[0]), st.blocks[0], out)
        np.testing.assert_array_equal(st.finish(out), x)
        assert t.at_rate(16000).sample_rate == 16000
    finally:
        TRANSFORMS.unregister("ident")
    assert "ident" not in KINDS
    with pytest.raises(ParameterError, match="unknown transform 'ident'"):
        from_spec("ident")


# ---------------------------------------------------------------------------- thread budget
@pytest.mark.parametrize("spec,sr", [("slicq:bark:60:40", 16000), ("stft:2048:512", 44100),
                                     ("nsgt:bark:60:40", 16000),
                                     ("slicq:scale=log,bins=40,fmin=60,form=matrix", 16000)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bit_identical_whatever_the_budget(spec, sr, dtype):
    t = from_spec(spec, sample_rate=sr)
    x = RNG.standard_normal((3, 2, 40000)).astype(dtype)
    results = []
    for n in (1, 2):
        with threads.limited(n):
            c = t.forward(x)
            masked = [g * 0.5 for g in c]
            results.append((c, t.inverse(masked, 40000)))
    (c1, y1), (c2, y2) = results
    for a, b in zip(c1, c2):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(y1, y2)


# ---------------------------------------------------------------------------- sample rates
@pytest.mark.parametrize("sr", [48000, 22050])
def test_specs_resolve_at_the_track_rate(sr):
    nyq = sr / 2
    n = from_spec("nsgt:bark:100:32.9", sample_rate=sr)
    assert n.scale.fmax == nyq and n.frequencies[-1] == nyq
    assert n.name == f"nsgt-bark-100-32.9-sr{sr}"  # fmax = Nyquist depends on the rate: named
    assert from_spec(n.spec, sample_rate=sr) == n
    q = from_spec("slicq:bark:100:32.9", sample_rate=sr)
    q44 = from_spec("slicq:bark:100:32.9")
    assert q.sllen == q.scale.suggested_sllen_trlen()[0] and q.name != q44.name
    assert q.name == f"slicq-bark-100-32.9-sr{sr}-sllen{q.sllen}-trlen{q.trlen}"
    explicit = from_spec("slicq:scale=bark,bins=100,fmin=32.9,fmax=8000", sample_rate=sr)
    assert "sr" not in explicit.name.split("-")[4] and "fmax8000" in explicit.name
    for t in (n, q, explicit, from_spec("stft:1024:256", sample_rate=sr)):
        x = RNG.standard_normal((2, sr // 2))
        assert rel_err(t.inverse(t.forward(x), sr // 2), x) <= 1e-12
    with pytest.raises(ParameterError, match="above Nyquist"):
        from_spec(f"nsgt:scale=bark,fmax={nyq + 1}", sample_rate=sr)
    assert from_spec("stft:1024:256", sample_rate=sr).name == "stft-1024-256"  # nothing depends on the rate


def test_at_rate_rebuilds_the_spec_as_given():
    q = from_spec("slicq:bark:262:32.9")
    assert q.at_rate(44100) is q and q.at_rate(44100.0) is q
    q48 = q.at_rate(48000)
    assert q48 == from_spec("slicq:bark:262:32.9", sample_rate=48000) and q48.sample_rate == 48000
    assert (q48.sllen, q48.scale.fmax) != (q.sllen, q.scale.fmax)
    fixed = from_spec("slicq:scale=bark,bins=262,fmin=32.9,sllen=20000,trlen=5000").at_rate(48000)
    assert (fixed.sllen, fixed.trlen) == (20000, 5000)
    s = from_spec("stft:2048:512")
    assert s.at_rate(48000).sample_rate == 48000 and s.at_rate(48000).spec == s.spec and s.at_rate(44100) is s
    n = from_spec("nsgt:bark:100:32.9", sample_rate=22050)
    assert n.at_rate(44100) == from_spec("nsgt:bark:100:32.9") and n.at_rate(44100).name == "nsgt-bark-100-32.9"
    assert from_spec(q, sample_rate=48000) == q48
    with pytest.raises(ParameterError, match="sample_rate must be a positive integer"):
        q.at_rate(0)
