"""uSDR (the MDX challenges' "utterance" SDR) and its improvement over the mixture, uSDRi.

uSDR is the signal-to-distortion ratio of the whole track, every channel and
sample together, with a small ``delta`` that keeps silent signals finite::

    uSDR = 10 * log10((sum s**2 + delta) / (sum (s - s_hat)**2 + delta))

It is the ``SDR`` of the Music Demixing Challenges 2021 and 2023 (their
evaluator's ``sdr``) and demucs' ``new_sdr`` (``delta = 1e-7``); unlike BSS
Eval's SDR it allows no distortion filter and no per-frame median.
"""

import numpy as np

from .. import validators
from ._blocks import (as_f, blocks, buffered, check_finite, db, improvements, pair, per_target, result, sumsq, zeros)
from .registry import register_metric

__all__ = ["usdr", "FLOAT32_BOUND_DB"]

#: measured bound of ``|usdr(dtype="float32") - usdr(dtype="float64")|`` in dB on float32 audio (see
#: :func:`usdr`); tests/test_metrics_usdr.py asserts it
FLOAT32_BOUND_DB = 1e-4


def usdr(references, estimates, *, delta=1e-7, dtype="float64"):
    """uSDR: ``10 log10((sum s^2 + delta) / (sum (s - s_hat)^2 + delta))`` over channels and time.

    The sums run over the last two axes (channels and time), block by block
    along time: nothing is copied or converted whole, whatever the input's
    strides or dtype.

    Parameters
    ----------
    references, estimates : array, shape ``(..., channels, time)``, or list of ``(channels, time)`` arrays
        numpy arrays or torch tensors (any real dtype; a list is a leading batch
        dimension).  Both of the same shape.
    delta : float
        Added to both sums (the MDX evaluator's and demucs' ``1e-7``): a silent
        reference with a silent estimate scores 0 dB, not NaN.
    dtype : {"float64", "float32"}
        Arithmetic precision.  ``"float64"`` (default): squares and sums in
        float64.  ``"float32"``: squares, sums, ``delta`` and the logarithm in
        float32, the arithmetic of the MDX evaluator and of demucs' ``new_sdr``
        on float32 audio (their exact summation order is theirs: numpy's
        pairwise sums, torch's reductions; here pairwise within blocks, then
        block by block).  Measured on float32 audio (the stems of the two
        MUSDB18-HQ previews, 6-7 s, and of a 4-minute tile, 60 s of noise;
        estimates from about -10 dB to 62 dB uSDR), float32 stays within
        :data:`FLOAT32_BOUND_DB` = 1e-4 dB of float64: the largest difference
        seen was 7.3e-6 dB (at 60 dB; it grows with the uSDR, about 1e-6 dB
        at 0-40 dB).

    Returns
    -------
    ndarray or torch.Tensor, shape ``(...)``, float64
        numpy for numpy input (0-d for one ``(channels, time)`` signal), a
        tensor on the input's device for torch input; ``(len(list), ...)`` for
        lists.

    Raises
    ------
    ParameterError
        Different shapes (both are named), fewer than two dimensions, empty signals, a bad
        ``delta`` or ``dtype``.
    AudioError
        Non-real or non-finite samples.

    Examples
    --------
    >>> import numpy as np
    >>> s = np.array([[1.0, -1.0, 1.0, -1.0]])
    >>> round(float(usdr(s, 0.9 * s)), 4)  # 10 log10(4 / 0.04)
    20.0
    >>> usdr(np.stack([s, s]), np.stack([0.9 * s, 0.5 * s])).round(4)
    array([20.    ,  6.0206])
    """
    dtype = validators.choice(dtype, "dtype", ("float64", "float32"))
    delta = validators.number(delta, "delta", minimum=0)
    p = pair(references, estimates)
    out = []
    for r, e in zip(p.refs, p.ests):
        lead = tuple(r.shape[:-2])
        num = zeros(p, lead, dtype)
        den = zeros(p, lead, dtype)
        if not p.torch and dtype == "float64":  # float64 copies of the blocks into two reused buffers
            for x, y in buffered(p, r, e):
                num += sumsq(x, axes="ct")
                np.subtract(x, y, out=y)
                den += sumsq(y, axes="ct")
        for rb, eb in (blocks(p, r, e) if p.torch or dtype == "float32" else ()):
            if p.torch:
                rb, eb = as_f(p, rb, dtype), as_f(p, eb, dtype)
                d = rb - eb
                den += (d * d).sum(dim=(-2, -1))
                num += (rb * rb).sum(dim=(-2, -1))
            else:
                d = np.subtract(rb, eb, dtype=dtype)
                d *= d
                den += d.sum(axis=(-2, -1))
                np.multiply(rb, rb, out=d, dtype=dtype)
                num += d.sum(axis=(-2, -1))
        check_finite(p, num + den)
        dl = np.float32(delta) if dtype == "float32" else float(delta)
        num += dl
        den += dl
        out.append(db(p, num, den))
    return result(p, out)


# -- registered metrics ---------------------------------------------------------------------------------------

@register_metric("usdr", outputs=("uSDR",), framewise=False, version=1,
                 description="uSDR: whole-track SDR, 10 log10((sum s^2 + 1e-7) / (sum (s - s_hat)^2 + 1e-7)), "
                             "channels and time together, float64",
                 reported_by="MDX 2021/2023 (uSDR), demucs (new_sdr)", aliases=("u-sdr", "u_sdr"))
def usdr_metric(ctx):
    """uSDR of every target (derived ones summed block by block, never materialised)."""
    return {t: {"uSDR": v} for t, v in per_target(ctx, "uSDR", usdr).items()}


@register_metric("usdri", outputs=("uSDRi",), framewise=False, version=1, needs_mixture=True,
                 description="uSDR improvement: uSDR(s, s_hat) - uSDR(s, mixture)",
                 reported_by="improvements over the mixture as nussl reports them (SI-SDRi)",
                 aliases=("usdr-i", "usdr_i"))
def usdri_metric(ctx):
    """uSDR of every target minus the uSDR of the mixture as its estimate."""
    return {t: {"uSDRi": v} for t, v in improvements(ctx, "uSDR", usdr, "usdri").items()}

