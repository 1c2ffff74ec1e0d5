"""Non-stationary Gabor transform (NSGT) and sliced constant-Q transform (sliCQT).

Written from Balazs, Dörfler, Jaillet, Holighaus and Velasco, "Theory,
implementation and applications of nonstationary Gabor frames" (J. Comput.
Appl. Math. 2011; the *painless* case with compactly supported windows in
frequency) and Holighaus, Dörfler, Velasco and Grill, "A framework for
invertible, real-time constant-Q transforms" (IEEE TASLP 2013; the slicing).

Definition (length ``N``, real signal ``f`` with spectrum ``F = fft(f)``)
----------------------------------------------------------------------------
Every band ``k`` of the scale (:mod:`.scales`, DC and Nyquist bands
included) has a window ``g_k`` in frequency (Hann halves; the DC and Nyquist
bands flat-topped, completing their neighbours) with compact support of
``count_k`` FFT bins, and ``M_k >= count_k`` time samples (``count_k`` rounded
up to a 5-smooth number so that its FFTs are fast; ``form="matrix"`` uses the
largest ``M`` for every band).  With the support indices ``n`` taken as
integers around the centre (negative below 0 Hz, ``> N/2`` above Nyquist,
``F[n] = conj(F[-n])``)::

    c_k[m] = s_k / M_k * sum_n F[n] g_k[n] exp(+2i pi n m / M_k),   m = 0 .. M_k - 1
    s_k    = sqrt(w_k M_k / N),   w_k = 1 (DC, Nyquist bands), 2 (all others)

i.e. ``c_k = s_k * ifft_M(periodised F g_k)``: coefficient ``m`` of band ``k`` is
localised at time ``m N / M_k``.  The factor ``w_k = 2`` accounts for the
negative-frequency mirror of the band that a real signal does not need to
store; with it the energy of the coefficients of a real signal is::

    sum_k ||c_k||^2 = 1/N sum_n D[n] |F[n]|^2,
    D[n] = 1/2 sum_k w_k (g_k[n]^2 + g_k[-n]^2),

so ``min D ||f||^2 <= ||c||^2 <= max D ||f||^2`` (frame bounds; ``D`` is the
diagonal ``sum_l M_l |g_l|^2`` of the paper's frame operator once the atoms are
normalised by ``s_k``; with the partition-of-unity windows of :mod:`.scales`
``D`` lies in ``[1/2, 1]`` at every signal length, bounded away from 0;
``vqlog`` with ``gamma > 0`` overlaps more and has a larger upper bound).
The frame is *painless* (``M_k >= count_k``), so the frame operator is diagonal
in frequency and the canonical dual windows are ``g~_k = g_k / D``:
:meth:`NSGT.inverse` synthesises with them (the real part of the synthesis,
which is what the canonical dual frame of the real frame gives), so it returns
the least-squares signal for *any* coefficients (e.g. masked ones) and the
exact signal for unmodified ones.

Non-sliced NSGT: ``N`` is the signal length rounded up to an even 5-smooth
number (zero padding; the output is cropped), so the number of coefficients
per band depends on the signal length.

sliCQT
------
The signal is cut into slices of ``sllen`` samples with hop ``sllen / 2``.
The slice window is 0 on ``sllen/4 - trlen/2`` samples at both ends, rises as
``sin`` over ``trlen`` samples, is flat, and falls as ``cos``; consecutive
windows cross in their transitions so ``sum_j w_j^2 = 1`` (the slicing is a
tight frame; synthesis uses the same window).  Slice ``j`` starts at sample
``j sllen/2 - sllen/4 - trlen/2``; ``S = ceil((length + trlen) / (sllen/2))``
slices cover the signal.  Each windowed slice, zero-padded to ``N`` = the
next even 5-smooth length ``>= sllen`` (a fast FFT size: 18060 = 2^2 3 5 7 43
becomes 18432 = 2^11 3^2, 2.5 times faster to transform), is transformed by
the NSGT of length ``N``; the zero margins absorb the time spread of the low
bands' atoms.  The inverse is exact: NSGT inverse per slice, cropped to
``sllen``, times the slice window, overlap-add.

Coefficient layout
------------------
``forward`` returns one complex array per group of bands with the same ``M``
(``form="ragged"``, groups in order of their lowest band, bands in increasing
frequency within a group) or a single group (``form="matrix"``), each
``(..., channels, bands_g, frames_g)``.  NSGT: ``frames_g = M_g``.  sliCQT:
``frames_g = S * M_g``, slice-major: frame ``j M_g + m`` is coefficient ``m``
of slice ``j``, at time ``j sllen/2 - sllen/4 - trlen/2 + m N / M_g``.  The
slices are stored side by side, not overlap-added (the display form of the
paper adds the half-overlapping slices, which cannot be inverted exactly):
every coefficient is independent, masks apply elementwise, and
``inverse(forward(x))`` is exact.  :meth:`NSGT.layout` describes the groups.

Backends
--------
numpy (default): scipy.fft (numpy.fft without scipy).  The sliCQT processes
blocks of slices (about ``2**20`` samples each) on a thread pool, one FFT
thread per block, with bounded intermediate buffers; the non-sliced
NSGT gathers and scatters only each band's support (the matrix form's zero
padding is never touched) and spreads the groups over the threads.
:func:`set_num_threads` limits the threads (default: all cores).

torch: tensors in, tensors out, same dtypes.  CUDA tensors (and CPU tensors
that require grad, or any CPU tensor when :data:`TORCH_NATIVE_CPU` is set) run
a torch implementation (``index_select``, batched ``torch.fft``); other CPU
tensors go through the numpy core zero-copy, which is faster on CPU.

float32 input gives complex64 coefficients, anything else float64 /
complex128.  Windows, dual windows and index tables are built once per
(scale, length, form) and cached (least recently used, bounded by count and
by bytes, since a non-sliced plan is as long as the signal).
"""

import collections
import functools
import math
import os
import sys
import threading

import numpy as np

from ..errors import ParameterError
from . import parse_spec_args
from .base import Transform
from .scales import SCALES, Scale, hann_halves, plateau

__all__ = ["NSGT", "SliCQT", "from_spec", "DEFAULTS", "set_num_threads"]

#: defaults of the spec keys (``bins`` of ``oct`` defaults to 24 per octave)
DEFAULTS = {"scale": "bark", "bins": 262, "fmin": 32.9, "gamma": 0.0, "form": "ragged"}
_KEYS = ("scale", "bins", "fmin", "fmax", "sllen", "trlen", "gamma", "form")
_FORMS = ("ragged", "matrix")


# ----------------------------------------------------------------------------
# small helpers
def _is_torch(x):
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def _next_smooth(n):
    """Smallest 5-smooth integer >= n (n >= 1)."""
    n = int(n)
    if n <= 1:
        return 1
    best = 1 << (n - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            v = p35
            while v < n:
                v *= 2
            best = min(best, v)
            p35 *= 3
        p5 *= 5
    return best


def _next_even_smooth(n):
    return 2 * _next_smooth(max(1, -(-int(n) // 2)))


def _fmt(v):
    v = float(v)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return format(v, ".10g").replace("+", "")


try:  # pragma: no cover - scipy is a dependency, but keep numpy-only working
    import scipy.fft as _sfft

    def _np_rfft(x, workers=-1, n=None):
        return _sfft.rfft(x, n=n, axis=-1, workers=workers)

    def _np_irfft(x, n, workers=-1):
        return _sfft.irfft(x, n=n, axis=-1, workers=workers, overwrite_x=True)

    def _np_fft(x, workers=-1):
        return _sfft.fft(x, axis=-1, workers=workers)

    def _np_ifft_inplace(x, workers=-1):
        return _sfft.ifft(x, axis=-1, workers=workers, overwrite_x=True)
except ImportError:  # pragma: no cover
    def _np_rfft(x, workers=-1, n=None):
        return np.fft.rfft(x, n=n, axis=-1)

    def _np_irfft(x, n, workers=-1):
        return np.fft.irfft(x, n=n, axis=-1)

    def _np_fft(x, workers=-1):
        return np.fft.fft(x, axis=-1)

    def _np_ifft_inplace(x, workers=-1):
        return np.fft.ifft(x, axis=-1)

#: threads of the numpy backend (None: all cores); see :func:`set_num_threads`
_MAX_THREADS = None
#: samples per task buffer of the numpy backend (rows of a chunk ~ this / N)
_CHUNK_SAMPLES = 1 << 20


def set_num_threads(n=None):
    """Limit the threads of the numpy backend (``None``: all cores). Returns the previous value."""
    global _MAX_THREADS
    prev = _MAX_THREADS
    _MAX_THREADS = None if n is None else max(1, int(n))
    return prev


# ----------------------------------------------------------------------------
# the plan: windows and index tables for one (scale, N, form)
class _Group:
    """Bands sharing ``M``: compact tables (one entry per support position) and, built on
    demand, dense ``(bands_g, M)`` tables."""

    __slots__ = ("bands", "M", "offset", "coffset", "cpos", "cfid", "cfwin", "cdwin", "cconj", "_dense")

    def dense(self):
        """``(fidx, fwin, dwin, cflat)``: per (band, position) rfft index, analysis and dual
        window values (0 where the band has no support), and the positions to conjugate."""
        if self._dense is None:
            nbg, Mg = len(self.bands), self.M
            fidx = np.zeros(nbg * Mg, dtype=np.int64)
            fwin = np.zeros(nbg * Mg, dtype=np.float64)
            dwin = np.zeros(nbg * Mg, dtype=np.float64)
            fidx[self.cpos] = self.cfid
            fwin[self.cpos] = self.cfwin
            dwin[self.cpos] = self.cdwin
            self._dense = (fidx.reshape(nbg, Mg), fwin.reshape(nbg, Mg), dwin.reshape(nbg, Mg),
                           self.cpos[self.cconj])
        return self._dense

    fidx = property(lambda self: self.dense()[0])
    fwin = property(lambda self: self.dense()[1])
    dwin = property(lambda self: self.dense()[2])
    cflat = property(lambda self: self.dense()[3])


def _run_src(run, which):
    """Sources of a run: in the dense buffer (``which == 3``) or the compact one (4)."""
    if which == 3:
        pos, offset = run[3]
        return pos + offset
    n = len(run[3][0])
    return np.arange(run[4], run[4] + n, dtype=np.int64)


def _lanes(runs, which, sentinel, F):
    """Synthesis lanes: ``Z[j] = sum_l V[src_l[j]]`` (conjugated where flagged), ``V[sentinel] = 0``.

    ``runs`` are (lowest target, highest target, targets, K-space sources, compact sources,
    conj mask or None); they are coloured greedily so that the runs of one lane never share
    a target.  Lanes with few entries are kept sparse (targets, sources, conj mask)."""
    lane_end, lane_runs = [], []
    for run in sorted(runs, key=lambda r: r[0]):
        for lane, end in enumerate(lane_end):
            if end < run[0]:
                lane_end[lane] = run[1]
                lane_runs[lane].append(run)
                break
        else:
            lane_end.append(run[1])
            lane_runs.append([run])
    lane_runs.sort(key=lambda rs: -sum(r[1] - r[0] + 1 for r in rs))
    lanes = []
    for i, rs in enumerate(lane_runs):
        size = sum(r[1] - r[0] + 1 for r in rs)
        if i and size * 8 < F:
            tgt = np.concatenate([np.arange(r[2].start, r[2].stop) if isinstance(r[2], slice) else r[2]
                                  for r in rs])
            src = np.concatenate([_run_src(r, which) for r in rs])
            cj = np.concatenate([np.zeros(r[1] - r[0] + 1, bool) if r[5] is None else r[5] for r in rs])
            lanes.append((None, None, (tgt, src, cj)))
            continue
        s_l = np.full(F, sentinel, dtype=np.int64)
        cjt = []
        for r in rs:
            s_l[r[2]] = _run_src(r, which)
            if r[5] is not None and r[5].any():
                cjt.append(r[2][r[5]])
        lanes.append((s_l, np.concatenate(cjt) if cjt else np.zeros(0, dtype=np.int64), None))
    return lanes


class _Plan:
    """Windows, dual windows and gather tables of the NSGT of length ``N``."""

    def __init__(self, scale, N, matrix):
        self.N = N = int(N)
        F = N // 2 + 1
        self.F = F
        per_bin = N / scale.sample_rate
        nb = scale.bands
        mirror = scale.self_mirrored
        cs = scale.band_frequencies * per_bin
        los = scale.band_lower_width * per_bin
        his = scale.band_upper_width * per_bin
        flats = scale.band_flat * per_bin
        # support: the integers strictly inside (centre - lower, centre + upper)
        first = np.floor(cs - los).astype(np.int64) + 1
        last = np.ceil(cs + his).astype(np.int64) - 1
        counts = np.maximum(last - first + 1, 0)
        if counts.max() > N:
            raise ParameterError(
                f"signal/slice length {N} is too short for the {scale.kind} scale: a band spans "
                f"{int(counts.max())} FFT bins; use a longer signal or slice (sllen)")
        if matrix:
            M = np.full(nb, _next_smooth(max(int(counts.max()), 1)), dtype=np.int64)
        else:
            M = np.array([_next_smooth(max(int(k), 1)) for k in counts], dtype=np.int64)
        self.M = M
        w = np.where(mirror, 1.0, 2.0)
        sk = np.sqrt(w * M / N)  # coefficient scale s_k

        # groups of bands with the same M, in order of their lowest band
        if matrix:
            order = [list(range(nb))]
        else:
            byM = {}
            for k in range(nb):
                byM.setdefault(int(M[k]), []).append(k)
            order = sorted(byM.values(), key=lambda bs: bs[0])
        self.groups = []
        where = {}  # band -> (group, row, start in the group's compact tables)
        offset = coffset = 0
        for bands in order:
            grp = _Group()
            grp.bands = np.asarray(bands, dtype=np.int64)
            grp.M = int(M[bands[0]])
            grp.offset, grp.coffset, grp._dense = offset, coffset, None
            start = 0
            for r, k in enumerate(bands):
                where[k] = (grp, r, start)
                start += int(counts[k])
            for name, dt in (("cpos", np.int64), ("cfid", np.int64), ("cfwin", np.float64),
                             ("cdwin", np.float64)):
                setattr(grp, name, np.empty(start, dtype=dt))
            grp.cconj = np.zeros(start, dtype=bool)
            self.groups.append(grp)
            offset += len(bands) * grp.M
            coffset += start
        self.K = offset  # coefficients per slice (all groups, dense)
        self.Kc = coffset  # support positions (all groups)
        ar = np.arange(int(counts.max()) + 1, dtype=np.int64)

        # pass 1, band by band: support positions, analysis windows, the frame operator's diagonal D
        D = np.zeros(F, dtype=np.float64)
        runs = []  # (lowest target, highest target, targets, (cpos view, offset), compact start, conj or None)
        for k in range(nb):
            cnt = int(counts[k])
            if cnt == 0:
                continue
            grp, r, st = where[k]
            Mg = grp.M
            sl = slice(st, st + cnt)
            f0, c = int(first[k]), float(cs[k])
            n = grp.cfid[sl]
            np.add(ar[:cnt], f0, out=n)
            pos = grp.cpos[sl]  # (f0 + i) mod M, plus the band's row offset
            np.add(ar[:cnt], r * Mg + f0 % Mg, out=pos)
            pos[Mg - f0 % Mg:] -= Mg
            d = n - c
            if mirror[k]:
                g = plateau(d, los[k], flats[k])
            else:
                k0 = min(max(int(math.floor(c)) - f0 + 1, 0), cnt)
                g = d
                g[:k0] *= 0.5 * np.pi / los[k]
                g[k0:] *= 0.5 * np.pi / his[k]
                np.cos(g, out=g)
                np.square(g, out=g)
            np.multiply(g, sk[k], out=grp.cfwin[sl])
            g *= g
            g *= w[k] / 2.0  # synthesis weight w/2 (doubled below on the bins 0 and N/2)
            if f0 < 0 or 2 * (f0 + cnt - 1) > N:  # crosses 0 Hz or Nyquist: fold, conjugate the mirror part
                nm = np.mod(n, N)
                conj = 2 * nm > N
                fid = np.where(conj, N - nm, nm)
                g[(nm == 0) | (2 * nm == N)] *= 2.0
                np.add.at(D, fid, g)
                n[...] = fid
                grp.cconj[sl] = conj
                brk = np.flatnonzero(np.diff(conj.astype(np.int8))) + 1
                for a0, a1 in zip(np.concatenate([[0], brk]), np.concatenate([brk, [cnt]])):
                    t = fid[a0:a1]
                    runs.append((int(t.min()), int(t.max()), t, (pos[a0:a1], grp.offset),
                                 grp.coffset + st + int(a0), conj[a0:a1]))
            else:
                D[f0:f0 + cnt] += g
                if f0 == 0:
                    D[0] += g[0]
                if 2 * (f0 + cnt - 1) == N:
                    D[-1] += g[-1]
                runs.append((f0, f0 + cnt - 1, slice(f0, f0 + cnt), (pos, grp.offset), grp.coffset + st, None))
        if D.min() <= 0:  # cannot happen with partition-of-unity windows; guard anyway
            raise ParameterError(f"the windows leave FFT bin {int(np.argmin(D))} of {N} uncovered; "
                                 "not a frame (use another scale or length)")
        self.D = D
        self.frame_bounds = (float(D.min()), float(D.max()))

        # pass 2, group by group: dual windows g~_k = g_k / D.  With c_k scaled by s_k and the
        # synthesis weight w_k/2: dwin = (w_k/2) g / (s_k D) = fwin N / (2 M D), doubled on the
        # bins 0 and N/2, which are their own mirror images.
        for grp in self.groups:
            Dg = D[grp.cfid]
            np.divide(grp.cfwin, Dg, out=grp.cdwin)
            grp.cdwin *= N / (2.0 * grp.M)
            grp.cdwin[(grp.cfid == 0) | (2 * grp.cfid == N)] *= 2.0
        self._runs = runs
        self._lanes = {}
        self._cache = {}

    @property
    def lanes(self):
        """Synthesis lanes with sources in the dense buffer (``K + 1`` per slice)."""
        if "dense" not in self._lanes:
            self._lanes["dense"] = _lanes(self._runs, 3, self.K, self.F)
        return self._lanes["dense"]

    @property
    def clanes(self):
        """Synthesis lanes with sources in the compact buffer (``Kc + 1``)."""
        if "compact" not in self._lanes:
            self._lanes["compact"] = _lanes(self._runs, 4, self.Kc, self.F)
        return self._lanes["compact"]

    def arrays(self, backend, dtype, device=None):
        """Window/index tables converted for a backend and real dtype (cached)."""
        key = (backend, str(dtype), str(device))
        got = self._cache.get(key)
        if got is not None:
            return got
        if backend == "numpy":
            groups = [(g.fidx.ravel(), g.fwin.astype(dtype, copy=False), g.dwin.astype(dtype, copy=False), g.cflat)
                      for g in self.groups]
            lanes = self.lanes
        elif backend == "numpy-sliced-compact":
            groups = [((g.cpos // g.M), (g.cpos % g.M), g.cfid, g.cfwin.astype(dtype), np.flatnonzero(g.cconj),
                       g.cdwin.astype(dtype)) for g in self.groups]
            lanes = self.clanes
        elif backend == "numpy-compact":
            groups = [(g.cpos, g.cfid, g.cfwin.astype(dtype, copy=False), g.cdwin.astype(dtype, copy=False),
                       np.flatnonzero(g.cconj),
                       g.coffset) for g in self.groups]
            lanes = self.clanes
        elif backend == "torch-compact":
            import torch

            def t(a, dt=None):
                return torch.as_tensor(np.ascontiguousarray(a), dtype=dt, device=device)

            groups = [(t(g.cpos), t(g.cfid), t(g.cfwin, dtype), t(g.cdwin, dtype), t(np.flatnonzero(g.cconj)),
                       g.coffset) for g in self.groups]
            lanes = [(t(a), t(c), None) if sp is None else (None, None, tuple(t(v) for v in sp))
                     for a, c, sp in self.clanes]
        else:
            import torch

            def t(a, dt=None):
                return torch.as_tensor(np.ascontiguousarray(a), dtype=dt, device=device)

            groups = [(t(g.fidx.ravel()), t(g.fwin, dtype), t(g.dwin, dtype), t(g.cflat)) for g in self.groups]
            lanes = [(t(a), t(c), None) if sp is None else (None, None, tuple(t(v) for v in sp))
                     for a, c, sp in self.lanes]
        got = (groups, lanes)
        self._cache[key] = got
        return got


class _PlanCache:
    """Least-recently-used plans, at most ``max_plans`` of them and about ``max_bytes`` in all
    (a non-sliced plan holds tables as long as the signal, so only a few are kept)."""

    def __init__(self, max_plans=32, max_bytes=1 << 30):
        self.max_plans, self.max_bytes = max_plans, max_bytes
        self._plans = collections.OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _size(plan):
        n = plan.D.nbytes
        for g in plan.groups:
            n += sum(getattr(g, a).nbytes for a in ("cpos", "cfid", "cfwin", "cdwin", "cconj"))
            n += 3 * 8 * len(g.bands) * g.M if g._dense is not None else 0
        for lanes in plan._lanes.values():
            n += sum(8 * plan.F if src is not None else 17 * len(sp[0]) for src, _, sp in lanes)
        n += 64 * len(plan._runs)
        return n

    def __call__(self, scale_key, N, matrix):
        key = (scale_key, N, matrix)
        with self._lock:
            plan = self._plans.get(key)
            if plan is not None:
                self._plans.move_to_end(key)
                return plan
        kind, bins, fmin, fmax, sr, gamma = scale_key
        plan = _Plan(Scale(kind, bins, fmin, fmax, sample_rate=sr, gamma=gamma), N, matrix)
        with self._lock:
            self._plans[key] = plan
            total = sum(self._size(p) for p in self._plans.values())
            while len(self._plans) > 1 and (len(self._plans) > self.max_plans or total > self.max_bytes):
                _, old = self._plans.popitem(last=False)
                total -= self._size(old)
        return plan

    def has(self, key):
        with self._lock:
            return key in self._plans

    def cache_clear(self):
        with self._lock:
            self._plans.clear()


#: plans (windows, duals, tables) per (scale, length, form); ``_plan.cache_clear()`` empties it
_plan = _PlanCache()


@functools.lru_cache(maxsize=32)
def _slice_window(sllen, trlen):
    w = np.zeros(sllen, dtype=np.float64)
    a = sllen // 4 - trlen // 2
    t = (np.arange(trlen) + 0.5) / trlen if trlen else np.zeros(0)
    w[a:a + trlen] = np.sin(0.5 * np.pi * t)
    w[a + trlen:sllen - a - trlen] = 1.0
    w[sllen - a - trlen:sllen - a] = np.cos(0.5 * np.pi * t)
    return w


# ----------------------------------------------------------------------------
# core: batched NSGT of spectra R (B, S, F) -> groups (B, bands_g, S, M_g), and back
def _threads():
    return max(1, min(_MAX_THREADS or os.cpu_count() or 1, os.cpu_count() or 1))


def _run_tasks(fn, tasks):
    """Run ``fn(task)`` for every task, on a thread pool when there are several cores.

    The work inside is numpy/scipy calls that release the GIL; each task's FFTs
    use one thread."""
    n = _threads()
    if n == 1 or len(tasks) == 1:
        for t in tasks:
            fn(t)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(n, len(tasks))) as ex:
        for _ in ex.map(fn, tasks):
            pass


def _chunks(B, S, N):
    """(b, s0, s1) tasks whose rows (slices) fill about a cache-sized buffer."""
    per = max(1, _CHUNK_SAMPLES // max(N, 1))
    if S > 1:  # at least 2 tasks per thread when possible
        per = min(per, max(1, -(-S // (2 * _threads()))))
    return [(b, s0, min(S, s0 + per)) for b in range(B) for s0 in range(0, S, per)]


def _analyse_numpy(rows, B, S, N, groups, cdtype, compact=None):
    """NSGT of the rows given by ``rows(b, s0, s1) -> (s1-s0, sllen)`` real frames (zero-padded
    to ``N``).  ``compact``: the compact tables, used when the bands' buffers are mostly zero
    padding (matrix form): only the supports are gathered and scattered.

    Returns the groups as ``(B, bands_g, S, M_g)`` arrays."""
    out = [np.empty((B, fwin.shape[0], S, fwin.shape[1]), dtype=cdtype) for _, fwin, _, _ in groups]

    def task(t):
        b, s0, s1 = t
        sc = s1 - s0
        R = _np_rfft(rows(b, s0, s1), 1, N)
        for i, ((fidx, fwin, _, cflat), C) in enumerate(zip(groups, out)):
            nbg, Mg = fwin.shape
            dst = C[b, :, s0:s1, :]
            if compact is not None:
                rows_, cols, cfid, cfwin, cconj = compact[i]
                X = np.take(R, cfid, axis=-1)  # (sc, support)
                if len(cconj):
                    X[:, cconj] = np.conj(X[:, cconj])
                X *= cfwin
                dst.fill(0)
                dst[rows_, :, cols] = X.T
            else:
                X = np.take(R, fidx, axis=-1, mode="wrap")  # (sc, nbg*Mg)
                if len(cflat):
                    X[:, cflat] = np.conj(X[:, cflat])
                np.multiply(X.reshape(sc, nbg, Mg).transpose(1, 0, 2), fwin[:, None, :], out=dst)
            res = _np_ifft_inplace(dst, 1)
            if res is not dst and not np.shares_memory(res, dst):  # pragma: no cover
                dst[...] = res

    _run_tasks(task, _chunks(B, S, N))
    return out


def _synthesise_numpy(coefs, groups, lanes, K, N, rdtype, emit, compact=None):
    """Inverse NSGT of ``coefs`` (list of ``(B, bands_g, S, M_g)``); ``emit(b, s0, s1, y)``
    receives the real rows ``(s1-s0, N)``.  With ``compact`` (tables and lanes) the synthesis
    buffer holds only the supports."""
    B, _, S, _ = coefs[0].shape
    cdtype = coefs[0].dtype
    if compact is not None:
        ctabs, lanes, K = compact

    def task(t):
        b, s0, s1 = t
        sc = s1 - s0
        V = np.empty((sc, K + 1), dtype=cdtype)
        V[:, K] = 0
        off = 0
        for i, (C, (_, _, dwin, _)) in enumerate(zip(coefs, groups)):
            nbg, Mg = dwin.shape
            E = _np_fft(C[b, :, s0:s1, :], 1)  # (nbg, sc, Mg)
            if compact is not None:
                rows_, cols, cdwin = ctabs[i]
                n = len(cols)
                vals = E[rows_, :, cols]  # (support, sc)
                vals *= cdwin[:, None]
                V[:, off:off + n] = vals.T
                off += n
            else:
                np.multiply(E.transpose(1, 0, 2), dwin, out=V[:, off:off + nbg * Mg].reshape(sc, nbg, Mg))
                off += nbg * Mg
        Z = _sum_lanes(V, lanes, N)
        del V
        emit(b, s0, s1, _np_irfft(Z, N, 1))

    _run_tasks(task, _chunks(B, S, N))


def _group_chunks(groups, sizes, parts):
    """Split group indices into about ``parts`` runs of similar total size."""
    total = float(sum(sizes)) or 1.0
    out, cur, acc = [], [], 0.0
    for i, sz in enumerate(sizes):
        cur.append(i)
        acc += sz
        if acc >= total * (len(out) + 1) / parts and len(out) < parts - 1:
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    return out


def _analyse_numpy_compact(x, N, cgroups, shapes, cdtype, R=None):
    """Non-sliced NSGT of ``x`` (B, L) (or of its spectrum ``R``, ``rfft(x, N)``): per band only
    its support is gathered, the rest of each ``M``-sample buffer is zero.  Returns
    ``(B, bands_g, 1, M_g)`` arrays."""
    B = x.shape[0]
    if R is None:
        R = _np_rfft(x, -1, N)
    out = [np.empty((B, nbg, 1, Mg), dtype=cdtype) for nbg, Mg in shapes]
    parts = _group_chunks(cgroups, [nbg * Mg for nbg, Mg in shapes], 2 * _threads())

    def task(t):
        b, idx = t
        for i in idx:
            cpos, cfid, cfwin, _, cconj, _ = cgroups[i]
            X = np.take(R[b], cfid)
            if len(cconj):
                X[cconj] = np.conj(X[cconj])
            X *= cfwin
            Cb = out[i][b]
            flat = Cb.reshape(-1)
            if len(cpos) < flat.size:
                flat.fill(0)
            flat[cpos] = X
            res = _np_ifft_inplace(Cb, 1)
            if res is not Cb and not np.shares_memory(res, Cb):  # pragma: no cover
                Cb[...] = res

    _run_tasks(task, [(b, idx) for b in range(B) for idx in parts])
    return out


def _synthesise_numpy_compact(coefs, cgroups, clanes, Kc, N, rdtype):
    """Inverse of :func:`_analyse_numpy_compact`; returns ``(B, N)`` real rows."""
    B = coefs[0].shape[0]
    cdtype = coefs[0].dtype
    V = np.empty((B, Kc + 1), dtype=cdtype)
    V[:, Kc] = 0
    parts = _group_chunks(cgroups, [c[0].size for c in coefs], 2 * _threads())

    def fill(t):
        b, idx = t
        for i in idx:
            cpos, _, _, cdwin, _, off = cgroups[i]
            E = _np_fft(coefs[i][b], 1).reshape(-1)
            np.multiply(np.take(E, cpos), cdwin, out=V[b, off:off + len(cpos)])

    _run_tasks(fill, [(b, idx) for b in range(B) for idx in parts])
    out = np.empty((B, N), dtype=rdtype)

    def lanes(b):
        Z = _sum_lanes(V[b:b + 1], clanes, N)
        out[b] = _np_irfft(Z, N, 1)[0]

    _run_tasks(lanes, list(range(B)))
    return out


def _sum_lanes(V, lanes, N):
    """``Z (rows, F)`` from the synthesis buffer ``V (rows, K + 1)``."""
    F = N // 2 + 1
    Z = None
    for src, cj, sparse in lanes:
        if sparse is not None:  # few entries: add them where they go
            tgt, srcs, conj = sparse
            vals = V[:, srcs]
            if conj.any():
                vals[:, conj] = np.conj(vals[:, conj])
            Z[:, tgt] += vals
            continue
        T = np.take(V, src, axis=-1, mode="wrap")
        if len(cj):
            T[:, cj] = np.conj(T[:, cj])
        if Z is None:
            Z = T
        else:
            Z += T
    Z[:, 0] = Z[:, 0].real
    if N % 2 == 0:
        Z[:, F - 1] = Z[:, F - 1].real
    return Z


def _analyse_torch(R, groups):
    import torch

    B, S, _ = R.shape
    out = []
    for fidx, fwin, _, cflat in groups:
        nbg, Mg = fwin.shape
        X = torch.index_select(R, -1, fidx)
        if cflat.numel():
            X[..., cflat] = torch.conj(X[..., cflat])
        X = X.view(B, S, nbg, Mg) * fwin
        C = torch.fft.ifft(X.permute(0, 2, 1, 3), dim=-1)
        out.append(C.contiguous())
    return out


def _synthesise_torch(coefs, groups, lanes, K, N, dtype):
    import torch

    B, _, S, _ = coefs[0].shape
    V = torch.empty((B, S, K + 1), dtype=dtype, device=coefs[0].device)
    V[..., K] = 0
    off = 0
    for C, (fidx, _, dwin, _) in zip(coefs, groups):
        nbg, Mg = dwin.shape
        E = torch.fft.fft(C, dim=-1)
        view = V[..., off:off + nbg * Mg].view(B, S, nbg, Mg)
        view.copy_(E.permute(0, 2, 1, 3) * dwin)
        del E
        off += nbg * Mg
    return _torch_lanes_irfft(V, lanes, N)


def _torch_lanes_irfft(V, lanes, N):
    import torch

    Z = None
    for src, cj, sparse in lanes:
        if sparse is not None:
            tgt, srcs, conj = sparse
            vals = torch.index_select(V, -1, srcs)
            vals = torch.where(conj, torch.conj(vals), vals)
            Z.index_add_(-1, tgt, vals)
            continue
        T = torch.index_select(V, -1, src)
        if cj.numel():
            T[..., cj] = torch.conj(T[..., cj])
        Z = T if Z is None else Z.add_(T)
    del V
    Z[..., 0] = Z[..., 0].real.to(Z.dtype)
    if N % 2 == 0:
        Z[..., -1] = Z[..., -1].real.to(Z.dtype)
    return torch.fft.irfft(Z, n=N, dim=-1)


def _analyse_torch_compact(R, cgroups, shapes):
    """Non-sliced torch NSGT from the spectrum ``R (B, 1, F)``: only each band's support."""
    import torch

    B = R.shape[0]
    R = R[:, 0]
    out = []
    for (cpos, cfid, cfwin, _, cconj, _), (nbg, Mg) in zip(cgroups, shapes):
        X = torch.index_select(R, -1, cfid)
        if cconj.numel():
            X[:, cconj] = torch.conj(X[:, cconj])
        X = X * cfwin
        C = torch.zeros((B, nbg * Mg), dtype=R.dtype, device=R.device)
        C.index_copy_(-1, cpos, X)
        out.append(torch.fft.ifft(C.view(B, nbg, 1, Mg), dim=-1))
    return out


def _synthesise_torch_compact(coefs, cgroups, clanes, Kc, N, dtype):
    import torch

    B = coefs[0].shape[0]
    V = torch.empty((B, 1, Kc + 1), dtype=dtype, device=coefs[0].device)
    V[..., Kc] = 0
    for C, (cpos, _, _, cdwin, _, off) in zip(coefs, cgroups):
        E = torch.fft.fft(C, dim=-1).reshape(B, -1)
        V[:, 0, off:off + len(cpos)] = torch.index_select(E, -1, cpos) * cdwin
    return _torch_lanes_irfft(V, clanes, N)


# ----------------------------------------------------------------------------
class NSGT(Transform):
    """Non-stationary Gabor transform over the whole signal (painless, Hann windows in frequency).

    Parameters
    ----------
    scale : str
        ``oct``, ``log`` (``cqlog``), ``lin``, ``mel``, ``bark`` or ``vqlog`` (see :mod:`.scales`).
    bins : int >= 1
        Centres from ``fmin`` to ``fmax`` inclusive (``oct``: per octave).
    fmin : float
        Lowest centre (Hz).
    fmax : float, optional
        Highest centre (Hz), default Nyquist.
    sample_rate : int
    gamma : float
        ``vqlog`` bandwidth offset (Hz).
    form : ``"ragged"`` or ``"matrix"``
        One group per time resolution, or a single group with the largest ``M``.

    Attributes
    ----------
    name : str
        Canonical name used in file paths, e.g. ``nsgt-bark-262-32.9``
        (``-fmax{F}``, ``-gamma{G}``, ``-matrix`` appended when not default).
    spec : str
        Canonical spec, e.g. ``nsgt:scale=bark,bins=262,fmin=32.9``.
    scale : :class:`~mssoracle.transforms.scales.Scale`
    frequencies : ndarray ``(bands,)``
        Centre of every band (DC and Nyquist bands included).
    q : ndarray ``(bands,)``
    """

    kind = "nsgt"
    sliced = False

    def __init__(self, scale="bark", bins=262, fmin=32.9, fmax=None, *, sample_rate=44100, gamma=0.0,
                 form="ragged"):
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, float, np.integer, np.floating)) \
                or not sample_rate > 0 or float(sample_rate) != int(sample_rate):
            raise ParameterError(f"sample_rate must be a positive integer (Hz), got {sample_rate!r}")
        self.sample_rate = int(sample_rate)
        self.scale = Scale(scale, bins, fmin, fmax, sample_rate=self.sample_rate, gamma=gamma)
        form = str(form).strip().lower()
        if form not in _FORMS:
            raise ParameterError(f"form must be ragged or matrix, got {form!r}")
        self.form = form
        s = self.scale
        self._scale_key = (s.kind, s.bins_arg, s.fmin, s.fmax, float(self.sample_rate), s.gamma)
        self.frequencies = s.band_frequencies
        self.q = s.band_q()

    # -- naming ---------------------------------------------------------
    def _name_parts(self):
        s = self.scale
        parts = [self.kind, s.kind, str(s.bins_arg), _fmt(s.fmin)]
        if s.fmax != s.nyquist:
            parts.append("fmax" + _fmt(s.fmax))
        if s.gamma:
            parts.append("gamma" + _fmt(s.gamma))
        return parts

    @property
    def name(self):
        parts = self._name_parts()
        if self.form != "ragged":
            parts.append(self.form)
        return "-".join(parts)

    @property
    def spec(self):
        s = self.scale
        items = [f"scale={s.kind}", f"bins={s.bins_arg}", f"fmin={_fmt(s.fmin)}"]
        if s.fmax != s.nyquist:
            items.append(f"fmax={_fmt(s.fmax)}")
        items += self._spec_extra()
        if s.gamma:
            items.append(f"gamma={_fmt(s.gamma)}")
        if self.form != "ragged":
            items.append(f"form={self.form}")
        return f"{self.kind}:" + ",".join(items)

    def _spec_extra(self):
        return []

    def _key(self):
        return (self.kind, self._scale_key, self.form)

    def __eq__(self, other):
        return type(other) is type(self) and other._key() == self._key()

    def __hash__(self):
        return hash(self._key())

    # -- layout ---------------------------------------------------------
    def _length_N(self, length):
        return _next_even_smooth(length)

    def _plan_key(self, length):
        return (self._scale_key, self._length_N(length), self.form == "matrix")

    def plan(self, length):
        """The cached :class:`_Plan` used for signals of ``length`` samples."""
        return _plan(*self._plan_key(_check_length(length)))

    def _slices(self, length):
        return 1

    def layout(self, length):
        """Describe the coefficient groups for a signal of ``length`` samples.

        Returns
        -------
        list of dict
            Per group: ``bands`` (band indices), ``frequencies`` (Hz), ``M`` (time
            samples per band and slice), ``frames`` (``slices * M``), ``hop``
            (samples between consecutive coefficients of one slice, ``N / M``).
        """
        p = self.plan(length)
        S = self._slices(length)
        return [{"bands": g.bands.copy(), "frequencies": self.frequencies[g.bands], "M": g.M,
                 "frames": S * g.M, "hop": p.N / g.M} for g in p.groups]

    def frame_bounds(self, length):
        """Lower and upper frame bounds ``(min D, max D)`` of the NSGT used at ``length``
        (for the sliCQT: of each slice's NSGT; the slicing itself is tight)."""
        return self.plan(length).frame_bounds

    # -- transforms -------------------------------------------------------
    def forward(self, x):
        """Analyse ``x`` ``(..., channels, time)``; returns a list of ``(..., channels, bands_g, frames_g)``."""
        torch_in = _is_torch(x)
        if torch_in and _via_numpy(x):
            import torch
            if x.is_complex():
                raise ParameterError("the NSGT takes real signals; got a complex tensor")
            xn = x.detach().numpy() if x.dtype in (torch.float32, torch.float64) else x.double().numpy()
            return [torch.from_numpy(c) for c in self.forward(xn)]
        x, lead, L = _prepare(x, torch_in)
        R = None
        if not torch_in and not self.sliced and not _plan.has(self._plan_key(L)) and _threads() > 1:
            # build the windows while the signal's FFT runs
            from concurrent.futures import ThreadPoolExecutor

            N = self._length_N(L)
            with ThreadPoolExecutor(max_workers=1) as ex:
                fut = ex.submit(_np_rfft, x, -1, N)
                p = self.plan(L)
                R = fut.result()
        else:
            p = self.plan(L)
        if torch_in:
            groups, _ = p.arrays("torch" if self.sliced else "torch-compact", x.dtype, x.device)
        elif self.sliced:
            groups, _ = p.arrays("numpy", x.dtype)
        if torch_in:
            import torch
            frames = self._frames(x, L, p.N, torch_in)  # (B, S, N)
            R = torch.fft.rfft(frames, dim=-1)
            del frames
            if self.sliced:
                coefs = _analyse_torch(R, groups)
            else:
                coefs = _analyse_torch_compact(R, groups, [(len(g.bands), g.M) for g in p.groups])
            del R
        else:
            cdt = np.complex64 if x.dtype == np.float32 else np.complex128
            if self.sliced:
                rows = self._np_rows(x, L, p.N)
                compact = None
                if p.K > 2 * p.Kc:  # mostly zero padding (matrix form): touch only the supports
                    cg, _ = p.arrays("numpy-sliced-compact", x.dtype)
                    compact = [(r, c, f, w, j) for r, c, f, w, j, _ in cg]
                coefs = _analyse_numpy(rows, x.shape[0], self._slices(L), p.N, groups, cdt, compact)
            else:
                cgroups, _ = p.arrays("numpy-compact", x.dtype)
                shapes = [(len(g.bands), g.M) for g in p.groups]
                coefs = _analyse_numpy_compact(x, p.N, cgroups, shapes, cdt, R)
        out = []
        for C in coefs:
            B, nbg, S, Mg = C.shape
            out.append(C.reshape(lead + (nbg, S * Mg)))
        return out

    def inverse(self, coefficients, length):
        """Synthesise ``(..., channels, length)`` from coefficients shaped as :meth:`forward` returns."""
        length = _check_length(length)
        if not isinstance(coefficients, (list, tuple)) or not coefficients:
            raise ParameterError("coefficients must be a non-empty list of arrays (one per group)")
        p = self.plan(length)
        S = self._slices(length)
        if len(coefficients) != len(p.groups):
            raise ParameterError(f"{self.name}: expected {len(p.groups)} coefficient groups for length {length}, "
                                 f"got {len(coefficients)}")
        torch_in = _is_torch(coefficients[0])
        if torch_in and _via_numpy(coefficients[0]):
            import torch
            return torch.from_numpy(self.inverse([c.detach().resolve_conj().numpy() for c in coefficients], length))
        lead = tuple(coefficients[0].shape[:-2])
        B = int(np.prod(lead)) if lead else 1
        cs = []
        for C, g in zip(coefficients, p.groups):
            want = lead + (len(g.bands), S * g.M)
            if tuple(C.shape) != want:
                raise ParameterError(f"{self.name}: coefficient group of shape {tuple(C.shape)} does not match "
                                     f"length {length} (expected {want})")
            cs.append(C.reshape(B, len(g.bands), S, g.M))
        if torch_in:
            import torch
            cdt = torch.complex64 if cs[0].dtype in (torch.complex64, torch.float32) else torch.complex128
            rdt = torch.float32 if cdt == torch.complex64 else torch.float64
            cs = [c.to(cdt) for c in cs]
            if self.sliced:
                groups, lanes = p.arrays("torch", rdt, cs[0].device)
                y = _synthesise_torch(cs, groups, lanes, p.K, p.N, cdt)
            else:
                groups, lanes = p.arrays("torch-compact", rdt, cs[0].device)
                y = _synthesise_torch_compact(cs, groups, lanes, p.Kc, p.N, cdt)
        else:
            cdt = np.complex64 if np.asarray(cs[0]).dtype in (np.complex64, np.float32) else np.complex128
            rdt = np.float32 if cdt == np.complex64 else np.float64
            cs = [np.asarray(c, dtype=cdt) for c in cs]
            if not self.sliced:
                cgroups, clanes = p.arrays("numpy-compact", rdt)
                y = _synthesise_numpy_compact(cs, cgroups, clanes, p.Kc, p.N, rdt)
                return y[:, :length].reshape(lead + (length,))
            groups, lanes = p.arrays("numpy", rdt)
            emit, finish = self._np_emit(B, S, p.N, length, rdt)
            compact = None
            if p.K > 2 * p.Kc:
                cg, clanes = p.arrays("numpy-sliced-compact", rdt)
                compact = ([(r, c, d) for r, c, _, _, _, d in cg], clanes, p.Kc)
            _synthesise_numpy(cs, groups, lanes, p.K, p.N, rdt, emit, compact)
            return finish().reshape(lead + (length,))
        y = self._overlap_add(y, length, torch_in)  # (B, length)
        return y.reshape(lead + (length,))

    # non-sliced framing: one zero-padded "slice" of length N
    def _frames(self, x, L, N, torch_in):
        if torch_in:
            import torch
            return torch.nn.functional.pad(x, (0, N - L))[:, None, :]
        out = np.zeros((x.shape[0], 1, N), dtype=x.dtype)
        out[:, 0, :L] = x
        return out

    def _overlap_add(self, y, length, torch_in):
        return y[:, 0, :length]

    def _np_rows(self, x, L, N):
        def rows(b, s0, s1):
            buf = np.zeros((1, N), dtype=x.dtype)
            buf[0, :L] = x[b]
            return buf
        return rows

    def _np_emit(self, B, S, N, L, dtype):
        out = np.empty((B, L), dtype=dtype)

        def emit(b, s0, s1, y):
            out[b] = y[0, :L]
        return emit, lambda: out


class SliCQT(NSGT):
    """Sliced constant-Q transform: NSGTs of length ``sllen`` on half-overlapping slices.

    Parameters
    ----------
    (as :class:`NSGT`), and
    sllen : int, optional
        Slice length, a multiple of 4 at least the scale's longest window
        (default from the scale: ``ceil(max_k 8 Q_k sr / f_k)`` rounded up to a
        multiple of 4).
    trlen : int, optional
        Transition length, even, ``0 <= trlen <= sllen / 2`` (default
        ``sllen / 4`` rounded up to an even number).

    Notes
    -----
    Coefficients: ``frames_g = slices * M_g`` (see the module docstring).
    ``name`` always lists ``sllen`` and ``trlen``:
    ``slicq-bark-262-32.9-sllen18060-trlen4516``.
    """

    kind = "slicq"
    sliced = True

    def __init__(self, scale="bark", bins=262, fmin=32.9, fmax=None, *, sample_rate=44100, gamma=0.0,
                 form="ragged", sllen=None, trlen=None):
        super().__init__(scale, bins, fmin, fmax, sample_rate=sample_rate, gamma=gamma, form=form)
        d_sllen, _ = self.scale.suggested_sllen_trlen()
        longest = self.scale.longest_window()
        sllen = d_sllen if sllen is None else _int(sllen, "sllen")
        if sllen % 4 or sllen < 4:
            raise ParameterError(f"sllen must be a positive multiple of 4, got {sllen}")
        if sllen < longest:
            raise ParameterError(
                f"sllen {sllen} is too short for the {self.scale.kind} scale's longest window ({longest} samples); "
                f"valid: sllen >= {longest + (-longest % 4)} (default {d_sllen})")
        if trlen is None:
            trlen = -(-sllen // 4)
            trlen += trlen % 2
        else:
            trlen = _int(trlen, "trlen")
        if trlen % 2 or trlen < 0 or trlen > sllen // 2:
            raise ParameterError(f"trlen must be an even number from 0 to sllen/2 = {sllen // 2}, got {trlen}")
        self.sllen, self.trlen = sllen, trlen
        self.hop = sllen // 2
        # build the plan now: checks the scale fits the slice
        self.plan(1)

    def _name_parts(self):
        return super()._name_parts() + [f"sllen{self.sllen}", f"trlen{self.trlen}"]

    def _spec_extra(self):
        return [f"sllen={self.sllen}", f"trlen={self.trlen}"]

    def _key(self):
        return super()._key() + (self.sllen, self.trlen)

    def _length_N(self, length):
        # slices are zero-padded to a fast FFT length (18060 = 2^2 3 5 7 43 -> 18432 = 2^11 3^2)
        return _next_even_smooth(self.sllen)

    def _slices(self, length):
        return -(-(int(length) + self.trlen) // self.hop)

    def _frames(self, x, L, N, torch_in):
        h = self.hop
        S = self._slices(L)
        a = self.sllen // 4 + self.trlen // 2
        total = (S + 1) * h
        w = _slice_window(self.sllen, self.trlen)
        if torch_in:
            import torch
            xp = torch.nn.functional.pad(x, (a, total - a - L))
            fr = xp.unfold(-1, self.sllen, h) * torch.as_tensor(w, dtype=x.dtype, device=x.device)
            return torch.nn.functional.pad(fr, (0, N - self.sllen))  # (B, S, N)
        xp = np.zeros((x.shape[0], total), dtype=x.dtype)
        xp[:, a:a + L] = x
        fr = np.lib.stride_tricks.sliding_window_view(xp, self.sllen, axis=-1)[:, ::h]
        out = np.zeros(fr.shape[:-1] + (N,), dtype=x.dtype)
        np.multiply(fr, w.astype(x.dtype), out=out[..., :self.sllen])
        return out

    def _overlap_add(self, y, length, torch_in):  # torch path (numpy: _np_emit)
        import torch

        B, S, _ = y.shape
        h = self.hop
        a = self.sllen // 4 + self.trlen // 2
        w = torch.as_tensor(_slice_window(self.sllen, self.trlen), dtype=y.dtype, device=y.device)
        y = (y[..., :self.sllen] * w).view(B, S, 2, h)
        out = torch.zeros((B, S + 1, h), dtype=y.dtype, device=y.device)
        out[:, :S] += y[:, :, 0]
        out[:, 1:] += y[:, :, 1]
        return out.view(B, (S + 1) * h)[:, a:a + length]

    def _np_rows(self, x, L, N):
        h = self.hop
        S = self._slices(L)
        a = self.sllen // 4 + self.trlen // 2
        xp = np.zeros((x.shape[0], (S + 1) * h), dtype=x.dtype)
        xp[:, a:a + L] = x
        w = _slice_window(self.sllen, self.trlen).astype(x.dtype)
        item = xp.itemsize

        def rows(b, s0, s1):
            seg = xp[b, s0 * h:(s1 + 1) * h]
            view = np.lib.stride_tricks.as_strided(seg, (s1 - s0, self.sllen), (h * item, item), writeable=False)
            return view * w
        return rows

    def _np_emit(self, B, S, N, L, dtype):
        """Overlap-add of windowed slices straight into the output: blocks inside a task's
        range are summed there; the two halves meeting at task boundaries are summed at the end."""
        h = self.hop
        a = self.sllen // 4 + self.trlen // 2
        w = _slice_window(self.sllen, self.trlen).astype(dtype)
        out = np.empty((B, S + 1, h), dtype=dtype)
        edges = {}

        def emit(b, s0, s1, y):
            y = y[:, :2 * h]
            y *= w
            np.add(y[1:, :h], y[:-1, h:], out=out[b, s0 + 1:s1])
            edges[(b, s0, 0)] = y[0, :h].copy()
            edges[(b, s1, 1)] = y[-1, h:].copy()

        def finish():
            for b in range(B):
                for j in {j for (bb, j, _) in edges if bb == b}:
                    a0 = edges.get((b, j, 0))
                    a1 = edges.get((b, j, 1))
                    out[b, j] = a0 if a1 is None else (a1 if a0 is None else a0 + a1)
            return out.reshape(B, (S + 1) * h)[:, a:a + L]
        return emit, finish


# ----------------------------------------------------------------------------
#: run torch CPU tensors through torch's own ops instead of the (faster) numpy core
TORCH_NATIVE_CPU = False


def _via_numpy(t):
    """CPU tensors without autograd use the numpy core (zero-copy in and out)."""
    return t.device.type == "cpu" and not TORCH_NATIVE_CPU and not t.requires_grad


def _prepare(x, torch_in):
    if torch_in:
        import torch
        if x.is_complex():
            raise ParameterError("the NSGT takes real signals; got a complex tensor")
        if x.dtype not in (torch.float32, torch.float64):
            x = x.to(torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else torch.float64)
        if x.ndim < 1:
            raise ParameterError("signal must have a time axis, got a scalar")
        lead = tuple(x.shape[:-1])
        L = _check_length(x.shape[-1])
        return x.reshape(-1, L).contiguous(), lead, L
    x = np.asarray(x)
    if np.iscomplexobj(x):
        raise ParameterError("the NSGT takes real signals; got a complex array")
    if x.dtype != np.float32:
        x = x.astype(np.float64, copy=False)
    if x.ndim < 1:
        raise ParameterError("signal must have a time axis, got a scalar")
    lead = x.shape[:-1]
    L = _check_length(x.shape[-1])
    return np.ascontiguousarray(x.reshape(-1, L)), lead, L


def _check_length(length):
    try:
        n = int(length)
    except (TypeError, ValueError):
        raise ParameterError(f"length must be a positive integer, got {length!r}") from None
    if n != length or n < 1:
        raise ParameterError(f"length must be a positive integer, got {length!r}")
    return n


def _int(v, name):
    try:
        f = float(v)
        ok = math.isfinite(f) and f == int(f)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ParameterError(f"{name} must be an integer, got {v!r}")
    return int(f)


def _float(v, name):
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a number, got {v!r}") from None
    if not math.isfinite(f):
        raise ParameterError(f"{name} must be finite, got {v!r}")
    return f


_GRAMMAR = ("nsgt|slicq[:SCALE[:BINS[:FMIN]]] or nsgt|slicq:key=value,... with keys "
            "scale, bins, fmin, fmax, sllen, trlen (slicq only), gamma (vqlog only), form=ragged|matrix")


def from_spec(spec, *, sample_rate=44100):
    """Build an :class:`NSGT` or :class:`SliCQT` from a spec string.

    Grammar::

        nsgt[:SCALE[:BINS[:FMIN]]]        slicq[:SCALE[:BINS[:FMIN]]]
        nsgt:key=value,...                slicq:key=value,...

    Keys: ``scale`` (oct, log, lin, mel, bark, vqlog; default bark), ``bins``
    (default 262; 24 for oct), ``fmin`` (Hz, default 32.9), ``fmax`` (Hz,
    default Nyquist), ``sllen``, ``trlen`` (slicq only; defaults from the
    scale), ``gamma`` (vqlog only, Hz, default 0), ``form`` (ragged or matrix).
    """
    if not isinstance(spec, str):
        raise ParameterError(f"transform spec must be a string, got {spec!r}")
    kind, args = parse_spec_args(spec.strip(), ("scale", "bins", "fmin"))
    if kind not in ("nsgt", "slicq"):
        raise ParameterError(f"not an NSGT spec: {spec!r}; expected {_GRAMMAR}")
    unknown = [k for k in args if k not in _KEYS]
    if unknown:
        raise ParameterError(f"unknown key {unknown[0]!r} in transform spec {spec!r}; valid keys: "
                             f"{', '.join(_KEYS)}")
    if kind == "nsgt" and ("sllen" in args or "trlen" in args):
        raise ParameterError(f"sllen/trlen apply to slicq only, not nsgt (spec {spec!r}); "
                             "use slicq:... for the sliced transform")
    scale = args.get("scale", DEFAULTS["scale"]).lower()
    if scale not in SCALES and scale not in ("cqlog", "octave", "linear", "logarithmic"):
        raise ParameterError(f"unknown scale {scale!r} in transform spec {spec!r}; valid: {', '.join(SCALES)}")
    default_bins = 24 if scale in ("oct", "octave") else DEFAULTS["bins"]
    kw = dict(
        scale=scale,
        bins=_int(args.get("bins", default_bins), "bins"),
        fmin=_float(args.get("fmin", DEFAULTS["fmin"]), "fmin"),
        fmax=_float(args["fmax"], "fmax") if "fmax" in args else None,
        gamma=_float(args.get("gamma", 0.0), "gamma"),
        form=args.get("form", "ragged"),
        sample_rate=sample_rate,
    )
    if kind == "slicq":
        return SliCQT(sllen=args.get("sllen"), trlen=args.get("trlen"), **kw)
    return NSGT(**kw)
