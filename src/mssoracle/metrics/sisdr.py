"""SI-SDR (scale-invariant SDR, Le Roux et al. 2019) and its improvement over the mixture, SI-SDRi.

Per channel, the reference is scaled to its best fit to the estimate and the
ratio of the scaled reference's energy to the rest is taken (Le Roux, Wisdom,
Erdogan, Hershey, "SDR - half-baked or well done?", ICASSP 2019)::

    alpha  = (sum s_hat s + eps) / (sum s**2 + eps)
    SI-SDR = 10 * log10((sum (alpha s)**2 + eps) / (sum (alpha s - s_hat)**2 + eps))

then the mean over channels.  The conventions are torchmetrics' (``scale_invariant_signal_distortion_ratio``):
``eps`` the machine epsilon of the estimates' dtype, added where torchmetrics adds it, and no
zero-mean step by default (Le Roux et al. remove the mean: ``zero_mean=True``).
"""

import numpy as np

from .. import validators
from ._blocks import (as_f, blocks, buffered, check_finite, db, eps_of, improvements, pair, per_target, result, sumsq,
                     zeros)
from .registry import register_metric

__all__ = ["si_sdr"]


def _sum_t(p, x):
    return x.sum(dim=-1) if p.torch else x.sum(axis=-1)


def si_sdr(references, estimates, *, zero_mean=False, eps=None):
    """SI-SDR per channel, then the mean over channels.

    Conventions of torchmetrics' ``scale_invariant_signal_distortion_ratio``
    (``preds`` = estimates, ``target`` = references): ``eps`` (default: the
    machine epsilon of the estimates' dtype, ``torch.finfo(preds.dtype).eps``;
    float64's for integer audio) is added to both sums of ``alpha`` and to both
    energies of the ratio; ``zero_mean=False`` by default (torchmetrics'
    default; Le Roux et al.'s definition subtracts each channel's mean:
    ``zero_mean=True``).  The arithmetic is float64 whatever the input dtype
    (torchmetrics computes in the input's dtype), and the noise energy is summed
    from ``alpha s - s_hat`` itself (a second pass over the signals), not
    expanded from the correlations, so a near-perfect estimate loses no digits.

    Parameters
    ----------
    references, estimates : array, shape ``(..., channels, time)``, or list of ``(channels, time)`` arrays
        numpy arrays or torch tensors (any real dtype), of the same shape.
    zero_mean : bool
        Subtract each channel's mean over time first.
    eps : float, optional
        The regulariser (default ``finfo(estimates.dtype).eps``).

    Returns
    -------
    ndarray or torch.Tensor, shape ``(...)``, float64
        The mean over channels of the per-channel SI-SDR (numpy for numpy
        input, a tensor on the input's device for torch input).

    Raises
    ------
    ParameterError
        Different shapes, fewer than two dimensions, empty signals, a bad ``eps``.
    AudioError
        Non-real or non-finite samples.

    Examples
    --------
    >>> import numpy as np
    >>> s = np.array([[3.0, -0.5, 2.0, 7.0]])
    >>> round(float(si_sdr(s, np.array([[2.5, 0.0, 2.0, 8.0]]))), 4)  # torchmetrics' example (float64)
    18.403
    >>> round(float(si_sdr(s, 0.5 * np.array([[2.5, 0.0, 2.0, 8.0]]))), 4)  # scale-invariant
    18.403
    >>> e = np.array([[2.5, 0.0, 2.0, 8.0]])
    >>> round(float(si_sdr(s, e + 1.0)), 4), round(float(si_sdr(s, e + 1.0, zero_mean=True)), 4)
    (15.2501, 15.0918)
    """
    zero_mean = validators.boolean(zero_mean, "zero_mean")
    p = pair(references, estimates)
    eps = eps_of(p.est_dtype) if eps is None else validators.number(eps, "eps", minimum=0)
    out = []
    for r, e in zip(p.refs, p.ests):
        lead = tuple(r.shape[:-1])  # (..., channels)
        mr = me = None
        if zero_mean:
            sr, se = zeros(p, lead), zeros(p, lead)
            for rb, eb in blocks(p, r, e):
                if p.torch:
                    sr += _sum_t(p, as_f(p, rb))
                    se += _sum_t(p, as_f(p, eb))
                else:
                    sr += np.sum(rb, axis=-1, dtype=np.float64)
                    se += np.sum(eb, axis=-1, dtype=np.float64)
            check_finite(p, sr + se)
            mr, me = (sr / p.nsampl)[..., None], (se / p.nsampl)[..., None]

        def passes():
            """float64 blocks, centred with ``zero_mean`` (numpy: reused buffers, worked on in place)."""
            if p.torch:
                for rb, eb in blocks(p, r, e):
                    rb, eb = as_f(p, rb), as_f(p, eb)
                    yield (rb - mr, eb - me) if zero_mean else (rb, eb)
                return
            for x, y in buffered(p, r, e):
                if zero_mean:
                    x -= mr
                    y -= me
                yield x, y

        dot, rr = zeros(p, lead), zeros(p, lead)
        for x, y in passes():
            if p.torch:
                dot += _sum_t(p, x * y)
                rr += _sum_t(p, x * x)
            else:
                dot += sumsq(x, y)
                rr += sumsq(x)
        check_finite(p, dot + rr)
        alpha = (dot + eps) / (rr + eps)
        noise = zeros(p, lead)
        a = alpha[..., None]
        for x, y in passes():
            if p.torch:
                d = a * x - y
                noise += _sum_t(p, d * d)
            else:
                x *= a
                np.subtract(x, y, out=y)
                noise += sumsq(y)
        check_finite(p, noise)
        val = db(p, alpha * alpha * rr + eps, noise + eps)
        out.append(val.mean(dim=-1) if p.torch else val.mean(axis=-1))
    return result(p, out)


# -- registered metrics ---------------------------------------------------------------------------------------

@register_metric("sisdr", outputs=("SI-SDR",), framewise=False, version=1,
                 description="SI-SDR (Le Roux et al. 2019) per channel, mean over channels; torchmetrics' "
                             "conventions (eps of the run's precision, no zero-mean)",
                 reported_by="nussl, asteroid, torchmetrics", aliases=("si-sdr", "si_sdr"))
def sisdr_metric(ctx):
    """SI-SDR of every target (derived ones summed block by block, never materialised)."""
    return {t: {"SI-SDR": v} for t, v in per_target(ctx, "SI-SDR", si_sdr).items()}


@register_metric("sisdri", outputs=("SI-SDRi",), framewise=False, version=1, needs_mixture=True,
                 description="SI-SDR improvement: SI-SDR(s, s_hat) - SI-SDR(s, mixture)",
                 reported_by="nussl, asteroid (SI-SDRi)", aliases=("si-sdri", "si_sdri", "si-sdr-i"))
def sisdri_metric(ctx):
    """SI-SDR of every target minus the SI-SDR of the mixture as its estimate."""
    return {t: {"SI-SDRi": v} for t, v in improvements(ctx, "SI-SDR", si_sdr, "sisdri").items()}

