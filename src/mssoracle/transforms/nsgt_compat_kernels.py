"""Factored length-``M`` DFTs of the compat matrix form (host arrays only).

In the matrix form of :mod:`.nsgt_compat` every band's spectrum (``Lg`` bins, often a few dozen)
is zero-padded to the largest window length ``M`` and inverse-FFTed, and the synthesis keeps only
the band's ``Lg`` bins of an FFT of length ``M``.  ``M`` is the package's largest window length, a
multiple of 4 but otherwise arbitrary: with a large prime factor (log 262 bins from 32.9 Hz,
sllen 32768: ``M = 808 = 8 * 101``) the FFTs cost several times those of a smooth length and
dominate the whole transform.  Here such an ``M = P Q`` (``P`` the largest divisor of ``M`` with
prime factors up to 7, ``Q`` the rest) is split Cooley-Tukey fashion so that the zero padding is
never transformed:

* analysis, a band's support at offsets ``d = d1 + P d2`` (``0 <= d1 < P``, ``d2`` in a run of
  ``n`` values, ``n ~ Lg / P + 1``)::

      c[Q m1 + m2] = 1/M sum_d1 e^{2 pi i d1 m1 / P} w^{d1 m2} sum_d2 t[d1 + P d2] e^{2 pi i d2 m2 / Q}

  (``w = e^{2 pi i / M}``): the inner sum is one matrix product ``(.., n) @ (n, Q)`` for all the
  bands with the same ``n``, then a twiddle and ``Q`` inverse FFTs of length ``P`` (smooth);
* synthesis, the transpose: FFTs of length ``P``, the conjugate twiddle, and a product
  ``(.., Q) @ (Q, n)`` that yields only the ``n P`` bins around the band's support.

Cost per band and row about ``M n`` complex multiply-adds instead of an FFT of length ``M``; bands
whose support spans most of ``M`` keep the plain FFT, and the shortest supports (at most
:data:`DIRECT_MAX` bins) are one product with their exact DFT rows, shared by all the bands with the
same offsets (:func:`plan_group`).  The numbers differ
from the plain FFT's by rounding only.  Work is cut into the tasks of
:func:`.nsgt_kernels.chunks` (one row, a run of slices each; planned from the sizes alone, so the
numbers do not depend on the thread budget).
"""

import numpy as np
import scipy.fft as sfft

from .. import threads
from . import nsgt_kernels as kernels

__all__ = ["split_length", "plan_group", "cast", "analyse", "synthesise", "SMOOTH", "DIRECT_MAX"]

#: prime factors an FFT of length ``P`` handles at full speed
SMOOTH = (2, 3, 5, 7)
#: supports of at most this many bins use their exact DFT rows (one product, no FFT)
DIRECT_MAX = 24


def _factors(n):
    out, p = [], 2
    while p * p <= n:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    if n > 1:
        out.append(n)
    return out


def split_length(M):
    """``(P, Q)`` with ``M = P Q``, ``P`` the largest divisor of ``M`` whose prime factors are in
    :data:`SMOOTH`."""
    P = 1
    for f in _factors(int(M)):
        if f in SMOOTH:
            P *= f
    return P, int(M) // P


def _signed(cols, M):
    """Offsets in ``[-M/2, M/2)`` of buffer positions ``cols`` (``d mod M``)."""
    return (np.asarray(cols, dtype=np.int64) + M // 2) % M - M // 2


def _worth(n, P, Q):
    """Whether a band of ``n`` rows of ``P`` is cheaper factored than by a plain FFT of ``P Q``:
    the product costs ``P Q n`` multiply-adds; an FFT of length ``M`` with a prime factor ``Q`` about
    ``M (Q/2 + sum of P's factors)`` (measured on M = 808: factored pays up to n ~ 40)."""
    return Q > 7 and n <= Q and n * 2.5 < Q + 2 * sum(_factors(P))


def plan_group(M, arows, acols, afid, awin, aconj, srows, scols, swin, soff, nbands, sentinel):
    """Tables of the factored kernels for one coefficient group of length ``M``, or None when no
    band gains from them.

    Parameters
    ----------
    M : int
        Coefficients per band.
    arows, acols, afid, awin : ndarray ``(support,)``
        Analysis entries: band row, buffer position (``d mod M``), rfft bin, window (sign included).
    aconj : ndarray
        Positions (into the entries) whose rfft bin is conjugated.
    srows, scols, swin : ndarray ``(ssupport,)``
        Synthesis entries: source band row, FFT bin of the band (``d mod M``), dual weight.
    soff : int
        Offset of the group's synthesis entries in the synthesis buffer.
    nbands : int
        Bands of the group.
    sentinel : int
        An rfft index that reads zero (the kernels append a zero bin at this position).

    Returns
    -------
    dict or None
        ``P``, ``Q``, ``abuckets`` and ``sbuckets`` (lists of per-``n`` tables), ``plain`` (band
        rows left to the plain FFT) with their analysis/synthesis entries.
    """
    P, Q = split_length(M)
    if Q == 1:
        return None
    arows, acols, afid, awin = (np.asarray(a) for a in (arows, acols, afid, awin))
    srows, scols, swin = (np.asarray(a) for a in (srows, scols, swin))
    conj = np.zeros(len(arows), dtype=bool)
    conj[np.asarray(aconj, dtype=np.int64)] = True
    m2 = np.arange(Q)
    d1 = np.arange(P)
    # w^(d1 m2) (analysis; with 1/Q per band below, the inverse FFT of length P brings 1/P); angles
    # reduced in integers first
    base_tw = np.exp(2j * np.pi * (np.outer(d1, m2) % M) / M)
    E = np.exp(2j * np.pi * (np.outer(np.arange(Q), m2) % Q) / Q)  # e^{2 pi i k m2 / Q}, rows k = 0..Q-1

    def runs(rows, cols):
        """Per band row: (lo, n) of its d2 values, None when it has no entries."""
        d = _signed(cols, M)
        d2 = np.floor_divide(d, P)
        out = {}
        for r in np.unique(rows):
            sel = d2[rows == r]
            out[int(r)] = (int(sel.min()), int(sel.max() - sel.min() + 1))
        return out, d - P * d2, d2

    ar, ad1, ad2 = runs(arows, acols)
    sr, sd1, sd2 = runs(srows, scols)
    fact = [r for r in range(nbands) if r in ar and _worth(max(ar[r][1], sr.get(r, (0, 0))[1]), P, Q)]
    if not fact:
        return None
    fset = set(fact)
    plain = np.array([r for r in range(nbands) if r not in fset], dtype=np.int64)

    # the shortest supports: one product with the band's exact DFT rows (the same for every band with
    # the same offsets), no twiddle and no FFT of length P
    adirect, sdirect = {}, {}
    ad = _signed(acols, M)
    sdd = _signed(scols, M)
    afact, sfact = [], []
    for r in fact:
        sel = np.flatnonzero(arows == r)
        key = tuple(np.sort(ad[sel]).tolist())
        (adirect.setdefault(key, []) if len(key) <= DIRECT_MAX else afact).append(r)
        sel = np.flatnonzero(srows == r)
        if len(sel):
            key = tuple(np.unique(sdd[sel]).tolist())
            (sdirect.setdefault(key, []) if len(key) <= DIRECT_MAX else sfact).append(r)
    mm = np.arange(M)
    dbuckets_a = []
    for key, rows in adirect.items():
        offs = np.array(key, dtype=np.int64)
        rows = np.array(rows, dtype=np.int64)
        nb, Lg = len(rows), len(offs)
        idx = np.empty((nb, Lg), dtype=np.int64)
        win = np.empty((nb, Lg))
        sgn = np.empty((nb, Lg))
        for i, r in enumerate(rows):
            sel = np.flatnonzero(arows == r)
            order = np.argsort(ad[sel])
            sel = sel[order]
            idx[i], win[i], sgn[i] = afid[sel], awin[sel], np.where(conj[sel], -1.0, 1.0)
        W = np.exp(2j * np.pi * (np.outer(offs, mm) % M) / M) / M
        dbuckets_a.append(dict(rows=rows, idx=idx, win=win[:, None], sgn=sgn[:, None] if (sgn < 0).any() else None,
                               W=W))
    dbuckets_s = []
    for key, rows in sdirect.items():
        offs = np.array(key, dtype=np.int64)
        rows = np.array(rows, dtype=np.int64)
        ent, flat, pos, w = [], [], [], []
        for i, r in enumerate(rows):
            sel = np.flatnonzero(srows == r)
            ent.append(np.full(len(sel), i))
            flat.append(np.searchsorted(offs, sdd[sel]))
            pos.append(soff + sel)
            w.append(swin[sel])
        WH = np.exp(-2j * np.pi * (np.outer(mm, offs) % M) / M)
        dbuckets_s.append(dict(rows=rows, WH=WH, band=np.concatenate(ent), flat=np.concatenate(flat),
                               pos=np.concatenate(pos), w=np.concatenate(w)))

    abuckets = []
    byn = {}
    for r in afact:
        byn.setdefault(ar[r][1], []).append(r)
    for n, rows in sorted(byn.items()):
        rows = np.array(rows, dtype=np.int64)
        nb = len(rows)
        idx = np.full((nb, P, n), sentinel, dtype=np.int64)
        win = np.zeros((nb, P, n))
        sgn = np.ones((nb, P, n))
        tw = np.empty((nb, P, Q), dtype=complex)
        for i, r in enumerate(rows):
            sel = np.flatnonzero(arows == r)
            lo = ar[int(r)][0]
            k = ad2[sel] - lo
            idx[i, ad1[sel], k] = afid[sel]
            win[i, ad1[sel], k] = awin[sel]
            sgn[i, ad1[sel], k] = np.where(conj[sel], -1.0, 1.0)
            tw[i] = base_tw * (np.exp(2j * np.pi * ((lo * m2) % Q) / Q) / Q)[None, :]
        abuckets.append(dict(rows=rows, n=n, idx=idx.reshape(nb, P * n), win=win.reshape(nb, 1, P, n),
                             sgn=sgn.reshape(nb, 1, P, n) if (sgn < 0).any() else None, tw=tw[:, None],
                             E=np.ascontiguousarray(E[:n])))

    sbuckets = []
    byn = {}
    for r in sfact:
        byn.setdefault(sr[r][1], []).append(r)
    for n, rows in sorted(byn.items()):
        rows = np.array(rows, dtype=np.int64)
        nb = len(rows)
        twc = np.empty((nb, P, Q), dtype=complex)
        ent, flat, pos, w = [], [], [], []
        for i, r in enumerate(rows):
            sel = np.flatnonzero(srows == r)
            lo = sr[int(r)][0]
            twc[i] = np.conj(base_tw) * np.exp(-2j * np.pi * ((lo * m2) % Q) / Q)[None, :]
            ent.append(np.full(len(sel), i))
            flat.append(sd1[sel] * n + (sd2[sel] - lo))
            pos.append(soff + sel)
            w.append(swin[sel])
        sbuckets.append(dict(rows=rows, n=n, twc=twc[:, None], EH=np.ascontiguousarray(np.conj(E[:n]).T),
                             band=np.concatenate(ent), flat=np.concatenate(flat), pos=np.concatenate(pos),
                             w=np.concatenate(w)))

    # the plain FFT's entries, rows renumbered within ``plain``
    where = np.full(nbands, -1, dtype=np.int64)
    where[plain] = np.arange(len(plain))
    asel = np.flatnonzero(np.isin(arows, plain))
    ssel = np.flatnonzero(np.isin(srows, plain))
    plain_a = (where[arows[asel]], acols[asel], afid[asel], awin[asel], np.flatnonzero(conj[asel]))
    plain_s = (where[srows[ssel]], scols[ssel], swin[ssel], soff + ssel)
    return dict(P=P, Q=Q, M=int(M), abuckets=abuckets, sbuckets=sbuckets, adirect=dbuckets_a, sdirect=dbuckets_s, plain=plain, plain_a=plain_a,
                plain_s=plain_s)


def cast(tabs, dtype):
    """The tables with real arrays in ``dtype`` (and complex ones in the matching complex type)."""
    cdt = np.complex64 if dtype == np.float32 else np.complex128
    out = dict(tabs)

    def fix(d):
        d = dict(d)
        for k, v in d.items():
            if isinstance(v, np.ndarray) and v.dtype.kind == "f":
                d[k] = v.astype(dtype)
            elif isinstance(v, np.ndarray) and v.dtype.kind == "c":
                d[k] = v.astype(cdt)
        return d

    out["adirect"] = [fix(b) for b in tabs["adirect"]]
    out["sdirect"] = [fix(b) for b in tabs["sdirect"]]
    out["abuckets"] = [fix(b) for b in tabs["abuckets"]]
    out["sbuckets"] = [fix(b) for b in tabs["sbuckets"]]
    r, c, f, w, cj = tabs["plain_a"]
    out["plain_a"] = (r, c, f, w.astype(dtype), cj)
    r, c, w, pos = tabs["plain_s"]
    out["plain_s"] = (r, c, w.astype(dtype), pos)
    return out



def analyse(rows, B, S, N, tabs, cdtype, out):
    """Matrix-form analysis into ``out (B, bands, S, M)`` (complex, written in full).

    ``rows(b0, b1, s0, s1)`` gives the real windowed slices ``(b1-b0, s1-s0, N)``; ``tabs`` from
    :func:`plan_group` (cast to the dtype by :func:`cast`)."""
    P, Q, M = tabs["P"], tabs["Q"], tabs["M"]
    F = N // 2 + 1
    plain = tabs["plain"]
    pr, pc, pf, pw, pcj = tabs["plain_a"]

    def task(t):
        b0, b1, s0, s1 = t
        sc = s1 - s0
        R = np.empty((b1 - b0, sc, F + 1), dtype=cdtype)
        R[..., :F] = sfft.rfft(rows(b0, b1, s0, s1), n=N, axis=-1, workers=1)
        R[..., F] = 0
        for b in range(b1 - b0):
            Rb = R[b]
            dst = out[b0 + b, :, s0:s1, :]  # (bands, sc, M)
            for bk in tabs["adirect"]:
                nbk = len(bk["rows"])
                A = np.take(Rb, bk["idx"], axis=-1)  # (sc, nbk, Lg)
                A = np.multiply(A.transpose(1, 0, 2), bk["win"])  # (nbk, sc, Lg)
                if bk["sgn"] is not None:
                    A.imag *= bk["sgn"]
                dst[bk["rows"]] = (A.reshape(nbk * sc, -1) @ bk["W"]).reshape(nbk, sc, M)
            for bk in tabs["abuckets"]:
                nbk, n = len(bk["rows"]), bk["n"]
                A = np.take(Rb, bk["idx"], axis=-1)  # (sc, nbk, P n)
                A = np.multiply(A.reshape(sc, nbk, P, n).transpose(1, 0, 2, 3), bk["win"])  # (nbk, sc, P, n)
                if bk["sgn"] is not None:
                    A.imag *= bk["sgn"]
                V = (A.reshape(-1, n) @ bk["E"]).reshape(nbk, sc, P, Q)
                V *= bk["tw"]
                V = sfft.ifft(V, axis=2, overwrite_x=True, workers=1)
                dst[bk["rows"]] = V.reshape(nbk, sc, M)
            if len(plain):
                X = np.take(Rb, pf, axis=-1)  # (sc, support)
                if len(pcj):
                    X[:, pcj] = np.conj(X[:, pcj])
                X *= pw
                buf = np.zeros((len(plain), sc, M), dtype=cdtype)
                buf[pr, :, pc] = X.T
                dst[plain] = sfft.ifft(buf, axis=-1, overwrite_x=True, workers=1)

    with threads.single_threaded_blas():  # one BLAS thread per task (and numbers independent of the budget)
        kernels.run_tasks(task, kernels.chunks(B, S, N))
    return out


def synthesise(coefs, tabs, lanes, K, N, emit):
    """Inverse of :func:`analyse` for ``coefs (B, bands, S, M)``: ``emit(b0, b1, s0, s1, y)``
    receives the real slices ``(b1-b0, s1-s0, N)`` (as :func:`.nsgt_kernels.synthesise`)."""
    P, Q, M = tabs["P"], tabs["Q"], tabs["M"]
    B, _, S, _ = coefs.shape
    cdtype = coefs.dtype
    plain = tabs["plain"]
    pr, pc, pw, ppos = tabs["plain_s"]

    def task(t):
        b0, b1, s0, s1 = t
        sc = s1 - s0
        V = np.empty((b1 - b0, sc, K + 1), dtype=cdtype)
        V[..., K] = 0
        for b in range(b1 - b0):
            src = coefs[b0 + b, :, s0:s1, :]  # (bands, sc, M)
            Vb = V[b]
            for bk in tabs["sdirect"]:
                nbk = len(bk["rows"])
                Z = (src[bk["rows"]].reshape(nbk * sc, M) @ bk["WH"]).reshape(nbk, sc, -1)
                vals = Z[bk["band"], :, bk["flat"]]  # (entries, sc)
                vals *= bk["w"][:, None]
                Vb[:, bk["pos"]] = vals.T
            for bk in tabs["sbuckets"]:
                nbk, n = len(bk["rows"]), bk["n"]
                G = sfft.fft(src[bk["rows"]].reshape(nbk, sc, P, Q), axis=2, overwrite_x=True, workers=1)
                G *= bk["twc"]
                Z = (G.reshape(-1, Q) @ bk["EH"]).reshape(nbk, sc, P * n)
                vals = Z[bk["band"], :, bk["flat"]]  # (entries, sc)
                vals *= bk["w"][:, None]
                Vb[:, bk["pos"]] = vals.T
            if len(plain):
                E = sfft.fft(src[plain], axis=-1, workers=1)  # (nplain, sc, M)
                vals = E[pr, :, pc]  # (entries, sc)
                vals *= pw[:, None]
                Vb[:, ppos] = vals.T
        Z = kernels.sum_lanes(np, V, lanes, N)
        del V
        emit(b0, b1, s0, s1, sfft.irfft(Z, n=N, axis=-1, overwrite_x=True, workers=1))

    with threads.single_threaded_blas():
        kernels.run_tasks(task, kernels.chunks(B, S, N))
