r"""How well-conditioned a multichannel Wiener oracle was on a track: its *stability figure*, per target.

``mwf`` and ``wienerK`` (K >= 1) invert matrices built from the true sources.  On a near-mono or exactly
panned source the source's spatial covariance :math:`R_j(f)` is (nearly) rank one, and SiSEC 2018's MWF
(:func:`mssoracle.oracles.mwf`) divides by it: its refined PSD
:math:`P_j = \frac1C \mathrm{Re}(\mathbf S_j^H R_j^{-1} \mathbf S_j)` is then a sum of huge terms that
cancel, and its scores move by several dB when the inputs move by rounding (noise at -180 dB).  The
oracles measure this while they run and report, per target (source ``j``):

``cond``
    The energy-weighted geometric mean, over the (bin, frame) points of the track, of the 2-norm condition
    number of the matrices the oracle inverts at that point:
    :math:`10^{\sum_{f,t} e_j \log_{10}\kappa_j / \sum_{f,t} e_j}` with
    :math:`e_j(f,t) = \frac1C\sum_c |S_{jc}(f,t)|^2` (the target's own energy) and
    :math:`\kappa_j(f,t) = \max(\kappa(R_j(f)), \kappa(C_x(f,t)))` for ``mwf``,
    :math:`\kappa(C_x(f,t))` for ``wienerK`` (its last iteration), where
    :math:`C_x = \sum_k P_k R_k` (+ the oracle's regularisation) is the mixture covariance.  Each
    :math:`\kappa` is capped at :data:`COND_CAP` (float64 keeps no digit beyond).  1 for one channel.
``cancelled``
    ``mwf`` only (``None`` for ``wienerK``, whose PSDs are sums of squares): the share of the target's
    energy :math:`\sum e_j` at points whose refined PSD is negative or cancelled, i.e.
    :math:`|P_j| \le \rho\, e_j \|R_j^{-1}\|_F` with :math:`\rho` = :data:`CANCELLED_LEVEL` (``1e-8``) in
    float64 (at least 8 of its 16 digits lost; :math:`e_j\|R_j^{-1}\|_F` bounds the terms of the sum) and
    16 ulps (``1.9e-6``) in float32.

A figure is **above the threshold** when ``cond`` > :data:`COND_WARN` (``1e8``: an input perturbation of
relative size 1e-9, -180 dB, may then change what the filter computes by 10 %) or ``cancelled`` >
:data:`CANCELLED_WARN` (1 % of the target's energy).  The runner warns once per track and method, the
score JSON stores the figures under ``"stability"``, ``compare-sisec18`` marks the per-track MWF values.
``mwf[reg=...]`` (see :func:`mssoracle.oracles.mwf`) bounds :math:`\kappa(R_j)` by about ``(C + reg)/reg``:
``mwf[reg=1e-6]`` in float64, ``mwf[reg=1e-4]`` in float32 (:data:`SUGGESTED_REG`).
"""

import math

import numpy as np

from ._backend import EPS, real_dtype

__all__ = ["COND_WARN", "CANCELLED_WARN", "CANCELLED_LEVEL", "COND_CAP", "SUGGESTED_REG", "Stability", "log10_cond",
           "flagged", "describe", "cancelled_level"]

#: ``cond`` above this is flagged (a -180 dB perturbation, 1e-9, times 1e8: a 10 % change)
COND_WARN = 1e8
#: ``cancelled`` (share of the target's energy) above this is flagged
CANCELLED_WARN = 0.01
#: a refined PSD below this fraction of the bound of its terms is cancelled (float64; float32: 16 ulps)
CANCELLED_LEVEL = 1e-8
#: condition numbers are capped here (1 / float64 epsilon: no digit left)
COND_CAP = 1.0 / EPS
_LOG_CAP = math.log10(COND_CAP)
#: the ``mwf[reg=...]`` the warning suggests, per precision: it bounds kappa(R_j) by about 2e6 (float64) and
#: 2e4 (float32), below both thresholds in that precision (float32's cancellation level is 1.9e-6)
SUGGESTED_REG = {"float64": 1e-6, "float32": 1e-4}


def cancelled_level(xp, dtype):
    """:data:`CANCELLED_LEVEL`, or 16 ulps of ``dtype`` when that is larger (float32: 1.9e-6)."""
    return max(CANCELLED_LEVEL, 16.0 * float(np.finfo(np.float32 if real_dtype(xp, dtype) == xp.float32
                                                        else np.float64).eps))


def log10_cond(xp, m):
    """``log10`` of the 2-norm condition number of each matrix of ``m`` (..., C, C), capped at :data:`COND_CAP`.

    Real, in ``m``'s precision.  C = 1: 0.  C = 2: closed form from the Frobenius norm ``F`` and
    ``D = |det|`` (``r = 2D / F``, ``kappa = (1 + sqrt(1 - r^2)) / r``; no square of ``F``, so no
    overflow); larger C: singular values.  A zero matrix counts as kappa = 1 (its points carry no energy).
    """
    c = m.shape[-1]
    if c == 1:
        return xp.zeros(m.shape[:-2], dtype=real_dtype(xp, m.dtype))
    if c == 2:
        a, b, cc, d = m[..., 0, 0], m[..., 0, 1], m[..., 1, 0], m[..., 1, 1]
        f = xp.abs(a) ** 2 + xp.abs(b) ** 2 + xp.abs(cc) ** 2 + xp.abs(d) ** 2
        det = xp.abs(a * d - b * cc)
        nz = f > 0
        r = xp.where(nz, 2.0 * det / xp.where(nz, f, xp.ones_like(f)), xp.ones_like(f))
        r = xp.clip(r, 1e-30, 1.0) if hasattr(xp, "clip") else xp.minimum(xp.maximum(r, 1e-30), 1.0)
        lk = xp.log10(1.0 + xp.sqrt(1.0 - r * r)) - xp.log10(r)
        return xp.minimum(lk, _LOG_CAP)
    linalg = getattr(xp, "linalg", None)
    sv = linalg.svdvals(m) if linalg is not None and hasattr(linalg, "svdvals") else xp.asarray(
        np.linalg.svd(np.asarray(m), compute_uv=False))
    top, low = sv[..., 0], sv[..., -1]
    nz = top > 0
    lk = xp.where(nz, xp.log10(xp.where(nz, top, xp.ones_like(top))) -
                  xp.log10(xp.maximum(low, top * (1.0 / COND_CAP))), xp.zeros_like(top))
    return xp.minimum(lk, _LOG_CAP)


class Stability:
    """Accumulates the figures of one track over blocks and groups (float64 sums on the arrays' device)."""

    def __init__(self, cancelled=True):
        self.has_cancelled = cancelled
        self.wlog = self.w = self.wcanc = None

    def _add(self, name, value):
        cur = getattr(self, name)
        setattr(self, name, value if cur is None else cur + value)

    def add(self, xp, e, logk, cancelled=None, *, weights=True):
        """``e``: (nsrc, bins, frames) energies; ``logk``: like ``e`` (log10 kappa); ``cancelled``: a mask like
        ``e``.  ``weights=False`` adds to the log sum only (a second look at points already counted)."""
        f64 = xp.float64
        self._add("wlog", xp.sum(xp.reshape(xp.astype(e * logk, f64), (e.shape[0], -1)), axis=-1))
        if weights:
            self._add("w", xp.sum(xp.reshape(xp.astype(e, f64), (e.shape[0], -1)), axis=-1))
        if cancelled is not None:
            z = xp.zeros_like(e)
            self._add("wcanc", xp.sum(xp.reshape(xp.astype(xp.where(cancelled, e, z), f64), (e.shape[0], -1)),
                                      axis=-1))

    def report(self):
        """One dict per source, ``{"cond": float or None, "cancelled": float or None}``; None when nothing ran."""
        if self.w is None:
            return None
        w = [float(v) for v in self.w]
        wlog = [float(v) for v in self.wlog]
        canc = [float(v) for v in self.wcanc] if self.wcanc is not None else [None] * len(w)
        out = []
        for wi, li, ci in zip(w, wlog, canc):
            ok = wi > 0 and math.isfinite(wi)
            out.append({"cond": float(10.0 ** (li / wi)) if ok else None,
                        "cancelled": (float(ci / wi) if ok else None) if self.has_cancelled else None})
        return out


def flagged(figure):
    """The parts of one target's figure above the thresholds, as text (empty: stable)."""
    if not isinstance(figure, dict):
        return []
    out = []
    cond, canc = figure.get("cond"), figure.get("cancelled")
    if isinstance(cond, (int, float)) and cond > COND_WARN:
        out.append(f"cond {cond:.3g} > {COND_WARN:g}")
    if isinstance(canc, (int, float)) and canc > CANCELLED_WARN:
        out.append(f"cancelled {100 * canc:.3g}% > {100 * CANCELLED_WARN:g}%")
    return out


def describe(figure):
    """``cond 1.2e+15, cancelled 99.9%`` (the figure as printed)."""
    if not isinstance(figure, dict):
        return "-"
    cond, canc = figure.get("cond"), figure.get("cancelled")
    parts = [f"cond {cond:.3g}" if isinstance(cond, (int, float)) else "cond -"]
    if isinstance(canc, (int, float)):
        parts.append(f"cancelled {100 * canc:.3g}%")
    return ", ".join(parts)
