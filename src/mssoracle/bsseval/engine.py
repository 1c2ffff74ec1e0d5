"""BSS Eval v4 (and v3) engine, numerically equal to museval 0.4.1, much faster.

museval's ``bss_eval`` (after mir_eval) projects every estimate on the span of
the references delayed by 0..``filters_len - 1`` samples.  The least-squares
filters solve ``G C = D`` where ``G`` is the Gram matrix of the delayed
references and ``D`` holds the correlations between delayed references and
the estimate.  Per frame, the four metrics are energy ratios of the true
source, of the two projections (on the own reference, ``P_j``, and on all
references, ``P``) and of the estimate.

This module computes exactly the same quantities, reorganised:

* every correlation needed (references with references, references with
  estimates) is only needed for lags ``0..filters_len - 1``; they are
  accumulated per frame with short block FFTs (overlap-save, 4096 points)
  instead of one ``2**24``-point FFT per pair;
* the whole-track correlations (v4) are the sum of the per-frame ones plus the
  few products that straddle frame boundaries;
* ``G`` is block Toeplitz: it is factorised once (block Levinson recursion,
  ``O(F^2 m^3)``, with a dense Cholesky fallback) and serves every estimate;
* the energy of a projection over a frame is a quadratic form of the frame's
  reference correlations with the autocorrelation of the filters
  (``||sum_a u_a * x_a||^2 = sum_ab sum_d r_ab(d) W_ab(d)``), so no projection
  is ever synthesised: one matrix product gives every frame's energies.

Shapes follow museval at the boundary: ``(nsrc, nsampl, nchan)``.
"""

import math
import os
import threading
import warnings

import numpy as np

from ..errors import AudioError, ParameterError, SilentSourceError

__all__ = ["evaluate", "Evaluator", "IllConditionedWarning", "framing", "COND_WARN", "MAX_SOURCES"]

#: condition number above which SIR/ISR/SAR are rounding noise (a warning is issued)
COND_WARN = 1e12
#: museval's ``MAX_SOURCES``
MAX_SOURCES = 100

_EPS = np.finfo(float).eps
# samples per chunk of the correlation pass (bounds the working memory)
_CHUNK_SAMPLES = 1 << 18
# block FFT size of the correlation pass
_NFFT_BLOCK = 4096


class IllConditionedWarning(UserWarning):
    """The reference Gram matrix is nearly singular: SIR, ISR and SAR are unreliable (SDR is not affected)."""


def _workers():
    return os.cpu_count() or 1


class _NoLimit:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _blas_limit(n):
    """Single-threaded BLAS for small factorisations (threads only add overhead there, and spin badly
    on a busy machine); uses threadpoolctl when it is installed."""
    if n > 2048:
        return _NoLimit()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return _NoLimit()
    return threadpool_limits(1, user_api="blas")


# ---------------------------------------------------------------------------
# input validation
# ---------------------------------------------------------------------------


def _as_sources(x, name):
    """museval's input conventions -> float64 ``(nsrc, nsampl, nchan)``."""
    if isinstance(x, (list, tuple)):
        if len(x) == 0:
            raise ParameterError(f"{name}: empty list of sources; expected (nsrc, nsampl, nchan) arrays")
        items = [np.asarray(s) for s in x]
        shapes = [s.shape for s in items]
        if len(set(shapes)) != 1:
            raise AudioError(
                f"{name}: all sources must have the same shape (nsampl, nchan), got {', '.join(map(str, shapes))}"
            )
        arr = np.stack(items)
    else:
        if hasattr(x, "detach") and hasattr(x, "cpu"):
            x = x.detach().cpu().numpy()
        arr = np.asarray(x)
    if arr.dtype == object:
        raise AudioError(f"{name}: could not convert to a numeric array (ragged sources?)")
    if np.iscomplexobj(arr):
        raise AudioError(f"{name}: complex samples; expected real audio, shape (nsrc, nsampl, nchan)")
    if arr.ndim > 3:
        raise AudioError(
            f"{name}: {arr.ndim} dimensions, shape {arr.shape}; expected at most 3: (nsrc, nsampl, nchan)"
        )
    if arr.ndim == 0:
        raise AudioError(f"{name}: scalar given; expected (nsrc, nsampl, nchan)")
    if arr.ndim == 1:
        arr = arr[None, :, None]
    elif arr.ndim == 2:
        arr = arr[:, :, None]
    return np.ascontiguousarray(arr, dtype=np.float64)


def _pad_or_truncate(est, nsampl):
    """museval's ``pad_or_truncate``: zero-pad or cut the estimates to the reference length."""
    if est.shape[1] > nsampl:
        return np.ascontiguousarray(est[:, :nsampl])
    if est.shape[1] < nsampl:
        out = np.zeros((est.shape[0], nsampl, est.shape[2]))
        out[:, : est.shape[1]] = est
        return out
    return est


def _check_finite(x, name):
    if not np.isfinite(np.sum(x)):
        bad = [j for j in range(x.shape[0]) if not np.isfinite(x[j]).all()]
        if bad:
            raise AudioError(f"{name}: source(s) {bad} contain NaN or inf samples; expected finite audio")


def _channel_sum(x2d):
    """Sum over channels of a (nsampl, nchan) array (faster than ``.sum(axis=1)`` for few channels)."""
    out = x2d[:, 0].copy()
    for c in range(1, x2d.shape[1]):
        out += x2d[:, c]
    return out


def _silent_sources(x):
    """Indices of sources that museval considers silent (channel sum zero at every sample)."""
    out = []
    step = 1 << 20
    for j in range(x.shape[0]):
        silent = True
        for a in range(0, x.shape[1], step):
            if np.any(_channel_sum(x[j, a : a + step])):
                silent = False
                break
        if silent:
            out.append(j)
    return out


def _check_sources(x, name, kind):
    if x.size == 0:
        raise ParameterError(f"{name}: empty, shape {x.shape}; expected (nsrc, nsampl, nchan) with nsampl > 0")
    if x.shape[0] > MAX_SOURCES:
        raise ParameterError(f"{name}: {x.shape[0]} sources, more than MAX_SOURCES = {MAX_SOURCES}")
    _check_finite(x, name)
    silent = _silent_sources(x)
    if silent:
        if kind == "reference":
            why = (
                "a silent reference makes the evaluation ambiguous (museval raises here too); "
                "leave that source out of the evaluation"
            )
        else:
            why = (
                "a silent estimate makes the projection system underdetermined (museval raises here too); "
                "leave that source out or give a non-silent estimate"
            )
        raise SilentSourceError(
            f"{name}: {kind} source {silent[0]} is silent over the whole signal "
            f"(its channel sum is zero at every sample){'' if len(silent) == 1 else f' (also {silent[1:]})'}; {why}"
        )


def validate(references, estimates):
    """Check museval-convention inputs (mir_eval style); raise a one-line error describing the problem."""
    if references.shape != estimates.shape:
        raise AudioError(
            "The shape of estimated sources and the true sources should match: "
            f"references.shape = {references.shape}, estimates.shape = {estimates.shape} "
            "(nsrc, nsampl, nchan)"
        )
    _check_sources(references, "references", "reference")
    _check_sources(estimates, "estimates", "estimated")


# ---------------------------------------------------------------------------
# framing (museval's Framing)
# ---------------------------------------------------------------------------


def framing(nsampl, win, hop):
    """museval's framing: ``(starts, stops)`` int arrays of the frames of a signal of ``nsampl`` samples."""
    if win < nsampl:
        nwin = int(np.floor((nsampl - win + hop) / hop))
    else:
        nwin = 1
    starts = np.empty(nwin, dtype=np.int64)
    stops = np.empty(nwin, dtype=np.int64)
    for t in range(nwin):
        start = t * hop
        if np.isnan(start) or np.isinf(start):
            start = 0
        stop = min(t * hop + win, nsampl)
        if np.isnan(stop) or np.isinf(stop):
            stop = nsampl
        starts[t] = int(np.floor(start))
        stops[t] = int(np.floor(stop))
    return starts, stops


def _check_win_hop(win, hop, unit):
    for name, v in (("win", win), ("hop", hop)):
        try:
            ok = float(v) > 0 and not np.isnan(float(v))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ParameterError(f"{name} = {v!r}: must be a positive number of {unit}")


# ---------------------------------------------------------------------------
# segment correlations (the heavy part)
# ---------------------------------------------------------------------------


def _block_plan(L, F, fft):
    """(nfft, B): FFT size and sub-block length of the correlation pass for segments of length L."""
    if L + F - 1 <= _NFFT_BLOCK:
        return fft.next_fast_len(L + F - 1, real=True), L
    nfft = max(_NFFT_BLOCK, 1 << int(math.ceil(math.log2(2 * F))))
    return nfft, nfft - F + 1


def _segment_chunks(nsub, B, acc_per_seg, chunk_samples, acc_bytes):
    """How many segments (and sub-blocks of ``B`` samples) :meth:`_NumpyOps.seg_corr` takes at once.

    Whole segments of ``nsub`` sub-blocks are batched up to ``chunk_samples`` samples, with the complex
    accumulator (``acc_per_seg`` values a segment) kept under ``acc_bytes``; a segment longer than
    ``chunk_samples`` is taken alone, ``chunk_samples // B`` sub-blocks at a time.
    Returns ``(seg_chunk, sub_chunk)``.
    """
    per_seg = nsub * B
    if per_seg <= chunk_samples:
        return max(1, min(chunk_samples // per_seg, acc_bytes // (16 * acc_per_seg))), nsub
    return 1, max(1, chunk_samples // B)


class _NumpyOps:
    """Array kernels of the numpy backend (the torch backend mirrors them)."""

    name = "numpy"

    def __init__(self):
        import scipy.fft
        import scipy.linalg

        self.fft = scipy.fft
        self.linalg = scipy.linalg
        self._local = threading.local()

    # -- correlations -----------------------------------------------------
    def seg_corr(self, xsig, ysigs, starts, length, F):
        """Truncated correlations of equal-length segments.

        Parameters
        ----------
        xsig : ndarray, shape=(nsrc, nsampl, nchan)
        ysigs : list of ndarray, each (nsrc_i, nsampl, nchan)
        starts : ndarray of int, shape=(nseg,)
        length : int
            segment length ``L``: segment ``s`` is ``[starts[s], starts[s] + L)``
        F : int
            number of lags

        Returns
        -------
        ndarray, shape=(nseg, nx, ny, F)
            ``r[s, a, b, k] = sum_{m, m+k in seg} x_a[m] y_b[m + k]``, with
            ``a`` running over (source, channel) of ``xsig`` and ``b`` over those of
            the concatenated ``ysigs``.

        Each segment is cut in sub-blocks of ``B`` samples; the sub-block of ``x``
        (zero padded) is correlated with the next ``B + F - 1`` samples of ``y``
        (overlap-save), the cross-spectra of the sub-blocks of a segment are
        summed, and one inverse FFT per segment and pair gives lags ``0..F-1``.
        """
        L = int(length)
        starts = np.asarray(starts, dtype=np.int64)
        nseg = len(starts)
        nx = xsig.shape[0] * xsig.shape[2]
        ny = sum(y.shape[0] * y.shape[2] for y in ysigs)
        nfft, B = _block_plan(L, F, self.fft)
        nsub = -(-L // B)
        # sub-blocks whose y extension stays inside the segment need no masking
        nfull = sum(1 for i in range(nsub) if i * B + B + F - 1 <= L)
        nb = nfft // 2 + 1
        out = np.empty((nseg, nx, ny, F))
        seg_chunk, sub_chunk = _segment_chunks(nsub, B, nb * nx * ny, _CHUNK_SAMPLES, 64 << 20)
        ych = [y.shape[0] * y.shape[2] for y in ysigs]
        yoff = np.concatenate([[0], np.cumsum(ych)])
        chunks = list(range(0, nseg, seg_chunk))
        nthreads = min(_workers(), len(chunks))
        # chunks of segments run in parallel threads (numpy/scipy release the GIL); FFT threads otherwise
        wk = 1 if nthreads > 1 else _workers()

        def run(s0):
            st = starts[s0 : s0 + seg_chunk]
            ns = len(st)
            accs = [np.zeros((ns, nb, nx, c), dtype=complex) for c in ych]
            for i0 in range(0, nsub, sub_chunk):
                i1 = min(nsub, i0 + sub_chunk)
                groups = []
                if min(i1, nfull) > i0:
                    groups.append((np.arange(i0, min(i1, nfull), dtype=np.int64) * B, B, B + F - 1))
                for i in range(max(i0, nfull), i1):  # partial sub-blocks, one at a time
                    off = i * B
                    groups.append((np.array([off], dtype=np.int64), min(B, L - off), min(B + F - 1, L - off)))
                for offs, wx, wy in groups:
                    Xh = self._block_spectra(xsig, st, offs, L, wx, nfft, wk, conj_t=True)  # (ns, nb, nx, ni)
                    for acc, y in zip(accs, ysigs):
                        acc += np.matmul(Xh, self._block_spectra(y, st, offs, L, wy, nfft, wk))
                    del Xh
            for acc, a0, a1 in zip(accs, yoff[:-1], yoff[1:]):
                r = self.fft.irfft(acc, n=nfft, axis=1, workers=wk)[:, :F]  # (ns, F, nx, c)
                out[s0 : s0 + ns, :, a0:a1] = r.transpose(0, 2, 3, 1)

        if nthreads > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(nthreads) as ex:
                list(ex.map(run, chunks))
        else:
            for s0 in chunks:
                run(s0)
        self._local.__dict__.pop("pad", None)
        return out

    def _block_spectra(self, s, starts, offs, L, width, nfft, wk, conj_t=False):
        """rfft of the blocks ``s[:, start + off : start + off + width]`` zero padded to nfft.

        The blocks must lie inside their segments (``off + width <= L``).  Returns a
        complex array ``(nseg, nfft // 2 + 1, nblocks, nsrc * nchan)``, or with
        ``conj_t`` its conjugate as ``(nseg, nfft // 2 + 1, nsrc * nchan, nblocks)``
        (the left operand of the cross-spectra products).
        """
        ns, ni = len(starts), len(offs)
        nsrc, N, nchan = s.shape
        nb = nfft // 2 + 1
        regular = (ns == 1 or np.all(np.diff(starts) == starts[1] - starts[0])) and (
            ni == 1 or np.all(np.diff(offs) == offs[1] - offs[0])
        )
        dst = int(starts[1] - starts[0]) if ns > 1 else 0
        dof = int(offs[1] - offs[0]) if ni > 1 else 0
        it = s.itemsize
        base = s[:, int(starts[0] + offs[0]) :]
        if width == nfft and regular and not conj_t:
            # strided view (nseg, width, nblocks, nsrc, nchan), no copy; FFT along axis 1
            v = np.lib.stride_tricks.as_strided(
                base,
                shape=(ns, width, ni, nsrc, nchan),
                strides=(dst * nchan * it, nchan * it, dof * nchan * it, N * nchan * it, it),
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
        if regular:
            v = np.lib.stride_tricks.as_strided(
                base,
                shape=(ns, ni, nsrc, nchan, width),
                strides=(dst * nchan * it, dof * nchan * it, N * nchan * it, it, nchan * it),
                writeable=False,
            )
        else:
            idx = starts[:, None, None] + offs[None, :, None] + np.arange(width)[None, None, :]  # (ns, ni, width)
            v = s[:, idx, :].transpose(1, 2, 0, 4, 3)  # (ns, ni, nsrc, nchan, width)
        np.copyto(buf[0][..., :width], v)
        X = self.fft.rfft(buf[0], axis=-1, workers=wk).reshape(ns, ni, nsrc * nchan, nb)
        if conj_t:
            out = np.empty((ns, nb, nsrc * nchan, ni), dtype=complex)
            np.conjugate(X.transpose(0, 3, 2, 1), out=out)
            return out
        return np.ascontiguousarray(X.transpose(0, 3, 1, 2))

    def straddle_sum(self, xsig, ysigs, bounds, F):
        """``sum_p sum_{p-k <= m < p} x[m] y[m+k]`` for ``k = 0..F-1`` -> (nx, ny, F).

        With ``xl = x[p-F+1:p]`` and ``yr = y[p:p+F-1]`` the products are the lags
        ``k - F + 1`` of the full correlation of ``xl`` and ``yr``; the cross-spectra
        of every boundary are summed before one inverse FFT.
        """
        W = F - 1
        nfft = self.fft.next_fast_len(2 * W, real=True)
        nb = nfft // 2 + 1
        wk = _workers()
        nx = xsig.shape[0] * xsig.shape[2]
        ny = sum(y.shape[0] * y.shape[2] for y in ysigs)
        acc = np.zeros((nb, nx, ny), dtype=complex)
        chunk = max(1, (32 << 20) // (16 * nb * (nx + ny)))
        for b0 in range(0, len(bounds), chunk):
            bd = bounds[b0 : b0 + chunk]
            XL = self._edge_spectra([xsig], bd - W, W, nfft, wk)  # (nb, nbound, nx)
            YR = self._edge_spectra(ysigs, bd, W, nfft, wk)  # (nb, nbound, ny)
            np.conjugate(XL, out=XL)
            acc += np.matmul(XL.transpose(0, 2, 1), YR)
        c = self.fft.irfft(acc, n=nfft, axis=0, workers=wk)  # (nfft, nx, ny)
        out = np.zeros((nx, ny, F))
        k = np.arange(1, F)
        out[:, :, 1:] = c[(k - W) % nfft].transpose(1, 2, 0)
        return out

    def _edge_spectra(self, sigs, starts, width, nfft, wk):
        """rfft of ``sig[start : start + width]`` (zero outside the signal) -> (nb, nseg, nch)."""
        parts = []
        rel = np.arange(width)
        for s in sigs:
            nsrc, N, nchan = s.shape
            pos = starts[:, None] + rel[None, :]  # (ns, width)
            valid = (pos >= 0) & (pos < N)
            v = s[:, np.clip(pos, 0, N - 1), :]  # (nsrc, ns, width, nchan)
            v = v.transpose(2, 1, 0, 3)  # (width, ns, nsrc, nchan)
            if not valid.all():
                v = v * valid.T[:, :, None, None]
            parts.append(self.fft.rfft(v, n=nfft, axis=0, workers=wk).reshape(nfft // 2 + 1, len(starts), nsrc * nchan))
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-1)

    # -- linear algebra ---------------------------------------------------
    def factor(self, G):
        return _Factor(G, self.linalg)


class _CondFromRcond:
    """``cond`` of a factorisation from its reciprocal condition estimate ``rcond``:
    NaN when unknown, +inf when singular."""

    rcond = None

    @property
    def cond(self):
        if self.rcond is None:
            return float("nan")
        if self.rcond <= 0:
            return float("inf")
        return 1.0 / self.rcond


class _Factor(_CondFromRcond):
    """Factorisation of ``G + eps I`` (Cholesky, LU if not positive definite, lstsq if singular) as museval solves."""

    def __init__(self, G, linalg):
        self.linalg = linalg
        n = G.shape[0]
        colsum = np.zeros(n)
        for i in range(0, n, 512):
            colsum += np.abs(G[i : i + 512]).sum(axis=0)
        anorm = colsum.max()
        G.flat[:: n + 1] += _EPS  # museval solves G + eps I (G is ours: modified in place)
        self.kind = "chol"
        self.rcond = None
        with _blas_limit(n):
            self._factor(G, n, anorm, linalg)

    def _factor(self, G, n, anorm, linalg):
        try:
            self.c = linalg.cholesky(G, lower=True, overwrite_a=False, check_finite=False)
            try:
                rc, info = linalg.lapack.dpocon(self.c, anorm, uplo="L")
                self.rcond = float(rc) if info == 0 else None
            except Exception:  # pragma: no cover
                self.rcond = None
            return
        except np.linalg.LinAlgError:
            pass
        # not numerically positive definite: LU with partial pivoting, as np.linalg.solve
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lu, piv = linalg.lu_factor(G, check_finite=False)
        if np.any(np.diag(lu) == 0):
            self.kind = "lstsq"
            G.flat[:: n + 1] -= _EPS
            self.G = G
            self.rcond = 0.0
            return
        self.kind = "lu"
        self.lu = (lu, piv)
        try:
            rc, info = linalg.lapack.dgecon(lu, anorm, norm="1")
            self.rcond = float(rc) if info == 0 else None
        except Exception:  # pragma: no cover
            self.rcond = None

    def solve(self, D):
        if self.kind == "chol":
            return self.linalg.cho_solve((self.c, True), D, check_finite=False)
        if self.kind == "lu":
            return self.linalg.lu_solve(self.lu, D, check_finite=False)
        return np.linalg.lstsq(self.G, D, rcond=None)[0]


def _group_by_length(starts, stops):
    lengths = stops - starts
    groups = {}
    for i, L in enumerate(lengths):
        groups.setdefault(int(L), []).append(i)
    return {L: np.asarray(ix) for L, ix in groups.items()}


def _corr_segments(ops, xsig, ysigs, starts, stops, F):
    """``seg_corr`` over segments of any lengths -> (nseg, nx, ny, F)."""
    nx = xsig.shape[0] * xsig.shape[2]
    ny = sum(y.shape[0] * y.shape[2] for y in ysigs)
    out = np.zeros((len(starts), nx, ny, F))
    for L, ix in _group_by_length(starts, stops).items():
        if L <= 0:
            continue
        out[ix] = ops.seg_corr(xsig, ysigs, starts[ix], L, F)
    return out


def _straddles(ops, xsig, ysigs, bounds, nsampl, F):
    """Sum over the boundaries ``p`` of the products ``x[m] y[m+k]`` with ``m < p <= m + k`` (k < F)."""
    bounds = np.asarray([p for p in bounds if 0 < p < nsampl], dtype=np.int64)
    nx = xsig.shape[0] * xsig.shape[2]
    ny = sum(y.shape[0] * y.shape[2] for y in ysigs)
    if len(bounds) == 0 or F <= 1:
        return np.zeros((nx, ny, F))
    return ops.straddle_sum(xsig, ysigs, bounds, F)


def _correlations(ops, xsig, ysigs, starts, stops, nsampl, F, need_global, need_frames=True):
    """Per-frame truncated correlations and (v4) whole-signal correlations.

    Returns ``(r_frames (nwin, nx, ny, F) or None, r_global (nx, ny, F) or None)``.
    """
    nwin = len(starts)
    if not need_global:
        return _corr_segments(ops, xsig, ysigs, starts, stops, F), None
    if nwin == 1 and starts[0] == 0 and stops[0] == nsampl:
        r = _corr_segments(ops, xsig, ysigs, starts, stops, F)
        return r, r[0]
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
        r = _corr_segments(ops, xsig, ysigs, seg_starts, seg_stops, F)
        glob = r.sum(axis=0) + _straddles(ops, xsig, ysigs, seg_starts[1:], nsampl, F)
        return (r[:nwin] if need_frames else None), glob
    # frames overlap or leave gaps: frames and whole signal separately
    r = _corr_segments(ops, xsig, ysigs, starts, stops, F) if need_frames else None
    T = max(F - 1, 1 << 16)
    t_starts = np.arange(0, nsampl, T, dtype=np.int64)
    t_stops = np.minimum(t_starts + T, nsampl)
    glob = _corr_segments(ops, xsig, ysigs, t_starts, t_stops, F).sum(axis=0)
    glob += _straddles(ops, xsig, ysigs, t_starts[1:], nsampl, F)
    return r, glob


class _Breakdown(Exception):
    pass


class _LevinsonSolver:
    """Block Levinson solve with a dense fallback when the recursion or a solve breaks down."""

    def __init__(self, ops, r_ref, toeplitz):
        self._lev = _LevinsonFactor(r_ref)
        self._ops, self._r, self._toeplitz = ops, r_ref, toeplitz
        self._dense = None
        self.cond = self._lev.cond
        self.kind = "levinson"

    def solve(self, D):
        if self._dense is None:
            try:
                return self._lev.solve(D)
            except _Breakdown:
                self._dense = self._ops.factor(_gram(self._r, self._toeplitz))
                self.kind = self._dense.kind
        return self._dense.solve(D)


def _toeplitz_matmul(R, X):
    """``T @ X`` for the symmetric block Toeplitz ``T[i, j] = R[i - j]`` (``i >= j``), ``R[j - i].T`` otherwise.

    ``R (p, m, m)``, ``X (p, m, k)`` -> ``(p, m, k)``, with FFTs along the block axis.
    """
    import scipy.fft as sfft

    p = R.shape[0]
    n = sfft.next_fast_len(2 * p, real=True)
    Rf = sfft.rfft(R, n=n, axis=0)
    low = sfft.irfft(Rf @ sfft.rfft(X, n=n, axis=0), n=n, axis=0)[:p]
    Rt = np.ascontiguousarray(R.transpose(0, 2, 1))
    Rt[0] = 0.0
    up = sfft.irfft(sfft.rfft(Rt, n=n, axis=0) @ sfft.rfft(X[::-1], n=n, axis=0), n=n, axis=0)[:p][::-1]
    return low + up


class _LevinsonFactor(_CondFromRcond):
    """Block Levinson (Whittle) solver for the block Toeplitz Gram matrix of v4.

    The Gram matrix of the delayed references is block Toeplitz once its rows
    are ordered lag-major: ``T[k, k'] = R(k - k')`` with ``R(d)[a, b] = r_ab(d)``
    (``m x m`` blocks, ``m = nsrc * nchan``).  The multichannel Levinson
    recursion (forward and backward predictors) solves ``(T + eps I) x = b`` in
    ``O(F^2 m^3)`` operations instead of the ``O(F^3 m^3)`` of a dense Cholesky
    factorisation (about 0.2 s instead of 1-3 s for four stereo sources).  The
    backward predictors of every order are kept (they are the block ``U D U^T``
    factorisation of the inverse), so each further solve costs ``O(F^2 m^2)``.
    The condition number is estimated as LAPACK does (Hager-Higham 1-norm
    estimator of the inverse, times the 1-norm of ``G``).  A breakdown
    (non-finite values, or a residual check failing) raises ``_Breakdown`` and
    the caller falls back to the dense factorisation.
    """

    kind = "levinson"

    def __init__(self, r):
        m, _, p = r.shape
        self.m, self.p = m, p
        R = np.ascontiguousarray(r.transpose(2, 0, 1))  # R[d][a, b] = r_ab(d)
        R[0] = R[0] + _EPS * np.eye(m)  # museval solves G + eps I
        self.R = R
        self.Hrev = np.concatenate([R[d] for d in range(p - 1, -1, -1)], axis=1)  # R[d] at block p - 1 - d
        HT = np.concatenate([R[d].T for d in range(p)], axis=1)
        F = np.zeros((p * m, m))
        B = np.zeros((p * m, m))
        F[:m] = np.eye(m)
        B[:m] = np.eye(m)
        Ef = R[0].copy()
        Eb = R[0].copy()
        self.B = [B[:m].copy()]
        self.Eb = [Eb.copy()]
        with np.errstate(all="ignore"):
            try:
                for n in range(p - 1):
                    s = (n + 1) * m
                    Hs = self.Hrev[:, (p - 2 - n) * m : (p - 1) * m]
                    Df = Hs @ F[:s]
                    Db = HT[:, m : s + m] @ B[:s]
                    alpha = -np.linalg.solve(Eb, Df)
                    beta = -np.linalg.solve(Ef, Db)
                    Fn = np.zeros((s + m, m))
                    Fn[:s] = F[:s]
                    Fn[m:] += B[:s] @ alpha
                    Bn = np.zeros((s + m, m))
                    Bn[m:] = B[:s]
                    Bn[:s] += F[:s] @ beta
                    Ef = Ef + Db @ alpha
                    Eb = Eb + Df @ beta
                    F[: s + m] = Fn
                    B[: s + m] = Bn
                    self.B.append(Bn)
                    self.Eb.append(Eb.copy())
            except np.linalg.LinAlgError:
                raise _Breakdown() from None
        if not (np.isfinite(F).all() and np.isfinite(B).all()):
            raise _Breakdown()
        # 1-norm of G: column (b, k') sums sum_a sum_k |T[(k, a), (k', b)]|
        A = np.abs(r).sum(axis=0)  # (m, p): sum_a |r_ab(d)|, lower part (k >= k')
        At = np.abs(r).sum(axis=1)  # (m, p): sum_a |r_ba(d)|, upper part
        cA = np.cumsum(A, axis=1)
        cAt = np.cumsum(At, axis=1) - At[:, :1]
        kp = np.arange(p)
        colsum = cA[:, p - 1 - kp] + cAt[:, kp]
        self.anorm = float(colsum.max()) + _EPS
        self.rcond = None
        try:
            inv_norm = self._hager()
            self.rcond = 0.0 if not np.isfinite(inv_norm) else 1.0 / (self.anorm * inv_norm)
        except np.linalg.LinAlgError:
            raise _Breakdown() from None

    def _solve_lag(self, D):
        """Solve with a lag-major right-hand side ``(p*m, k)``."""
        m, p = self.m, self.p
        X = np.zeros(D.shape)
        X[:m] = np.linalg.solve(self.Eb[0], D[:m])
        for n in range(p - 1):
            s = (n + 1) * m
            delta = self.Hrev[:, (p - 2 - n) * m : (p - 1) * m] @ X[:s]
            gamma = np.linalg.solve(self.Eb[n + 1], D[s : s + m] - delta)
            X[: s + m] += self.B[n + 1] @ gamma
        return X

    def _hager(self):
        n = self.m * self.p
        x = np.full((n, 1), 1.0 / n)
        est = 0.0
        for it in range(5):
            y = self._solve_lag(x)
            new = float(np.abs(y).sum())
            if it > 0 and new <= est:
                break
            est = new
            xi = np.where(y >= 0, 1.0, -1.0)
            z = self._solve_lag(xi)
            j = int(np.argmax(np.abs(z)))
            if it > 0 and abs(z[j, 0]) <= float(z[:, 0] @ x[:, 0]):
                break
            x = np.zeros((n, 1))
            x[j] = 1.0
        alt = (-1.0) ** np.arange(n) * (1.0 + np.arange(n) / max(n - 1, 1))
        est2 = 2.0 * float(np.abs(self._solve_lag(alt[:, None])).sum()) / (3.0 * n)
        return max(est, est2)

    def solve(self, D):
        """Solve with a right-hand side in museval's order ``(m*p, k)``, rows ``(a, k)``."""
        m, p = self.m, self.p
        k = D.shape[1]
        Dl = np.ascontiguousarray(D.reshape(m, p, k).transpose(1, 0, 2)).reshape(p * m, k)
        X = self._solve_lag(Dl)
        if not np.isfinite(X).all():
            raise _Breakdown()
        # residual check against catastrophic breakdown
        res = _toeplitz_matmul(self.R, X.reshape(p, m, k)).reshape(p * m, k) - Dl
        scale = np.abs(Dl).max() + self.anorm * np.abs(X).max() * _EPS
        if not (np.abs(res).max() <= 1e-6 * max(scale, np.finfo(float).tiny)):
            raise _Breakdown()
        return np.ascontiguousarray(X.reshape(p, m, k).transpose(1, 0, 2)).reshape(m * p, k)


def _gram(r, toeplitz):
    """Gram matrix of delayed signals from their correlations ``r (n, n, F)`` (museval's ``_reshape_G`` order)."""
    n, _, F = r.shape
    G = np.empty((n * F, n * F))
    for a in range(n):
        for b in range(a, n):
            blk = toeplitz(r[a, b], r[b, a])
            G[a * F : (a + 1) * F, b * F : (b + 1) * F] = blk
            if b != a:
                G[b * F : (b + 1) * F, a * F : (a + 1) * F] = blk.T
    return G


# ---------------------------------------------------------------------------
# per-frame energies as quadratic forms of the frame correlations
# ---------------------------------------------------------------------------


def _filter_autocorr(w, F, fft):
    """``M[a, b, d] = (2 - [d == 0]) * sum_k w[a, k] w[b, k - d]`` for ``d = 0..F-1``; ``w (n, F)``."""
    nfft = fft.next_fast_len(2 * F - 1, real=True)
    Wf = fft.rfft(w, n=nfft, axis=-1)
    M = fft.irfft(Wf[:, None, :] * np.conj(Wf[None, :, :]), n=nfft, axis=-1)[:, :, :F]
    M[:, :, 1:] *= 2.0
    return M


def _safe_db(num, den):
    """museval's ``_safe_db``, vectorised: ``+inf`` where ``den == 0``."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 10.0 * np.log10(num / den)
    return np.where(den == 0, np.inf, out)


def _floor_den(den, num):
    """Energies of small differences can come out <= 0 by rounding; floor them at ``eps**2 * num``.

    museval's own values there are rounding noise too (about 300 dB); the floor
    keeps them finite and large instead of NaN.
    """
    floor = _EPS * _EPS * np.abs(num)
    return np.where(den > floor, den, floor)


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------


class Evaluator:
    """BSS Eval of any number of estimate sets against fixed references.

    Everything that depends only on the references (per-frame correlations, the
    Cholesky factorisation of the Gram matrix, silent frames, energies) is
    computed once, in the same pass over the data as the first estimates (or
    when :attr:`cond` is first read); every further :meth:`evaluate` costs one
    correlation pass over the estimates plus small solves.  The
    :class:`IllConditionedWarning` is issued at that point.

    Parameters
    ----------
    references : ndarray, shape=(nsrc, nsampl, nchan), or list of (nsampl, nchan) arrays
        True sources (museval's convention; ``(nsrc, nsampl)`` is mono).
    sample_rate : float
        Sample rate in Hz, to convert ``win`` and ``hop``.
    win, hop : float
        Frame length and hop in **seconds** (``int(win * sample_rate)`` samples,
        as museval's ``eval_mus_track``); ``np.inf`` gives one whole-signal frame.
    mode : {"v4", "v3"}
        ``"v4"``: distortion filters estimated on the whole signal; ``"v3"``: per frame.
    padding : bool
        Zero-pad or cut estimates to the reference length (museval's ``pad_or_truncate``).
    backend : {"numpy", "torch"}
    device : str or None
        torch device (``None``: CPU).
    filters_len : int
        Number of filter taps (museval: 512).
    compute_permutation : bool
        Score every estimate against every reference and keep the best permutation
        (museval's ``bss_eval(compute_permutation=True)``); the chosen permutation is
        in :attr:`perm` after :meth:`evaluate`.
    bss_eval_sources : bool
        museval's ``bsseval_sources_version`` criteria (ISR is NaN).

    Attributes
    ----------
    cond : float
        Estimated (1-norm, LAPACK ``pocon``) condition number of the reference Gram
        matrix ``G`` of the delayed references (v4: whole signal; v3: the largest over
        frames).  Above ``1e12`` SIR, ISR and SAR are dominated by rounding errors
        (museval's too); SDR does not depend on ``G`` at all.
    frame_cond : ndarray or None
        v3 only: the condition estimate of every frame.
    perm : ndarray, shape=(nsrc, 1) (v4) or (nsrc, nwin) (v3)
        The permutation chosen by the last :meth:`evaluate` (identity unless
        ``compute_permutation``): estimate ``perm[j]`` is scored against reference ``j``.
    nwin, win, hop : int
        Number of frames, frame length and hop in samples.
    """

    def __init__(
        self,
        references,
        *,
        sample_rate=44100,
        win=1.0,
        hop=1.0,
        mode="v4",
        padding=True,
        backend="numpy",
        device=None,
        filters_len=512,
        compute_permutation=False,
        bss_eval_sources=False,
        _win_samples=None,
        _hop_samples=None,
    ):
        if _win_samples is None:
            _check_win_hop(win, hop, "seconds")
            if not (float(sample_rate) > 0):
                raise ParameterError(f"sample_rate = {sample_rate!r}: must be positive")
            win_s = int(win * sample_rate) if np.isfinite(win) else np.inf
            hop_s = int(hop * sample_rate) if np.isfinite(hop) else np.inf
            if win_s == 0 or hop_s == 0:
                raise ParameterError(
                    f"win = {win} s, hop = {hop} s at {sample_rate} Hz give {win_s}/{hop_s} samples; need >= 1"
                )
        else:
            win_s, hop_s = _win_samples, _hop_samples
            _check_win_hop(win_s, hop_s, "samples")
        if mode not in ("v4", "v3"):
            raise ParameterError(f"mode = {mode!r}: must be 'v4' or 'v3'")
        if int(filters_len) != filters_len or filters_len < 1:
            raise ParameterError(f"filters_len = {filters_len!r}: must be a positive integer")
        self.filters_len = F = int(filters_len)
        self.mode = mode
        self.padding = bool(padding)
        self.compute_permutation = bool(compute_permutation)
        self.bss_eval_sources = bool(bss_eval_sources)
        self.sample_rate = sample_rate
        self.backend = backend
        self.device = device
        self._ops = _get_ops(backend, device)

        refs = _as_sources(references, "references")
        if refs.size == 0:
            raise ParameterError(f"references: empty, shape {refs.shape}; expected (nsrc, nsampl, nchan)")
        _check_sources(refs, "references", "reference")
        self.references = refs
        self.nsrc, self.nsampl, self.nchan = refs.shape
        self.win = win_s
        self.hop = hop_s
        self.starts, self.stops = framing(self.nsampl, win_s, hop_s)
        self.nwin = len(self.starts)
        self.perm = None

        self._prepared = False
        self._cond = float("nan")
        self._frame_cond = None

    # -- reference-only work (done once, fused with the first estimates) ----
    @property
    def cond(self):
        """Condition-number estimate of the reference Gram matrix (v4: whole signal; v3: worst frame)."""
        self._ensure_prepared()
        return self._cond

    @property
    def frame_cond(self):
        """v3: condition-number estimate per frame (None in v4)."""
        self._ensure_prepared()
        return self._frame_cond

    def _ensure_prepared(self):
        if not self._prepared:
            self._prepare(None)

    def _prepare(self, est0):
        """Correlations of the references (and, fused in the same pass, of the first estimates),
        factorisations of the Gram matrices.  Returns the estimate correlations or None."""
        F = self.filters_len
        refs = self.references
        mode = self.mode
        need_global = mode == "v4"
        ysigs = [refs] if est0 is None else [refs, est0]
        r_frames, r_glob = _correlations(self._ops, refs, ysigs, self.starts, self.stops, self.nsampl, F, need_global)
        nx = self.nsrc * self.nchan
        self._r_frames = np.ascontiguousarray(r_frames[:, :, :nx])  # (nwin, nx, nx, F)
        pending = None
        if est0 is not None:
            pending = (
                np.ascontiguousarray(r_frames[:, :, nx:]),
                None if r_glob is None else np.ascontiguousarray(r_glob[:, nx:]),
            )
        del r_frames
        # reference-only quantities
        self._ref_silent = self._silent_frames(refs)
        a_idx = np.arange(nx)
        self._Es = self._r_frames[:, a_idx, a_idx, 0].reshape(self.nwin, self.nsrc, self.nchan).sum(axis=2)
        from scipy.linalg import toeplitz

        self._toeplitz = toeplitz
        if need_global:
            r_ref = np.ascontiguousarray(r_glob[:, :nx])
            del r_glob
            self._factor_all = [self._global_factor(r_ref, toeplitz)]
            self._factor_src = [self._src_factor(r_ref, j, self._factor_all[0]) for j in range(self.nsrc)]
            self._cond = self._factor_all[0].cond
            self._frame_cond = None
        else:
            self._factor_all = []
            self._factor_src = []
            conds = []
            for t in range(self.nwin):
                fa = self._ops.factor(_gram(self._r_frames[t], toeplitz))
                self._factor_all.append(fa)
                self._factor_src.append([self._src_factor(self._r_frames[t], j, fa) for j in range(self.nsrc)])
                conds.append(fa.cond)
            self._frame_cond = np.asarray(conds)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                self._cond = float(np.nanmax(self._frame_cond)) if len(conds) else float("nan")
        self._prepared = True
        if not (self._cond <= COND_WARN):
            warnings.warn(
                f"the reference Gram matrix is ill-conditioned (condition number ~{self._cond:.3g} > {COND_WARN:.0e}): "
                "SIR, ISR and SAR are dominated by rounding errors (in museval as well); SDR is not affected. "
                "Typical of lossy (AAC) or band-limited references.",
                IllConditionedWarning,
                stacklevel=4,
            )
        return pending

    # -- helpers -----------------------------------------------------------
    def _global_factor(self, r_ref, toeplitz):
        """v4 Gram factorisation: block Levinson for large systems (dense Cholesky if it breaks down)."""
        nx = r_ref.shape[0]
        on_cpu = self._ops.name == "numpy" or getattr(getattr(self._ops, "device", None), "type", "cpu") == "cpu"
        if on_cpu and nx >= 2 and nx * self.filters_len >= 2048:
            try:
                return _LevinsonSolver(self._ops, r_ref, toeplitz)
            except _Breakdown:
                pass
        return self._ops.factor(_gram(r_ref, toeplitz))

    def _src_factor(self, r_ref, j, f_all):
        if self.nsrc == 1:
            return f_all
        sl = slice(j * self.nchan, (j + 1) * self.nchan)
        return self._ops.factor(_gram(np.ascontiguousarray(r_ref[sl, sl]), self._toeplitz))

    def _prepare_estimates(self, estimates):
        est = _as_sources(estimates, "estimates")
        if self.padding:
            est = _pad_or_truncate(est, self.nsampl)
        if est.shape != self.references.shape:
            raise AudioError(
                "The shape of estimated sources and the true sources should match: "
                f"references.shape = {self.references.shape}, estimates.shape = {est.shape} "
                "(nsrc, nsampl, nchan)"
                + ("" if self.padding else "; pass padding=True to pad or cut the estimates")
            )
        _check_sources(est, "estimates", "estimated")
        return est

    @property
    def _tiled(self):
        """Frames of equal length laid end to end from sample 0 (museval's default hop == win)."""
        st, sp = self.starts, self.stops
        return bool(st[0] == 0 and np.all(sp - st == sp[0]) and np.all(st[1:] == sp[:-1]))

    def _frame_chunks(self):
        W = int(self.stops[0])
        step = max(1, (1 << 19) // max(W, 1))
        for t0 in range(0, self.nwin, step):
            t1 = min(self.nwin, t0 + step)
            yield t0, t1, W

    def _silent_frames(self, x):
        """(nwin,) bool: frames where some source of ``x`` is silent (museval's ``_any_source_silent``)."""
        out = np.zeros(self.nwin, dtype=bool)
        nchan = x.shape[2]
        for j in range(x.shape[0]):
            if self._tiled:
                for t0, t1, W in self._frame_chunks():
                    v = x[j, t0 * W : t1 * W].reshape(t1 - t0, W, nchan)
                    cs = v[:, :, 0].copy()
                    for c in range(1, nchan):
                        cs += v[:, :, c]
                    out[t0:t1] |= ~np.any(cs, axis=1)
            else:
                nz = (_channel_sum(x[j]) != 0).astype(np.float64)
                out |= self._frame_sums(nz) == 0
        return out

    def _frame_energy(self, x, y=None):
        """(nwin,) energy of ``x`` (or of ``x - y``), ``(nsampl, nchan)`` arrays, in every frame."""
        if self._tiled:
            nchan = x.shape[1]
            out = np.empty(self.nwin)
            for t0, t1, W in self._frame_chunks():
                a = x[t0 * W : t1 * W].reshape(t1 - t0, W * nchan)
                if y is not None:
                    a = a - y[t0 * W : t1 * W].reshape(t1 - t0, W * nchan)
                out[t0:t1] = np.einsum("ij,ij->i", a, a)
            return out
        d = x if y is None else x - y
        sq = d[:, 0] * d[:, 0]
        for c in range(1, d.shape[1]):
            sq += d[:, c] * d[:, c]
        return self._frame_sums(sq)

    def _frame_sums(self, sq):
        """Sum of the per-sample values ``sq (N,)`` over every frame (no prefix-sum cancellation)."""
        starts, stops = self.starts, self.stops
        if self.nwin == 1:
            return np.array([sq[starts[0] : stops[0]].sum()])
        if np.all(starts[1:] >= stops[:-1]):
            idx = np.empty(2 * self.nwin, dtype=np.int64)
            idx[0::2] = starts
            idx[1::2] = stops
            ok = idx < len(sq)
            sums = np.zeros(2 * self.nwin)
            sums[ok] = np.add.reduceat(sq, idx[ok])
            res = sums[0::2]
            # reduceat with equal consecutive indices returns the element, not 0
            res[stops == starts] = 0.0
            return res
        # overlapping frames: sum elementary segments
        bps = np.unique(np.concatenate([starts, stops, [0, len(sq)]]))
        elem = np.add.reduceat(sq, bps[:-1])
        ia = np.searchsorted(bps, starts)
        ib = np.searchsorted(bps, stops)
        out = np.zeros(self.nwin)
        for m in range(int((ib - ia).max())):
            sel = ia + m < ib
            out[sel] += elem[(ia + m)[sel]]
        return out

    # -- evaluation --------------------------------------------------------
    def evaluate(self, estimates):
        """Score one set of estimates.

        Parameters
        ----------
        estimates : ndarray, shape=(nsrc, nsampl, nchan), or list of (nsampl, nchan) arrays

        Returns
        -------
        SDR, ISR, SIR, SAR : ndarray, shape=(nsrc, nwin), float64
        """
        F = self.filters_len
        nsrc, nchan, nwin = self.nsrc, self.nchan, self.nwin
        nx = nsrc * nchan
        est = self._prepare_estimates(estimates)
        if not self._prepared:
            rd_frames, rd_glob = self._prepare(est)
        else:
            rd_frames, rd_glob = _correlations(
                self._ops, self.references, [est], self.starts, self.stops, self.nsampl, F, self.mode == "v4"
            )
        silent = self._ref_silent | self._silent_frames(est)
        Eest = np.stack([self._frame_energy(est[j]) for j in range(nsrc)])  # (nsrc, nwin)
        Ediff = None
        if not self.bss_eval_sources:
            Ediff = np.stack([self._frame_energy(est[j], self.references[j]) for j in range(nsrc)])

        if self.compute_permutation:
            import itertools

            cand = np.array(list(itertools.permutations(range(nsrc))))
            pairs = sorted({(jt, int(p[jt])) for p in cand for jt in range(nsrc)})
        else:
            cand = np.arange(nsrc)[None, :]
            pairs = [(j, j) for j in range(nsrc)]
        npair = len(pairs)

        # energies per pair: Quu, Qvv, Qww, Qv'v', Lu, Lv  -> (npair, nwin)
        Quu = np.empty((npair, nwin))
        Qvv = np.empty((npair, nwin))
        Qww = np.empty((npair, nwin))
        Qvs = np.empty((npair, nwin))
        Lu = np.empty((npair, nwin))
        Lv = np.empty((npair, nwin))
        frames_sets = [slice(None)] if self.mode == "v4" else [slice(t, t + 1) for t in range(nwin)]
        for fs in frames_sets:
            if self.mode == "v4":
                f_all, f_src = self._factor_all[0], self._factor_src
                rd = rd_glob  # (nx, ne, F)
            else:
                t = fs.start
                f_all, f_src = self._factor_all[t], self._factor_src[t]
                rd = rd_frames[t]
            r_fr = self._r_frames[fs].reshape(-1, nx * nx * F)
            rd_fr = rd_frames[fs].reshape(-1, nx * nx * F)
            # D[(a, k), e] = rd[a, e, k]
            D = np.ascontiguousarray(rd.transpose(0, 2, 1)).reshape(nx * F, nx)
            C = f_all.solve(D)  # (nx*F, nx): column e = est channel
            C = C.reshape(nx, F, nsrc, nchan)  # [a, k, je, c]
            # collect filter sets per pair
            forms_r = []
            forms_d = []
            for jt, je in pairs:
                sl = slice(jt * nchan, (jt + 1) * nchan)
                if nsrc == 1:
                    Cj = C[:, :, je, :]
                else:
                    Dj = np.ascontiguousarray(rd[sl, je * nchan : (je + 1) * nchan].transpose(0, 2, 1)).reshape(
                        nchan * F, nchan
                    )
                    Cj = f_src[jt].solve(Dj).reshape(nchan, F, nchan)  # [cj, k, c]
                Muu = 0.0
                Mvv = 0.0
                Mww = 0.0
                Mvs = 0.0
                Du = np.zeros((nx, nx, F))
                Dv = np.zeros((nx, nx, F))
                for c in range(nchan):
                    u = C[:, :, je, c]  # (nx, F)
                    v = np.zeros((nx, F))
                    v[sl] = Cj[:, :, c]
                    w = u - v
                    vs = v.copy()
                    vs[jt * nchan + c, 0] -= 1.0
                    Muu = Muu + _filter_autocorr(u, F, self._ops.fft)
                    Mvv = Mvv + _filter_autocorr(v, F, self._ops.fft)
                    Mww = Mww + _filter_autocorr(w, F, self._ops.fft)
                    Mvs = Mvs + _filter_autocorr(vs, F, self._ops.fft)
                    Du[:, je * nchan + c, :] = u
                    Dv[:, je * nchan + c, :] = v
                forms_r.append(np.stack([np.asarray(Muu), Mvv, Mww, Mvs]).reshape(4, -1))
                forms_d.append(np.stack([Du, Dv]).reshape(2, -1))
            Mr = np.concatenate(forms_r).T  # (nx*nx*F, 4*npair)
            Md = np.concatenate(forms_d).T
            er = (r_fr @ Mr).reshape(-1, npair, 4)
            ed = (rd_fr @ Md).reshape(-1, npair, 2)
            Quu[:, fs] = er[:, :, 0].T
            Qvv[:, fs] = er[:, :, 1].T
            Qww[:, fs] = er[:, :, 2].T
            Qvs[:, fs] = er[:, :, 3].T
            Lu[:, fs] = ed[:, :, 0].T
            Lv[:, fs] = ed[:, :, 1].T

        # metrics for every pair
        s_r = np.empty((4, nsrc, nsrc, nwin))
        s_r[:] = np.nan
        for p, (jt, je) in enumerate(pairs):
            if self.bss_eval_sources:
                sdr = _safe_db(Qvv[p], _floor_den(Eest[je] - 2 * Lv[p] + Qvv[p], Qvv[p]))
                isr = np.full(nwin, np.nan)
            else:
                if jt == je:
                    ediff = Ediff[jt]
                else:
                    ediff = self._ediff(est, jt, je)
                sdr = _safe_db(self._Es[:, jt], ediff)
                isr = _safe_db(self._Es[:, jt], _floor_den(Qvs[p], self._Es[:, jt]))
            sir = _safe_db(Qvv[p], Qww[p] if self._exact_zero(jt, je) else _floor_den(Qww[p], Qvv[p]))
            sar = _safe_db(Quu[p], _floor_den(Eest[je] - 2 * Lu[p] + Quu[p], Quu[p]))
            s_r[:, jt, je] = np.stack([sdr, isr, sir, sar])
        s_r[:, :, :, silent] = np.nan

        # best permutation (museval's rule)
        dum = np.arange(nsrc)
        if self.mode == "v3":
            mean_sir = np.empty((len(cand), nwin))
            axis_mean = 0
        else:
            mean_sir = np.empty((len(cand), 1))
            axis_mean = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for i, pm in enumerate(cand):
                mean_sir[i] = np.mean(s_r[2, dum, pm, :], axis=axis_mean)
        popt = cand[np.argmax(mean_sir, axis=0)].T
        if self.mode == "v4":
            result = s_r[:, dum, popt[:, 0], :]
        else:
            result = np.empty((4, nsrc, nwin))
            for t in range(nwin):
                result[:, :, t] = s_r[:, dum, popt[:, t], t]
        self.perm = popt
        return result[0], result[1], result[2], result[3]

    def _exact_zero(self, jt, je):
        # one source: C and Cj are the same solve, e_interf is exactly zero (museval gives +inf SIR)
        return self.nsrc == 1

    def _ediff(self, est, jt, je):
        return self._frame_energy(est[je], self.references[jt])


def _get_ops(backend, device):
    if backend == "numpy":
        if device not in (None, "cpu"):
            raise ParameterError(f"device = {device!r}: the numpy backend runs on the CPU only; use backend='torch'")
        return _NumpyOps()
    if backend == "torch":
        from ._torch import TorchOps

        return TorchOps(device)
    raise ParameterError(f"backend = {backend!r}: must be 'numpy' or 'torch'")


def evaluate(
    references,
    estimates,
    win=1 * 44100,
    hop=1 * 44100,
    mode="v4",
    padding=True,
    *,
    backend="numpy",
    device=None,
    compute_permutation=False,
    filters_len=512,
    bss_eval_sources=False,
):
    """BSS Eval images of ``estimates`` against ``references``, as ``museval.evaluate``.

    Parameters
    ----------
    references, estimates : ndarray, shape=(nsrc, nsampl, nchan), or lists of (nsampl, nchan) arrays
        ``(nsrc, nsampl)`` is read as mono.  With ``padding`` the estimates are zero
        padded or cut to the reference length.
    win, hop : int
        Frame length and hop in **samples** (``np.inf``: one whole-signal frame).
    mode : {"v4", "v3"}
    padding : bool
    backend : {"numpy", "torch"}
    device : str or None
    compute_permutation : bool
        Keep the best permutation of the estimates (museval's ``bss_eval``); the
        returned metrics are in that order.  ``museval.evaluate`` has no such option
        and never returns the permutation; neither does this function (use
        :class:`Evaluator` and its ``perm`` attribute).
    filters_len : int
    bss_eval_sources : bool
        museval's ``bsseval_sources_version`` criteria.

    Returns
    -------
    SDR, ISR, SIR, SAR : ndarray, shape=(nsrc, nwin)
    """
    refs = _as_sources(references, "references")
    est = _as_sources(estimates, "estimates")
    if padding and refs.size and est.size:
        est = _pad_or_truncate(est, refs.shape[1])
    # museval's order of checks: shapes, then silent references (Evaluator), then silent estimates (evaluate)
    if refs.shape != est.shape:
        raise AudioError(
            "The shape of estimated sources and the true sources should match: "
            f"references.shape = {refs.shape}, estimates.shape = {est.shape} (nsrc, nsampl, nchan)"
        )
    ev = Evaluator(
        refs,
        mode=mode,
        padding=padding,
        backend=backend,
        device=device,
        filters_len=filters_len,
        compute_permutation=compute_permutation,
        bss_eval_sources=bss_eval_sources,
        _win_samples=win,
        _hop_samples=hop,
    )
    return ev.evaluate(est)
