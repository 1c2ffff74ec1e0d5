"""Correlation kernels on a torch device (CPU or CUDA), float64.

The same plan as :class:`mssoracle.bsseval.kernels.NumpyOps` (:func:`~mssoracle.bsseval.kernels.block_plan`,
:func:`~mssoracle.bsseval.kernels.segment_chunks`, gathered float64 buffers from
:meth:`Signals.gather <mssoracle.bsseval.signals.Signals.gather>`), with ``torch.fft`` and batched
``torch.matmul``.  Signals that are tensors on the device are read there: an estimate on CUDA is
never copied to the host; numpy references are uploaded block by block.  Only the correlations
(``(nseg, nx, ny, F)``, small) come back to the host, where one factorisation of the Gram matrix
serves both backends (:mod:`mssoracle.bsseval.solvers`).

Why a twin and not one array-API implementation: the numpy path relies on
``scipy.fft``'s ``workers=``, on reused zero-padded buffers filled with ``np.copyto``
and on ``out=`` arguments; the array API has none of these, and the numpy fast path
would lose them.
"""

import numpy as np

from ..errors import ParameterError
from .kernels import CHUNK_SAMPLES, block_plan, segment_chunks

__all__ = ["TorchOps", "torch_device"]


def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ParameterError(
            "backend='torch' needs PyTorch: pip install 'mssoracle[torch]' (or use backend='numpy')"
        ) from exc
    return torch


def torch_device(device):
    """A checked ``torch.device`` (ParameterError when it cannot be used)."""
    torch = _torch()
    try:
        dev = torch.device("cpu" if device is None else device)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("CUDA is not available")
        torch.empty(1, device=dev)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ParameterError(f"device = {device!r}: {exc}") from None
    return dev


def _nch(sig):
    return sig.nsrc * sig.nchan


class TorchOps:
    """Array kernels on a torch device."""

    name = "torch"

    def __init__(self, device=None):
        import scipy.fft

        self.torch = _torch()
        self.device = torch_device(device)
        self.fft = scipy.fft  # plan sizes only

    def seg_corr(self, xsig, ysigs, starts, length, F, outs=None, index=None):
        """See :meth:`mssoracle.bsseval.kernels.NumpyOps.seg_corr`."""
        torch = self.torch
        L = int(length)
        starts = np.asarray(starts, dtype=np.int64)
        nseg = len(starts)
        nx = _nch(xsig)
        ych = [_nch(y) for y in ysigs]
        ny = sum(ych)
        nfft, B = block_plan(L, F, self.fft)
        nsub = -(-L // B)
        nfull = sum(1 for i in range(nsub) if i * B + B + F - 1 <= L)
        nb = nfft // 2 + 1
        if outs is None:
            outs = [np.empty((nseg, nx, c, F)) for c in ych]
            index = np.arange(nseg)
        chunk_samples = CHUNK_SAMPLES * (8 if self.device.type == "cuda" else 1)
        seg_chunk, sub_chunk = segment_chunks(nsub, B, nb * nx * ny, chunk_samples, 256 << 20)
        for s0 in range(0, nseg, seg_chunk):
            st = starts[s0 : s0 + seg_chunk]
            ns = len(st)
            acc = torch.zeros((ns, nb, nx, ny), dtype=torch.complex128, device=self.device)
            for i0 in range(0, nsub, sub_chunk):
                i1 = min(nsub, i0 + sub_chunk)
                a_rel = i0 * B
                Lg = min(L, i1 * B + F - 1) - a_rel
                gx = xsig.gather(st + a_rel, Lg, device=self.device)
                gys = [gx if y is xsig else y.gather(st + a_rel, Lg, device=self.device) for y in ysigs]
                groups = []
                if min(i1, nfull) > i0:
                    groups.append((i0, min(i1, nfull), B, B + F - 1))
                for i in range(max(i0, nfull), i1):
                    groups.append((i, i + 1, min(B, L - i * B), min(B + F - 1, L - i * B)))
                for j0, j1, wx, wy in groups:
                    off = (j0 - i0) * B
                    Xf = self._block_spectra([gx], ns, Lg, off, j1 - j0, B, wx, nfft)
                    Yf = self._block_spectra(gys, ns, Lg, off, j1 - j0, B, wy, nfft)
                    acc += torch.matmul(Xf.conj().transpose(-1, -2), Yf)
                    del Xf, Yf
                del gx, gys
            r = torch.fft.irfft(acc, n=nfft, dim=1)[:, :F]  # (ns, F, nx, ny)
            del acc
            r = r.permute(0, 2, 3, 1).cpu().numpy()
            rows = index[s0 : s0 + ns]
            a0 = 0
            for out, c in zip(outs, ych):
                out[rows] = r[:, :, a0 : a0 + c]
                a0 += c
        return outs

    def _block_spectra(self, gs, ns, Lg, off, ni, B, width, nfft):
        torch = self.torch
        parts = []
        for g in gs:
            nsrc, N, nchan = g.shape
            v = torch.as_strided(
                g,
                size=(ns, width, ni, nsrc, nchan),
                stride=(Lg * nchan, nchan, B * nchan, N * nchan, 1),
                storage_offset=g.storage_offset() + off * nchan,
            )
            parts.append(torch.fft.rfft(v, n=nfft, dim=1).reshape(ns, nfft // 2 + 1, ni, nsrc * nchan))
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)

    def straddle_sum(self, xsig, ysigs, bounds, F):
        """See :meth:`mssoracle.bsseval.kernels.NumpyOps.straddle_sum`."""
        torch = self.torch
        W = F - 1
        nfft = self.fft.next_fast_len(2 * W, real=True)
        nb = nfft // 2 + 1
        nx = _nch(xsig)
        ych = [_nch(y) for y in ysigs]
        ny = sum(ych)
        acc = torch.zeros((nb, nx, ny), dtype=torch.complex128, device=self.device)
        chunk = max(1, (32 << 20) // (16 * nb * (nx + ny)))
        for b0 in range(0, len(bounds), chunk):
            bd = bounds[b0 : b0 + chunk]
            XL = self._edge_spectra([xsig.gather(bd - W, W, device=self.device)], len(bd), W, nfft)
            YR = self._edge_spectra([y.gather(bd, W, device=self.device) for y in ysigs], len(bd), W, nfft)
            acc += torch.matmul(XL.conj().transpose(-1, -2), YR)
        c = torch.fft.irfft(acc, n=nfft, dim=0).cpu().numpy()
        k = np.arange(1, F)
        res, a0 = [], 0
        for cc in ych:
            out = np.zeros((nx, cc, F))
            out[:, :, 1:] = c[(k - W) % nfft][:, :, a0 : a0 + cc].transpose(1, 2, 0)
            res.append(out)
            a0 += cc
        return res

    def _edge_spectra(self, gs, n, width, nfft):
        torch = self.torch
        parts = []
        for g in gs:
            nsrc, _, nchan = g.shape
            v = g.reshape(nsrc, n, width, nchan).permute(2, 1, 0, 3)
            parts.append(torch.fft.rfft(v, n=nfft, dim=0).reshape(nfft // 2 + 1, n, nsrc * nchan))
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)
