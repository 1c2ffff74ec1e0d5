"""The factored DFTs of the compat matrix form (:mod:`mssoracle.transforms.nsgt_compat_kernels`) against
the plain FFT path: the same numbers to rounding, forward and inverse (of any coefficients), float32 and
float64, whatever the thread budget."""

import numpy as np
import pytest

from mssoracle import threads
from mssoracle.transforms import from_spec, nsgt_compat
from mssoracle.transforms import nsgt_compat_kernels as fk

SPEC = "slicq:scale=log,bins=48,fmin=50,sllen=8192,trlen=2048,form=matrix,compat=nsgt"  # M = 1064 = 56 * 19


def test_split_length():
    assert fk.split_length(808) == (8, 101)
    assert fk.split_length(1064) == (56, 19)
    assert fk.split_length(800) == (800, 1)
    assert fk.split_length(4 * 11 * 13) == (4, 143)


def _rel(a, b):
    return float(np.abs(np.asarray(a) - np.asarray(b)).max() / np.abs(np.asarray(b)).max())


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-13), (np.float32, 1e-5)])
def test_factored_equals_the_plain_fft(monkeypatch, dtype, tol):
    t = from_spec(SPEC, sample_rate=44100)
    tabs = t.plan(t.sllen).factored(dtype)[0]
    # all three paths are exercised: exact DFT rows, factored DFTs, the plain FFT
    assert tabs is not None and len(tabs["adirect"]) and len(tabs["sdirect"]) and len(tabs["abuckets"]) \
        and len(tabs["sbuckets"]) and len(tabs["plain"])
    rs = np.random.RandomState(3)
    x = rs.standard_normal((2, 30000)).astype(dtype)
    c = t.forward(x)
    mod = [g * (0.5 + rs.uniform(size=g.shape)) + 0.01j for g in c]  # any coefficients: not a forward's
    y = t.inverse(mod, x.shape[-1])
    with threads.limited(1):
        c1 = t.forward(x)
    monkeypatch.setattr(nsgt_compat.CompatPlan, "factored", lambda self, dt: [None] * len(self.groups))
    c0 = t.forward(x)
    y0 = t.inverse(mod, x.shape[-1])
    assert c[0].dtype == c0[0].dtype and y.dtype == y0.dtype
    assert _rel(c[0], c0[0]) < tol and _rel(y, y0) < tol
    assert np.array_equal(c[0], c1[0])  # independent of the thread budget

