"""What the oracles add to the package's backend layer (:mod:`mssoracle.backend`).

Every oracle is written once against ``xp = array_api_compat.array_namespace(x)``
(numpy, torch CPU and CUDA; :func:`mssoracle.backend.array_namespace`, with
:func:`mssoracle.backend.einsum`).  This module adds the closed-form 1x1 and
2x2 inverses the multichannel filters use (plain arithmetic on any backend).  Arrays stay on their device: nothing here copies to the host.

Also here: input validation (:func:`prepare`), shared by every oracle, and
:func:`finite_inputs`, with which a caller that has checked its signals already
(the experiment pipeline: audio is checked when it is decoded) spares the
oracles a pass over every block's coefficients.
"""

import contextlib
import contextvars

import numpy as np

from ..backend import array_namespace as namespace
from ..backend import is_torch
from ..errors import AudioError, ParameterError

__all__ = ["EPS", "sq_abs", "prepare", "finite_inputs", "unit_phase", "complex_dtype", "real_dtype",
           "stat_dtypes", "inv_eps_det", "inv_norbert"]

#: True inside :func:`finite_inputs`: the coefficients come from signals already checked finite
_FINITE = contextvars.ContextVar("mssoracle_oracle_inputs_finite", default=False)


@contextlib.contextmanager
def finite_inputs():
    """Within this block, :func:`prepare` does not scan the coefficients for NaN/inf.

    For callers whose signals were checked finite already (the transforms of finite signals are
    finite): the experiment pipeline, whose audio is checked when it is decoded.
    """
    token = _FINITE.set(True)
    try:
        yield
    finally:
        _FINITE.reset(token)

#: float64 machine epsilon: sigsep-mus-oracle's ``eps`` and the Wiener family's, whatever the input precision
EPS = float(np.finfo(np.float64).eps)


def sq_abs(z):
    """``|z|**2`` without a square root (real part squared plus imaginary part squared)."""
    return z.real * z.real + z.imag * z.imag


def complex_dtype(xp, dtype):
    """complex64 for float32/complex64, else complex128."""
    return xp.complex64 if dtype in (xp.float32, xp.complex64) else xp.complex128


def real_dtype(xp, dtype):
    return xp.float32 if dtype in (xp.float32, xp.complex64) else xp.float64


def stat_dtypes(xp):
    """(complex, real) dtypes of the statistics: always double precision."""
    return xp.complex128, xp.float64


def prepare(X, S, what="oracle"):
    """Validate the coefficient lists; return ``(xp, [(Xg, Sg)], nsrc, cdtype)``.

    ``Xg``/``Sg`` are cast to one common complex dtype (complex64 when both are
    single precision); ``cdtype`` is the complex dtype of ``X``, the dtype of the
    estimates.  Shapes that do not match raise :class:`ParameterError`; NaN or inf
    coefficients raise :class:`AudioError` (an oracle of non-finite input is not an
    upper bound of anything).
    """
    if not isinstance(X, (list, tuple)):
        X = [X]
    if not isinstance(S, (list, tuple)):
        S = [S]
    if len(X) == 0 or len(X) != len(S):
        raise ParameterError(
            f"{what} inputs: mixture and sources must be lists with the same number of groups (>= 1), "
            f"got {len(X)} and {len(S)}"
        )
    torch_in = is_torch(X[0])
    groups = []
    nsrc = None
    for g, (xg, sg) in enumerate(zip(X, S)):
        if is_torch(xg) != torch_in or is_torch(sg) != torch_in:
            raise ParameterError(f"{what} inputs: group {g} mixes numpy arrays and torch tensors")
        if not torch_in:
            xg, sg = np.asarray(xg), np.asarray(sg)
        if xg.ndim != 3 or sg.ndim != 4 or tuple(sg.shape[1:]) != tuple(xg.shape):
            raise ParameterError(
                f"{what} inputs: group {g} must be mixture (channels, bins, frames) and sources "
                f"(nsrc, channels, bins, frames) of matching shape, got {tuple(xg.shape)} and {tuple(sg.shape)}"
            )
        if nsrc is None:
            nsrc = sg.shape[0]
        elif sg.shape[0] != nsrc:
            raise ParameterError(f"{what} inputs: group {g} has {sg.shape[0]} sources, group 0 has {nsrc}")
        groups.append((xg, sg))
    if nsrc == 0:
        raise ParameterError(f"{what} inputs: no sources")
    xp = namespace(*[a for pair in groups for a in pair])
    for g, (xg, sg) in enumerate(groups if not _FINITE.get() else ()):
        for what_in, a in (("mixture", xg), ("sources", sg)):
            if not bool(xp.all(xp.isfinite(a))):
                raise AudioError(f"{what} inputs: group {g} of the {what_in} holds NaN or inf coefficients; "
                                 "expected the transform of finite signals")
    single = all(a.dtype in (xp.float32, xp.complex64) for pair in groups for a in pair)
    work = xp.complex64 if single else xp.complex128
    cdtype = xp.complex64 if all(xg.dtype in (xp.float32, xp.complex64) for xg, _ in groups) else xp.complex128
    groups = [(xp.astype(xg, work, copy=False), xp.astype(sg, work, copy=False)) for xg, sg in groups]
    return xp, groups, nsrc, cdtype


def unit_phase(xp, z):
    """``z / |z|``, and 1 where ``z == 0`` (the phase of 0 taken as 0, as ``np.angle``)."""
    mag = xp.abs(z)
    nz = mag > 0
    return xp.where(nz, z / xp.where(nz, mag, xp.ones_like(mag)), xp.ones_like(z))


def _inv2(xp, m, det):
    a, b, c, d = m[..., 0, 0], m[..., 0, 1], m[..., 1, 0], m[..., 1, 1]
    inv_det = 1.0 / det(a, b, c, d)
    row0 = xp.stack([inv_det * d, -inv_det * b], axis=-1)
    row1 = xp.stack([-inv_det * c, inv_det * a], axis=-1)
    return xp.stack([row0, row1], axis=-2)


def inv_eps_det(xp, m, eps):
    """sigsep-mus-oracle's inverse: ``adj(M) / (eps + det M)`` for 2x2, ``1 / (eps + M)`` for 1x1.

    Larger matrices (not handled by sigsep) use a plain inverse.
    """
    c = m.shape[-1]
    if c == 1:
        return 1.0 / (eps + m)
    if c == 2:
        return _inv2(xp, m, lambda a, b, cc, d: eps + a * d - b * cc)
    return xp.linalg.inv(m)


def inv_norbert(xp, m, eps):
    """norbert's ``_invert``: ``1 / (M + eps)`` (1x1), ``adj(M) / det M`` (2x2), ``pinv(M, eps)`` otherwise."""
    c = m.shape[-1]
    if c == 1:
        return 1.0 / (m + eps)
    if c == 2:
        return _inv2(xp, m, lambda a, b, cc, d: a * d - b * cc)
    return xp.linalg.pinv(m, rtol=eps)
