"""torch backend of the BSS Eval engine (CPU or CUDA, float64).

Same algorithm as the numpy kernels of :mod:`mssoracle.bsseval.engine`: block
FFT correlations (``torch.fft``, batched ``torch.matmul``) and the Cholesky
factorisation of the Gram matrix (``torch.linalg``).  The small per-estimate
work (filter autocorrelations, energies, metrics) stays in numpy.  Imported only
when ``backend="torch"`` is asked for.
"""

import numpy as np

from ..errors import ParameterError
from . import engine

try:
    import torch
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ParameterError(
        "backend='torch' needs PyTorch: pip install 'mssoracle[torch]' (or use backend='numpy')"
    ) from exc


class TorchOps:
    """Array kernels on a torch device."""

    name = "torch"

    def __init__(self, device=None):
        import scipy.fft
        import scipy.linalg

        try:
            self.device = torch.device("cpu" if device is None else device)
            if self.device.type == "cuda" and not torch.cuda.is_available():
                raise RuntimeError("CUDA is not available")
            torch.empty(1, device=self.device)
        except (RuntimeError, TypeError, ValueError) as exc:
            raise ParameterError(f"device = {device!r}: {exc}") from None
        self.fft = scipy.fft  # small host-side transforms (filters)
        self.linalg = scipy.linalg
        self._cache = []

    # -- host <-> device ---------------------------------------------------
    def _tensor(self, x):
        """Device tensor of a (large, immutable during the call) numpy array, cached by identity."""
        for a, t in self._cache:
            if a is x:
                return t
        t = torch.as_tensor(x, device=self.device)
        self._cache.append((x, t))
        if len(self._cache) > 3:
            self._cache.pop(0)
        return t

    def release(self):
        self._cache = []

    # -- correlations -----------------------------------------------------
    def seg_corr(self, xsig, ysigs, starts, length, F):
        """See :meth:`engine._NumpyOps.seg_corr`."""
        L = int(length)
        starts = np.asarray(starts, dtype=np.int64)
        nseg = len(starts)
        nx = xsig.shape[0] * xsig.shape[2]
        ny = sum(y.shape[0] * y.shape[2] for y in ysigs)
        nfft, B = engine._block_plan(L, F, self.fft)
        nsub = -(-L // B)
        nfull = sum(1 for i in range(nsub) if i * B + B + F - 1 <= L)
        nb = nfft // 2 + 1
        xt = self._tensor(xsig)
        yts = [self._tensor(y) for y in ysigs]
        out = np.empty((nseg, nx, ny, F))
        chunk_samples = engine._CHUNK_SAMPLES * (8 if self.device.type == "cuda" else 1)
        seg_chunk, sub_chunk = engine._segment_chunks(nsub, B, nb * nx * ny, chunk_samples, 256 << 20)
        for s0 in range(0, nseg, seg_chunk):
            st = starts[s0 : s0 + seg_chunk]
            ns = len(st)
            acc = torch.zeros((ns, nb, nx, ny), dtype=torch.complex128, device=self.device)
            for i0 in range(0, nsub, sub_chunk):
                i1 = min(nsub, i0 + sub_chunk)
                for j0, j1, full in ((i0, min(i1, nfull), True), (max(i0, nfull), i1, False)):
                    if j1 <= j0:
                        continue
                    offs = np.arange(j0, j1, dtype=np.int64) * B
                    Xf = self._block_spectra([xt], st, offs, L, B, nfft, full)
                    Yf = self._block_spectra(yts, st, offs, L, B + F - 1, nfft, full)
                    acc += torch.matmul(Xf.conj().transpose(-1, -2), Yf)
                    del Xf, Yf
            r = torch.fft.irfft(acc, n=nfft, dim=1)[:, :F]  # (ns, F, nx, ny)
            del acc
            out[s0 : s0 + ns] = r.permute(0, 2, 3, 1).cpu().numpy()
        return out

    def _block_spectra(self, sigs, starts, offs, L, width, nfft, full):
        ns, ni = len(starts), len(offs)
        width = min(width, L)
        parts = []
        regular = ns == 1 or np.all(np.diff(starts) == starts[1] - starts[0])
        for s in sigs:
            nsrc, N, nchan = s.shape
            if full and regular and (ni == 1 or np.all(np.diff(offs) == offs[1] - offs[0])):
                dst = int(starts[1] - starts[0]) if ns > 1 else 0
                dof = int(offs[1] - offs[0]) if ni > 1 else 0
                v = torch.as_strided(
                    s,
                    size=(ns, width, ni, nsrc, nchan),
                    stride=(dst * nchan, nchan, dof * nchan, N * nchan, 1),
                    storage_offset=s.storage_offset() + int(starts[0] + offs[0]) * nchan,
                )
            else:
                rel = offs[None, :] + np.arange(width)[:, None]
                valid = rel < L
                idx = starts[:, None, None] + np.minimum(rel, L - 1)[None]
                v = s[:, torch.as_tensor(idx, device=self.device), :]  # (nsrc, ns, width, ni, nchan)
                v = v.permute(1, 2, 3, 0, 4)
                if not valid.all():
                    v = v * torch.as_tensor(valid, device=self.device, dtype=s.dtype)[None, :, :, None, None]
            parts.append(torch.fft.rfft(v, n=nfft, dim=1).reshape(ns, nfft // 2 + 1, ni, nsrc * nchan))
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)

    def straddle_sum(self, xsig, ysigs, bounds, F):
        """See :meth:`engine._NumpyOps.straddle_sum`."""
        W = F - 1
        nfft = self.fft.next_fast_len(2 * W, real=True)
        nb = nfft // 2 + 1
        xt = self._tensor(xsig)
        yts = [self._tensor(y) for y in ysigs]
        nx = xsig.shape[0] * xsig.shape[2]
        ny = sum(y.shape[0] * y.shape[2] for y in ysigs)
        acc = torch.zeros((nb, nx, ny), dtype=torch.complex128, device=self.device)
        chunk = max(1, (32 << 20) // (16 * nb * (nx + ny)))
        for b0 in range(0, len(bounds), chunk):
            bd = bounds[b0 : b0 + chunk]
            XL = self._edge_spectra([xt], bd - W, W, nfft)
            YR = self._edge_spectra(yts, bd, W, nfft)
            acc += torch.matmul(XL.conj().transpose(-1, -2), YR)
        c = torch.fft.irfft(acc, n=nfft, dim=0).cpu().numpy()
        out = np.zeros((nx, ny, F))
        k = np.arange(1, F)
        out[:, :, 1:] = c[(k - W) % nfft].transpose(1, 2, 0)
        return out

    def _edge_spectra(self, sigs, starts, width, nfft):
        parts = []
        rel = np.arange(width)
        for s in sigs:
            nsrc, N, nchan = s.shape
            pos = starts[:, None] + rel[None, :]
            valid = (pos >= 0) & (pos < N)
            v = s[:, torch.as_tensor(np.clip(pos, 0, N - 1), device=self.device), :]  # (nsrc, ns, width, nchan)
            v = v.permute(2, 1, 0, 3)
            if not valid.all():
                v = v * torch.as_tensor(valid.T, device=self.device, dtype=s.dtype)[:, :, None, None]
            parts.append(torch.fft.rfft(v, n=nfft, dim=0).reshape(nfft // 2 + 1, len(starts), nsrc * nchan))
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)

    # -- linear algebra ---------------------------------------------------
    def factor(self, G):
        return _TorchFactor(G, self.device)


class _TorchFactor(engine._CondFromRcond):
    """``G + eps I`` factorised with torch (Cholesky; LU, then lstsq, as museval's fallbacks)."""

    def __init__(self, G, device):
        n = G.shape[0]
        self.device = device
        colsum = np.zeros(n)
        for i in range(0, n, 512):
            colsum += np.abs(G[i : i + 512]).sum(axis=0)
        anorm = float(colsum.max())
        G.flat[:: n + 1] += engine._EPS
        Gt = torch.as_tensor(G, device=device)
        Lc, info = torch.linalg.cholesky_ex(Gt)
        self.rcond = None
        import scipy.linalg

        if int(info) == 0:
            self.kind = "chol"
            self.L = Lc
            try:
                rc, inf = scipy.linalg.lapack.dpocon(Lc.cpu().numpy(), anorm, uplo="L")
                self.rcond = float(rc) if inf == 0 else None
            except Exception:  # pragma: no cover
                pass
            return
        LU, piv, info = torch.linalg.lu_factor_ex(Gt)
        d = torch.diagonal(LU)
        if int(info) != 0 or bool((d == 0).any()):
            self.kind = "lstsq"
            Gt = Gt.clone()
            Gt.diagonal().sub_(engine._EPS)
            self.G = Gt
            self.rcond = 0.0
            return
        self.kind = "lu"
        self.LU, self.piv = LU, piv
        try:
            rc, inf = scipy.linalg.lapack.dgecon(LU.cpu().numpy(), anorm, norm="1")
            self.rcond = float(rc) if inf == 0 else None
        except Exception:  # pragma: no cover
            pass

    def solve(self, D):
        Dt = torch.as_tensor(np.ascontiguousarray(D), device=self.device)
        if self.kind == "chol":
            X = torch.cholesky_solve(Dt, self.L)
        elif self.kind == "lu":
            X = torch.linalg.lu_solve(self.LU, self.piv, Dt)
        else:
            X = torch.linalg.lstsq(self.G.cpu(), Dt.cpu()).solution
        return X.cpu().numpy()
