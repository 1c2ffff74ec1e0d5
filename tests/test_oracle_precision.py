"""float32 against float64 on every oracle: the same oracle, differing by rounding only.

The inputs are float64 coefficients and their complex64 rounding; the bound is on
``max |Y32 - Y64| / max |Y64|`` (the largest error relative to the largest
estimate), per oracle:

* pointwise masks: 1e-6 (measured 3e-8 to 2.5e-7 on the wide-stereo data);
  ``ibm``: binary decisions may flip on near-ties, so at most 1e-4 of the
  coefficients may differ and the others obey the same bound (measured: none flipped);
* ``mwf``: 1e-5 (measured 1.6e-7 sisec, 9e-8 bin), on well-conditioned wide-stereo data
  only (its SiSEC normalisation is unstable on near-mono stems: 1.8e-3 energy-relative there);
* ``wienerK``: 1e-5 on wide-stereo data (measured 1.9e-7, 2.5e-7, 2.6e-6 for K = 1, 2, 3);
  on near-mono stems (the right channel 0.99 times the left plus 1 % of its own), the
  EM's ill-conditioned bins amplify the inputs' rounding: an energy-relative bound
  ``||Y32 - Y64|| / ||Y64||`` of 5e-3 (measured 1.8e-5, 5.0e-4, 1.1e-3 for K = 1, 2, 3;
  on audio-like STFTs of near-mono noise stems 1.7e-5, 2.4e-4, 4.0e-4).

The Wiener family's eps is float64's in both precisions (``EPS``), so these
are rounding bounds, not the distance between two oracles.
"""

import numpy as np
import pytest

from mssoracle.oracles import EPS, get_oracle

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional extra
    torch = None

POINTWISE = ["irm1", "irm2", "irm[alpha=1.5]", "mpi", "mpi[phase=sum]", "mix", "psm", "psm[clip=false]", "cirm",
             "gt"]
BOUND = {**{s: 1e-6 for s in POINTWISE}, "ibm1": 1e-6, "ibm2[theta=0.3]": 1e-6, "mwf": 1e-5,
         "mwf[norm=bin]": 1e-5, "wiener[iterations=0]": 1e-6, "wiener1": 1e-5, "wiener2": 1e-5, "wiener3": 1e-5}
NEAR_MONO_ENERGY_BOUND = 5e-3


def _wide_stereo(seed=0, nsrc=4, groups=((64, 80), (20, 40))):
    """Well-conditioned stereo: independent channels under a shared spectro-temporal envelope."""
    rng = np.random.default_rng(seed)
    X, S = [], []
    for bins, frames in groups:
        env = rng.gamma(1.0, size=(nsrc, 1, bins, frames)) + 0.1
        s = env * (rng.standard_normal((nsrc, 2, bins, frames)) + 1j * rng.standard_normal((nsrc, 2, bins, frames)))
        X.append(s.sum(0) + 0.05 * (rng.standard_normal((2, bins, frames)) + 1j * rng.standard_normal((2, bins, frames))))
        S.append(s)
    return X, S


def _near_mono(seed=1, nsrc=4, bins=96, frames=120):
    rng = np.random.default_rng(seed)
    env = rng.gamma(0.3, size=(nsrc, bins, frames))
    left = env * (rng.standard_normal((nsrc, bins, frames)) + 1j * rng.standard_normal((nsrc, bins, frames)))
    own = env * (rng.standard_normal((nsrc, bins, frames)) + 1j * rng.standard_normal((nsrc, bins, frames)))
    gain = np.linspace(0.5, 0.9, nsrc)[:, None, None]
    s = np.stack([left, 0.99 * gain * left + 0.01 * own], axis=1)
    return [s.sum(0)], [s]


def _rounded(arrays, backend):
    out = [a.astype(np.complex64) for a in arrays]
    return [torch.from_numpy(a) for a in out] if backend == "torch" else out


def _np(a):
    return a.numpy() if torch is not None and isinstance(a, torch.Tensor) else a


BACKENDS = ["numpy"] + (["torch"] if torch is not None else [])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("spec", sorted(BOUND))
def test_float32_is_float64_to_rounding(spec, backend):
    X, S = _wide_stereo()
    o = get_oracle(spec)
    y64 = o(X, S)
    y32 = o(_rounded(X, backend), _rounded(S, backend))
    for a, b in zip(y64, y32):
        assert b.dtype == (torch.complex64 if backend == "torch" else np.complex64)
        diff = np.abs(_np(b).astype(np.complex128) - a)
        scale = np.abs(a).max()
        if spec.startswith("ibm"):  # decisions on near-ties may flip
            flipped = diff > BOUND[spec] * scale
            assert flipped.mean() <= 1e-4, spec
            diff = diff[~flipped]
        assert diff.max() <= BOUND[spec] * scale, f"{spec}: {diff.max() / scale:.2e}"


@pytest.mark.parametrize("spec", ["wiener1", "wiener2", "wiener3"])
def test_wiener_float32_on_near_mono_stems(spec):
    X, S = _near_mono()
    o = get_oracle(spec)
    a = o(X, S)[0]
    b = o(_rounded(X, "numpy"), _rounded(S, "numpy"))[0].astype(np.complex128)
    err = np.sqrt(np.sum(np.abs(b - a) ** 2) / np.sum(np.abs(a) ** 2))
    assert err <= NEAR_MONO_ENERGY_BOUND, f"{spec}: {err:.2e}"


def test_wiener_eps_is_pinned_to_float64():
    """float32 inputs use float64's eps, not float32's (which would be another oracle)."""
    import importlib

    wmod = importlib.import_module("mssoracle.oracles.wiener")
    assert EPS == float(np.finfo(np.float64).eps)
    o = get_oracle("wiener1")
    assert o._impl.eps == EPS
    X, S = _wide_stereo(groups=((8, 10),))
    X32, S32 = _rounded(X, "numpy"), _rounded(S, "numpy")
    pinned = o(X32, S32)[0]
    np.testing.assert_array_equal(pinned, wmod.wiener(X32, S32, iterations=1, eps=EPS)[0])
    other = wmod.wiener(X32, S32, iterations=1, eps=float(np.finfo(np.float32).eps))[0]
    assert not np.array_equal(pinned, other)
