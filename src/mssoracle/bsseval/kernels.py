"""Correlation kernels of the BSS Eval engine and their plan: one code path for numpy and torch.

Every correlation the engine needs (references with references, references
with estimates) is only needed for lags ``0..F - 1``.  They are accumulated per
segment (frame) with short block FFTs (overlap-save, :data:`NFFT_BLOCK` points);
the whole-signal correlations (v4) are the sum of the per-frame ones plus the
few products that straddle frame boundaries.

The signals are :class:`~mssoracle.bsseval.signals.Signals`: each task of the
pass gathers its samples (about :data:`CHUNK_SAMPLES` per source, float64, the
parts of a derived source summed) into its own buffer, on the kernels' device
(numpy on the host, or torch on the estimates' device), so nothing is copied as
a whole and any input dtype or layout is read the same way.

:class:`ArrayOps` is written once against the array API
(``array_api_compat.array_namespace``); :class:`_Shim` adds what the standard
lacks: FFTs through :mod:`scipy.fft` with ``workers=`` from the thread budget on
numpy, strided windows (``as_strided``), layout control (C-contiguous and
conjugated copies in one pass) and, on numpy only, a zero-padded FFT through a
reused buffer.  There is no numpy twin, by measurement (correlation pass of one
additional method, museval's 4-source call on the 80s Rock preview tiled to 4 min,
stereo, float32 views; ``benchmarks/bench_bsseval.py --kernels numpy,prev-numpy
--baseline 69b8ab1`` and ``--kernels torch,prev-torch``, same process, interleaved
rounds, 2 shared cores under another session's load, 2026-12-01): this code 1.30 s
against 1.26 s for the former numpy-only kernels (medians of 10, per-round ratio
0.997; another run 1.15 s vs 1.12 s; one thread: 1.99 s vs 1.98 s of CPU time),
bit-identical; on torch CPU 2.05 s against 2.65 s for the former torch twin
(median of 6).  The plain array-API form (scipy.fft's own zero padding, ``n=``,
a new zeroed array per call, and transposed copies of the spectra) measured
3.09 s against 2.01 s of CPU time with one thread: what brings it level is the
shim's reused padding buffer and spectra computed in the layout of the products
(time on axis 1 where no padding is needed).

Determinism: the tasks are planned from the data sizes (and the device kind) alone,
never from the thread budget; each writes its own output rows, and partial sums are
reduced in a fixed order, so the numbers are bit-identical whatever
:func:`mssoracle.threads.budget` is.  The small BLAS products run under
:func:`mssoracle.threads.single_threaded_blas` (set by :func:`correlations`).
"""

import math
import threading

import numpy as np

from .. import threads
from ..backend import array_namespace
from ..backend import fft as backend_fft
from ..errors import ParameterError

__all__ = ["CHUNK_SAMPLES", "NFFT_BLOCK", "block_plan", "segment_chunks", "parallel_map", "ArrayOps",
           "NumpyOps", "TorchOps", "torch_device", "corr_segments", "straddles", "correlations", "combine_corr"]

#: samples per task of the correlation pass (bounds the working memory)
CHUNK_SAMPLES = 1 << 17
#: block FFT size of the correlation pass
NFFT_BLOCK = 4096
#: complex accumulator bytes per task
ACC_BYTES = 32 << 20


def block_plan(L, F, fft):
    """(nfft, B): FFT size and sub-block length of the correlation pass for segments of length L."""
    if L + F - 1 <= NFFT_BLOCK:
        return fft.next_fast_len(L + F - 1, real=True), L
    nfft = max(NFFT_BLOCK, 1 << int(math.ceil(math.log2(2 * F))))
    return nfft, nfft - F + 1


def segment_chunks(nsub, B, acc_per_seg, chunk_samples, acc_bytes):
    """How many segments (and sub-blocks of ``B`` samples) one task of :meth:`ArrayOps.seg_corr` takes.

    Whole segments of ``nsub`` sub-blocks are batched up to ``chunk_samples`` samples, with the complex
    accumulator (``acc_per_seg`` values a segment) kept under ``acc_bytes``; a segment longer than
    ``chunk_samples`` is taken alone, ``chunk_samples // B`` sub-blocks at a time.
    Returns ``(seg_chunk, sub_chunk)``.
    """
    per_seg = nsub * B
    if per_seg <= chunk_samples:
        return max(1, min(chunk_samples // per_seg, acc_bytes // (16 * acc_per_seg))), nsub
    return 1, max(1, chunk_samples // B)


def parallel_map(fn, items):
    """``[fn(x) for x in items]`` on up to :func:`threads.budget` threads (numpy/scipy release the GIL)."""
    items = list(items)
    n = min(threads.budget(), len(items))
    if n <= 1:
        return [fn(x) for x in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(n, thread_name_prefix="mssoracle-bsseval") as ex:
        return list(ex.map(fn, items))


def _nch(sig):
    return sig.nsrc * sig.nchan


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


class _Shim:
    """What the correlation kernels need beyond the array API, for namespace ``xp``.

    FFTs: :mod:`scipy.fft` with ``workers=`` on numpy (``array_api_compat`` routes numpy to
    :mod:`numpy.fft`, which has none), ``xp.fft`` otherwise; a zero-padded FFT (see
    :meth:`rfft_padded`).  Strided windows of a buffer (``as_strided``), C-contiguous and
    conjugated copies (the standard has no layout control); small results to the host.
    """

    def __init__(self, xp, device):
        import array_api_compat

        self.xp = xp
        self.device = device
        self.numpy = array_api_compat.is_numpy_namespace(xp)
        self._local = threading.local()

    def rfft(self, a, n, axis, wk):
        return backend_fft(self.xp, workers=wk).rfft(a, n=n, axis=axis)

    def irfft(self, a, n, axis, wk):
        return backend_fft(self.xp, workers=wk).irfft(a, n=n, axis=axis)

    def windows(self, g, t0, shape, strides):
        """Read-only view of the buffer ``g (nsrc, N, nchan)`` from time ``t0`` on, with element ``strides``."""
        if self.numpy:
            isz = g.itemsize
            return np.lib.stride_tricks.as_strided(g[:, t0:], shape=shape, strides=[s * isz for s in strides],
                                                   writeable=False)
        return g.as_strided(shape, strides, g.storage_offset() + t0 * g.stride(1))

    def elem_strides(self, g):
        return tuple(s // g.itemsize for s in g.strides) if self.numpy else tuple(g.stride())

    def contiguous(self, a):
        return np.ascontiguousarray(a) if self.numpy else a.contiguous()

    def conj_contiguous(self, a):
        """The conjugate of ``a`` as a C-contiguous array, in one pass."""
        if self.numpy:
            out = np.empty(a.shape, dtype=a.dtype)
            return np.conjugate(a, out=out)
        return a.conj().contiguous()

    def rfft_padded(self, v, nfft, wk):
        """rfft along the last axis of ``v`` zero padded to ``nfft``.

        numpy: through a zero-padded buffer reused per thread and shape (filled with one strided
        copy), which scipy.fft's own padding (a new zeroed array each call) does not do."""
        if not self.numpy:
            return self.rfft(v, nfft, -1, wk)
        width = v.shape[-1]
        shape = v.shape[:-1] + (nfft,)
        bufs = self._local.__dict__.setdefault("pad", {})
        buf = bufs.get(shape)
        if buf is None:
            if len(bufs) > 8:
                bufs.clear()
            buf = bufs[shape] = [np.zeros(shape), nfft]
        if buf[1] > width:  # zero what the previous, wider, fill left
            buf[0][..., width : buf[1]] = 0.0
        buf[1] = width
        np.copyto(buf[0][..., :width], v)
        return self.rfft(buf[0], None, -1, wk)

    def release(self):
        """Drop this thread's padding buffers."""
        self._local.__dict__.pop("pad", None)

    def host(self, a):
        """A small result as a numpy array."""
        return a if self.numpy else a.cpu().numpy()


class ArrayOps:
    """The correlation kernels, one code path: numpy on the host (``backend="numpy"``) or torch on ``device``.

    numpy inputs of a torch backend are uploaded block by block (only the gathered float64 buffers
    travel); the correlations, small, come back to the host as numpy arrays.
    """

    def __init__(self, backend="numpy", device=None):
        import scipy.fft

        self.fft = scipy.fft  # plan sizes only
        if backend == "numpy":
            self.name, self.device = "numpy", None
            self.sh = _Shim(array_namespace(np.empty(0)), None)
        else:
            self.name = "torch"
            self.device = torch_device(device)
            self.sh = _Shim(array_namespace(_torch().empty(0, device=self.device)), self.device)
        cuda = self.device is not None and self.device.type == "cuda"
        self.chunk_samples = CHUNK_SAMPLES * (8 if cuda else 1)
        self.acc_bytes = ACC_BYTES * (8 if cuda else 1)

    def _zeros(self, shape):
        xp = self.sh.xp
        return xp.zeros(shape, dtype=xp.complex128, device=self.device)

    def seg_corr(self, xsig, ysigs, starts, length, F, outs=None, index=None):
        """Truncated correlations of equal-length segments.

        Parameters
        ----------
        xsig : Signals
        ysigs : list of Signals
        starts : ndarray of int, shape=(nseg,)
        length : int
            segment length ``L``: segment ``s`` is ``[starts[s], starts[s] + L)``
        F : int
            number of lags
        outs, index : optional
            write segment ``s`` into ``outs[i][index[s]]`` instead of new arrays.

        Returns
        -------
        list of ndarray, shape=(nseg, nx, ny_i, F)
            ``r[s, a, b, k] = sum_{m, m+k in seg} x_a[m] y_b[m + k]``, with ``a`` running over
            (source, channel) of ``xsig`` and ``b`` over those of ``ysigs[i]``.

        Each segment is cut in sub-blocks of ``B`` samples; the sub-block of ``x``
        (zero padded) is correlated with the next ``B + F - 1`` samples of ``y``
        (overlap-save), the cross-spectra of the sub-blocks of a segment are
        summed, and one inverse FFT per segment and pair gives lags ``0..F-1``.
        """
        sh, xp = self.sh, self.sh.xp
        L = int(length)
        starts = np.asarray(starts, dtype=np.int64)
        nseg = len(starts)
        nx = _nch(xsig)
        ych = [_nch(y) for y in ysigs]
        nfft, B = block_plan(L, F, self.fft)
        nsub = -(-L // B)
        nfull = sum(1 for i in range(nsub) if i * B + B + F - 1 <= L)
        nb = nfft // 2 + 1
        if outs is None:
            outs = [np.empty((nseg, nx, c, F)) for c in ych]
            index = np.arange(nseg)
        seg_chunk, sub_chunk = segment_chunks(nsub, B, nb * nx * sum(ych), self.chunk_samples, self.acc_bytes)
        chunks = list(range(0, nseg, seg_chunk))
        # numpy: chunks in parallel threads, else FFT threads (same numbers); torch: its own intra-op threads
        parallel = sh.numpy and min(threads.budget(), len(chunks)) > 1
        wk = 1 if parallel else threads.budget()

        def run(s0):
            st = starts[s0 : s0 + seg_chunk]
            ns = len(st)
            accs = [self._zeros((ns, nb, nx, c)) for c in ych]
            for i0 in range(0, nsub, sub_chunk):
                i1 = min(nsub, i0 + sub_chunk)
                a_rel = i0 * B
                Lg = min(L, i1 * B + F - 1) - a_rel
                gx = xsig.gather(st + a_rel, Lg, device=self.device)
                gys = [gx if y is xsig else y.gather(st + a_rel, Lg, device=self.device) for y in ysigs]
                groups = []
                if min(i1, nfull) > i0:
                    groups.append((0, min(i1, nfull) - i0, B, B + F - 1))
                for i in range(max(i0, nfull), i1):  # partial sub-blocks, one at a time
                    groups.append((i * B - a_rel, 1, min(B, L - i * B), min(B + F - 1, L - i * B)))
                for off, ni, wx, wy in groups:
                    Xh = self._block_spectra(gx, ns, Lg, off, ni, B, wx, nfft, wk, conj_t=True)  # (ns, nb, nx, ni)
                    for acc, g in zip(accs, gys):
                        acc += xp.matmul(Xh, self._block_spectra(g, ns, Lg, off, ni, B, wy, nfft, wk))
                    del Xh
                del gx, gys
            rows = index[s0 : s0 + ns]
            for acc, out in zip(accs, outs):
                r = sh.irfft(acc, nfft, 1, wk)[:, :F]  # (ns, F, nx, c)
                out[rows] = sh.host(xp.permute_dims(r, (0, 2, 3, 1)))

        if parallel:
            parallel_map(run, chunks)
        else:
            for s0 in chunks:
                run(s0)
        sh.release()  # pool threads' buffers go with their threads
        return outs

    def _block_spectra(self, g, ns, Lg, off, ni, step, width, nfft, wk, conj_t=False):
        """rfft (zero padded to nfft) of the blocks ``g[:, t * Lg + off + i * step :][:width]``.

        ``g`` is a gathered buffer ``(nsrc, ns * Lg, nchan)``.  Returns ``(ns, nb, ni, nsrc * nchan)``,
        or with ``conj_t`` the conjugate as ``(ns, nb, nsrc * nchan, ni)`` (both C-contiguous).
        """
        sh, xp = self.sh, self.sh.xp
        nsrc, _, nchan = g.shape
        ss, ts, cs = sh.elem_strides(g)
        nb = nfft // 2 + 1
        if width == nfft and not conj_t:
            # no padding: time on axis 1 of a strided view, the spectra come out in the products' layout
            v = sh.windows(g, off, (ns, width, ni, nsrc, nchan), (Lg * ts, ts, step * ts, ss, cs))
            return xp.reshape(sh.rfft(v, nfft, 1, wk), (ns, nb, ni, nsrc * nchan))
        v = sh.windows(g, off, (ns, ni, nsrc, nchan, width), (Lg * ts, step * ts, ss, cs, ts))
        X = xp.reshape(sh.rfft_padded(v, nfft, wk), (ns, ni, nsrc * nchan, nb))
        if conj_t:
            return sh.conj_contiguous(xp.permute_dims(X, (0, 3, 2, 1)))
        return sh.contiguous(xp.permute_dims(X, (0, 3, 1, 2)))

    def straddle_sum(self, xsig, ysigs, bounds, F):
        """``sum_p sum_{p-k <= m < p} x[m] y[m+k]`` for ``k = 0..F-1`` -> list of (nx, ny_i, F).

        With ``xl = x[p-F+1:p]`` and ``yr = y[p:p+F-1]`` the products are the lags
        ``k - F + 1`` of the full correlation of ``xl`` and ``yr``; the cross-spectra
        of every boundary are summed (in boundary order) before one inverse FFT.
        """
        sh, xp = self.sh, self.sh.xp
        W = F - 1
        nfft = self.fft.next_fast_len(2 * W, real=True)
        nb = nfft // 2 + 1
        wk = threads.budget()
        nx = _nch(xsig)
        ych = [_nch(y) for y in ysigs]
        accs = [self._zeros((nb, nx, c)) for c in ych]
        chunk = max(1, (32 << 20) // (16 * nb * (nx + sum(ych))))
        for b0 in range(0, len(bounds), chunk):
            bd = bounds[b0 : b0 + chunk]
            XL = self._edge_spectra(xsig.gather(bd - W, W, device=self.device), len(bd), W, nfft, wk)
            XLt = sh.conj_contiguous(xp.permute_dims(XL, (0, 2, 1)))  # (nb, nx, nbound)
            for acc, y in zip(accs, ysigs):
                acc += xp.matmul(XLt, self._edge_spectra(y.gather(bd, W, device=self.device), len(bd), W, nfft, wk))
        k = np.arange(1, F)
        res = []
        for acc, c in zip(accs, ych):
            r = sh.host(sh.irfft(acc, nfft, 0, wk))  # (nfft, nx, c)
            out = np.zeros((nx, c, F))
            out[:, :, 1:] = r[(k - W) % nfft].transpose(1, 2, 0)
            res.append(out)
        return res

    def _edge_spectra(self, g, n, width, nfft, wk):
        """rfft of the ``n`` gathered windows of ``g (nsrc, n * width, nchan)`` -> (nb, n, nsrc * nchan)."""
        sh, xp = self.sh, self.sh.xp
        nsrc, _, nchan = g.shape
        v = xp.permute_dims(xp.reshape(g, (nsrc, n, width, nchan)), (2, 1, 0, 3))  # (width, n, nsrc, nchan)
        return xp.reshape(sh.rfft(v, nfft, 0, wk), (nfft // 2 + 1, n, nsrc * nchan))


def NumpyOps():
    """The kernels on the host (numpy, scipy.fft)."""
    return ArrayOps("numpy")


def TorchOps(device=None):
    """The kernels on a torch device (default: the CPU)."""
    return ArrayOps("torch", device)


# ---------------------------------------------------------------------------
# the pass: frames of any lengths, boundaries, whole signal
# ---------------------------------------------------------------------------


def _group_by_length(starts, stops):
    lengths = stops - starts
    groups = {}
    for i, L in enumerate(lengths):
        groups.setdefault(int(L), []).append(i)
    return {L: np.asarray(ix) for L, ix in groups.items()}


def corr_segments(ops, xsig, ysigs, starts, stops, F):
    """``seg_corr`` over segments of any lengths -> list of (nseg, nx, ny_i, F)."""
    groups = _group_by_length(starts, stops)
    if len(groups) == 1 and next(iter(groups)) > 0:
        return ops.seg_corr(xsig, ysigs, starts, next(iter(groups)), F)
    nx = _nch(xsig)
    outs = [np.zeros((len(starts), nx, _nch(y), F)) for y in ysigs]
    for L, ix in groups.items():
        if L > 0:
            ops.seg_corr(xsig, ysigs, starts[ix], L, F, outs=outs, index=ix)
    return outs


def straddles(ops, xsig, ysigs, bounds, nsampl, F):
    """Sum over the boundaries ``p`` of the products ``x[m] y[m+k]`` with ``m < p <= m + k`` (k < F)."""
    bounds = np.asarray([p for p in bounds if 0 < p < nsampl], dtype=np.int64)
    if len(bounds) == 0 or F <= 1:
        return [np.zeros((_nch(xsig), _nch(y), F)) for y in ysigs]
    return ops.straddle_sum(xsig, ysigs, bounds, F)


def correlations(ops, xsig, ysigs, starts, stops, nsampl, F, need_global, need_frames=True):
    """Per-frame truncated correlations and (v4) whole-signal correlations of ``xsig`` with each of ``ysigs``.

    Returns ``(r_frames, r_global)``: lists (one per ``ysigs`` entry) of ``(nwin, nx, ny, F)``
    (None without ``need_frames``) and ``(nx, ny, F)`` (None without ``need_global``).
    """
    nwin = len(starts)
    with threads.single_threaded_blas():
        if not need_global:
            return corr_segments(ops, xsig, ysigs, starts, stops, F), None
        if nwin == 1 and starts[0] == 0 and stops[0] == nsampl:
            r = corr_segments(ops, xsig, ysigs, starts, stops, F)
            return r, [x[0] for x in r]
        win = stops[0] - starts[0]
        tiled = (
            starts[0] == 0
            and np.all(stops - starts == win)
            and np.all(starts[1:] == stops[:-1])
            and win >= F - 1
        )
        if tiled:
            seg_starts, seg_stops = starts, stops
            if stops[-1] < nsampl:
                seg_starts = np.append(starts, stops[-1])
                seg_stops = np.append(stops, nsampl)
            r = corr_segments(ops, xsig, ysigs, seg_starts, seg_stops, F)
            st = straddles(ops, xsig, ysigs, seg_starts[1:], nsampl, F)
            glob = [x.sum(axis=0) + s for x, s in zip(r, st)]
            return ([x[:nwin] for x in r] if need_frames else None), glob
        # frames overlap or leave gaps: frames and whole signal separately
        r = corr_segments(ops, xsig, ysigs, starts, stops, F) if need_frames else None
        T = max(F - 1, 1 << 16)
        t_starts = np.arange(0, nsampl, T, dtype=np.int64)
        t_stops = np.minimum(t_starts + T, nsampl)
        glob = [x.sum(axis=0) for x in corr_segments(ops, xsig, ysigs, t_starts, t_stops, F)]
        for g, s in zip(glob, straddles(ops, xsig, ysigs, t_starts[1:], nsampl, F)):
            g += s
        return r, glob


def combine_corr(r, xgroups, ygroups, nchan):
    """Correlations of sums of sources from those of the sources (bilinearity).

    ``r (..., nxs * nchan, nys * nchan, F)`` -> ``(..., len(xgroups) * nchan, len(ygroups) * nchan, F)``:
    block ``(i, k)`` is the sum over ``a in xgroups[i]``, ``b in ygroups[k]`` (in that order) of
    the blocks ``(a, b)`` of ``r``.
    """
    F = r.shape[-1]
    out = np.zeros(r.shape[:-3] + (len(xgroups) * nchan, len(ygroups) * nchan, F))
    for i, gx in enumerate(xgroups):
        for k, gy in enumerate(ygroups):
            dst = out[..., i * nchan : (i + 1) * nchan, k * nchan : (k + 1) * nchan, :]
            for a in gx:
                for b in gy:
                    dst += r[..., a * nchan : (a + 1) * nchan, b * nchan : (b + 1) * nchan, :]
    return out
