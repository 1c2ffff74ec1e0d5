"""The array backend of the transforms: ``array_api_compat`` plus a small shim.

``array_api_compat.array_namespace(x)`` dispatches on the input (numpy, torch
on any device).  For numpy it routes FFTs to :mod:`numpy.fft`, which has no
``workers=``; :func:`fft` gives :mod:`scipy.fft` with the thread budget's
workers instead.  :func:`frames` is the strided framing that the array API
lacks (numpy's ``sliding_window_view``, torch's ``unfold``).
"""

import sys

import numpy as np

from .. import threads

__all__ = ["namespace", "is_torch", "is_numpy", "fft", "frames", "zeros", "as_like", "real_dtype_of"]


def is_torch(x):
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def is_numpy(xp):
    return xp is np or getattr(xp, "__name__", "").endswith("numpy")


def namespace(x):
    """The array namespace of ``x`` (numpy arrays and anything array-like: numpy)."""
    if isinstance(x, np.ndarray) or not is_torch(x):
        return np
    import array_api_compat

    return array_api_compat.array_namespace(x)


class _ScipyFFT:
    """``scipy.fft`` with ``workers=`` from the thread budget (numpy inputs)."""

    @staticmethod
    def rfft(a, n=None, axis=-1):
        import scipy.fft as sfft

        return sfft.rfft(a, n=n, axis=axis, workers=threads.budget())

    @staticmethod
    def irfft(a, n=None, axis=-1, overwrite_x=False):
        import scipy.fft as sfft

        return sfft.irfft(a, n=n, axis=axis, workers=threads.budget(), overwrite_x=overwrite_x)


class _ArrayAPIFFT:
    def __init__(self, xp):
        self._fft = xp.fft

    def rfft(self, a, n=None, axis=-1):
        return self._fft.rfft(a, n=n, axis=axis)

    def irfft(self, a, n=None, axis=-1, overwrite_x=False):
        return self._fft.irfft(a, n=n, axis=axis)


def fft(xp):
    """FFTs for namespace ``xp``: scipy.fft with budget workers for numpy, ``xp.fft`` otherwise."""
    return _ScipyFFT if is_numpy(xp) else _ArrayAPIFFT(xp)


def frames(xp, a, n, hop):
    """View ``(..., frames, n)`` of ``a (..., T)``: frame ``t`` is ``a[..., t*hop : t*hop + n]``."""
    if is_numpy(xp):
        return np.lib.stride_tricks.sliding_window_view(a, n, axis=-1)[..., ::hop, :]
    return a.unfold(-1, n, hop)


def device_of(a):
    return getattr(a, "device", None) if not isinstance(a, np.ndarray) else None


def zeros(xp, shape, dtype, like):
    """Zeros on ``like``'s device."""
    if is_numpy(xp):
        return np.zeros(shape, dtype=dtype)
    return xp.zeros(shape, dtype=dtype, device=device_of(like))


def as_like(xp, a, dtype, like):
    """The numpy array ``a`` in namespace ``xp``, ``dtype``, on ``like``'s device."""
    if is_numpy(xp):
        return np.asarray(a, dtype=dtype)
    return xp.asarray(a, dtype=dtype, device=device_of(like))


def real_dtype_of(xp, cdtype):
    """float32 for complex64, float64 for complex128 (in namespace ``xp``)."""
    return xp.float32 if cdtype == xp.complex64 else xp.float64
