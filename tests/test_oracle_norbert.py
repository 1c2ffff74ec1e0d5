"""``wienerK`` against norbert itself (PyPI 0.2.1, a test-only dependency).

Correspondence (our layout ``(nsrc, C, bins, frames)``, norbert's ``(frames, bins, C, nsrc)``):

* ``wiener(X, S, iterations=K)`` = ``norbert.expectation_maximization(y0 / s, x / s, iterations=K, eps=EPS)[0] * s``
  per group, with ``y0 = |S| e^{i angle X}`` (the MPI start; norbert's ``wiener(..., use_softmask=False)``
  builds the same), ``s = max |X| / 10`` over all groups, and ``eps`` float64's machine epsilon;
* hence ``= norbert.wiener(|S|, x, iterations=K, use_softmask=False, eps=EPS)`` whenever ``max |X| >= 10``
  (norbert scales by ``max(1, max|x| / 10)``: it never scales up; we always scale to 10).

Steps that correspond one to one: ``get_local_gaussian_model`` (v_j = channel mean of |y_j|^2,
R_j = sum_t y_j y_j^H / (eps + sum_t v_j)), ``get_mix_model`` + ``sqrt(eps) I`` regularisation,
``_invert`` (1x1 ``1/(M+eps)``, 2x2 adjugate / det, ``pinv(M, eps)`` above), ``wiener_gain`` and
``apply_filter``.  Reached: 1e-12 of the peak in complex128 (C = 1, 2, 3; 1 to 3 iterations).
"""

import numpy as np
import pytest

from mssoracle.oracles import EPS, get_oracle, mpi, wiener

norbert = pytest.importorskip("norbert")

#: max |ours - norbert| / max |norbert|, complex128
TOL = 1e-12


def _data(channels, nsrc, groups, seed, gain=1.0):
    rng = np.random.default_rng(seed)
    X, S = [], []
    for bins, frames in groups:
        shape = (nsrc, channels, bins, frames)
        s = gain * (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) * rng.gamma(0.5, size=shape)
        X.append(s.sum(0) + 0.1 * gain * (rng.standard_normal(shape[1:]) + 1j * rng.standard_normal(shape[1:])))
        S.append(s)
    return X, S


def _to_norbert(a):
    """(nsrc, C, bins, frames) -> (frames, bins, C, nsrc); (C, bins, frames) -> (frames, bins, C)."""
    return np.ascontiguousarray(a.transpose(tuple(range(a.ndim))[::-1]))


def _from_norbert(a):
    return a.transpose(tuple(range(a.ndim))[::-1])


@pytest.mark.parametrize("channels", [1, 2, 3])
@pytest.mark.parametrize("iterations", [1, 2, 3])
def test_wiener_is_norbert_expectation_maximization(channels, iterations):
    X, S = _data(channels, 3, [(9, 30), (20, 11)], seed=channels * 7 + iterations)
    ours = wiener(X, S, iterations=iterations)
    assert all(np.array_equal(a, b) for a, b in zip(get_oracle(f"wiener{iterations}")(X, S), ours))
    scale = max(np.abs(x).max() for x in X) / 10.0
    for x, y0, y in zip(X, mpi(X, S), ours):
        ref = norbert.expectation_maximization(_to_norbert(y0) / scale, _to_norbert(x) / scale,
                                               iterations=iterations, eps=EPS)[0] * scale
        ref = _from_norbert(ref)
        assert np.abs(y - ref).max() <= TOL * np.abs(ref).max()


@pytest.mark.parametrize("iterations", [1, 2])
def test_wiener_is_norbert_wiener_above_peak_10(iterations):
    X, S = _data(2, 4, [(17, 25)], seed=3, gain=40.0)
    assert np.abs(X[0]).max() >= 10  # norbert scales down by max|x| / 10 exactly as we do
    v = _to_norbert(np.abs(S[0]))
    ref = _from_norbert(norbert.wiener(v, _to_norbert(X[0]).copy(), iterations=iterations, use_softmask=False,
                                       eps=EPS))
    y = wiener(X, S, iterations=iterations)[0]
    assert np.abs(y - ref).max() <= TOL * np.abs(ref).max()


def test_wiener0_is_norberts_mix_phase_start():
    X, S = _data(2, 3, [(10, 12)], seed=5)
    ref = _from_norbert(norbert.wiener(_to_norbert(np.abs(S[0])), _to_norbert(X[0]).copy(), iterations=0,
                                       use_softmask=False, eps=EPS))
    np.testing.assert_allclose(wiener(X, S, iterations=0)[0], ref, rtol=0, atol=1e-14 * np.abs(ref).max())
