"""Correlation kernels of the BSS Eval engine (numpy/scipy) and their plan.

Every correlation the engine needs (references with references, references
with estimates) is only needed for lags ``0..F - 1``.  They are accumulated per
segment (frame) with short block FFTs (overlap-save, :data:`NFFT_BLOCK` points);
the whole-signal correlations (v4) are the sum of the per-frame ones plus the
few products that straddle frame boundaries.

The signals are :class:`~mssoracle.bsseval.signals.Signals`: each task of the
pass gathers its samples (about :data:`CHUNK_SAMPLES` per source, float64, the
parts of a derived source summed) into its own buffer, so nothing is copied as a
whole and any input dtype or layout is read the same way.

Determinism: the tasks are planned from the data sizes alone (never from the
thread budget); each writes its own output rows, and partial sums are reduced
in a fixed order, so the numbers are bit-identical whatever
:func:`mssoracle.threads.budget` is.  The small BLAS products run under
:func:`mssoracle.threads.single_threaded_blas` (set by the caller of the pass).

The torch twin is :mod:`mssoracle.bsseval.kernels_torch` (same plan, same
gathering; see there why it is a twin).
"""

import math
import threading

import numpy as np

from .. import threads

__all__ = ["CHUNK_SAMPLES", "NFFT_BLOCK", "block_plan", "segment_chunks", "parallel_map", "NumpyOps",
           "corr_segments", "straddles", "correlations", "combine_corr"]

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
    """How many segments (and sub-blocks of ``B`` samples) one task of :meth:`NumpyOps.seg_corr` takes.

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


class NumpyOps:
    """Correlation kernels on the host (numpy, scipy.fft)."""

    name = "numpy"
    device = None

    def __init__(self):
        import scipy.fft

        self.fft = scipy.fft
        self._local = threading.local()

    # -- correlations -----------------------------------------------------
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
        L = int(length)
        starts = np.asarray(starts, dtype=np.int64)
        nseg = len(starts)
        nx = _nch(xsig)
        ych = [_nch(y) for y in ysigs]
        nfft, B = block_plan(L, F, self.fft)
        nsub = -(-L // B)
        # sub-blocks whose y extension stays inside the segment need no masking
        nfull = sum(1 for i in range(nsub) if i * B + B + F - 1 <= L)
        nb = nfft // 2 + 1
        if outs is None:
            outs = [np.empty((nseg, nx, c, F)) for c in ych]
            index = np.arange(nseg)
        seg_chunk, sub_chunk = segment_chunks(nsub, B, nb * nx * sum(ych), CHUNK_SAMPLES, ACC_BYTES)
        chunks = list(range(0, nseg, seg_chunk))
        parallel = min(threads.budget(), len(chunks)) > 1
        # chunks of segments run in parallel threads; FFT threads otherwise (same numbers either way)
        wk = 1 if parallel else threads.budget()

        def run(s0):
            st = starts[s0 : s0 + seg_chunk]
            ns = len(st)
            accs = [np.zeros((ns, nb, nx, c), dtype=complex) for c in ych]
            for i0 in range(0, nsub, sub_chunk):
                i1 = min(nsub, i0 + sub_chunk)
                a_rel = i0 * B
                Lg = min(L, i1 * B + F - 1) - a_rel  # samples of each segment this step reads
                gx = xsig.gather(st + a_rel, Lg)
                gys = [gx if y is xsig else y.gather(st + a_rel, Lg) for y in ysigs]
                groups = []
                if min(i1, nfull) > i0:
                    groups.append((np.arange(0, min(i1, nfull) - i0, dtype=np.int64) * B, B, B + F - 1))
                for i in range(max(i0, nfull), i1):  # partial sub-blocks, one at a time
                    off = i * B
                    groups.append((np.array([off - a_rel], dtype=np.int64), min(B, L - off), min(B + F - 1, L - off)))
                for offs, wx, wy in groups:
                    Xh = self._block_spectra(gx, ns, Lg, offs, wx, nfft, wk, conj_t=True)  # (ns, nb, nx, ni)
                    for acc, g in zip(accs, gys):
                        acc += np.matmul(Xh, self._block_spectra(g, ns, Lg, offs, wy, nfft, wk))
                    del Xh
                del gx, gys
            rows = index[s0 : s0 + ns]
            for acc, out in zip(accs, outs):
                r = self.fft.irfft(acc, n=nfft, axis=1, workers=wk)[:, :F]  # (ns, F, nx, c)
                out[rows] = r.transpose(0, 2, 3, 1)

        if parallel:
            parallel_map(run, chunks)
        else:
            for s0 in chunks:
                run(s0)
        self._local.__dict__.pop("pad", None)
        return outs

    def _block_spectra(self, s, ns, Lg, offs, width, nfft, wk, conj_t=False):
        """rfft of the blocks ``s[:, t * Lg + off : t * Lg + off + width]`` zero padded to nfft.

        ``s`` is a gathered buffer ``(nsrc, ns * Lg, nchan)`` (segments end to end); the
        blocks lie inside their segments.  Returns a complex array ``(ns, nb, nblocks, nsrc * nchan)``,
        or with ``conj_t`` its conjugate as ``(ns, nb, nsrc * nchan, nblocks)``.
        """
        ni = len(offs)
        nsrc, N, nchan = s.shape
        nb = nfft // 2 + 1
        dof = int(offs[1] - offs[0]) if ni > 1 else 0
        ss, ts, cs = s.strides  # a gathered buffer, or a view of the caller's float64 stack
        base = s[:, int(offs[0]) :]
        if width == nfft and not conj_t:
            # strided view (nseg, width, nblocks, nsrc, nchan), no copy; FFT along axis 1
            v = np.lib.stride_tricks.as_strided(
                base,
                shape=(ns, width, ni, nsrc, nchan),
                strides=(Lg * ts, ts, dof * ts, ss, cs),
                writeable=False,
            )
            return self.fft.rfft(v, axis=1, workers=wk).reshape(ns, nb, ni, nsrc * nchan)
        # zero-padded copy with time last (reused buffer, cheap strided copy), FFT along the last axis
        shape = (ns, ni, nsrc, nchan, nfft)
        bufs = self._local.__dict__.setdefault("pad", {})  # per thread
        buf = bufs.get(shape)
        if buf is None:
            if len(bufs) > 8:
                bufs.clear()
            buf = bufs[shape] = [np.zeros(shape), nfft]
        if buf[1] > width:
            buf[0][..., width : buf[1]] = 0.0
        buf[1] = width
        v = np.lib.stride_tricks.as_strided(
            base,
            shape=(ns, ni, nsrc, nchan, width),
            strides=(Lg * ts, dof * ts, ss, cs, ts),
            writeable=False,
        )
        np.copyto(buf[0][..., :width], v)
        X = self.fft.rfft(buf[0], axis=-1, workers=wk).reshape(ns, ni, nsrc * nchan, nb)
        if conj_t:
            out = np.empty((ns, nb, nsrc * nchan, ni), dtype=complex)
            np.conjugate(X.transpose(0, 3, 2, 1), out=out)
            return out
        return np.ascontiguousarray(X.transpose(0, 3, 1, 2))

    def straddle_sum(self, xsig, ysigs, bounds, F):
        """``sum_p sum_{p-k <= m < p} x[m] y[m+k]`` for ``k = 0..F-1`` -> list of (nx, ny_i, F).

        With ``xl = x[p-F+1:p]`` and ``yr = y[p:p+F-1]`` the products are the lags
        ``k - F + 1`` of the full correlation of ``xl`` and ``yr``; the cross-spectra
        of every boundary are summed (in boundary order) before one inverse FFT.
        """
        W = F - 1
        nfft = self.fft.next_fast_len(2 * W, real=True)
        nb = nfft // 2 + 1
        wk = threads.budget()
        nx = _nch(xsig)
        ych = [_nch(y) for y in ysigs]
        accs = [np.zeros((nb, nx, c), dtype=complex) for c in ych]
        chunk = max(1, (32 << 20) // (16 * nb * (nx + sum(ych))))
        for b0 in range(0, len(bounds), chunk):
            bd = bounds[b0 : b0 + chunk]
            XL = self._edge_spectra(xsig.gather(bd - W, W), len(bd), W, nfft, wk)  # (nb, nbound, nx)
            np.conjugate(XL, out=XL)
            XLt = XL.transpose(0, 2, 1)
            for acc, y in zip(accs, ysigs):
                acc += np.matmul(XLt, self._edge_spectra(y.gather(bd, W), len(bd), W, nfft, wk))
        k = np.arange(1, F)
        res = []
        for acc, c in zip(accs, ych):
            r = self.fft.irfft(acc, n=nfft, axis=0, workers=wk)  # (nfft, nx, c)
            out = np.zeros((nx, c, F))
            out[:, :, 1:] = r[(k - W) % nfft].transpose(1, 2, 0)
            res.append(out)
        return res

    def _edge_spectra(self, g, n, width, nfft, wk):
        """rfft of the ``n`` gathered windows of ``g (nsrc, n * width, nchan)`` -> (nb, n, nsrc * nchan)."""
        nsrc, _, nchan = g.shape
        v = g.reshape(nsrc, n, width, nchan).transpose(2, 1, 0, 3)  # (width, n, nsrc, nchan)
        return self.fft.rfft(v, n=nfft, axis=0, workers=wk).reshape(nfft // 2 + 1, n, nsrc * nchan)


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
