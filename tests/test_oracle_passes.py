"""The block-pass protocol: running an oracle's passes over any split of the frames equals the whole-array call."""

import numpy as np
import pytest

from mssoracle.errors import ParameterError
from mssoracle.oracles import get_oracle

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional extra
    torch = None

BACKENDS = ["numpy"] + (["torch"] if torch is not None else [])
SPECS = ["irm1", "irm2", "irm[alpha=1.5]", "ibm1", "ibm2[theta=0.3]", "mpi", "mpi[phase=sum]", "mwf",
         "mwf[norm=bin]", "mix", "psm", "psm[clip=false]", "cirm", "gt", "wiener[iterations=0]", "wiener1",
         "wiener3"]
#: frames per group of the test data (ragged groups, as an NSGT; frames differ per group)
GROUPS = [(5, 24), (12, 12), (30, 6)]
#: splits of the frames into blocks, as fractions of each group's frames (the runner's blocks are time ranges)
SPLITS = {"one": [1.0], "halves": [0.5, 0.5], "uneven": [0.1, 0.4, 0.05, 0.45], "frames": None}
#: relative tolerance (to the largest estimate) of blocks vs whole: summation order only
TOL = {np.float64: 1e-11, np.float32: 2e-5}
#: float32, wienerK with K >= 2: the EM amplifies rounding in ill-conditioned bins (these random groups have
#: 6-24 frames).  numpy gives bit-identical blocks; torch's einsum kernels change with the block's shape.
TOL_EM32 = 5e-3


def _data(dtype, channels=2, nsrc=3, seed=0):
    rng = np.random.default_rng(seed)
    cdt = np.complex64 if dtype == np.float32 else np.complex128
    X, S = [], []
    for bins, frames in GROUPS:
        shape = (nsrc, channels, bins, frames)
        s = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) * rng.gamma(0.5, size=shape)
        x = s.sum(0) + 0.2 * (rng.standard_normal(shape[1:]) + 1j * rng.standard_normal(shape[1:]))
        X.append(x.astype(cdt))
        S.append(s.astype(cdt))
    return X, S


def _bounds(frames, split):
    if split is None:  # one frame per block
        return [(t, t + 1) for t in range(frames)]
    cuts = np.round(np.cumsum([0.0] + split) * frames).astype(int)
    return [(int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:])]


def _blocks(X, S, split):
    """The blocks of a time split: block b holds, for every group, its b-th range of frames."""
    per_group = [_bounds(x.shape[-1], split) for x in X]
    nblocks = max(len(b) for b in per_group)
    out = []
    for b in range(nblocks):
        xb, sb = [], []
        for x, s, bounds in zip(X, S, per_group):
            t0, t1 = bounds[b] if b < len(bounds) else (x.shape[-1], x.shape[-1])
            xb.append(x[..., t0:t1])
            sb.append(s[..., t0:t1])
        out.append((xb, sb))
    return out


def run_passes(oracle, blocks):
    """The runner's loop: every accumulation pass over all blocks, then apply block by block, concatenated."""
    state = oracle.start()
    for p in range(oracle.passes - 1):
        for xb, sb in blocks:
            oracle.accumulate(state, p, xb, sb)
        oracle.end_pass(state, p)
    pieces = [oracle.apply(state, xb, sb) for xb, sb in blocks]
    cat = (lambda a: torch.cat(a, dim=-1)) if torch is not None and isinstance(pieces[0][0], torch.Tensor) \
        else (lambda a: np.concatenate(a, axis=-1))
    return [cat([p[g] for p in pieces]) for g in range(len(pieces[0]))]


def _np(a):
    return a.numpy() if torch is not None and isinstance(a, torch.Tensor) else a


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("spec", SPECS)
def test_passes_over_blocks_equal_the_whole_call(spec, dtype, backend):
    X, S = _data(dtype, seed=len(spec))
    if backend == "torch":
        X, S = [torch.from_numpy(x) for x in X], [torch.from_numpy(s) for s in S]
    oracle = get_oracle(spec)
    whole = oracle(X, S)
    for name, split in SPLITS.items():
        got = run_passes(oracle, _blocks(X, S, split))
        for g, (a, b) in enumerate(zip(whole, got)):
            assert b.dtype == X[g].dtype and tuple(b.shape) == tuple(S[g].shape)
            a, b = _np(a), _np(b)
            scale = np.abs(a).max()
            tol = TOL_EM32 if dtype == np.float32 and oracle.passes > 2 else TOL[dtype]
            np.testing.assert_allclose(b, a, rtol=0, atol=tol * scale, err_msg=f"{spec} {name} group {g}")


@pytest.mark.parametrize("spec,passes", [("irm1", 1), ("mpi", 1), ("gt", 1), ("mwf", 2), ("wiener[iterations=0]", 1),
                                         ("wiener1", 2), ("wiener3", 4)])
def test_pass_counts(spec, passes):
    assert get_oracle(spec).passes == passes


@pytest.mark.parametrize("spec", ["mwf", "wiener2"])
def test_statistics_accumulate_in_double_precision(spec):
    X, S = _data(np.float32)
    oracle = get_oracle(spec)
    state = oracle.start()
    oracle.accumulate(state, 0, X, S)
    impl = state["impl"]
    acc = impl["acc"].groups if spec == "mwf" else impl["acc"]
    assert all(a.dtype == np.complex128 for a, _ in acc)
    oracle.end_pass(state, 0)
    stats = [r for r, *_ in impl["r"]] if spec == "mwf" else impl["r"][0]
    assert all(r.dtype == np.complex128 for r in stats)
    assert all(y.dtype == np.complex64 for y in oracle([x for x in X], S))


def test_pass_protocol_order_is_checked():
    X, S = _data(np.float64)
    o = get_oracle("wiener2")
    state = o.start()
    with pytest.raises(ParameterError, match="apply before"):
        o.apply(state, X, S)
    with pytest.raises(ParameterError, match="out of order"):
        o.accumulate(state, 1, X, S)
    o.accumulate(state, 0, X, S)
    o.end_pass(state, 0)
    with pytest.raises(ParameterError, match="differ from the first block"):
        o.accumulate(state, 1, X[:1] + [x[:, :3] for x in X[1:]], S[:1] + [s[:, :, :3] for s in S[1:]])
    with pytest.raises(ParameterError, match="out of order"):
        get_oracle("irm1").accumulate(get_oracle("irm1").start(), 0, X, S)
