"""``compat=nsgt``: the NSGT and sliCQT of the nsgt package 0.19, coefficient for coefficient.

``from_spec("slicq:scale=log,bins=262,fmin=32.9,sllen=32768,trlen=8192,compat=nsgt")`` and
``from_spec("nsgt:scale=mel,bins=100,fmin=20,compat=nsgt")`` build transforms whose float64
coefficients equal those of nsgt 0.19's ``NSGT_sliced`` / ``NSGT`` (``real=True``,
``multichannel=True``) to about 1e-13 relative, and whose inverse is the package's ``backward``
(the same linear map, so masked or modified coefficients reconstruct as the package
reconstructs them).  Written from the clean-room note ``docs/nsgt-compat-rules.md`` (the rules
of the package, restated); no code of the package is used.

Differences from mssoracle's own design (:mod:`.nsgt`), all the package's rules: scale
definitions (0.19's oct/log/lin/mel, the seed's fork's bark/vqlog, Q by the package's numerical
derivative where it uses one), window lengths (sliced: ``4 round(width qvar / 4)``, at least
``min_win``; non-sliced: ``round(width)``, at least 4), windows (sliced: modified 4-term
Blackman-Harris, DC/Nyquist bands flat with a Hann dip; non-sliced: periodic Hann), even centre
bins, coefficient length = window length (ragged) or the largest (matrix), FFT length = signal
length (NSGT) or ``sllen`` (sliCQT), ``ifft`` normalisation ``1/M`` and nothing else, the dual
``g / sum_j M_j g_j^2`` over all bands including the mirrors, ``reducedform`` (0: DC .. Nyquist,
1: without DC and Nyquist, 2: also without the end bands).

Sliced transform
----------------
Slice ``s = 0 .. S-1`` covers samples ``(s - 1) sllen/2 .. (s + 1) sllen/2 - 1`` (zeros outside
the signal), ``S = floor((ceil(length / (sllen/4)) + 1) / 2) + 1``, and is multiplied by the
package's slice window (raised-cosine transitions of ``trlen`` samples at ``sllen/4`` and
``3 sllen/4``, summing to one at hop ``sllen/2``; analysis only).  The package rotates each
windowed slice by ``-+sllen/4`` samples before its FFT and rolls every band's coefficients by
``+-M/4`` afterwards; as the centre bins are even and ``M`` a multiple of 4, the two together are
the sign ``(-1)^(c/2)`` of the band's centre bin ``c`` (a rotation by ``sllen/4`` multiplies bin
``k`` by ``i^k``, a roll by ``M/4`` offset ``d`` of the band by ``i^-d``), which is folded into the
windows here: same numbers, no rotation.  Synthesis: per-slice inverse, overlap-add at hop
``sllen/2`` without a window (the package's ``recwnd=False``).

Layout: as every :class:`~.base.Transform`, a list of groups ``(..., channels, bands_g, frames_g)``;
``form="ragged"`` (the package's ``matrixform=False``) groups the bands with the same ``M`` (in
order of their lowest band), ``form="matrix"`` is one group of all bands with the largest ``M``.
Bands are the package's computed ones in increasing frequency (DC first unless ``reducedform``).
sliCQT: ``frames_g = S M_g``, slice-major (frame ``s M_g + m`` is coefficient ``m`` of slice ``s``
as the package's ``forward`` yields it); NSGT: ``frames_g = M_g``.

Speed: one set of gather/scatter tables per (scale, length, options), cached; the batched kernels
of :mod:`.nsgt_kernels` (all slices of a block in one rfft, the supports gathered, one batched
inverse FFT per group; numpy via scipy.fft on a thread pool, torch on any device), where the
package loops over slices and bands in Python.  The host matrix form with a length ``M`` that has a
large prime factor (log 262 from 32.9 Hz, sllen 32768: ``M = 808 = 8 * 101``) uses the factored
DFTs of :mod:`.nsgt_compat_kernels`, which never transform the zero padding.
"""

import collections
import functools
import math
import re
import threading

import numpy as np

from .. import backend, validators
from ..errors import ParameterError
from . import nsgt_compat_kernels as fkernels
from . import nsgt_kernels as kernels
from .nsgt_signals import (Sliced, SliceStream, check_coefficients, check_signal, format_number, to_numpy,
                           via_numpy)
from .base import BLOCK_SAMPLES, Transform, check_finite

__all__ = ["CompatNSGT", "CompatSliCQT", "CompatSliCQTStream", "COMPAT_SCALES", "package_scale",
           "suggested_sllen_trlen", "from_args", "clear_plans", "parse_name", "is_compat_name", "COMPAT_KEYS",
           "TORCH_NATIVE_CPU"]

#: scales of compat mode: nsgt 0.19's (oct, log, lin, mel) and the seed's fork's (bark, vqlog)
COMPAT_SCALES = ("oct", "log", "lin", "mel", "bark", "vqlog")
#: spec keys that only compat mode takes
COMPAT_KEYS = ("min_win", "qvar", "reducedform")
#: the package's defaults (``NSGT_sliced(min_win=16, Qvar=1, reducedform=0)``; ``NSGT`` fixes min_win 4)
DEFAULT_MIN_WIN, DEFAULT_QVAR, DEFAULT_REDUCED, NSGT_MIN_WIN = 16, 1.0, 0, 4
_REFERENCE_RATE = 44100
_DBND = 1e-8  # step of the package's numerical derivative of the scale (its Q)

#: run torch CPU tensors through torch's ops instead of handing them to the numpy core
TORCH_NATIVE_CPU = False


def _via_numpy(t):
    return via_numpy(t, native=TORCH_NATIVE_CPU)


# ----------------------------------------------------------------------------
# scales: the package's centres and Q, evaluated as it evaluates them (band by band, Python int
# band numbers, float64), so that every integer rounding downstream falls the same way
def _numq(F, k):
    return F(k) * _DBND / (F(k + _DBND) - F(k - _DBND))


def package_scale(kind, fmin, fmax, bins, gamma=0.0):
    """Centre frequencies and Q of the package's scale ``kind`` (nsgt 0.19 / the seed's fork).

    Parameters
    ----------
    kind : str
        One of :data:`COMPAT_SCALES`.
    fmin, fmax : float
        Hz.
    bins : int
        Bands (``oct``: bands per octave).
    gamma : float
        ``vqlog`` only: the offset added to every log centre (Hz).

    Returns
    -------
    f, q : ndarray ``(bands,)`` float64
    """
    fmin, fmax = float(fmin), float(fmax)
    if kind in ("oct", "log", "vqlog"):
        lo, hi = np.log2(fmin), np.log2(fmax)
        n = int(np.ceil((hi - lo) * bins)) + 1 if kind == "oct" else int(bins)
        step = (hi - lo) / (n - 1)
        base, ratio = 2 ** lo, 2 ** step
        if kind == "vqlog":
            g = float(gamma)

            def F(k):
                return base * ratio ** k + g
            q = [_numq(F, k) for k in range(n)]
        else:
            def F(k):
                return base * ratio ** k
            qc = np.sqrt(ratio) / (ratio - 1.0) / 2.0
            q = [qc] * n
    elif kind == "lin":
        n = int(bins)
        df = (fmax - fmin) / (n - 1)

        def F(k):
            return k * df + fmin
        q = [F(k) / (df * 2) for k in range(n)]
    elif kind in ("mel", "bark"):
        n = int(bins)
        if kind == "mel":
            def warp(f):
                return np.log10(f / 700.0 + 1.0) * 2595.0

            def unwarp(m):
                return (np.power(10.0, m / 2595.0) - 1.0) * 700.0
        else:
            def warp(f):
                return 6 * np.arcsinh(f / 600)

            def unwarp(b):
                return 600 * np.sinh(b / 6)
        u0, u1 = warp(fmin), warp(fmax)
        du = (u1 - u0) / (n - 1)

        def F(k):
            return unwarp(k * du + u0)
        q = [_numq(F, k) for k in range(n)]
    else:
        raise ParameterError(f"scale {kind!r} has no nsgt definition; valid in compat mode: "
                             f"{', '.join(COMPAT_SCALES)}")
    f = np.array([F(k) for k in range(n)], dtype=float)
    return f, np.array(q, dtype=float)


def suggested_sllen_trlen(f, q, sample_rate):
    """The seed's fork's ``suggested_sllen`` (``ceil(max 8 sr q / f)`` rounded up to a multiple of 4)
    and ``trlen = ceil(sllen / 4)`` rounded up to an even number."""
    sllen = int(np.ceil(max((q * 8.0 * sample_rate) / f)))
    sllen += -sllen % 4
    trlen = -(-sllen // 4)
    return sllen, trlen + trlen % 2


# ----------------------------------------------------------------------------
# windows and plans
@functools.lru_cache(maxsize=4096)
def _hann(n):
    """The package's periodic Hann window of ``n`` bins, zero-phase (cached, read-only)."""
    r = np.arange(n, dtype=float)
    r *= np.pi * 2.0 / n
    w = (np.cos(r) + 1.0) * 0.5
    w.flags.writeable = False
    return w


@functools.lru_cache(maxsize=4096)
def _blackman_harris(n):
    """The package's modified 4-term Blackman-Harris window of ``n`` bins, zero-phase (cached, read-only:
    bands and their mirrors share lengths)."""
    m = (n // 2) * 2
    k = np.arange(n)
    w = (0.35872 - 0.48832 * np.cos(k * (2 * math.pi / m)) + 0.14128 * np.cos(k * (4 * math.pi / m))
         - 0.01168 * np.cos(k * (6 * math.pi / m)))
    w = np.concatenate((w[-n // 2:], w[:-n // 2]))
    w.flags.writeable = False
    return w


def _slice_window(sllen, trlen):
    """The package's slice window: raised-cosine transitions at ``sllen/4`` and ``3 sllen/4``."""
    q, h = sllen // 4, trlen // 2
    w = _hann(2 * trlen)
    out = np.zeros(sllen)
    out[q - h:q + h] = w[trlen:]
    out[q + h:3 * q - h] = 1.0
    out[3 * q - h:3 * q + h] = w[:trlen]
    return out


class _Group:
    __slots__ = ("bands", "M", "arows", "acols", "afid", "awin", "aconj", "srows", "scols", "swin", "soff")


class CompatPlan:
    """Windows, dual windows and gather/scatter tables of the package's transform of length ``L``.

    Attributes
    ----------
    K : int
        Scale bands kept (those in ``(0, sr/2)``).
    bands : ndarray
        Indices (0 = DC .. K+1 = Nyquist) of the computed bands.
    M : ndarray
        Coefficients per band (after the matrix form), all ``2K + 2`` entries.
    centres : ndarray
        Centre bins, all ``2K + 2`` entries.
    groups : list
        Coefficient groups (bands with the same ``M``).
    """

    def __init__(self, f, q, sr, L, *, sliced, min_win, qvar, matrix, reduced):
        L = int(L)
        nf = sr / 2.0
        lim = np.argmax(f > 0)
        if lim != 0:
            f, q = f[lim:], q[lim:]
        lim = np.argmax(f >= nf)
        if lim != 0:
            f, q = f[:lim], q[:lim]
        K = len(f)
        if K < 2 or reduced * 2 > K + 1:
            raise ParameterError(f"the scale keeps {K} bands below Nyquist; the nsgt transform needs at least 2"
                                 + (f" (and more than {2 * reduced - 1} for reducedform={reduced})" if reduced else ""))
        self.K = K
        fr = np.concatenate(((0.0,), f, (nf,)))
        p = np.concatenate((fr, sr - fr[-2:0:-1]))
        p *= float(L) / sr
        nb = 2 * K + 2
        if sliced:
            Mf = np.zeros(nb)
            Mf[0] = 2 * p[1]
            Mf[1] = p[1] / q[0]
            for k in list(range(2, K)) + [K + 1]:
                Mf[k] = p[k + 1] - p[k - 1]
            Mf[K] = p[K] / q[K - 1]
            Mf[K + 2:] = Mf[K:0:-1]
            Mf *= qvar / 4.0
            M = np.round(Mf).astype(np.int64) * 4
        else:
            M = np.zeros(nb, dtype=np.int64)
            M[0] = np.round(2 * p[1])
            for k in range(1, 2 * K + 1):
                M[k] = np.round(p[k + 1] - p[k - 1])
            M[-1] = np.round(L - p[-2])
        M = np.maximum(M, min_win)
        if sliced:
            g = [_blackman_harris(int(m)) for m in M]
            for kk in (1, K + 2):
                a, b = int(M[kk - 1]), int(M[kk])
                if a > b:
                    w = np.ones(a)
                    w[a // 2 - b // 2:a // 2 + int(math.ceil(b / 2.0))] = _hann(b)
                    g[kk - 1] = w
            c = np.round(p / 2.0).astype(np.int64) * 2
        else:
            g = [_hann(int(m)) for m in M]
            p[K] = (p[K - 1] + p[K + 1]) / 2
            p[K + 2] = L - p[K]
            c = np.round(p).astype(np.int64)
        lens = np.array([len(w) for w in g])
        if lens.max() > L:
            raise ParameterError(f"signal/slice length {L} is shorter than the nsgt transform's longest window "
                                 f"({int(lens.max())} bins); use a longer signal or sllen")
        # positions of the windows on the FFT grid (the package's cumulated shifts; nn = L normally)
        shift = np.concatenate(((np.mod(-c[-1], L),), c[1:] - c[:-1]))
        nn = int(np.cumsum(shift)[-1])
        pos = c - c[0]
        if nn != L:
            raise ParameterError(f"the nsgt band layout does not span the length {L} (got {nn}); "
                                 "use another scale or length")
        self.nn = nn
        comp = np.arange(reduced, K + 2 - reduced)
        if matrix:
            M = np.full(nb, int(M[comp].max()), dtype=np.int64)
        self.M, self.centres, self.bands, self.lengths = M, c, comp, lens
        # offsets d of each window, its bins, and the diagonal of the frame operator (all bands)
        offs = [np.arange(-(n // 2), n - n // 2) for n in lens]
        bins = [np.mod(o + pos[j], nn) for j, o in enumerate(offs)]
        D = np.zeros(nn)
        for j in range(nb):
            D[bins[j]] += M[j] * np.square(g[j][np.mod(offs[j], lens[j])])
        self.D = D
        gd = [g[j] / D[bins[j]][np.mod(np.arange(lens[j]) + lens[j] // 2, lens[j])] for j in range(nb)]
        # sliced: the package's rotation and roll are the sign (-1)^(c/2) of the band (module docstring)
        sign = np.where((c // 2) % 2 == 1, -1.0, 1.0) if sliced else np.ones(nb)
        half = nn // 2
        # coefficient groups
        if matrix:
            order = [list(range(len(comp)))]
        else:
            byM = collections.OrderedDict()
            for r, j in enumerate(comp):
                byM.setdefault(int(M[j]), []).append(r)
            order = list(byM.values())
        where = {}
        self.groups = []
        for gi, rows in enumerate(order):
            grp = _Group()
            grp.bands = np.asarray(rows, dtype=np.int64)
            grp.M = int(M[comp[rows[0]]])
            for r_in, r in enumerate(rows):
                where[int(comp[r])] = (gi, r_in)
            self.groups.append(grp)
        # analysis: band j gathers X[bins] * g at buffer positions d mod M
        per_a = [[] for _ in self.groups]
        for j in comp:
            gi, r = where[int(j)]
            o, b = offs[j], bins[j]
            conj = b > half
            fid = np.where(conj, nn - b, b)
            per_a[gi].append((np.full(len(o), r), np.mod(o, M[j]), fid, g[j][np.mod(o, lens[j])] * sign[j], conj))
        # synthesis: own bands and the mirrors the package rebuilds from them (mirror K+1+i <- band K+1-i),
        # kept where they land on bins 0 .. nn/2 (what the package's irfft reads)
        if reduced:
            mirrors = range(reduced, K + 2 - reduced)
        else:
            mirrors = range(1, K + 1)
        sources = [(int(j), int(j), False) for j in comp] + [(K + 1 + (K + 1 - j), int(j), True) for j in mirrors]
        per_s = [[] for _ in self.groups]
        for band, src, conj in sources:
            gi, r = where[src]
            o, b = offs[band], bins[band]
            keep = b <= half
            if not keep.any():
                continue
            o, b = o[keep], b[keep]
            col = np.mod(-o if conj else o, M[src])
            w = gd[band][np.mod(o, lens[band])] * (M[src] * sign[src])
            per_s[gi].append((np.full(len(o), r), col, b, w, np.full(len(o), conj)))
        runs = []
        Kc = 0
        for grp, a, s in zip(self.groups, per_a, per_s):
            grp.arows, grp.acols, grp.afid, grp.awin, conj = (np.concatenate(v) for v in zip(*a))
            grp.aconj = np.flatnonzero(conj)
            grp.srows, grp.scols, tgt, grp.swin, sconj = (np.concatenate(v) for v in zip(*s)) if s else \
                (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool))
            grp.soff = Kc
            # contiguous target runs (a band's bins break where they wrap)
            if len(tgt):
                brk = np.flatnonzero(np.diff(tgt) != 1) + 1
                for a0, a1 in zip(np.concatenate([[0], brk]), np.concatenate([brk, [len(tgt)]])):
                    runs.append((int(tgt[a0]), int(tgt[a1 - 1]), tgt[a0:a1], np.arange(Kc + a0, Kc + a1),
                                 sconj[a0:a1]))
            Kc += len(tgt)
        self.Kc = Kc
        self.lanes = _lanes(runs, Kc, half + 1)
        self._cache = {}
        self._lock = threading.Lock()

    @property
    def dense_pays(self):
        """Whether the analysis windows cover at least half of their buffers (ragged form: all of them)."""
        return 2 * sum(len(g.afid) for g in self.groups) >= sum(len(g.bands) * g.M for g in self.groups)

    def dense_arrays(self, dtype, like):
        """Dense analysis tables for :func:`~.nsgt_kernels.analyse`: per group ``(rfft index (bands_g * M_g,),
        window (bands_g, M_g), None, conj positions)``, zeros where a window does not reach."""
        key = ("dense", str(dtype), "numpy" if isinstance(like, np.ndarray) else f"{type(like).__module__}:{like.device}")
        with self._lock:
            got = self._cache.get(key)
        if got is not None:
            return got
        host = isinstance(like, np.ndarray)
        xp = backend.namespace(like)
        out = []
        for g in self.groups:
            n = len(g.bands) * g.M
            flat = g.arows * g.M + g.acols
            fidx = np.zeros(n, dtype=np.int64)
            fwin = np.zeros(n)
            fidx[flat] = g.afid
            fwin[flat] = g.awin
            tabs = (fidx, fwin.reshape(len(g.bands), g.M), None, flat[g.aconj])
            if host:
                tabs = (tabs[0], tabs[1].astype(dtype, copy=False), None, tabs[3])
            else:
                tabs = (backend.as_like(xp, tabs[0], None, like), backend.as_like(xp, tabs[1], dtype, like), None,
                        backend.as_like(xp, tabs[3], None, like))
            out.append(tabs)
        with self._lock:
            self._cache[key] = out
        return out

    def factored(self, dtype):
        """Tables of :mod:`.nsgt_compat_kernels` per group (host arrays of real ``dtype``), None for a
        group whose length ``M`` is smooth or whose bands all fill it (the plain FFT is as fast)."""
        key = ("factored", str(dtype))
        with self._lock:
            got = self._cache.get(key)
        if got is not None:
            return got
        tabs = [fkernels.plan_group(g.M, g.arows, g.acols, g.afid, g.awin, g.aconj, g.srows, g.scols, g.swin,
                                    g.soff, len(g.bands), self.nn // 2 + 1) for g in self.groups]
        got = [None if t is None else fkernels.cast(t, np.dtype(dtype).type) for t in tabs]
        with self._lock:
            self._cache[key] = got
        return got

    def arrays(self, dtype, like):
        """Tables in the namespace/device of ``like`` with real ``dtype``: ``(analysis, synthesis, lanes)``;
        analysis per group ``(rows, cols, rfft index, window, conj positions, flat position)``, synthesis
        per group ``(rows, cols, dual weight, flat position, offset)``."""
        host = isinstance(like, np.ndarray)
        key = (str(dtype), "numpy" if host else f"{type(like).__module__}:{like.device}")
        with self._lock:
            got = self._cache.get(key)
        if got is not None:
            return got
        if host:
            def t(a, dt=None):
                return a if dt is None else a.astype(dt, copy=False)
        else:
            xp = backend.namespace(like)

            def t(a, dt=None):
                return backend.as_like(xp, np.ascontiguousarray(a), dt, like)
        ana = [(t(g.arows), t(g.acols), t(g.afid), t(g.awin, dtype), t(g.aconj), t(g.arows * g.M + g.acols))
               for g in self.groups]
        syn = [(t(g.srows), t(g.scols), t(g.swin, dtype), t(g.srows * g.M + g.scols), g.soff) for g in self.groups]
        lanes = [(t(a), t(c), None) if sp is None else (None, None, (t(sp[0]), t(sp[1]), t(sp[2])))
                 for a, c, sp in self.lanes]
        got = (ana, syn, lanes)
        with self._lock:
            self._cache[key] = got
        return got


def _lanes(runs, sentinel, F):
    """Synthesis lanes for :func:`~.nsgt_kernels.sum_lanes`: runs ``(lo, hi, targets, sources, conj)``
    coloured so that no two runs of a lane share a target; small lanes sparse."""
    ends, groups = [], []
    for run in sorted(runs, key=lambda r: r[0]):
        for i, e in enumerate(ends):
            if e < run[0]:
                ends[i] = run[1]
                groups[i].append(run)
                break
        else:
            ends.append(run[1])
            groups.append([run])
    groups.sort(key=lambda rs: -sum(len(r[2]) for r in rs))
    lanes = []
    for i, rs in enumerate(groups):
        tgt = np.concatenate([r[2] for r in rs])
        src = np.concatenate([r[3] for r in rs])
        cj = np.concatenate([r[4] for r in rs])
        if i and len(tgt) * 8 < F:
            lanes.append((None, None, (tgt, src, np.flatnonzero(cj))))
            continue
        s = np.full(F, sentinel, dtype=np.int64)
        s[tgt] = src
        lanes.append((s, tgt[cj], None))
    if not lanes:
        lanes.append((np.full(F, sentinel, dtype=np.int64), np.zeros(0, np.int64), None))
    return lanes


@functools.lru_cache(maxsize=16)
def _plan(scale_key, L, sliced, min_win, qvar, matrix, reduced):
    kind, bins, fmin, fmax, sr, gamma = scale_key
    f, q = package_scale(kind, fmin, fmax, bins, gamma)
    return CompatPlan(f, q, sr, L, sliced=sliced, min_win=min_win, qvar=qvar, matrix=matrix, reduced=reduced)


# ----------------------------------------------------------------------------
def clear_plans():
    """Empty the caches of compat plans and windows (benchmarks time the window construction)."""
    _plan.cache_clear()
    _hann.cache_clear()
    _blackman_harris.cache_clear()


def _shape_only(nbg, M):
    """An array of shape ``(nbg, M)`` without memory (the kernels read only the shapes of their dense
    tables when given compact ones)."""
    return np.broadcast_to(np.float64(0.0), (nbg, M))


class CompatNSGT(Transform):
    """nsgt 0.19's ``NSGT`` (whole signal, ``real=True``) behind the :class:`~.base.Transform` interface.

    Parameters
    ----------
    scale : str
        One of :data:`COMPAT_SCALES` (``cqlog`` is ``log``).
    bins : int
        Bands (``oct``: per octave, default 24; others default 262).
    fmin : float
        Lowest centre (Hz, > 0).
    fmax : float, optional
        Highest centre (Hz), default Nyquist (the package then drops that band: its Nyquist band
        stands for it).
    sample_rate : int
    gamma : float
        ``vqlog`` only: the fork's offset added to every centre (Hz).
    form : ``"ragged"`` or ``"matrix"``
        The package's ``matrixform``.
    reducedform : {0, 1, 2}
        Computed bands: DC .. Nyquist (0), without DC and Nyquist (1), also without the end bands (2).

    Attributes
    ----------
    name : str
        e.g. ``nsgt-mel-100-20-compatnsgt`` (``-reducedR`` when not 0).
    spec : str
        e.g. ``nsgt:scale=mel,bins=100,fmin=20,compat=nsgt``.
    frequencies : ndarray ``(bands,)``
        Centre of every computed band (Hz; the non-sliced package moves its last scale band halfway
        to Nyquist: the frequency given is the scale's).

    Notes
    -----
    The FFT length is the signal length, so a plan (windows, duals, tables) is built per length
    (cached) and :meth:`stream` is one whole-signal block.
    """

    #: this module's torch CPU rule (``TORCH_NATIVE_CPU``), for :class:`.nsgt_signals.Sliced`
    _via_numpy = staticmethod(_via_numpy)

    kind = "nsgt"
    sliced = False

    def __init__(self, scale="bark", bins=262, fmin=32.9, fmax=None, *, sample_rate=44100, gamma=0.0,
                 form="ragged", reducedform=DEFAULT_REDUCED, min_win=None, qvar=None):
        self.sample_rate = validators.sample_rate(sample_rate)
        self._args = dict(scale=scale, bins=bins, fmin=fmin, fmax=fmax, gamma=gamma, form=form,
                          reducedform=reducedform, min_win=min_win, qvar=qvar)
        kind = str(scale).strip().lower()
        if kind == "cqlog":
            kind = "log"
        if kind not in COMPAT_SCALES:
            raise ParameterError(f"scale {scale!r} has no nsgt definition (compat=nsgt); valid: "
                                 f"{', '.join(COMPAT_SCALES)}")
        self.scale_kind = kind
        self.bins = validators.integer(bins, "bins", minimum=2 if kind != "oct" else 1)
        nyq = self.sample_rate / 2
        self.fmin = validators.number(fmin, "fmin", minimum=0, strict=True)
        self.fmax = nyq if fmax is None else validators.number(fmax, "fmax", minimum=self.fmin, maximum=nyq,
                                                               strict=False)
        if self.fmax <= self.fmin:
            raise ParameterError(f"fmax must be above fmin = {self.fmin:g} Hz, got {self.fmax:g}")
        self.gamma = validators.number(gamma, "gamma", minimum=0)
        if self.gamma and kind != "vqlog":
            raise ParameterError(f"gamma applies to the vqlog scale only, not {kind}")
        form = str(form).strip().lower()
        if form not in ("ragged", "matrix"):
            raise ParameterError(f"form must be ragged or matrix, got {form!r}")
        self.form = form
        self.reducedform = validators.integer(reducedform, "reducedform", minimum=0, maximum=2)
        self._set_windows(min_win, qvar)
        self._scale_key = (kind, self.bins, self.fmin, self.fmax, float(self.sample_rate), self.gamma)
        self._f, self._q = package_scale(kind, self.fmin, self.fmax, self.bins, self.gamma)
        self.plan(self._check_length())

    def _set_windows(self, min_win, qvar):
        if min_win is not None or qvar is not None:
            raise ParameterError("min_win and qvar apply to slicq:...,compat=nsgt only (nsgt 0.19's NSGT fixes "
                                 "min_win=4 and has no qvar)")
        self.min_win, self.qvar = NSGT_MIN_WIN, 1.0

    def _check_length(self):
        return max(4096, int(self.sample_rate))

    @property
    def frequencies(self):
        p = self.plan(self._check_length())
        nf = self.sample_rate / 2.0
        f = self._f[(self._f > 0) & (self._f < nf)][:p.K]
        return np.concatenate(([0.0], f, [nf]))[p.bands]

    def at_rate(self, sample_rate):
        sr = validators.sample_rate(sample_rate)
        if sr == self.sample_rate:
            return self
        return type(self)(**self._args, sample_rate=sr)

    # -- naming --------------------------------------------------------------
    def _head(self):
        parts = [self.kind, self.scale_kind, str(self.bins), format_number(self.fmin)]
        if self.fmax != self.sample_rate / 2:
            parts.append("fmax" + format_number(self.fmax))
        elif self.sample_rate != _REFERENCE_RATE:
            parts.append(f"sr{self.sample_rate}")
        if self.gamma:
            parts.append("gamma" + format_number(self.gamma))
        return parts

    def _slice_parts(self):
        return []

    def _option_parts(self):
        return [f"reduced{self.reducedform}"] if self.reducedform else []

    @property
    def name(self):
        parts = self._head() + self._slice_parts()
        if self.form != "ragged":
            parts.append(self.form)
        return "-".join(parts + ["compatnsgt"] + self._option_parts())

    def _spec_options(self):
        return [f"reducedform={self.reducedform}"] if self.reducedform else []

    @property
    def spec(self):
        items = [f"scale={self.scale_kind}", f"bins={self.bins}", f"fmin={format_number(self.fmin)}"]
        if self.fmax != self.sample_rate / 2:
            items.append(f"fmax={format_number(self.fmax)}")
        items += [f"{k}={v}" for k, v in self._slice_items()]
        if self.gamma:
            items.append(f"gamma={format_number(self.gamma)}")
        if self.form != "ragged":
            items.append(f"form={self.form}")
        items.append("compat=nsgt")
        return f"{self.kind}:" + ",".join(items + self._spec_options())

    def _slice_items(self):
        return []

    def _key(self):
        return (type(self).__name__, self._scale_key, self.form, self.reducedform, self.min_win, self.qvar)

    def __eq__(self, other):
        return type(other) is type(self) and other._key() == self._key()

    def __hash__(self):
        return hash(self._key())

    # -- layout -----------------------------------------------------------------
    def plan(self, length):
        """The cached :class:`CompatPlan` for signals of ``length`` samples."""
        return _plan(self._scale_key, int(length), self.sliced, self.min_win, self.qvar, self.form == "matrix",
                     self.reducedform)

    def _plan_for(self, length):
        return self.plan(length)

    def n_slices(self, length):
        return 1

    def frames(self, length):
        S = self.n_slices(length)
        return [S * g.M for g in self._plan_for(length).groups]

    def layout(self, length):
        """Per group: ``bands`` (positions among the computed bands), ``frequencies`` (Hz), ``M``,
        ``frames`` and ``hop`` (samples between coefficients of one slice)."""
        p = self._plan_for(length)
        S = self.n_slices(length)
        fr = self.frequencies
        return [{"bands": g.bands.copy(), "frequencies": fr[g.bands], "M": g.M, "frames": S * g.M,
                 "hop": p.nn / g.M} for g in p.groups]

    def frame_bounds(self, length):
        """``(min D, max D)``, the diagonal of the package's frame operator (its own normalisation)."""
        D = self._plan_for(length).D
        return float(D.min()), float(D.max())

    def _coefficients(self, coefficients, length, slices):
        """Checked coefficient groups (:func:`.nsgt_signals.check_coefficients`)."""
        return check_coefficients(coefficients, self._plan_for(length).groups, length, slices, self.name)

    # -- transforms -------------------------------------------------------------
    def forward(self, x):
        """Analyse ``x (..., channels, time)``: list of ``(..., channels, bands_g, M_g)``."""
        if backend.is_torch(x) and _via_numpy(x):
            import torch

            check_signal(x)
            return [torch.from_numpy(c) for c in self.forward(to_numpy(x))]
        x = check_signal(x)
        check_finite(x, self.name)
        xp = backend.namespace(x)
        L = x.shape[-1]
        lead = tuple(x.shape[:-1])
        x2 = xp.reshape(x, (-1, L))
        p = self.plan(L)
        R = backend.fft(xp).rfft(x2, n=L)
        cdt = xp.complex64 if x2.dtype == xp.float32 else xp.complex128
        ana, _, _ = p.arrays(x2.dtype, x2)
        cg = [(flat, fid, win, None, conj, None) for _, _, fid, win, conj, flat in ana]
        coefs = kernels.analyse_compact(R, cg, [(len(g.bands), g.M) for g in p.groups], cdt)
        return [xp.reshape(C, lead + (C.shape[1], C.shape[3])) for C in coefs]

    def inverse(self, coefficients, length):
        """The package's ``backward``: ``(..., channels, length)`` from coefficients shaped as
        :meth:`forward` returns (any coefficients: the same linear map)."""
        length = validators.length(length, "length", minimum=1)
        if isinstance(coefficients, (list, tuple)) and coefficients and backend.is_torch(coefficients[0]) \
                and _via_numpy(coefficients[0]):
            import torch

            return torch.from_numpy(self.inverse([to_numpy(c) for c in coefficients], length))
        cs, lead, cdt = self._coefficients(coefficients, length, 1)
        p = self.plan(length)
        xp = backend.namespace(cs[0])
        rdt = backend.real_dtype_of(xp, cdt)
        _, syn, lanes = p.arrays(rdt, cs[0])
        cg = [(flat, None, None, w, None, off) for _, _, w, flat, off in syn]
        y = kernels.synthesise_compact(cs, cg, lanes, p.Kc, p.nn, rdt)
        return xp.reshape(y[:, :length], lead + (length,))


class CompatSliCQT(Sliced, CompatNSGT):
    """nsgt 0.19's ``NSGT_sliced`` (``real=True``, ``recwnd=False``) behind the Transform interface.

    Parameters
    ----------
    (as :class:`CompatNSGT`), and
    sllen : int, optional
        Slice length, a multiple of 4 (default: the fork's ``suggested_sllen`` of the scale).
    trlen : int, optional
        Transition length, even, ``< sllen / 2`` (default ``ceil(sllen/4)`` rounded up to even).
    min_win : int
        Smallest window, a positive multiple of 4 (default 16; the package's coefficient rolls
        by ``M/4`` need ``M`` divisible by 4).
    qvar : float
        The package's ``Qvar`` (> 0, default 1): window lengths scale by it.

    Notes
    -----
    ``frames_g = slices * M_g`` (slice-major).  :meth:`stream` gives blocks of whole slices
    (overlap-added by the stream).
    """

    kind = "slicq"
    sliced = True

    def __init__(self, scale="bark", bins=262, fmin=32.9, fmax=None, *, sample_rate=44100, gamma=0.0,
                 form="ragged", reducedform=DEFAULT_REDUCED, min_win=None, qvar=None, sllen=None, trlen=None):
        self._sl = (sllen, trlen)
        super().__init__(scale, bins, fmin, fmax, sample_rate=sample_rate, gamma=gamma, form=form,
                         reducedform=reducedform, min_win=min_win, qvar=qvar)
        self._args.update(sllen=sllen, trlen=trlen)

    def _set_windows(self, min_win, qvar):
        mw = DEFAULT_MIN_WIN if min_win is None else validators.integer(min_win, "min_win", minimum=4)
        if mw % 4:
            raise ParameterError(f"min_win must be a positive multiple of 4 (the package rolls every band's "
                                 f"coefficients by M/4), got {mw}")
        qv = DEFAULT_QVAR if qvar is None else validators.number(qvar, "qvar", minimum=0, strict=True)
        self.min_win, self.qvar = mw, float(qv)

    def _check_length(self):
        # also resolves sllen/trlen (needs the scale)
        f, q = package_scale(self.scale_kind, self.fmin, self.fmax, self.bins, self.gamma)
        d_sl, _ = suggested_sllen_trlen(f, q, self.sample_rate)
        sllen, trlen = self._sl
        sllen = d_sl if sllen is None else validators.integer(sllen, "sllen", minimum=4)
        if sllen % 4:
            raise ParameterError(f"sllen must be a positive multiple of 4, got {sllen}")
        if trlen is None:
            trlen = -(-sllen // 4)
            trlen += trlen % 2
        else:
            trlen = validators.integer(trlen, "trlen", minimum=0)
        if trlen % 2 or trlen * 2 >= sllen:
            raise ParameterError(f"trlen must be an even number from 0 to below sllen/2 = {sllen // 2}, got {trlen}")
        self.sllen, self.trlen = sllen, trlen
        self.hop = sllen // 2
        self.offset = sllen // 2
        return sllen

    def _slice_parts(self):
        return [f"sllen{self.sllen}", f"trlen{self.trlen}"]

    def _slice_items(self):
        return [("sllen", self.sllen), ("trlen", self.trlen)]

    def _option_parts(self):
        parts = []
        if self.min_win != DEFAULT_MIN_WIN:
            parts.append(f"minwin{self.min_win}")
        if self.qvar != DEFAULT_QVAR:
            parts.append("qvar" + format_number(self.qvar))
        return parts + super()._option_parts()

    def _spec_options(self):
        items = []
        if self.min_win != DEFAULT_MIN_WIN:
            items.append(f"min_win={self.min_win}")
        if self.qvar != DEFAULT_QVAR:
            items.append(f"qvar={format_number(self.qvar)}")
        return items + super()._spec_options()

    def _key(self):
        return super()._key() + (self.sllen, self.trlen)

    def _plan_for(self, length):
        return self.plan(self.sllen)

    def n_slices(self, length):
        """The package's slice count ``floor((ceil(length / (sllen/4)) + 1) / 2) + 1``."""
        nb = -(-int(length) // (self.sllen // 4))
        return (nb + 1) // 2 + 1

    @property
    def slices_per_block(self):
        return max(1, BLOCK_SAMPLES // self.hop)

    def _window(self, xp, dtype, like):
        return backend.as_like(xp, _slice_window(self.sllen, self.trlen), dtype, like)

    def _segment(self, x, s0, s1):
        h, L = self.hop, x.shape[-1]
        lead = tuple(x.shape[:-1])
        start = s0 * h - self.offset
        span = (s1 - s0 + 1) * h
        xp = backend.namespace(x)
        seg = backend.zeros(xp, lead + (span,), x.dtype, x)
        a, b = max(start, 0), min(start + span, L)
        if b > a:
            seg[..., a - start:b - start] = x[..., a:b]
        return xp.reshape(seg, (-1, span))

    def _analyse(self, x, s0, s1):
        lead = tuple(x.shape[:-1])
        p = self.plan(self.sllen)
        ns, h, N = s1 - s0, self.hop, self.sllen
        seg = self._segment(x, s0, s1)
        B = seg.shape[0]
        xp = backend.namespace(x)
        w = self._window(xp, x.dtype, x)

        def rows(b0, b1, r0, r1):
            return backend.frames(xp, seg[b0:b1, r0 * h:(r1 + 1) * h], N, h) * w

        cdt = xp.complex64 if x.dtype == xp.float32 else xp.complex128
        fac = None if p.dense_pays or not isinstance(x, np.ndarray) else p.factored(x.dtype)
        if fac is not None and len(p.groups) == 1 and fac[0] is not None:
            # matrix form of a length M with a large prime factor: factored DFTs skip the zero padding
            g = p.groups[0]
            C = np.empty((B, len(g.bands), ns, g.M), dtype=cdt)
            coefs = [fkernels.analyse(rows, B, ns, N, fac[0], cdt, C)]
        elif p.dense_pays:  # ragged: the windows fill their buffers; gather straight into them
            coefs = kernels.analyse(rows, B, ns, N, p.dense_arrays(x.dtype, x), cdt, x, None)
        else:  # matrix: mostly zero padding; gather and scatter only the supports
            ana, _, _ = p.arrays(x.dtype, x)
            shapes = [(None, _shape_only(len(g.bands), g.M), None, None) for g in p.groups]
            compact = [(r, c, fid, win, conj) for r, c, fid, win, conj, _ in ana]
            coefs = kernels.analyse(rows, B, ns, N, shapes, cdt, x, compact)
        return [xp.reshape(C, lead + (C.shape[1], ns * C.shape[3])) for C in coefs]

    def _synthesise(self, cs, cdt):
        p = self.plan(self.sllen)
        B, _, ns, _ = cs[0].shape
        h = self.hop
        xp = backend.namespace(cs[0])
        rdt = backend.real_dtype_of(xp, cdt)
        _, syn, lanes = p.arrays(rdt, cs[0])
        shapes = [(None, None, _shape_only(len(g.bands), g.M), None) for g in p.groups]
        compact = ([(r, c, w) for r, c, w, _, _ in syn], lanes, p.Kc)
        out = backend.empty(xp, (B, ns + 1, h), rdt, cs[0])
        edges = {}

        def emit(b0, b1, r0, r1, yy):
            backend.add(xp, yy[:, 1:, :h], yy[:, :-1, h:], out=out[b0:b1, r0 + 1:r1])
            edges[(b0, b1, r0, 0)] = backend.copy(yy[:, 0, :h])
            edges[(b0, b1, r1, 1)] = backend.copy(yy[:, -1, h:])

        fac = p.factored(rdt) if isinstance(cs[0], np.ndarray) and not p.dense_pays else None
        if fac is not None and len(cs) == 1 and fac[0] is not None:
            fkernels.synthesise(cs[0], fac[0], lanes, p.Kc, self.sllen, emit)
        else:
            kernels.synthesise(cs, shapes, None, p.Kc, self.sllen, emit, compact)
        for (b0, b1, j, half), v in edges.items():
            if half == 0:
                other = edges.get((b0, b1, j, 1))
                out[b0:b1, j] = v if other is None else v + other
            elif (b0, b1, j, 0) not in edges:
                out[b0:b1, j] = v
        return xp.reshape(out, (B, (ns + 1) * h))


#: the stream of :class:`CompatSliCQT` (blocks of whole slices; :class:`.nsgt_signals.SliceStream`)
CompatSliCQTStream = SliceStream


# ----------------------------------------------------------------------------
# specs and names
def from_args(kind, args, spec, *, sample_rate, default_bins):
    """The compat transform of a parsed spec (``args``: the spec's keys, ``compat`` included)."""
    compat = args.get("compat", "").strip().lower()
    if compat != "nsgt":
        raise ParameterError(f"compat={args.get('compat')!r} in transform spec {spec!r}: the only valid value is nsgt")
    scale = args.get("scale", "bark").strip().lower()
    if scale == "cqlog":
        scale = "log"
    if scale not in COMPAT_SCALES:
        raise ParameterError(f"scale {scale!r} in transform spec {spec!r} has no nsgt definition (compat=nsgt); "
                             f"valid: {', '.join(COMPAT_SCALES)}")
    kw = dict(scale=scale, bins=validators.integer(args.get("bins", default_bins(scale)), "bins"),
              fmin=validators.number(args.get("fmin", 32.9), "fmin"),
              fmax=validators.number(args["fmax"], "fmax") if "fmax" in args else None,
              gamma=validators.number(args.get("gamma", 0.0), "gamma"),
              form=args.get("form", "ragged"), sample_rate=sample_rate,
              reducedform=args.get("reducedform", DEFAULT_REDUCED),
              min_win=args.get("min_win"), qvar=args.get("qvar"))
    if kind == "slicq":
        return CompatSliCQT(sllen=args.get("sllen"), trlen=args.get("trlen"), **kw)
    return CompatNSGT(**kw)


_NUM = r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e-?[0-9]+)?"
_NAME = re.compile(
    rf"^(?P<kind>nsgt|slicq)-(?P<scale>{'|'.join(COMPAT_SCALES)})-(?P<bins>[1-9][0-9]*)-(?P<fmin>{_NUM})"
    rf"(?:-fmax(?P<fmax>{_NUM})|-sr(?P<sr>[1-9][0-9]*))?(?:-gamma(?P<gamma>{_NUM}))?"
    r"(?:-sllen(?P<sllen>[1-9][0-9]*)-trlen(?P<trlen>0|[1-9][0-9]*))?(?:-(?P<form>matrix))?-compatnsgt"
    rf"(?:-minwin(?P<minwin>[1-9][0-9]*))?(?:-qvar(?P<qvar>{_NUM}))?(?:-reduced(?P<reduced>[12]))?$")
_USAGE = ("nsgt|slicq-SCALE-BINS-FMIN[-fmaxF|-srRATE][-gammaG][-sllenS-trlenT][-matrix]-compatnsgt"
          "[-minwinN][-qvarQ][-reducedR] (e.g. slicq-bark-262-32.9-sllen18060-trlen4516-compatnsgt)")


def is_compat_name(name):
    """Whether ``name`` is a compat transform's name (it holds ``-compatnsgt``)."""
    return isinstance(name, str) and "-compatnsgt" in name


def parse_name(name, *, sample_rate=None):
    """The compat transform whose :attr:`~CompatNSGT.name` is ``name`` (rates as
    :func:`mssoracle.transforms.nsgt.parse_name`)."""
    m = _NAME.match(name) if isinstance(name, str) else None
    if m is None:
        raise ParameterError(f"transform name {name!r} is not a compat=nsgt name; expected {_USAGE}")
    g = m.groupdict()
    if (g["kind"] == "slicq") != (g["sllen"] is not None):
        raise ParameterError(f"transform name {name!r}: sllen/trlen are given for slicq names only, and always")
    if g["sr"] is not None:
        rate = int(g["sr"])
    elif g["fmax"] is None:
        rate = _REFERENCE_RATE
    else:
        rate = _REFERENCE_RATE if sample_rate is None else sample_rate
    kw = dict(scale=g["scale"], bins=int(g["bins"]), fmin=float(g["fmin"]),
              fmax=None if g["fmax"] is None else float(g["fmax"]), gamma=float(g["gamma"] or 0.0),
              form=g["form"] or "ragged", sample_rate=rate, reducedform=int(g["reduced"] or 0))
    if g["kind"] == "slicq":
        return CompatSliCQT(sllen=int(g["sllen"]), trlen=int(g["trlen"]),
                            min_win=None if g["minwin"] is None else int(g["minwin"]),
                            qvar=None if g["qvar"] is None else float(g["qvar"]), **kw)
    if g["minwin"] is not None or g["qvar"] is not None:
        raise ParameterError(f"transform name {name!r}: minwin/qvar apply to slicq names only")
    return CompatNSGT(**kw)
