r"""Pointwise oracles: the estimate at a time-frequency point depends on that point alone.

``irm``, ``ibm``, ``mpi``, ``mix``, ``psm``, ``cirm``, ``gt``; each is a function
``f(X, S, **options) -> Y`` (see :mod:`mssoracle.oracles`) registered with
``passes=1``, so the runner calls it once per block of frames.  Written once
against the array API (numpy, torch CPU/CUDA), in the input's precision.

In the formulas ``S_j`` is source ``j``'s coefficient, ``X`` the mixture's,
``|.|`` the modulus, ``j = 1..J`` the sources; products are element-wise.
"""

from .. import validators
from ._backend import EPS, prepare, sq_abs, unit_phase
from .registry import Option, register_oracle

__all__ = ["irm", "ibm", "mpi", "mix", "psm", "cirm", "gt"]


@register_oracle("irm", options=[Option.number("alpha", 1.0, minimum=0, strict=True),
                                 Option.number("eps", EPS, minimum=0)],
                 digit="alpha", digits=(1, 2),
                 listed=("irm1", "irm2"),
                 description="ideal ratio mask |S_j|^a / sum_k |S_k|^a on the mixture (SiSEC 2018 IRM1, IRM2)")
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
    eps : float >= 0
        Added to the denominator; default float64 machine epsilon (sigsep's), whatever the precision.
        The seed project used float32's, ``irm1[eps=1.1920928955078125e-07]`` (``--preset seed``);
        a non-default value is part of the canonical name.

    Returns
    -------
    list of complex arrays ``(nsrc, channels, bins, frames)``
    """
    alpha = validators.number(alpha, "irm option alpha", minimum=0, strict=True)
    eps = validators.number(eps, "irm option eps", minimum=0)
    xp, groups, _, cdt = prepare(X, S)
    out = []
    for xg, sg in groups:
        p = sq_abs(sg) if alpha == 2 else (xp.abs(sg) if alpha == 1 else xp.abs(sg) ** alpha)
        mask = p / (eps + xp.sum(p, axis=0, keepdims=True))
        out.append(xp.astype(mask * xg[None], cdt, copy=False))
    return out


@register_oracle("ibm", options=[Option.number("alpha", 1.0, minimum=0, strict=True),
                                 Option.number("theta", 0.5, minimum=0)], digit="alpha", digits=(1, 2),
                 listed=("ibm1", "ibm2"),
                 description="ideal binary mask |S_j|^a / |X|^a >= theta on the mixture (SiSEC 2018 IBM1, IBM2)")
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
    theta : float >= 0
        Threshold on the ratio (0.5: majority vote).
    eps : float
        Added to the denominator (float64 machine epsilon, as sigsep).
    """
    alpha = validators.number(alpha, "ibm option alpha", minimum=0, strict=True)
    theta = validators.number(theta, "ibm option theta", minimum=0)
    xp, groups, _, cdt = prepare(X, S)
    out = []
    for xg, sg in groups:
        if alpha == 1:
            num, den = xp.abs(sg), xp.abs(xg)
        elif alpha == 2:
            num, den = sq_abs(sg), sq_abs(xg)
        else:
            num, den = xp.abs(sg) ** alpha, xp.abs(xg) ** alpha
        keep = num / (eps + den[None]) >= theta
        x1 = xg[None]
        out.append(xp.astype(xp.where(keep, x1, xp.zeros_like(x1)), cdt, copy=False))
    return out


@register_oracle("mpi", options=[Option.choice("phase", "mix", ("mix", "sum")), Option.number("eps", 0.0, minimum=0)],
                 description="mix-phase inversion: |S_j| with the mixture's phase ([phase=sum]: of the sum of stems)")
def mpi(X, S, *, phase="mix", eps=0.0):
    r"""Mix-phase inversion (MPI): the true magnitude with the mixture's phase.

    .. math:: \hat S_j = |S_j| \, e^{i \angle X}
    .. math:: \hat S_j = |S_j| \, e^{i \angle \sum_k S_k} \quad (\texttt{phase="sum"})

    The phase of a zero coefficient is taken as 0 (as ``numpy.angle``).
    ``phase="sum"`` uses the phase of the sum of the stems, as the seed
    project did (identical to ``"mix"`` when the mixture is that sum).

    ``eps`` (>= 0, default 0) is added to the reference before its phase is
    taken, :math:`e^{i \angle (\varepsilon + R)}`: the seed's
    ``librosa.magphase(eps + sum_k S_k)`` with float32's machine epsilon is
    ``mpi[phase=sum,eps=1.1920928955078125e-07]`` (``--preset seed``).  It only
    moves the phase of coefficients of magnitude near ``eps``.
    """
    phase = validators.choice(phase, "mpi option phase", ("mix", "sum"))
    eps = validators.number(eps, "mpi option eps", minimum=0)
    xp, groups, _, cdt = prepare(X, S)
    out = []
    for xg, sg in groups:
        ref = xg if phase == "mix" else xp.sum(sg, axis=0)
        if eps:
            ref = ref + eps
        out.append(xp.astype(xp.abs(sg) * unit_phase(xp, ref)[None], cdt, copy=False))
    return out


@register_oracle("mix", description="the mixture / number of sources for every source (lower bound; SiSEC 2018 MIX)")
def mix(X, S):
    r"""The mixture divided by the number of sources, for every source (lower bound).

    .. math:: \hat S_j = X / J

    SiSEC 2018's ``MIX`` anchor [SiSEC18]_.  sigsep-mus-oracle's ``MIX.py``
    does it in the time domain (``track.audio / len(track.sources)``, the four
    stems); the transform is linear, so the estimates agree to its
    reconstruction precision.
    """
    xp, groups, nsrc, cdt = prepare(X, S)
    return [xp.stack([xp.astype(xg / nsrc, cdt, copy=False)] * nsrc) for xg, _ in groups]


@register_oracle("psm", options=[Option.boolean("clip", True)],
                 description="phase-sensitive mask Re(S_j / X), clipped to [0, 1] (Erdogan et al. 2015)")
def psm(X, S, *, clip=True):
    r"""Phase-sensitive mask (PSM) [Erdogan15]_.

    .. math:: M_j = \mathrm{Re}\!\left(\frac{S_j}{X}\right)
                  = \frac{|S_j|}{|X|}\cos(\angle S_j - \angle X),
              \qquad \hat S_j = M_j X

    With ``clip=True`` (default, as Erdogan et al. train it) the mask is
    clipped to ``[0, 1]``.  Where ``X == 0`` the mask is 0.
    """
    clip = validators.boolean(clip, "psm option clip")
    xp, groups, _, cdt = prepare(X, S)
    out = []
    for xg, sg in groups:
        den = sq_abs(xg)
        nonzero = den > 0
        num = xp.real(sg * xp.conj(xg)[None])
        mask = xp.where(nonzero[None], num / xp.where(nonzero, den, xp.ones_like(den))[None], xp.zeros_like(num))
        if clip:
            mask = xp.clip(mask, 0.0, 1.0)
        out.append(xp.astype(mask * xg[None], cdt, copy=False))
    return out


@register_oracle("cirm", description="complex ideal ratio mask S_j / X (Williamson et al. 2016; exact if X = sum of stems)")
def cirm(X, S):
    r"""Complex ideal ratio mask (cIRM) [Williamson16]_, uncompressed.

    .. math:: M_j = \frac{S_j}{X}, \qquad \hat S_j = M_j X

    Exact (``\hat S_j = S_j`` up to rounding) wherever ``X != 0``, so when the
    mixture is the sum of the stems it reconstructs them; where ``X == 0`` the
    mask (and the estimate) is 0.
    """
    xp, groups, _, cdt = prepare(X, S)
    out = []
    for xg, sg in groups:
        nonzero = xp.abs(xg) > 0
        mask = xp.where(nonzero[None], sg / xp.where(nonzero, xg, xp.ones_like(xg))[None], xp.zeros_like(sg))
        out.append(xp.astype(mask * xg[None], cdt, copy=False))
    return out


@register_oracle("gt", description="the true sources themselves (pipeline check: reconstruction error only)")
def gt(X, S):
    r"""The sources themselves (ground truth): :math:`\hat S_j = S_j`.

    A check of the pipeline: inverting these must give the stems back to the
    transform's reconstruction precision.  Returned in ``X``'s complex dtype
    (the arrays themselves when the dtypes already agree, not copies).
    """
    xp, groups, _, cdt = prepare(X, S)
    return [xp.astype(sg, cdt, copy=False) for _, sg in groups]
