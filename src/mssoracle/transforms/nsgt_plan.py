"""NSGT plans: windows, dual windows and gather tables of one (scale, FFT length, form), and their cache.

See :mod:`mssoracle.transforms.nsgt` for the definition of the transform.  A
:class:`Plan` holds, for the NSGT of length ``N``, every band's support
(positions in its group's ``M``-sample buffer, FFT bins, analysis and dual
window values, which positions to conjugate), the diagonal ``D`` of the frame
operator and the frame bounds, and the synthesis *lanes* (runs of supports that
do not overlap, summed without scatter conflicts).  :data:`PLANS` caches plans,
least recently used first out, bounded by count and by bytes (a non-sliced
plan is as long as the signal, so at most a few of them stay).
"""

import collections
import functools
import math
import threading

import numpy as np

from ..errors import ParameterError
from .. import backend as _backend
from .scales import Scale, plateau

__all__ = ["Plan", "Group", "PlanCache", "PLANS", "next_smooth", "next_even_smooth", "slice_window"]

#: bytes of plans the cache keeps (the newest plan always stays): a 4-minute non-sliced plan is ~0.5 GB
MAX_PLAN_BYTES = 1 << 29


def next_smooth(n):
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


def next_even_smooth(n):
    return 2 * next_smooth(max(1, -(-int(n) // 2)))


# ----------------------------------------------------------------------------
# the plan: windows and index tables for one (scale, N, form)
class Group:
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


class Plan:
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
            M = np.full(nb, next_smooth(max(int(counts.max()), 1)), dtype=np.int64)
        else:
            M = np.array([next_smooth(max(int(k), 1)) for k in counts], dtype=np.int64)
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
            grp = Group()
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

    def arrays(self, kind, dtype, like=None):
        """Window/index tables for the kernels, in the namespace and on the device of ``like``
        (numpy when None) with real ``dtype`` (cached per kind, dtype, namespace and device).

        ``kind``: ``"dense"`` (groups ``(fidx, fwin, dwin, cflat)``, lanes into the ``K + 1`` buffer),
        ``"sliced-compact"`` (groups ``(rows, cols, cfid, cfwin, cconj, cdwin)``, lanes into ``Kc + 1``)
        or ``"compact"`` (groups ``(cpos, cfid, cfwin, cdwin, cconj, coffset)``, lanes into ``Kc + 1``).
        Sparse lanes are ``(None, None, (targets, sources, conj positions))``."""
        host = like is None or isinstance(like, np.ndarray)
        key = (kind, str(dtype), "numpy" if host else f"{type(like).__module__}:{like.device}")
        got = self._cache.get(key)
        if got is not None:
            return got
        if host:
            def t(a, dt=None):
                return a if dt is None else a.astype(dt, copy=False)
        else:
            xp = _backend.namespace(like)

            def t(a, dt=None):
                return _backend.as_like(xp, np.ascontiguousarray(a), dt, like)
        if kind == "dense":
            groups = [(t(g.fidx.ravel()), t(g.fwin, dtype), t(g.dwin, dtype), t(g.cflat)) for g in self.groups]
            lanes = self.lanes
        elif kind == "sliced-compact":
            groups = [(t(g.cpos // g.M), t(g.cpos % g.M), t(g.cfid), t(g.cfwin, dtype), t(np.flatnonzero(g.cconj)),
                       t(g.cdwin, dtype)) for g in self.groups]
            lanes = self.clanes
        elif kind == "compact":
            groups = [(t(g.cpos), t(g.cfid), t(g.cfwin, dtype), t(g.cdwin, dtype), t(np.flatnonzero(g.cconj)),
                       g.coffset) for g in self.groups]
            lanes = self.clanes
        else:
            raise ValueError(f"unknown table kind {kind!r}")
        lanes = [(t(a), t(c), None) if sp is None else (None, None, (t(sp[0]), t(sp[1]), t(np.flatnonzero(sp[2]))))
                 for a, c, sp in lanes]
        got = (groups, lanes)
        self._cache[key] = got
        return got


class PlanCache:
    """Least-recently-used plans, at most ``max_plans`` of them and about ``max_bytes`` in all
    (a non-sliced plan holds tables as long as the signal, so only a few are kept)."""

    def __init__(self, max_plans=32, max_bytes=MAX_PLAN_BYTES):
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
        for groups, lanes in plan._cache.values():  # tables converted for a backend and dtype
            n += sum(getattr(a, "nbytes", 0) for g in groups for a in g)
        return n

    def __call__(self, scale_key, N, matrix):
        key = (scale_key, N, matrix)
        with self._lock:
            plan = self._plans.get(key)
            if plan is not None:
                self._plans.move_to_end(key)
                return plan
        kind, bins, fmin, fmax, sr, gamma = scale_key
        plan = Plan(Scale(kind, bins, fmin, fmax, sample_rate=sr, gamma=gamma), N, matrix)
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


#: plans (windows, duals, tables) per (scale, length, form); ``PLANS.cache_clear()`` empties it
PLANS = PlanCache()


@functools.lru_cache(maxsize=32)
def slice_window(sllen, trlen):
    w = np.zeros(sllen, dtype=np.float64)
    a = sllen // 4 - trlen // 2
    t = (np.arange(trlen) + 0.5) / trlen if trlen else np.zeros(0)
    w[a:a + trlen] = np.sin(0.5 * np.pi * t)
    w[a + trlen:sllen - a - trlen] = 1.0
    w[sllen - a - trlen:sllen - a] = np.cos(0.5 * np.pi * t)
    return w


