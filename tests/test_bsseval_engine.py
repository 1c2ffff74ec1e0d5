"""BSS Eval engine: parity with museval 0.4.1 (stored and live), the shared JSON, edge cases, backends."""

import importlib.util
import json
import warnings

import numpy as np
import pytest

import museval_ref
from conftest import SHARED
from mssoracle.bsseval import COND_WARN, Evaluator, IllConditionedWarning, evaluate, framing, solvers
from mssoracle.errors import AudioError, ParameterError, SilentSourceError

METRICS = ("SDR", "ISR", "SIR", "SAR")
REFERENCE = museval_ref.load_reference()
HAS_TORCH = importlib.util.find_spec("torch") is not None


def _run(case, **extra):
    ref, est = museval_ref.make_inputs(case, SHARED)
    o = museval_ref.options(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IllConditionedWarning)
        ev = Evaluator(
            ref,
            _win_samples=o["win"],
            _hop_samples=o["hop"],
            mode=o["mode"],
            filters_len=o["filters_len"],
            compute_permutation=o["compute_permutation"],
            bss_eval_sources=o["bss_eval_sources"],
            **extra,
        )
        return ev, dict(zip(METRICS, ev.evaluate(est)))


def _same_pattern(a, b):
    return (
        np.array_equal(np.isnan(a), np.isnan(b))
        and np.array_equal(np.isposinf(a), np.isposinf(b))
        and np.array_equal(np.isneginf(a), np.isneginf(b))
    )


def _assert_parity(ours, theirs, cond, sdr_tol=1e-6, other_tol=1e-3):
    for m in METRICS:
        a, b = np.asarray(ours[m]), np.asarray(theirs[m])
        assert a.shape == b.shape, m
        assert _same_pattern(a, b), (m, a, b)
        fin = np.isfinite(a) & np.isfinite(b)
        if m == "SDR":
            np.testing.assert_allclose(a[fin], b[fin], rtol=0, atol=sdr_tol, err_msg=m)
        elif cond < COND_WARN:
            sel = fin & (np.abs(b) < 100)
            np.testing.assert_allclose(a[sel], b[sel], rtol=0, atol=other_tol, err_msg=m)


# ---------------------------------------------------------------------------
# stored museval outputs
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(museval_ref.CASES))
def test_parity_with_stored_museval(case):
    if case not in REFERENCE:
        pytest.skip(f"no stored museval output for {case}; run scripts/make_museval_reference.py")
    if museval_ref.is_real(case) and not SHARED.is_dir():
        pytest.skip(f"shared test data not found at {SHARED}")
    ev, ours = _run(case)
    theirs = REFERENCE[case]
    _assert_parity(ours, theirs, ev.cond)
    assert ev.nwin == theirs["SDR"].shape[1]
    if museval_ref.options(case)["compute_permutation"]:
        np.testing.assert_array_equal(ev.perm, theirs["perm"])
        assert not np.array_equal(ev.perm[:, 0], np.arange(ev.nsrc))  # the case permutes the estimates


def test_stored_cases_cover_the_grid():
    opts = [museval_ref.options(c) | museval_ref.CASES[c] for c in museval_ref.CASES]
    assert {o["mode"] for o in opts} == {"v3", "v4"}
    assert {o.get("nchan", 2) for o in opts} == {1, 2}
    assert min(o.get("nsrc", 4) for o in opts) == 2 and max(o.get("nsrc", 4) for o in opts) == 6
    assert any(o["hop"] < o["win"] for o in opts) and any(o["hop"] > o["win"] for o in opts)
    assert any(o["win"] >= o["nsampl"] for o in opts)
    assert any(o["nsampl"] % o["hop"] for o in opts)  # partial last frame
    assert any(o["bss_eval_sources"] for o in opts) and any(o.get("silent") for o in opts)


def test_silent_frames_case_has_nan_frames():
    if "v4_stereo_3src_silent_frames" not in REFERENCE:
        pytest.skip("no stored output")
    _, ours = _run("v4_stereo_3src_silent_frames")
    # frames 1 (silent reference), 2 (channel sum zero) and 3 (silent estimate) are NaN for every source
    assert np.isnan(ours["SDR"][:, 1:4]).all() and np.isfinite(ours["SDR"][:, 0]).all()


# ---------------------------------------------------------------------------
# live museval (small)
# ---------------------------------------------------------------------------

LIVE = museval_ref.museval_metrics()
requires_museval = pytest.mark.skipif(LIVE is None, reason="museval is not installed")


@requires_museval
@pytest.mark.parametrize(
    "nsrc,nsampl,nchan,win,hop,v3",
    [(2, 9000, 2, 4000, 3000, False), (3, 5000, 1, 2500, 2500, True)],
)
def test_live_museval(nsrc, nsampl, nchan, win, hop, v3):
    rng = np.random.default_rng(nsrc * 100 + nchan)
    ref = museval_ref._broadband(rng, nsrc, nsampl, nchan)
    est = museval_ref._estimates(rng, ref)
    s = LIVE.bss_eval(ref, est, window=win, hop=hop, framewise_filters=v3)
    theirs = dict(zip(METRICS, s[:4]))
    ev = Evaluator(ref, _win_samples=win, _hop_samples=hop, mode="v3" if v3 else "v4")
    ours = dict(zip(METRICS, ev.evaluate(est)))
    _assert_parity(ours, theirs, ev.cond, other_tol=1e-6)


# ---------------------------------------------------------------------------
# shared JSON (museval 0.3.0 output for the 80s Rock preview)
# ---------------------------------------------------------------------------


def test_sdr_regression_shared_json(shared_data):
    import soundfile as sf

    path = shared_data / "museval-reference-80s-rock-random-estimates.json"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    folder = shared_data / "musdb18hq-sample" / "train" / "Music Delta - 80s Rock"
    stems = {k: sf.read(str(folder / f"{k}.wav"), dtype="float64", always_2d=True)[0] for k in ("drums", "bass", "other", "vocals")}
    ref = np.stack([stems["vocals"], stems["drums"] + stems["bass"] + stems["other"]])
    shape = stems["vocals"].shape
    np.random.seed(0)  # the order museval's test used: vocals first, then accompaniment
    vocals = np.random.random(shape)
    accompaniment = np.random.random(shape)
    with pytest.warns(IllConditionedWarning):
        sdr, isr, sir, sar = evaluate(ref, [vocals, accompaniment])
    doc = json.loads(path.read_text())
    names = [t["name"] for t in doc["targets"]]
    assert names == ["vocals", "accompaniment"]
    for i, t in enumerate(doc["targets"]):
        want = np.array([f["metrics"]["SDR"] for f in t["frames"]])
        assert len(want) == sdr.shape[1]
        np.testing.assert_allclose(sdr[i], want, rtol=0, atol=1e-5)


# ---------------------------------------------------------------------------
# framing, edge cases, errors
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n,win,hop,nwin",
    [(10, 4, 4, 2), (12, 4, 4, 3), (10, 4, 2, 4), (10, 10, 3, 1), (10, 20, 20, 1), (10, np.inf, np.inf, 1), (9, 3, 5, 2)],
)
def test_framing_matches_museval(n, win, hop, nwin):
    starts, stops = framing(n, win, hop)
    assert len(starts) == nwin
    if LIVE is not None:
        f = LIVE.Framing(win, hop, n)
        want = [(s.start, s.stop) for s in f]
        assert list(zip(starts.tolist(), stops.tolist())) == want


def _pair(nsrc=2, nsampl=6000, nchan=2, seed=0):
    rng = np.random.default_rng(seed)
    ref = museval_ref._broadband(rng, nsrc, nsampl, nchan)
    return ref, museval_ref._estimates(rng, ref)


def test_estimate_equal_reference_gives_inf_sdr():
    ref, _ = _pair()
    sdr, isr, sir, sar = evaluate(ref, ref.copy(), 3000, 3000)
    assert np.isposinf(sdr).all()
    assert (isr > 100).all() and (sir > 100).all() and (sar > 100).all()


def test_one_source_inf_sir():
    ref, est = _pair(nsrc=1)
    sdr, isr, sir, sar = evaluate(ref, est, 3000, 3000)
    assert np.isposinf(sir).all() and np.isfinite(sdr).all() and np.isfinite(sar).all()
    if LIVE is not None:
        s = LIVE.bss_eval(ref, est, window=3000, hop=3000)
        _assert_parity(dict(zip(METRICS, (sdr, isr, sir, sar))), dict(zip(METRICS, s[:4])), 0.0)


def test_mono_forms_and_lists():
    ref, est = _pair(nchan=1)
    a = evaluate(ref[..., 0], est[..., 0], 3000, 3000)  # (nsrc, nsampl)
    b = evaluate(list(ref), list(est), 3000, 3000)  # lists of (nsampl, 1)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert a[0].shape == (2, 2)


def test_padding_and_truncation():
    ref, est = _pair()
    full = evaluate(ref, est, 2000, 2000)
    longer = np.concatenate([est, np.ones((2, 500, 2))], axis=1)
    for x, y in zip(full, evaluate(ref, longer, 2000, 2000)):
        np.testing.assert_array_equal(x, y)
    shorter = est[:, :5000]
    padded = np.concatenate([shorter, np.zeros((2, 1000, 2))], axis=1)
    for x, y in zip(evaluate(ref, shorter, 2000, 2000), evaluate(ref, padded, 2000, 2000)):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(AudioError, match=r"\(2, 5000, 2\)"):
        evaluate(ref, shorter, 2000, 2000, padding=False)


def test_scaling_invariance():
    ref, est = _pair(nsrc=3, seed=3)
    base = evaluate(ref, est, 3000, 3000)
    scaled = evaluate(ref * 7.5, est * 7.5, 3000, 3000)
    for x, y in zip(base, scaled):
        np.testing.assert_allclose(x, y, atol=1e-8)
    # scaling one estimate: its SIR and SAR are invariant (the projections scale with it), its SDR is not
    est2 = est.copy()
    est2[0] *= 3.0
    s2 = evaluate(ref, est2, 3000, 3000)
    np.testing.assert_allclose(s2[2][0], base[2][0], atol=1e-8)
    np.testing.assert_allclose(s2[3][0], base[3][0], atol=1e-8)
    assert not np.allclose(s2[0][0], base[0][0])
    for m in range(4):  # the other estimates are untouched
        np.testing.assert_allclose(s2[m][1:], base[m][1:], atol=1e-8)


def test_whole_track_silent_source_raises():
    ref, est = _pair(nsrc=3)
    ref2 = ref.copy()
    ref2[1] = 0
    with pytest.raises(SilentSourceError, match="reference source 1"):
        evaluate(ref2, est)
    est2 = est.copy()
    est2[2] = 0
    with pytest.raises(SilentSourceError, match="estimated source 2"):
        evaluate(ref, est2)
    with pytest.raises(SilentSourceError):
        Evaluator(ref2)
    ev = Evaluator(ref, sample_rate=1000, win=2.0, hop=2.0)
    with pytest.raises(SilentSourceError, match="estimated source 2"):
        ev.evaluate(est2)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_raises(bad):
    ref, est = _pair()
    e = est.copy()
    e[1, 10, 0] = bad
    with pytest.raises(AudioError, match=r"estimates: source\(s\) \[1\]"):
        evaluate(ref, e)
    r = ref.copy()
    r[0, 5, 1] = bad
    with pytest.raises(AudioError, match="references"):
        evaluate(r, est)


def test_shape_errors():
    ref, est = _pair()
    with pytest.raises(AudioError, match=r"\(2, 6000, 2\).*\(2, 6000, 1\)"):
        evaluate(ref, est[..., :1])
    with pytest.raises(AudioError, match="dimensions"):
        evaluate(ref[None], est[None])
    with pytest.raises(AudioError, match="same shape"):
        evaluate([ref[0], ref[1][:100]], est)
    with pytest.raises(ParameterError, match="empty"):
        evaluate(np.zeros((0, 10, 2)), np.zeros((0, 10, 2)))
    with pytest.raises(ParameterError, match="mode"):
        evaluate(ref, est, mode="v5")
    with pytest.raises(ParameterError, match="win"):
        evaluate(ref, est, win=0)
    with pytest.raises(ParameterError, match="backend"):
        evaluate(ref, est, backend="jax")
    with pytest.raises(ParameterError, match="device"):
        evaluate(ref, est, device="cuda")


def test_evaluator_reuse_and_attributes():
    ref, est = _pair(nsampl=10000)
    ev = Evaluator(ref, sample_rate=1000, win=2.0, hop=1.5)
    assert (ev.win, ev.hop, ev.nwin) == (2000, 1500, 6)
    assert np.isfinite(ev.cond) and 1 <= ev.cond < COND_WARN
    first = ev.evaluate(est)
    other = ev.evaluate(est[::-1].copy())
    again = ev.evaluate(est)
    for x, y in zip(first, again):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(first, evaluate(ref, est, 2000, 1500)):
        np.testing.assert_allclose(x, y, atol=1e-9)
    assert not np.allclose(first[0], other[0])


def test_ill_conditioned_warning():
    rng = np.random.default_rng(0)
    ref = museval_ref._broadband(rng, 2, 8000, 1)
    ref[1] = ref[0] * 0.5 + 1e-9 * rng.standard_normal(ref[0].shape)  # nearly collinear
    ev = Evaluator(ref, sample_rate=8000)  # the reference work is deferred to the first use
    with pytest.warns(IllConditionedWarning, match="condition number"):
        assert ev.cond > COND_WARN


# ---------------------------------------------------------------------------
# torch backend
# ---------------------------------------------------------------------------


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
@pytest.mark.parametrize("case", ["v4_stereo_2src_partial", "v4_mono_3src_overlap", "v3_stereo_2src", "v4_stereo_3src_silent_frames"])
def test_torch_matches_numpy(case):
    _, a = _run(case)
    ev, b = _run(case, backend="torch")
    for m in METRICS:
        assert _same_pattern(a[m], b[m]), m
        fin = np.isfinite(a[m])
        np.testing.assert_allclose(b[m][fin], a[m][fin], atol=1e-6 if m == "SDR" else 1e-3, err_msg=m)
        assert b[m].dtype == np.float64
    if case in REFERENCE:
        _assert_parity(b, REFERENCE[case], ev.cond)


# ---------------------------------------------------------------------------
# block Levinson solver of the v4 Gram matrix
# ---------------------------------------------------------------------------


def _gram_parts(nsrc=3, nchan=2, n=6000, F=512, seed=0):
    from mssoracle.bsseval.kernels import NumpyOps
    from mssoracle.bsseval.signals import Signals

    ref, est = _pair(nsrc=nsrc, nsampl=n, nchan=nchan, seed=seed)
    rr, rd = NumpyOps().seg_corr(Signals(list(ref)), [Signals(list(ref)), Signals(list(est))], np.array([0]), n, F)
    rr, rd = rr[0], rd[0]
    nx = nsrc * nchan
    D = np.ascontiguousarray(rd.transpose(0, 2, 1)).reshape(nx * F, nx)
    return solvers, rr, D, solvers.gram(rr)


def test_levinson_matches_dense_solve_and_condition():
    import scipy.linalg

    _, rr, D, G = _gram_parts()
    lev = solvers.LevinsonFactor(rr)
    X = lev.solve(D)
    Gr = G + solvers.EPS * np.eye(G.shape[0])
    want = scipy.linalg.solve(Gr, D, assume_a="pos")
    np.testing.assert_allclose(X, want, rtol=0, atol=1e-9 * np.abs(want).max())
    dense = solvers.DenseFactor(G.copy(), scipy.linalg)
    assert dense.kind == "chol"
    assert 0.5 < lev.cond / dense.cond < 2.0  # same Hager-Higham estimator as LAPACK's pocon
    # the block Toeplitz product used by the residual check
    p, m = rr.shape[2], rr.shape[0]
    R = np.ascontiguousarray(rr.transpose(2, 0, 1))
    x = np.random.default_rng(1).standard_normal((p, m, 2))
    dense_prod = G @ x.transpose(1, 0, 2).reshape(m * p, 2)
    prod = solvers.toeplitz_matmul(R, x).transpose(1, 0, 2).reshape(m * p, 2)
    np.testing.assert_allclose(prod, dense_prod, rtol=0, atol=1e-9 * np.abs(dense_prod).max())


def test_levinson_breakdown_falls_back_to_dense(monkeypatch):
    ref, est = _pair(nsrc=3, nsampl=8000, seed=5)
    normal = evaluate(ref, est, 4000, 4000)

    def broken(self, r):
        raise solvers.Breakdown()

    monkeypatch.setattr(solvers.LevinsonFactor, "__init__", broken)
    fallback = evaluate(ref, est, 4000, 4000)
    for x, y in zip(normal, fallback):
        np.testing.assert_allclose(x, y, atol=1e-8)

    # a breakdown discovered at solve time (residual check) also falls back
    monkeypatch.undo()
    ev = Evaluator(ref, _win_samples=4000, _hop_samples=4000)
    ev._ensure_prepared()
    solver = ev._factor_all[0]
    assert solver.kind == "levinson"
    monkeypatch.setattr(solvers.LevinsonFactor, "solve", lambda self, D: (_ for _ in ()).throw(solvers.Breakdown()))
    again = ev.evaluate(est)
    assert solver.kind == "chol"
    for x, y in zip(normal, again):
        np.testing.assert_allclose(x, y, atol=1e-8)


# ---------------------------------------------------------------------------
# correlation kernels (one array-API code path for numpy and torch)
# ---------------------------------------------------------------------------


def _direct_corr(x, y, F):
    """r[a, b, k] = sum_m x[m, a] y[m + k, b] over one segment (brute force)."""
    n = len(x)
    return np.stack([np.einsum("ma,mb->ab", x[: n - k], y[k:]) for k in range(F)], axis=-1)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("win,hop", [(5000, 5000), (3000, 2000)])  # tiled (long frames: sub-blocks), overlapping
def test_correlation_kernels_match_direct_sums(backend, win, hop):
    from mssoracle.bsseval import kernels
    from mssoracle.bsseval.signals import Signals

    if backend == "torch" and not HAS_TORCH:
        pytest.skip("torch is not installed")
    F, nsampl = 300, 12345
    rng = np.random.default_rng(3)
    ref = rng.standard_normal((2, nsampl, 2))
    est = (0.7 * ref + 0.3 * rng.standard_normal(ref.shape)).astype(np.float32)  # float32 read in float64
    starts = np.arange(0, nsampl - win + 1, hop)
    stops = starts + win
    ops = kernels.NumpyOps() if backend == "numpy" else kernels.TorchOps("cpu")
    if backend == "torch":
        import torch

        r_in, e_in = torch.from_numpy(ref), torch.from_numpy(est)
    else:
        r_in, e_in = ref, est
    xs, ys = Signals(list(r_in)), Signals(list(e_in))
    frames, glob = kernels.correlations(ops, xs, [xs, ys], starts, stops, nsampl, F, True)

    def flat(a):  # (nsampl, nsrc * nchan), source-major like the kernels
        return np.asarray(a, dtype=np.float64).transpose(1, 0, 2).reshape(nsampl, -1)

    X, Y = flat(ref), flat(est)
    for got, other in zip(frames, (X, Y)):
        for s, (a, b) in enumerate(zip(starts, stops)):
            want = _direct_corr(X[a:b], other[a:b], F)
            np.testing.assert_allclose(got[s], want, rtol=0, atol=1e-9 * np.abs(want).max())
    for got, other in zip(glob, (X, Y)):
        want = _direct_corr(X, other, F)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9 * np.abs(want).max())
