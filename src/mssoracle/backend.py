"""The package's one array backend layer: ``array_api_compat`` plus a small shim.

Transforms, oracles and the BSS Eval kernels dispatch on their input's type
through this module.  ``array_api_compat.array_namespace(x)`` covers numpy and
torch on any device (:func:`array_namespace`); :func:`namespace` gives numpy
itself for numpy inputs, where the transforms use ``out=`` arguments the
standard lacks.  For numpy the standard routes FFTs to :mod:`numpy.fft`, which
has no ``workers=``; :func:`fft` gives :mod:`scipy.fft` with the thread
budget's workers instead.  :func:`frames` is the strided framing the array API
lacks (numpy's ``sliding_window_view``, torch's ``unfold``), :func:`einsum` the
einsum it lacks.
"""

import sys

import numpy as np

from . import threads

__all__ = ["namespace", "array_namespace", "einsum", "is_torch", "is_numpy", "fft", "frames", "zeros", "empty", "as_like", "real_dtype_of",
           "take", "multiply", "add", "copy", "split_last", "on_host", "numel"]


def is_torch(x):
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def is_numpy(xp):
    return xp is np or getattr(xp, "__name__", "").endswith("numpy")


def array_namespace(*arrays):
    """The array API namespace of ``arrays`` (``array_api_compat.numpy`` or ``array_api_compat.torch``)."""
    import array_api_compat

    return array_api_compat.array_namespace(*arrays)


def einsum(eq, *ops):
    """``einsum`` on the operands' backend (not in the array API standard)."""
    if is_torch(ops[0]):
        import torch

        return torch.einsum(eq, *[o.resolve_conj() for o in ops])
    return np.einsum(eq, *ops)


def namespace(x):
    """The array namespace of ``x`` (numpy arrays and anything array-like: numpy)."""
    if isinstance(x, np.ndarray) or not is_torch(x):
        return np
    import array_api_compat

    return array_api_compat.array_namespace(x)


class _ScipyFFT:
    """``scipy.fft`` with ``workers=`` (numpy inputs): the thread budget's, or the given number."""

    def __init__(self, workers=None):
        self._workers = workers

    @property
    def workers(self):
        return threads.budget() if self._workers is None else self._workers

    def rfft(self, a, n=None, axis=-1):
        import scipy.fft as sfft

        return sfft.rfft(a, n=n, axis=axis, workers=self.workers)

    def irfft(self, a, n=None, axis=-1, overwrite_x=False):
        import scipy.fft as sfft

        return sfft.irfft(a, n=n, axis=axis, workers=self.workers, overwrite_x=overwrite_x)

    def fft(self, a, axis=-1):
        import scipy.fft as sfft

        return sfft.fft(a, axis=axis, workers=self.workers)

    def ifft_inplace(self, a):
        """``a[...] = ifft(a)`` along the last axis (in place where scipy can)."""
        import scipy.fft as sfft

        res = sfft.ifft(a, axis=-1, workers=self.workers, overwrite_x=True)
        if res is not a and not np.shares_memory(res, a):
            a[...] = res
        return a


class _ArrayAPIFFT:
    def __init__(self, xp):
        self._fft = xp.fft

    def rfft(self, a, n=None, axis=-1):
        return self._fft.rfft(a, n=n, axis=axis)

    def irfft(self, a, n=None, axis=-1, overwrite_x=False):
        return self._fft.irfft(a, n=n, axis=axis)

    def fft(self, a, axis=-1):
        return self._fft.fft(a, axis=axis)

    def ifft_inplace(self, a):
        a[...] = self._fft.ifft(a, axis=-1)
        return a


_SCIPY_FFT = _ScipyFFT()


def fft(xp, workers=None):
    """FFTs for namespace ``xp``: scipy.fft for numpy (``workers``: default the thread budget),
    ``xp.fft`` otherwise.  ``rfft``, ``irfft``, ``fft``, ``ifft_inplace``."""
    if is_numpy(xp):
        return _SCIPY_FFT if workers is None else _ScipyFFT(workers)
    return _ArrayAPIFFT(xp)


def take(xp, a, idx):
    """``a[..., idx]`` for 1-D integer ``idx`` (numpy: ``np.take(mode="wrap")``, which skips the
    bounds check; the tables are in range)."""
    if is_numpy(xp):
        if a.ndim > 1 and a.size == a.shape[-1]:  # one row: 1-D take, 1.5x faster than along axis -1
            return np.take(a.reshape(-1), idx, mode="wrap").reshape(a.shape[:-1] + idx.shape)
        return np.take(a, idx, axis=-1, mode="wrap")
    return xp.take(a, idx, axis=a.ndim - 1)


def _grad(a):
    return bool(getattr(a, "requires_grad", False))


def multiply(xp, a, b, out):
    """``out[...] = a * b`` without a temporary where the namespace allows it."""
    if is_numpy(xp):
        return np.multiply(a, b, out=out)
    if is_torch(out) and not (_grad(a) or _grad(b)):  # out= does not take part in autograd
        import torch

        return torch.mul(a, b, out=out)
    out[...] = a * b
    return out


def add(xp, a, b, out):
    """``out[...] = a + b`` without a temporary where the namespace allows it."""
    if is_numpy(xp):
        return np.add(a, b, out=out)
    if is_torch(out) and not (_grad(a) or _grad(b)):  # out= does not take part in autograd
        import torch

        return torch.add(a, b, out=out)
    out[...] = a + b
    return out


def copy(a):
    """A copy of ``a`` (torch: ``clone``, which keeps ``a``'s place in the autograd graph)."""
    return a.clone() if is_torch(a) else a.copy()


def split_last(xp, a, shape):
    """View of ``a (..., prod(shape))`` as ``(..., *shape)`` (a view, never a copy: written into)."""
    v = a.reshape(tuple(a.shape[:-1]) + tuple(shape)) if is_numpy(xp) else a.view(tuple(a.shape[:-1]) + tuple(shape))
    return v


def on_host(a):
    """Whether ``a`` lives in host memory (numpy, torch CPU): there the kernels cut the work into
    cache-sized tasks on the thread pool; on a device they run one batched task."""
    return not is_torch(a) or a.device.type == "cpu"


def numel(a):
    return a.size if isinstance(a, np.ndarray) else a.numel()


def frames(xp, a, n, hop):
    """View ``(..., frames, n)`` of ``a (..., T)``: frame ``t`` is ``a[..., t*hop : t*hop + n]``."""
    if is_numpy(xp):
        return np.lib.stride_tricks.sliding_window_view(a, n, axis=-1)[..., ::hop, :]
    return a.unfold(-1, n, hop)


def device_of(a):
    return getattr(a, "device", None) if not isinstance(a, np.ndarray) else None


def empty(xp, shape, dtype, like):
    """Uninitialised array on ``like``'s device."""
    if is_numpy(xp):
        return np.empty(shape, dtype=dtype)
    return xp.empty(shape, dtype=dtype, device=device_of(like))


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
