"""Oracle estimators: invariants, slow reference implementations, torch parity, spec parsing."""

import itertools

import numpy as np
import pytest

from mssoracle.errors import ParameterError
from mssoracle.oracles import (
    EPS, ORACLES, SISEC18_ORACLES, Oracle, available_oracles, cirm, get_oracle, gt, ibm, irm, mix, mpi,
    mwf, psm, wiener,
)

EPS64 = float(np.finfo(np.float64).eps)

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional extra
    torch = None

BACKENDS = ["numpy"] + (["torch"] if torch is not None else [])
RTOL = {np.float64: 1e-10, np.float32: 2e-5}

#: (bins, frames) per group: one group, and three ragged groups made by hand
LAYOUTS = {"one": [(33, 21)], "ragged": [(5, 40), (12, 17), (30, 6)]}


def _make(channels, nsrc, layout, dtype, seed=0, mixture="sum"):
    """Random source coefficients; mixture = sum of the stems (or stems + noise)."""
    rng = np.random.default_rng(seed)
    cdtype = np.complex64 if dtype == np.float32 else np.complex128
    S, X = [], []
    for bins, frames in LAYOUTS[layout]:
        shape = (nsrc, channels, bins, frames)
        s = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) * rng.gamma(0.5, size=shape)
        s = s.astype(cdtype)
        x = s.sum(0)
        if mixture == "noisy":
            x = (x + 0.3 * (rng.standard_normal(x.shape) + 1j * rng.standard_normal(x.shape))).astype(cdtype)
        S.append(s)
        X.append(x)
    return X, S


def _to(backend, arrays):
    if backend == "torch":
        return [torch.from_numpy(np.ascontiguousarray(a)) for a in arrays]
    return arrays


def _np(arrays):
    return [a.numpy() if torch is not None and isinstance(a, torch.Tensor) else a for a in arrays]


GRID = list(itertools.product([1, 2], [2, 4], ["one", "ragged"], [np.float32, np.float64], BACKENDS))
GRID_IDS = [f"c{c}-j{j}-{lay}-{np.dtype(d).name}-{b}" for c, j, lay, d, b in GRID]


def _check_output(Y, X, S, backend):
    assert isinstance(Y, list) and len(Y) == len(S)
    for y, x, s in zip(Y, X, S):
        assert tuple(y.shape) == tuple(s.shape)
        if backend == "torch":
            assert isinstance(y, torch.Tensor) and y.dtype == x.dtype
        else:
            assert isinstance(y, np.ndarray) and y.dtype == x.dtype
    return _np(Y)


@pytest.mark.parametrize("channels,nsrc,layout,dtype,backend", GRID, ids=GRID_IDS)
def test_mask_invariants(channels, nsrc, layout, dtype, backend):
    X, S = _make(channels, nsrc, layout, dtype, seed=channels * 10 + nsrc)
    Xb, Sb = _to(backend, X), _to(backend, S)
    tol = RTOL[dtype]
    for alpha in (1, 2):
        Y = _check_output(irm(Xb, Sb, alpha=alpha), Xb, Sb, backend)
        for y, x, s in zip(Y, X, S):
            # masks in [0, 1] summing to one: estimates sum to the mixture
            np.testing.assert_allclose(y.sum(0), x, rtol=0, atol=tol * np.abs(x).max())
            mask = (y / x[None]).real
            assert np.all(mask >= -tol) and np.all(mask <= 1 + tol)
            p = np.abs(s.astype(np.complex128)) ** alpha
            np.testing.assert_allclose(mask, p / (EPS + p.sum(0)), rtol=0, atol=10 * tol)
        Y = _check_output(ibm(Xb, Sb, alpha=alpha), Xb, Sb, backend)
        for y, x, s in zip(Y, X, S):
            mask = y / x[None]
            assert np.all(np.abs(mask.imag) <= tol)
            assert set(np.unique(np.round(mask.real, 4))) <= {0.0, 1.0}  # binary
            ratio = np.abs(s.astype(np.complex128)) ** alpha / (EPS + np.abs(x.astype(np.complex128)) ** alpha)
            far = np.abs(ratio - 0.5) > 1e-4  # away from ties at float32 precision
            np.testing.assert_array_equal(mask.real[far] > 0.5, ratio[far] >= 0.5)
    # MPI keeps the mixture's phase and each source's magnitude
    Y = _check_output(mpi(Xb, Sb), Xb, Sb, backend)
    for y, x, s in zip(Y, X, S):
        np.testing.assert_allclose(np.abs(y), np.abs(s), rtol=tol, atol=tol * np.abs(s).max())
        np.testing.assert_allclose(y * np.abs(x)[None], np.abs(s) * x[None], rtol=0,
                                   atol=10 * tol * (np.abs(x).max() * np.abs(s).max()))
    # mix = X / nsrc
    Y = _check_output(mix(Xb, Sb), Xb, Sb, backend)
    for y, x in zip(Y, X):
        np.testing.assert_allclose(y, np.broadcast_to(x / nsrc, y.shape), rtol=tol)
    # cirm and gt are exact when the mixture is the sum of the stems
    for f in (cirm, gt):
        Y = _check_output(f(Xb, Sb), Xb, Sb, backend)
        for y, s in zip(Y, S):
            np.testing.assert_allclose(y, s, rtol=0, atol=10 * tol * np.abs(s).max())
    # psm: real mask; unclipped it sums to one, clipped it lies in [0, 1]
    Y = _check_output(psm(Xb, Sb, clip=False), Xb, Sb, backend)
    for y, x, s in zip(Y, X, S):
        np.testing.assert_allclose(y.sum(0), x, rtol=0, atol=100 * tol * np.abs(x).max())
        np.testing.assert_allclose(y / x[None], (s / x[None]).real, rtol=0, atol=1e3 * tol * np.abs(s / x).max())
    Y = _check_output(psm(Xb, Sb), Xb, Sb, backend)
    for y, x, s in zip(Y, X, S):
        m = (y / x[None]).real
        assert m.min() >= -tol and m.max() <= 1 + tol
        np.testing.assert_allclose(m, np.clip((s / x[None]).real, 0, 1), rtol=0, atol=1e3 * tol)


@pytest.mark.parametrize("channels,nsrc,layout,dtype,backend", GRID, ids=GRID_IDS)
def test_multichannel_wiener_oracles(channels, nsrc, layout, dtype, backend):
    X, S = _make(channels, nsrc, layout, dtype, seed=channels + nsrc, mixture="noisy")
    Xb, Sb = _to(backend, X), _to(backend, S)
    for norm in ("sisec", "bin"):
        Y = _check_output(mwf(Xb, Sb, norm=norm), Xb, Sb, backend)
        for g, (y, x, s) in enumerate(zip(Y, X, S)):
            ref = _slow_sigsep_mwf(x.astype(np.complex128), s.astype(np.complex128), norm)
            np.testing.assert_allclose(y, ref, rtol=0, atol=RTOL[dtype] * 10 * np.abs(ref).max())
            # Wiener gains sum to the identity: estimates add up to the mixture
            np.testing.assert_allclose(y.sum(0), x, rtol=0, atol=RTOL[dtype] * 10 * np.abs(x).max())
    # wiener[iterations=0] is the MPI start
    y0 = _np(wiener(Xb, Sb, iterations=0))
    for a, b in zip(y0, _np(mpi(Xb, Sb))):
        np.testing.assert_array_equal(a, b)
    # wienerK against norbert itself: tests/test_oracle_norbert.py
    _check_output(wiener(Xb, Sb, iterations=2), Xb, Sb, backend)

def _slow_sigsep_mwf(x, s, norm):
    """sigsep-mus-oracle's MWF.py maths for one group, bin by bin and frame by frame.

    Their own code is the peer for C = 2 and one group (tests/test_oracle_sigsep.py); this loop checks what
    it does not cover: C = 1, ragged groups, several source counts."""
    eps = np.finfo(np.float64).eps
    nsrc, ch, nbins, nframes = s.shape

    def inv(m):
        if ch == 1:
            return 1.0 / (eps + m)
        a, b, c, d = m[0, 0], m[0, 1], m[1, 0], m[1, 1]
        return np.array([[d, -b], [-c, a]]) / (eps + a * d - b * c)

    P, R = [], []
    for j in range(nsrc):
        Rj = np.zeros((nbins, ch, ch), complex)
        Pj = np.zeros((nbins, nframes))
        for f in range(nbins):
            for t in range(nframes):
                v = s[j, :, f, t]
                Pj[f, t] = np.mean(np.abs(v) ** 2)
                Rj[f] += np.outer(v, v.conj()) / (eps + Pj[f, t])
        Rj /= nframes
        if norm == "sisec":
            Rj = Rj * ch / np.trace(Rj)  # numpy's trace of the (bins, C, C) stack, as sigsep calls it
        else:
            Rj = Rj * ch / np.trace(Rj, axis1=1, axis2=2)[:, None, None]
        Rj = Rj + eps * np.eye(ch)[None]
        for f in range(nbins):
            Rinv = inv(Rj[f])
            for t in range(nframes):
                v = s[j, :, f, t]
                Pj[f, t] = sum(np.real(Rinv[i1, i2] * v[i2] * np.conj(v[i1]))
                               for i1 in range(ch) for i2 in range(ch)) / ch
        P.append(Pj)
        R.append(Rj)
    out = np.zeros(s.shape, complex)
    for f in range(nbins):
        for t in range(nframes):
            cxx = sum(P[j][f, t] * R[j][f] for j in range(nsrc))
            icxx = inv(cxx)
            for j in range(nsrc):
                out[j, :, f, t] = P[j][f, t] * R[j][f] @ icxx @ x[:, f, t]
    return out


def test_mwf_sisec_normalisation_is_the_numpy_trace_of_the_stack():
    """The default reproduces sigsep's np.trace on the (bins, C, C) stack, which differs from per-bin traces."""
    X, S = _make(2, 3, "one", np.float64, seed=11, mixture="noisy")
    a, b = mwf(X, S)[0], mwf(X, S, norm="bin")[0]
    assert np.abs(a - b).max() > 1e-6 * np.abs(a).max()


def test_mwf_beats_irm_on_a_rank1_spatial_scene():
    """Panned point sources (rank-1 spatial images plus a little diffuse part): the per-bin MWF and the EM
    Wiener filter separate far better than masks; sigsep's stack-trace normalisation (the default, which
    reproduces SiSEC 2018) costs a lot on such a scene, which is why it is kept apart as norm=sisec."""
    rng = np.random.default_rng(5)
    nsrc, bins, frames = 3, 40, 60
    pans = np.linspace(0.1, 0.9, nsrc) * np.pi / 2
    S = np.zeros((nsrc, 2, bins, frames), complex)
    for j in range(nsrc):
        env = rng.gamma(1.0, size=(bins, frames))
        a = np.array([np.cos(pans[j]), np.sin(pans[j])])
        sig = rng.standard_normal((bins, frames)) + 1j * rng.standard_normal((bins, frames))
        diffuse = rng.standard_normal((2, bins, frames)) + 1j * rng.standard_normal((2, bins, frames))
        S[j] = env * (a[:, None, None] * sig[None] + 0.05 * diffuse)
    X = S.sum(0)

    def err(Y):
        return np.sum(np.abs(Y[0] - S) ** 2) / np.sum(np.abs(S) ** 2)

    e_irm2 = err(irm([X], [S], alpha=2))
    e_bin = err(mwf([X], [S], norm="bin"))
    assert e_bin < 0.5 * e_irm2
    assert err(wiener([X], [S], iterations=3)) < 0.7 * err(mpi([X], [S]))
    assert err(mwf([X], [S])) > 2 * e_bin


def test_silent_bins_and_silent_source():
    X, S = _make(2, 3, "one", np.float64, seed=2)
    s = S[0].copy()
    s[:, :, 3:6, :] = 0  # bins where every source is silent
    s[1] = 0  # a whole silent source
    x = s.sum(0)
    for name in ("irm1", "irm2", "ibm1", "ibm2", "mpi", "mwf", "mwf[norm=bin]", "mix", "psm", "cirm", "wiener2", "gt"):
        y = get_oracle(name)([x], [s])[0]
        assert np.all(np.isfinite(y)), name
        if name != "mix":
            assert not np.any(y[1]), name  # the silent source gets a silent estimate
            assert not np.any(y[:, :, 3:6, :]), name


@pytest.mark.parametrize("name", ["irm1", "irm2", "ibm1", "ibm2", "mpi", "mwf", "mix", "psm", "cirm", "gt"])
def test_groups_are_independent(name):
    """Several groups give exactly what each group gives alone (no oracle assumes one group)."""
    X, S = _make(2, 2, "ragged", np.float64, seed=9, mixture="noisy")
    o = get_oracle(name)
    together = o(X, S)
    for g in range(3):
        np.testing.assert_allclose(together[g], o([X[g]], [S[g]])[0], rtol=1e-12, atol=1e-14)


def test_stft_round_trips_through_oracles():
    """All-ones mask gives the mixture back; cirm and gt give the stems back (mixture = sum of stems)."""
    from mssoracle.transforms import from_spec

    rng = np.random.default_rng(1)
    stems = rng.standard_normal((4, 2, 9000)) * np.array([1, 0.5, 0.1, 2])[:, None, None]
    mixture = stems.sum(0)
    t = from_spec("stft:1024:256")
    X, S = t.forward(mixture), t.forward(stems)
    np.testing.assert_allclose(t.inverse([X[0] * np.ones(X[0].shape)], 9000), mixture, atol=1e-12)
    for name in ("cirm", "gt"):
        est = t.inverse(get_oracle(name)(X, S), 9000)
        rel = np.sum((est - stems) ** 2, axis=(1, 2)) / np.sum(stems ** 2, axis=(1, 2))
        assert np.all(10 * np.log10(1 / rel) > 200), name  # "SDR" above 200 dB
    est = t.inverse(get_oracle("irm1")(X, S), 9000)
    np.testing.assert_allclose(est.sum(0), mixture, atol=1e-9)


@pytest.mark.skipif(torch is None, reason="torch not installed")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_torch_matches_numpy_for_every_oracle(dtype):
    X, S = _make(2, 3, "ragged", dtype, seed=4, mixture="noisy")
    Xt, St = _to("torch", X), _to("torch", S)
    for name in ("irm1", "irm2", "irm[alpha=1.5]", "ibm1", "ibm2[theta=0.3]", "mpi", "mpi[phase=sum]", "mwf",
                 "mwf[norm=bin]", "mix", "psm", "psm[clip=false]", "cirm", "wiener[iterations=0]", "wiener1", "wiener3",
                 "gt"):
        o = get_oracle(name)
        a, b = o(X, S), o(Xt, St)
        for ya, yb in zip(a, b):
            assert isinstance(yb, torch.Tensor) and yb.dtype == St[0].dtype
            scale = np.abs(ya).max()
            tol = 1e-10 if dtype == np.float64 else (1e-3 if name.startswith("wiener") else 1e-5)
            if name.startswith("ibm"):  # binary decisions may flip on near-ties in float32
                assert np.mean(np.abs(yb.numpy() - ya) > tol * scale) < 1e-3
            else:
                np.testing.assert_allclose(yb.numpy(), ya, rtol=0, atol=tol * scale, err_msg=name)


@pytest.mark.parametrize("spec,name,options", [
    ("irm1", "irm1", {"alpha": 1.0, "eps": EPS64}),
    ("irm2", "irm2", {"alpha": 2.0, "eps": EPS64}),
    ("irm", "irm1", {"alpha": 1.0, "eps": EPS64}),
    ("irm[alpha=2]", "irm2", {"alpha": 2.0, "eps": EPS64}),
    ("irm[alpha=1.5]", "irm[alpha=1.5]", {"alpha": 1.5, "eps": EPS64}),
    ("ibm1", "ibm1", {"alpha": 1.0, "theta": 0.5}),
    ("ibm2", "ibm2", {"alpha": 2.0, "theta": 0.5}),
    ("ibm1[theta=0.3]", "ibm1[theta=0.3]", {"alpha": 1.0, "theta": 0.3}),
    ("ibm[theta=0.3,alpha=0.5]", "ibm[alpha=0.5,theta=0.3]", {"alpha": 0.5, "theta": 0.3}),
    ("mpi", "mpi", {"phase": "mix", "eps": 0.0}),
    ("mpi[phase=sum]", "mpi[phase=sum]", {"phase": "sum", "eps": 0.0}),
    ("mpi[phase=mix]", "mpi", {"phase": "mix", "eps": 0.0}),
    ("MWF", "mwf", {"norm": "sisec", "reg": 0.0}),
    ("mwf[norm=bin]", "mwf[norm=bin]", {"norm": "bin", "reg": 0.0}),
    ("mix", "mix", {}),
    ("psm", "psm", {"clip": True}),
    ("psm[clip=false]", "psm[clip=false]", {"clip": False}),
    ("cirm", "cirm", {}),
    ("wiener1", "wiener1", {"iterations": 1}),
    ("wiener3", "wiener3", {"iterations": 3}),
    ("wiener", "wiener1", {"iterations": 1}),
    ("wiener[iterations=0]", "wiener[iterations=0]", {"iterations": 0}),
    ("irm[alpha=3]", "irm[alpha=3]", {"alpha": 3.0, "eps": EPS64}),
    ("ibm[alpha=3,theta=0.3]", "ibm[alpha=3,theta=0.3]", {"alpha": 3.0, "theta": 0.3}),
    ("wiener12", "wiener12", {"iterations": 12}),
    ("gt", "gt", {}),
])
def test_oracle_specs(spec, name, options):
    o = get_oracle(spec)
    assert isinstance(o, Oracle)
    assert o.name == name and o.options == options
    assert get_oracle(o.name) == o and get_oracle(o) is o
    assert all(c.isalnum() or c in "[]=,._" for c in o.name)
    assert o.base in ORACLES


@pytest.mark.parametrize("spec,needle", [
    ("foo", "unknown oracle 'foo'; valid oracles: irm1"),
    ("irm01", "leading zero"),
    ("wiener3[iterations=2]", "given twice"),
    ("", "non-empty"),
    ("irm1.5", "unknown oracle"),
    ("mpi2", "takes no number suffix"),
    ("irm0", "irm0 is not an oracle name; irm takes the digits 1, 2 (irm1, irm2); and irm[alpha=0] is not valid"),
    ("irm3", "irm3 is not an oracle name; irm takes the digits 1, 2 (irm1, irm2); write irm[alpha=3]"),
    ("ibm3", "ibm3 is not an oracle name; ibm takes the digits 1, 2 (ibm1, ibm2); write ibm[alpha=3]"),
    ("wiener0", "wiener0 is not an oracle name; wiener takes the digits N >= 1 (wiener1, wiener2, ...); "
                "write wiener[iterations=0]"),
    ("irm[alpha=0]", "oracle irm[alpha=0]: option alpha must be a finite number > 0"),
    ("irm[alpha=abc]", "option alpha must be a finite number > 0"),
    ("irm[alpha=nan]", "option alpha must be a finite number > 0"),
    ("ibm1[theta=-1]", "oracle ibm1[theta=-1]: option theta must be a finite number >= 0"),
    ("wiener[iterations=1.5]", "option iterations must be an integer >= 0"),
    ("mpi[phase=foo]", "option phase must be one of mix, sum"),
    ("mwf[norm=foo]", "option norm must be one of sisec, bin"),
    ("psm[clip=maybe]", "option clip must be true or false"),
    ("irm[beta=1]", "unknown option 'beta'"),
    ("mix[alpha=1]", "its options: none"),
    ("irm1[alpha=2]", "given twice"),
    ("irm[]", "empty brackets"),
    ("irm[alpha]", "malformed option"),
])
def test_bad_oracle_specs(spec, needle):
    with pytest.raises(ParameterError) as info:
        get_oracle(spec)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_bad_oracle_inputs():
    X, S = _make(2, 2, "ragged", np.float64)
    with pytest.raises(ParameterError, match="same number of groups"):
        irm(X[:2], S)
    with pytest.raises(ParameterError, match="matching shape"):
        irm([X[0]], [S[1]])
    with pytest.raises(ParameterError, match="group 1 has 3 sources"):
        irm(X[:2], [S[0], np.concatenate([S[1], S[1][:1]])])
    with pytest.raises(ParameterError, match="integer >= 0"):
        wiener(X, S, iterations=-1)
    if torch is not None:
        with pytest.raises(ParameterError, match="mixes numpy arrays and torch tensors"):
            irm([torch.from_numpy(X[0])], [S[0]])


def test_registry_listing():
    listed = available_oracles()
    assert list(listed)[:5] == ["irm1", "irm2", "ibm1", "ibm2", "mpi"]
    assert {"mix", "psm", "cirm", "wiener1", "gt"} <= set(listed)
    assert all(isinstance(d, str) and d and "\n" not in d for d in listed.values())
    assert set(SISEC18_ORACLES) <= set(listed)
    assert set(ORACLES) == {"irm", "ibm", "mpi", "mwf", "mix", "psm", "cirm", "wiener", "gt"}


@pytest.mark.parametrize("spec", ["irm1", "irm2", "ibm1", "ibm2[theta=0.3]", "mpi", "mpi[phase=sum]", "mix", "psm",
                                  "cirm", "gt"])
def test_blockwise_pointwise_oracles_equal_one_pass(spec, monkeypatch):
    """Oracle.__call__ runs pointwise oracles over blocks of frames: same result as one pass."""
    import importlib

    registry_module = importlib.import_module("mssoracle.oracles.registry")

    rng = np.random.default_rng(3)
    S = [rng.standard_normal((3, 2, 7, 50)) + 1j * rng.standard_normal((3, 2, 7, 50)),
         rng.standard_normal((3, 2, 2, 13)) + 1j * rng.standard_normal((3, 2, 2, 13))]
    X = [s.sum(0) for s in S]
    oracle = registry_module.get_oracle(spec)
    whole = oracle._impl.func(X, S, **oracle.options)
    monkeypatch.setattr(registry_module, "_BLOCK_BYTES", 3 * 2 * 7 * 16 * 4)  # 4 frames a block: uneven split
    blocks = oracle(X, S)
    for a, b in zip(whole, blocks):
        np.testing.assert_array_equal(a, b)


# -- the eps= option of irm and mpi (issue 10) ---------------------------------------------------------------------

EPS32 = float(np.finfo(np.float32).eps)


def _eps_data():
    rng = np.random.default_rng(7)
    S = rng.standard_normal((3, 2, 9, 11)) + 1j * rng.standard_normal((3, 2, 9, 11))
    S[:, :, 0, 0] = 0          # a silent bin
    S[0, :, 1, 1] = 1e-8j      # a bin with magnitude below float32's eps
    S[1:, :, 1, 1] = 0
    return S.sum(axis=0), S


def test_eps_option_names_and_defaults():
    assert get_oracle("irm1").name == "irm1" and get_oracle("irm1[eps=2.220446049250313e-16]").name == "irm1"
    o = get_oracle(f"irm1[eps={EPS32!r}]")
    assert o.name == "irm1[eps=1.1920928955078125e-07]" and o.options["eps"] == EPS32
    assert get_oracle(o.name) == o
    m = get_oracle(f"mpi[eps={EPS32!r},phase=sum]")
    assert m.name == "mpi[phase=sum,eps=1.1920928955078125e-07]" and get_oracle(m.name) == m
    assert get_oracle("mpi[eps=0]").name == "mpi"
    for bad in ("irm1[eps=-1]", "mpi[eps=x]"):
        with pytest.raises(ParameterError, match="eps"):
            get_oracle(bad)


def test_eps_option_values():
    X, S = _eps_data()
    # default eps: today's numbers exactly
    np.testing.assert_array_equal(get_oracle("irm1")([X], [S])[0], irm([X], [S])[0])
    np.testing.assert_array_equal(get_oracle("mpi[phase=sum]")([X], [S])[0], mpi([X], [S], phase="sum")[0])
    # irm: eps in the denominator
    p = np.abs(S)
    want = p / (EPS32 + p.sum(axis=0)) * X[None]
    np.testing.assert_allclose(get_oracle(f"irm1[eps={EPS32!r}]")([X], [S])[0], want, rtol=1e-14, atol=0)
    # mpi: the phase of eps + sum (librosa.magphase: z / |z|, 1 where z == 0)
    ref = EPS32 + S.sum(axis=0)
    mag = np.abs(ref)
    ph = np.where(mag > 0, ref / np.where(mag > 0, mag, 1), 1)
    got = get_oracle(f"mpi[phase=sum,eps={EPS32!r}]")([X], [S])[0]
    np.testing.assert_allclose(got, np.abs(S) * ph[None], rtol=1e-14, atol=0)
    # the silent bin's phase is 1 either way; the tiny bin's phase moves toward the real axis
    plain = mpi([X], [S], phase="sum")[0][0, :, 1, 1]
    assert np.allclose(np.angle(plain), np.pi / 2) and np.all(np.angle(got[0, :, 1, 1]) < 0.1)
