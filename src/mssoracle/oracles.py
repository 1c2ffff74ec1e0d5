"""Oracle source estimates computed from the true sources, on transform coefficients.

Every oracle is a pure function ``oracle(X, S, **options) -> Y``:

* ``X``: mixture coefficients, a list over groups of complex arrays
  ``(channels, bins_g, frames_g)``;
* ``S``: source coefficients, a list over the same groups of
  ``(nsrc, channels, bins_g, frames_g)``;
* ``Y``: estimates, a list over groups of ``(nsrc, channels, bins_g, frames_g)``.

Oracles work group by group (an STFT has one group, a ragged NSGT several) and
accept numpy arrays or torch tensors (CPU or CUDA; torch is imported only when
tensors are given).  Outputs have the complex dtype of ``X``.

Build one from a spec with :func:`get_oracle` (``irm1``, ``ibm2``,
``mpi[phase=sum]``, ``wiener3``, ``irm[alpha=1.5]``, ...); :func:`available_oracles`
lists them with one-line descriptions.

In the formulas below ``S_j`` is source ``j``'s coefficient, ``X`` the
mixture's, ``|.|`` the modulus, ``j = 1..J`` the sources, and products are
element-wise unless stated otherwise.

References
----------
.. [SiSEC18] F.-R. Stöter, A. Liutkus, N. Ito, "The 2018 Signal Separation
   Evaluation Campaign", LVA/ICA 2018; oracle code: github.com/sigsep/sigsep-mus-oracle.
.. [Erdogan15] H. Erdogan, J. R. Hershey, S. Watanabe, J. Le Roux,
   "Phase-sensitive and recognition-boosted speech separation using deep
   recurrent neural networks", ICASSP 2015.
.. [Williamson16] D. S. Williamson, Y. Wang, D. Wang, "Complex ratio masking
   for monaural speech separation", IEEE/ACM TASLP 24(3), 2016.
.. [Nugraha16] A. A. Nugraha, A. Liutkus, E. Vincent, "Multichannel audio
   source separation with deep neural networks", IEEE/ACM TASLP 24(9), 2016;
   EM scheme as in norbert (github.com/sigsep/norbert, ``expectation_maximization``).
.. [Duong10] N. Q. K. Duong, E. Vincent, R. Gribonval, "Under-determined
   reverberant audio source separation using a full-rank spatial covariance
   model", IEEE TASLP 18(7), 2010.
"""

import math
import re
import sys

import numpy as np

from .errors import ParameterError

__all__ = [
    "irm", "ibm", "mpi", "mwf", "mix", "psm", "cirm", "wiener", "gt",
    "Oracle", "ORACLES", "get_oracle", "available_oracles", "SISEC18_ORACLES", "EPS",
]

#: the ``eps`` of sigsep-mus-oracle (``np.finfo(np.float).eps``, float64 machine epsilon)
EPS = float(np.finfo(np.float64).eps)

#: the oracles of SiSEC 2018's published table, in its order
SISEC18_ORACLES = ("irm2", "irm1", "ibm1", "ibm2", "mwf", "mix")

#: elements of a per-chunk (bins, frames, channels, channels) buffer in mwf/wiener
_CHUNK_ELEMENTS = 1 << 22


# --------------------------------------------------------------------------- backends
class _NumpyOps:
    """The few array operations the oracles need, on numpy."""

    name = "numpy"

    @staticmethod
    def sum(x, axis, keepdims=False):
        return x.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def mean(x, axis, keepdims=False):
        return x.mean(axis=axis, keepdims=keepdims)

    abs = staticmethod(np.abs)
    where = staticmethod(np.where)

    @staticmethod
    def clip(x, lo, hi):
        return np.clip(x, lo, hi)

    @staticmethod
    def einsum(eq, *ops):
        return np.einsum(eq, *ops)

    @staticmethod
    def conj(x):
        return np.conj(x)

    @staticmethod
    def real(x):
        return np.real(x)

    @staticmethod
    def sq_abs(x):
        return x.real ** 2 + x.imag ** 2

    @staticmethod
    def complex_dtype(*arrays):
        return np.result_type(*[a.dtype for a in arrays], np.complex64)

    @staticmethod
    def real_dtype(cdtype):
        return np.float32 if cdtype == np.complex64 else np.float64

    @staticmethod
    def to(x, dtype):
        return x.astype(dtype, copy=False)

    @staticmethod
    def empty(shape, dtype, like):
        return np.empty(shape, dtype=dtype)

    @staticmethod
    def eye(n, dtype, like):
        return np.eye(n, dtype=dtype)

    @staticmethod
    def eps(dtype):
        return float(np.finfo(dtype).eps)

    @staticmethod
    def max_abs(x):
        return float(np.abs(x).max()) if x.size else 0.0

    @staticmethod
    def repeat0(x, n):
        return np.repeat(x[None], n, axis=0)

    @staticmethod
    def inv(m, rcond=None):
        try:
            return np.linalg.inv(m)
        except np.linalg.LinAlgError:
            return np.linalg.pinv(m, rcond=rcond if rcond is not None else 1e-15)

    @staticmethod
    def pinv(m, rcond):
        return np.linalg.pinv(m, rcond=rcond)

    @staticmethod
    def diag_index(x, k):
        idx = np.arange(k)
        return x[idx, idx]


class _TorchOps:
    """The same operations on torch tensors (any device)."""

    name = "torch"

    def __init__(self):
        import torch

        self.torch = torch

    def sum(self, x, axis, keepdims=False):
        return x.sum(dim=axis, keepdim=keepdims)

    def mean(self, x, axis, keepdims=False):
        return x.mean(dim=axis, keepdim=keepdims)

    def abs(self, x):
        return x.abs()

    def where(self, c, a, b):
        t = self.torch
        if not isinstance(a, t.Tensor):
            a = t.as_tensor(a, dtype=b.dtype if isinstance(b, t.Tensor) else None, device=c.device)
        if not isinstance(b, t.Tensor):
            b = t.as_tensor(b, dtype=a.dtype, device=c.device)
        return t.where(c, a, b)

    def clip(self, x, lo, hi):
        return x.clamp(lo, hi)

    def einsum(self, eq, *ops):
        return self.torch.einsum(eq, *[o.resolve_conj() for o in ops])

    def conj(self, x):
        return x.conj()

    def real(self, x):
        return x.real if x.is_complex() else x

    def sq_abs(self, x):
        return x.real ** 2 + x.imag ** 2 if x.is_complex() else x ** 2

    def complex_dtype(self, *arrays):
        t = self.torch
        d = t.complex64
        for a in arrays:
            d = t.promote_types(d, a.dtype)
        return d

    def real_dtype(self, cdtype):
        return self.torch.float32 if cdtype == self.torch.complex64 else self.torch.float64

    def to(self, x, dtype):
        return x.to(dtype)

    def empty(self, shape, dtype, like):
        return self.torch.empty(tuple(shape), dtype=dtype, device=like.device)

    def eye(self, n, dtype, like):
        return self.torch.eye(n, dtype=dtype, device=like.device)

    def eps(self, dtype):
        return float(self.torch.finfo(dtype).eps)

    def max_abs(self, x):
        return float(x.abs().max()) if x.numel() else 0.0

    def repeat0(self, x, n):
        return x.unsqueeze(0).expand((n,) + tuple(x.shape)).clone()

    def inv(self, m, rcond=None):
        inv, info = self.torch.linalg.inv_ex(m)
        if bool((info != 0).any()):
            return self.torch.linalg.pinv(m, rtol=rcond if rcond is not None else 1e-15)
        return inv

    def pinv(self, m, rcond):
        return self.torch.linalg.pinv(m, rtol=rcond)

    def diag_index(self, x, k):
        idx = self.torch.arange(k, device=x.device)
        return x[idx, idx]


_NP = _NumpyOps()


def _backend(x):
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(x, torch.Tensor):
        return _TorchOps()
    return _NP


def _prepare(X, S):
    """Validate the coefficient lists; return (ops, [(Xg, Sg)], nsrc, complex dtype)."""
    if not isinstance(X, (list, tuple)):
        X = [X]
    if not isinstance(S, (list, tuple)):
        S = [S]
    if len(X) == 0 or len(X) != len(S):
        raise ParameterError(
            f"oracle inputs: mixture and sources must be lists with the same number of groups (>= 1), "
            f"got {len(X)} and {len(S)}"
        )
    ops = _backend(X[0])
    groups = []
    nsrc = None
    for g, (xg, sg) in enumerate(zip(X, S)):
        if type(_backend(xg)) is not type(ops) or type(_backend(sg)) is not type(ops):
            raise ParameterError(f"oracle inputs: group {g} mixes numpy arrays and torch tensors")
        if ops is _NP:
            xg, sg = np.asarray(xg), np.asarray(sg)
        if xg.ndim != 3 or sg.ndim != 4 or tuple(sg.shape[1:]) != tuple(xg.shape):
            raise ParameterError(
                f"oracle inputs: group {g} must be mixture (channels, bins, frames) and sources "
                f"(nsrc, channels, bins, frames) of matching shape, got {tuple(xg.shape)} and {tuple(sg.shape)}"
            )
        if nsrc is None:
            nsrc = sg.shape[0]
        elif sg.shape[0] != nsrc:
            raise ParameterError(f"oracle inputs: group {g} has {sg.shape[0]} sources, group 0 has {nsrc}")
        groups.append((xg, sg))
    if nsrc == 0:
        raise ParameterError("oracle inputs: no sources")
    cdtype = ops.complex_dtype(*[a for pair in groups for a in pair])
    xdtype = ops.complex_dtype(*[xg for xg, _ in groups])
    groups = [(ops.to(xg, cdtype), ops.to(sg, cdtype)) for xg, sg in groups]
    return ops, groups, nsrc, xdtype


def _unit_phase(ops, z):
    """``z / |z|``, and 1 where ``z == 0`` (the phase of 0 taken as 0, as ``np.angle``)."""
    mag = ops.abs(z)
    safe = ops.where(mag > 0, mag, 1.0)
    return ops.where(mag > 0, z / safe, 1.0)


def _check_number(value, name, *, minimum=None, strict=False):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"oracle option {name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or (minimum is not None and (v <= minimum if strict else v < minimum)):
        rel = ">" if strict else ">="
        raise ParameterError(f"oracle option {name} must be a finite number {rel} {minimum}, got {value!r}")
    return v


# --------------------------------------------------------------------------- mask oracles
def irm(X, S, *, alpha=1.0, eps=EPS):
    r"""Ideal ratio mask (IRM), SiSEC 2018's ``IRM1`` (alpha=1) and ``IRM2`` (alpha=2).

    .. math:: \hat S_j = \frac{|S_j|^\alpha}{\varepsilon + \sum_k |S_k|^\alpha} X

    per channel, bin and frame, as sigsep-mus-oracle's ``IRM.py`` [SiSEC18]_.
    Where every source is zero (``0/0``) the mask is 0, as there (their
    ``eps`` is added to the denominator), so silent bins give silent estimates.

    Parameters
    ----------
    X : list of complex arrays ``(channels, bins, frames)``
    S : list of complex arrays ``(nsrc, channels, bins, frames)``
    alpha : float > 0
        Exponent of the magnitudes: 1 (magnitude ratio) or 2 (power ratio, a
        single-channel Wiener filter).
    eps : float
        Added to the denominator; default float64 machine epsilon (sigsep's).

    Returns
    -------
    list of complex arrays ``(nsrc, channels, bins, frames)``
    """
    alpha = _check_number(alpha, "alpha", minimum=0, strict=True)
    ops, groups, _, cdt = _prepare(X, S)
    out = []
    for xg, sg in groups:
        p = ops.sq_abs(sg) if alpha == 2 else (ops.abs(sg) if alpha == 1 else ops.abs(sg) ** alpha)
        mask = p / (eps + ops.sum(p, 0, keepdims=True))
        out.append(ops.to(mask * xg[None], cdt))
    return out


def ibm(X, S, *, alpha=1.0, theta=0.5, eps=EPS):
    r"""Ideal binary mask (IBM), SiSEC 2018's ``IBM1`` (alpha=1) and ``IBM2`` (alpha=2).

    .. math:: \hat S_j = \mathbb{1}\left[\frac{|S_j|^\alpha}{\varepsilon + |X|^\alpha} \ge \theta\right] X

    per channel, bin and frame, as sigsep-mus-oracle's ``IBM.py`` [SiSEC18]_
    (ratio to the *mixture*, so with theta = 0.5 a bin can go to several
    sources or to none).  sigsep leaves a ratio exactly equal to theta at
    theta instead of 1; here the mask is strictly binary (``>=``), which only
    differs on exact ties.

    Parameters
    ----------
    X, S : see :func:`irm`
    alpha : float > 0
        Exponent of the magnitudes.
    theta : float >= 0
        Threshold on the ratio (0.5: majority vote).
    eps : float
        Added to the denominator (float64 machine epsilon, as sigsep).

    Returns
    -------
    list of complex arrays ``(nsrc, channels, bins, frames)``
    """
    alpha = _check_number(alpha, "alpha", minimum=0, strict=True)
    theta = _check_number(theta, "theta", minimum=0)
    ops, groups, _, cdt = _prepare(X, S)
    out = []
    for xg, sg in groups:
        if alpha == 1:
            num, den = ops.abs(sg), ops.abs(xg)
        elif alpha == 2:
            num, den = ops.sq_abs(sg), ops.sq_abs(xg)
        else:
            num, den = ops.abs(sg) ** alpha, ops.abs(xg) ** alpha
        ratio = num / (eps + den[None])
        mask = ops.where(ratio >= theta, 1.0, 0.0)
        out.append(ops.to(mask * xg[None], cdt))
    return out


def mpi(X, S, *, phase="mix"):
    r"""Mix-phase inversion (MPI): the true magnitude with the mixture's phase.

    .. math:: \hat S_j = |S_j| \, e^{i \angle X}
    .. math:: \hat S_j = |S_j| \, e^{i \angle \sum_k S_k} \quad (\texttt{phase="sum"})

    The phase of a zero coefficient is taken as 0 (as ``numpy.angle``).
    ``phase="sum"`` uses the phase of the sum of the stems, as the seed
    project did (identical to ``"mix"`` when the mixture is that sum).

    Parameters
    ----------
    X, S : see :func:`irm`
    phase : {"mix", "sum"}

    Returns
    -------
    list of complex arrays ``(nsrc, channels, bins, frames)``
    """
    if phase not in ("mix", "sum"):
        raise ParameterError(f"mpi option phase must be 'mix' or 'sum', got {phase!r}")
    ops, groups, _, cdt = _prepare(X, S)
    out = []
    for xg, sg in groups:
        ref = xg if phase == "mix" else ops.sum(sg, 0)
        out.append(ops.to(ops.abs(sg) * _unit_phase(ops, ref)[None], cdt))
    return out


def mix(X, S):
    r"""The mixture divided by the number of sources, for every source (lower bound).

    .. math:: \hat S_j = X / J

    SiSEC 2018's ``MIX`` anchor [SiSEC18]_.  sigsep-mus-oracle's ``MIX.py``
    does it in the time domain and divides by the number of musdb *targets*
    (five, accompaniment included); BSS Eval is invariant to the scale of an
    estimate, so the scores are the same.

    Returns
    -------
    list of complex arrays ``(nsrc, channels, bins, frames)``
    """
    ops, groups, nsrc, cdt = _prepare(X, S)
    return [ops.to(ops.repeat0(xg / nsrc, nsrc), cdt) for xg, _ in groups]


def psm(X, S, *, clip=True):
    r"""Phase-sensitive mask (PSM) [Erdogan15]_.

    .. math:: M_j = \mathrm{Re}\!\left(\frac{S_j}{X}\right)
                  = \frac{|S_j|}{|X|}\cos(\angle S_j - \angle X),
              \qquad \hat S_j = M_j X

    With ``clip=True`` (default, as Erdogan et al. train it) the mask is
    clipped to ``[0, 1]``.  Where ``X == 0`` the mask is 0.

    Parameters
    ----------
    X, S : see :func:`irm`
    clip : bool

    Returns
    -------
    list of complex arrays ``(nsrc, channels, bins, frames)``
    """
    if not isinstance(clip, (bool, np.bool_)):
        raise ParameterError(f"psm option clip must be true or false, got {clip!r}")
    ops, groups, _, cdt = _prepare(X, S)
    out = []
    for xg, sg in groups:
        den = ops.sq_abs(xg)
        nonzero = den > 0
        num = ops.real(sg * ops.conj(xg)[None])
        mask = ops.where(nonzero[None], num / ops.where(nonzero, den, 1.0)[None], 0.0)
        if clip:
            mask = ops.clip(mask, 0.0, 1.0)
        out.append(ops.to(mask * xg[None], cdt))
    return out


def cirm(X, S):
    r"""Complex ideal ratio mask (cIRM) [Williamson16]_, uncompressed.

    .. math:: M_j = \frac{S_j}{X}, \qquad \hat S_j = M_j X

    Exact (``\hat S_j = S_j`` up to rounding) wherever ``X != 0``, so when the
    mixture is the sum of the stems it reconstructs them; where ``X == 0`` the
    mask (and the estimate) is 0.

    Returns
    -------
    list of complex arrays ``(nsrc, channels, bins, frames)``
    """
    ops, groups, _, cdt = _prepare(X, S)
    out = []
    for xg, sg in groups:
        nonzero = ops.abs(xg) > 0
        mask = ops.where(nonzero[None], sg / ops.where(nonzero, xg, 1.0)[None], 0.0)
        out.append(ops.to(mask * xg[None], cdt))
    return out


def gt(X, S):
    r"""The sources themselves (ground truth): :math:`\hat S_j = S_j`.

    A check of the pipeline: inverting these must give the stems back to the
    transform's reconstruction precision.  Returned in ``X``'s complex dtype
    (the arrays themselves when the dtypes already agree, not copies).
    """
    ops, groups, _, cdt = _prepare(X, S)
    return [ops.to(sg, cdt) for _, sg in groups]


# --------------------------------------------------------------------------- multichannel
def _inv_eps_det(ops, m, eps):
    """sigsep-mus-oracle's inverse: ``adj(M) / (eps + det M)`` for 2x2, ``1 / (eps + M)`` for 1x1.

    Larger matrices (not handled by sigsep) use a plain inverse (pseudo-inverse if singular).
    """
    c = m.shape[-1]
    if c == 1:
        return 1.0 / (eps + m)
    if c == 2:
        a, b, cc, d = m[..., 0, 0], m[..., 0, 1], m[..., 1, 0], m[..., 1, 1]
        inv_det = 1.0 / (eps + a * d - b * cc)
        out = ops.empty(tuple(m.shape), m.dtype, m)
        out[..., 0, 0] = inv_det * d
        out[..., 0, 1] = -inv_det * b
        out[..., 1, 0] = -inv_det * cc
        out[..., 1, 1] = inv_det * a
        return out
    return ops.inv(m)


def _inv_norbert(ops, m, eps):
    """norbert's ``_invert``: ``1 / (M + eps)`` (1x1), ``adj(M) / det M`` (2x2), ``pinv(M, eps)`` otherwise."""
    c = m.shape[-1]
    if c == 1:
        return 1.0 / (m + eps)
    if c == 2:
        a, b, cc, d = m[..., 0, 0], m[..., 0, 1], m[..., 1, 0], m[..., 1, 1]
        inv_det = 1.0 / (a * d - b * cc)
        out = ops.empty(tuple(m.shape), m.dtype, m)
        out[..., 0, 0] = inv_det * d
        out[..., 0, 1] = -inv_det * b
        out[..., 1, 0] = -inv_det * cc
        out[..., 1, 1] = inv_det * a
        return out
    return ops.pinv(m, eps)


def _frame_chunk(nsrc, bins, channels):
    return max(1, _CHUNK_ELEMENTS // max(1, bins * channels * channels * max(nsrc, 1)))


def _wiener_apply(ops, xg, v, r, inv, eps, out, reg=None):
    """``out[j] = v_j R_j (sum_k v_k R_k + reg)^-1 x`` chunked over frames.

    ``v``: (nsrc, bins, frames) real; ``r``: (nsrc, bins, C, C); ``xg``: (C, bins, frames).
    """
    nsrc, bins, frames = v.shape
    channels = xg.shape[0]
    step = _frame_chunk(nsrc, bins, channels)
    for t0 in range(0, frames, step):
        t1 = min(frames, t0 + step)
        vc = ops.to(v[..., t0:t1], r.dtype)
        cxx = ops.einsum("jft,jfab->ftab", vc, r)
        if reg is not None:
            cxx = cxx + reg
        icxx = inv(ops, cxx, eps)
        w = ops.einsum("ftab,bft->aft", icxx, xg[..., t0:t1])
        y = ops.einsum("jfab,bft->jaft", r, w) * vc[:, None]
        out[..., t0:t1] = ops.to(y, out.dtype)
    return out


def mwf(X, S, *, norm="sisec", eps=EPS):
    r"""Multichannel Wiener filter oracle of SiSEC 2018 (sigsep-mus-oracle's ``MWF.py``) [SiSEC18]_ [Duong10]_.

    Local Gaussian model with a time-invariant spatial covariance per source,
    learnt from the true source coefficients ``S_j`` (``C`` channels):

    1. observed covariances :math:`\mathbf{S}_j(f,t)\mathbf{S}_j(f,t)^H` and the
       naive PSD :math:`P_j(f,t) = \frac1C \sum_c |S_{jc}(f,t)|^2`;
    2. :math:`R_j(f) = \frac1T \sum_t \mathbf{S}_j\mathbf{S}_j^H / (\varepsilon + P_j)`;
    3. normalisation :math:`R_j \leftarrow C\, R_j / \mathrm{tr}(R_j) + \varepsilon I`;
    4. refined PSD :math:`P_j(f,t) = \frac1C \mathrm{Re}\,(\mathbf{S}_j^H R_j^{-1} \mathbf{S}_j)`;
    5. :math:`\hat{\mathbf{S}}_j = P_j R_j \big(\sum_k P_k R_k\big)^{-1} \mathbf{X}`.

    The 2x2 inverses are sigsep's ``adj(M) / (eps + det M)`` (1x1:
    ``1 / (eps + M)``; larger ``C``, which sigsep does not support, a plain
    inverse).

    ``norm="sisec"`` (default) reproduces step 3 *exactly as sigsep's code
    computes it*: ``np.trace`` applied to the ``(bins, C, C)`` stack sums
    ``R[k, k, :]`` over ``k < C`` (bins 0..C-1), giving one (complex) factor per
    column that is shared by all bins.  That is what produced the published
    SiSEC 2018 MWF scores, so it is the default.  ``norm="bin"`` divides each
    bin's matrix by its own trace instead, as the code's comment intends.
    A source whose normalising trace is 0 (a silent source) is left
    unnormalised: its estimate is 0 and the others are unaffected (sigsep would
    produce NaN everywhere).  Computed in double precision (sigsep rounds the
    gain to complex64; the difference is ~1e-7 relative); returned in ``X``'s dtype.

    Parameters
    ----------
    X, S : see :func:`irm`
    norm : {"sisec", "bin"}
    eps : float
        float64 machine epsilon by default, as sigsep.

    Returns
    -------
    list of complex arrays ``(nsrc, channels, bins, frames)``
    """
    if norm not in ("sisec", "bin"):
        raise ParameterError(f"mwf option norm must be 'sisec' or 'bin', got {norm!r}")
    ops, groups, nsrc, cdt = _prepare(X, S)
    work = np.complex128 if ops is _NP else ops.torch.complex128
    stack = np.stack if ops is _NP else ops.torch.stack
    out = []
    for xg, sg in groups:
        xw, sw = ops.to(xg, work), ops.to(sg, work)
        channels, bins, frames = xw.shape
        eye = ops.eye(channels, work, xw)
        p_list, r_list = [], []
        for j in range(nsrc):
            sj = sw[j]
            p0 = ops.mean(ops.sq_abs(sj), 0)  # (bins, frames)
            r = ops.einsum("aft,bft->fab", sj / (eps + p0)[None], ops.conj(sj)) / frames
            if norm == "sisec":
                k = min(bins, channels)
                tr = ops.sum(ops.diag_index(r, k), 0)  # (C,): sum_k R[k, k, :]
                factor = ops.where(tr != 0, channels / ops.where(tr != 0, tr, 1.0), 1.0)
                r = r * factor[None, None, :]
            else:
                tr = ops.sum(ops.einsum("faa->fa", r), 1)  # (bins,)
                factor = ops.where(tr != 0, channels / ops.where(tr != 0, tr, 1.0), 1.0)
                r = r * factor[:, None, None]
            r = r + eps * eye
            rinv = _inv_eps_det(ops, r, eps)
            z = ops.einsum("fab,bft->aft", rinv, sj)
            p = ops.real(ops.sum(ops.conj(sj) * z, 0)) / channels
            p_list.append(p)
            r_list.append(r)
        v = stack(p_list)
        r = stack(r_list)
        y = ops.empty((nsrc, channels, bins, frames), work, xw)
        _wiener_apply(ops, xw, v, r, _inv_eps_det, eps, y)
        out.append(ops.to(y, cdt))
    return out


def wiener(X, S, *, iterations=1, eps=None):
    r"""Multichannel Wiener filter refined by EM, started from the MPI estimate [Nugraha16]_ [Duong10]_.

    Initial estimates :math:`\hat S_j^{(0)} = |S_j| e^{i\angle X}` (:func:`mpi`;
    ``iterations=0`` returns exactly that), then ``iterations`` times, as
    norbert's ``expectation_maximization`` (Nugraha, Liutkus & Vincent 2016):

    * :math:`v_j(f,t) = \frac1C \sum_c |\hat S_{jc}(f,t)|^2`;
    * :math:`R_j(f) = \sum_t \hat{\mathbf{S}}_j \hat{\mathbf{S}}_j^H \big/ (\varepsilon + \sum_t v_j(f,t))`;
    * :math:`\hat{\mathbf{S}}_j = v_j R_j \big(\sum_k v_k R_k + \sqrt{\varepsilon} I\big)^{-1} \mathbf{X}`.

    Vectorised over bins and frames (chunks of frames; 1x1 and 2x2 inverses
    in closed form, larger ones by ``pinv``).  ``eps`` defaults to the machine
    epsilon of the input's real dtype (norbert's default).  Before the EM the
    coefficients are scaled so that ``max |X| = 10`` (norbert only scales down
    to 10), then scaled back, so that the ``sqrt(eps)`` regularisation does not
    depend on the transform's normalisation.  Each group is refined on its own.

    Parameters
    ----------
    X, S : see :func:`irm`
    iterations : int >= 0
    eps : float, optional

    Returns
    -------
    list of complex arrays ``(nsrc, channels, bins, frames)``
    """
    if isinstance(iterations, (bool, np.bool_)) or not isinstance(iterations, (int, np.integer)) or iterations < 0:
        raise ParameterError(f"wiener option iterations must be an integer >= 0, got {iterations!r}")
    y = mpi(X, S)
    if iterations == 0:
        return y
    ops, groups, nsrc, cdt = _prepare(X, S)
    if eps is None:
        eps = ops.eps(ops.real_dtype(groups[0][0].dtype))
    peak = max(ops.max_abs(xg) for xg, _ in groups)
    scale = peak / 10.0 if peak > 0 else 1.0
    out = []
    for (xg, _), yg in zip(groups, y):
        xs = xg / scale
        ys = ops.to(yg, xs.dtype) / scale
        channels, bins, frames = xs.shape
        reg = (eps ** 0.5) * ops.eye(channels, xs.dtype, xs)
        for _ in range(int(iterations)):
            v = ops.mean(ops.sq_abs(ys), 1)  # (nsrc, bins, frames)
            weight = eps + ops.sum(v, -1)  # (nsrc, bins)
            r = ops.einsum("jaft,jbft->jfab", ys, ops.conj(ys)) / ops.to(weight, xs.dtype)[..., None, None]
            _wiener_apply(ops, xs, v, r, _inv_norbert, eps, ys, reg=reg)
        out.append(ops.to(ys * scale, cdt))
    return out


# --------------------------------------------------------------------------- registry
def _parse_bool(v):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    s = str(v).strip().lower()
    if s in ("true", "1", "yes", "on"):
        return True
    if s in ("false", "0", "no", "off"):
        return False
    raise ValueError(v)


def _parse_int(v):
    if isinstance(v, (bool, np.bool_)):
        raise ValueError(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    s = str(v).strip()
    if not re.fullmatch(r"[0-9]+", s):
        raise ValueError(v)
    return int(s)


def _parse_float(v):
    if isinstance(v, (bool, np.bool_)):
        raise ValueError(v)
    f = float(v)
    if not math.isfinite(f):
        raise ValueError(v)
    return f


def _fmt(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return str(v)


class _Opt:
    def __init__(self, name, parse, default, valid, check=None):
        self.name, self.parse, self.default, self.valid, self.check = name, parse, default, valid, check


_REGISTRY = {
    # base: (function, options in canonical order, option shown as a digit suffix, description)
    "irm": (irm, [_Opt("alpha", _parse_float, 1.0, "a number > 0", lambda v: v > 0)], "alpha",
            "ideal ratio mask |S_j|^a / sum_k |S_k|^a on the mixture (irm1: a=1, irm2: a=2; SiSEC 2018)"),
    "ibm": (ibm, [_Opt("alpha", _parse_float, 1.0, "a number > 0", lambda v: v > 0),
                  _Opt("theta", _parse_float, 0.5, "a number >= 0", lambda v: v >= 0)], "alpha",
            "ideal binary mask |S_j|^a / |X|^a >= theta (0.5) on the mixture (ibm1, ibm2; SiSEC 2018)"),
    "mpi": (mpi, [_Opt("phase", str, "mix", "mix or sum", lambda v: v in ("mix", "sum"))], None,
            "mix-phase inversion: |S_j| with the mixture's phase ([phase=sum]: phase of the sum of stems)"),
    "mwf": (mwf, [_Opt("norm", str, "sisec", "sisec or bin", lambda v: v in ("sisec", "bin"))], None,
            "multichannel Wiener filter oracle of SiSEC 2018 (sigsep-mus-oracle MWF.py, exactly)"),
    "mix": (mix, [], None, "the mixture / number of sources for every source (lower bound; SiSEC 2018 MIX)"),
    "psm": (psm, [_Opt("clip", _parse_bool, True, "true or false")], None,
            "phase-sensitive mask Re(S_j / X), clipped to [0, 1] (Erdogan et al. 2015)"),
    "cirm": (cirm, [], None, "complex ideal ratio mask S_j / X (Williamson et al. 2016; exact if X = sum of stems)"),
    "wiener": (wiener, [_Opt("iterations", _parse_int, 1, "an integer >= 0")], "iterations",
               "MPI start + k EM iterations of the multichannel Wiener filter (wiener1, wiener3; norbert)"),
    "gt": (gt, [], None, "the true sources themselves (pipeline check: reconstruction error only)"),
}

#: oracles whose estimate at a time-frequency point depends on that point alone
_POINTWISE = frozenset({"irm", "ibm", "mpi", "mix", "psm", "cirm", "gt"})
#: bytes of source coefficients per block in :func:`_blockwise`
_BLOCK_BYTES = 1 << 22


def _blockwise(func, X, S, options):
    """Apply a pointwise oracle over blocks of frames; same result as ``func(X, S, **options)``."""
    if not isinstance(S, (list, tuple)) or len(S) != len(X):
        return func(X, S, **options)  # let the oracle report the malformed input
    out = []
    for xg, sg in zip(X, S):
        sg = np.asarray(sg)
        frames = sg.shape[-1] if sg.ndim else 0
        step = max(1, _BLOCK_BYTES // max(1, sg[..., :1].nbytes)) if frames else 1
        if frames <= step:
            out.extend(func([xg], [sg], **options))
            continue
        yg = None
        for a in range(0, frames, step):
            (block,) = func([xg[..., a:a + step]], [sg[..., a:a + step]], **options)
            if yg is None:  # same shape as the sources, and the same memory layout (order "K")
                yg = np.empty_like(sg, dtype=block.dtype)
            yg[..., a:a + step] = block
        out.append(yg)
    return out


#: base oracle name -> function ``f(X, S, **options)``
ORACLES = {name: entry[0] for name, entry in _REGISTRY.items()}

_LISTED = ("irm1", "irm2", "ibm1", "ibm2", "mpi", "mwf", "mix", "psm", "cirm", "wiener1", "gt")
_SPEC_RE = re.compile(r"^([a-z]+)([0-9]+)?(?:\[([^\[\]]*)\])?$")


def _valid_text():
    return (f"valid oracles: {', '.join(_LISTED)}; options in brackets, e.g. irm[alpha=1.5], ibm1[theta=0.3], "
            "mpi[phase=sum], psm[clip=false], mwf[norm=bin], wiener3")


class Oracle:
    """An oracle with fixed options, called as ``oracle(X, S) -> Y`` (see the module docstring).

    Attributes
    ----------
    name : str
        Canonical name: base name, the digit option (``irm1``, ``ibm2``,
        ``wiener3``) and non-default options in brackets in a fixed order
        (``ibm1[theta=0.3]``, ``mpi[phase=sum]``, ``irm[alpha=1.5]``).
        :func:`get_oracle` parses it back to an equal oracle.
    base : str
        ``irm``, ``ibm``, ``mpi``, ``mwf``, ``mix``, ``psm``, ``cirm``, ``wiener`` or ``gt``.
    options : dict
        Every option with its value (defaults included).
    description : str
        One line.
    """

    def __init__(self, base, **options):
        if base not in _REGISTRY:
            raise ParameterError(f"unknown oracle {base!r}; {_valid_text()}")
        func, opts, digit, desc = _REGISTRY[base]
        known = {o.name: o for o in opts}
        values = {}
        for key, raw in options.items():
            if key not in known:
                valid = ", ".join(f"{o.name} ({o.valid})" for o in opts) or "none"
                raise ParameterError(f"oracle {base}: unknown option {key!r}; its options: {valid}")
            opt = known[key]
            try:
                value = opt.parse(raw)
                ok = opt.check(value) if opt.check else True
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ParameterError(f"oracle {base}: option {key}={raw!r} is invalid; {key} must be {opt.valid}")
            values[key] = value
        self.base = base
        self.options = {o.name: values.get(o.name, o.default) for o in opts}
        self.description = desc
        self._func = func
        name = base
        shown = []
        for o in opts:
            v = self.options[o.name]
            if o.name == digit and float(v).is_integer() and v >= 0:
                name += str(int(v))
            elif o.name == digit or v != o.default:
                shown.append(f"{o.name}={_fmt(v)}")
        self.name = name + (f"[{','.join(shown)}]" if shown else "")

    def __call__(self, X, S):
        """Estimates ``Y`` (list over groups of ``(nsrc, channels, bins, frames)``) from ``X`` and ``S``.

        Oracles that act on each time-frequency point alone run over blocks of
        frames (numpy inputs), so that their temporaries stay in cache instead
        of allocating several arrays of the coefficients' size.
        """
        if self.base in _POINTWISE and isinstance(X, (list, tuple)) and isinstance(X[0], np.ndarray):
            return _blockwise(self._func, X, S, self.options)
        return self._func(X, S, **self.options)

    def __eq__(self, other):
        return isinstance(other, Oracle) and other.name == self.name

    def __hash__(self):
        return hash(self.name)

    def __repr__(self):
        return f"<Oracle {self.name}>"


def get_oracle(spec):
    """Build an :class:`Oracle` from a spec such as ``irm1``, ``ibm2``, ``mpi[phase=sum]``, ``wiener3``.

    Grammar: ``BASE[DIGITS][[key=value,...]]``; ``DIGITS`` sets alpha for
    ``irm``/``ibm`` and the iteration count for ``wiener`` (``irm`` alone is
    ``irm1``, ``wiener`` alone ``wiener1``).

    Raises
    ------
    ParameterError
        Unknown oracle or option, or a bad value (one line listing what is valid).
    """
    if isinstance(spec, Oracle):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise ParameterError(f"oracle spec must be a non-empty string, got {spec!r}; {_valid_text()}")
    text = spec.strip().lower().replace(" ", "")
    m = _SPEC_RE.match(text)
    if not m or m.group(1) not in _REGISTRY:
        raise ParameterError(f"unknown oracle {spec!r}; {_valid_text()}")
    base, digits, inner = m.groups()
    _, opts, digit, _ = _REGISTRY[base]
    options = {}
    if digits is not None:
        if digit is None:
            raise ParameterError(f"oracle {spec!r}: {base} takes no number suffix; {_valid_text()}")
        options[digit] = digits
    if inner is not None:
        if not inner:
            raise ParameterError(f"oracle {spec!r}: empty brackets; write e.g. {base}[key=value]")
        for item in inner.split(","):
            key, eq, value = item.partition("=")
            if not eq or not key or not value:
                raise ParameterError(f"oracle {spec!r}: malformed option {item!r}; expected key=value")
            if key in options:
                raise ParameterError(f"oracle {spec!r}: option {key!r} given twice")
            options[key] = value
    return Oracle(base, **options)


def available_oracles():
    """``{name: one-line description}`` of the standard oracles, in display order."""
    return {name: get_oracle(name).description for name in _LISTED}
