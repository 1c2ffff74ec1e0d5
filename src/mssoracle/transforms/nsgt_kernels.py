"""NSGT kernels: batched analysis and synthesis of spectra with a :class:`~.nsgt_plan.Plan`'s tables.

numpy kernels (scipy.fft; the sliced ones work on blocks of slices on a thread
pool of :func:`mssoracle.threads.budget` threads, one FFT thread per task; the
compact ones gather and scatter only each band's support) and their torch
twins (``index_select`` and batched ``torch.fft``, for CUDA tensors).  Tasks are
planned from the sizes alone and every task writes its own part of the output,
so the numbers do not depend on the thread budget.
"""

import numpy as np
import scipy.fft as _sfft

from .. import threads

__all__ = ["run_tasks", "chunks", "analyse_numpy", "synthesise_numpy", "analyse_numpy_compact",
           "synthesise_numpy_compact", "sum_lanes", "analyse_torch", "synthesise_torch", "torch_lanes_irfft",
           "analyse_torch_compact", "synthesise_torch_compact", "np_rfft", "np_irfft", "np_fft", "np_ifft_inplace"]

#: samples per task buffer of the numpy backend (rows of a chunk ~ this / N)
CHUNK_SAMPLES = 1 << 20
#: the slices of all rows are split into at least this many tasks (when there are that many slices)
MIN_TASKS = 8
#: the non-sliced kernels split the groups of one row into this many tasks
GROUP_PARTS = 4


def np_rfft(x, workers=1, n=None):
    return _sfft.rfft(x, n=n, axis=-1, workers=workers)


def np_irfft(x, n, workers=1):
    return _sfft.irfft(x, n=n, axis=-1, workers=workers, overwrite_x=True)


def np_fft(x, workers=1):
    return _sfft.fft(x, axis=-1, workers=workers)


def np_ifft_inplace(x, workers=1):
    return _sfft.ifft(x, axis=-1, workers=workers, overwrite_x=True)


# ----------------------------------------------------------------------------
# core: batched NSGT of spectra R (B, S, F) -> groups (B, bands_g, S, M_g), and back
def run_tasks(fn, tasks):
    """Run ``fn(task)`` for every task, on a thread pool when there are several cores.

    The work inside is numpy/scipy calls that release the GIL; each task's FFTs
    use one thread."""
    n = threads.budget()
    if n == 1 or len(tasks) == 1:
        for t in tasks:
            fn(t)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(n, len(tasks))) as ex:
        for _ in ex.map(fn, tasks):
            pass


def chunks(B, S, N):
    """(b, s0, s1) tasks whose rows (slices) fill about a cache-sized buffer.

    Planned from the sizes alone (never from the thread budget), so results are
    the same whatever the budget: at least :data:`MIN_TASKS` tasks in all when
    there are that many slices."""
    per = max(1, CHUNK_SAMPLES // max(N, 1))
    if S > 1:
        per = min(per, max(1, -(-S * B // MIN_TASKS)))
    return [(b, s0, min(S, s0 + per)) for b in range(B) for s0 in range(0, S, per)]


def analyse_numpy(rows, B, S, N, groups, cdtype, compact=None):
    """NSGT of the rows given by ``rows(b, s0, s1) -> (s1-s0, sllen)`` real frames (zero-padded
    to ``N``).  ``compact``: the compact tables, used when the bands' buffers are mostly zero
    padding (matrix form): only the supports are gathered and scattered.

    Returns the groups as ``(B, bands_g, S, M_g)`` arrays."""
    out = [np.empty((B, fwin.shape[0], S, fwin.shape[1]), dtype=cdtype) for _, fwin, _, _ in groups]

    def task(t):
        b, s0, s1 = t
        sc = s1 - s0
        R = np_rfft(rows(b, s0, s1), 1, N)
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
            res = np_ifft_inplace(dst, 1)
            if res is not dst and not np.shares_memory(res, dst):  # pragma: no cover
                dst[...] = res

    run_tasks(task, chunks(B, S, N))
    return out


def synthesise_numpy(coefs, groups, lanes, K, N, rdtype, emit, compact=None):
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
            E = np_fft(C[b, :, s0:s1, :], 1)  # (nbg, sc, Mg)
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
        Z = sum_lanes(V, lanes, N)
        del V
        emit(b, s0, s1, np_irfft(Z, N, 1))

    run_tasks(task, chunks(B, S, N))


def group_chunks(groups, sizes, parts):
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


def analyse_numpy_compact(x, N, cgroups, shapes, cdtype, R=None):
    """Non-sliced NSGT of ``x`` (B, L) (or of its spectrum ``R``, ``rfft(x, N)``): per band only
    its support is gathered, the rest of each ``M``-sample buffer is zero.  Returns
    ``(B, bands_g, 1, M_g)`` arrays."""
    B = x.shape[0]
    if R is None:
        R = np_rfft(x, threads.budget(), N)
    out = [np.empty((B, nbg, 1, Mg), dtype=cdtype) for nbg, Mg in shapes]
    parts = group_chunks(cgroups, [nbg * Mg for nbg, Mg in shapes], GROUP_PARTS)

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
            res = np_ifft_inplace(Cb, 1)
            if res is not Cb and not np.shares_memory(res, Cb):  # pragma: no cover
                Cb[...] = res

    run_tasks(task, [(b, idx) for b in range(B) for idx in parts])
    return out


def synthesise_numpy_compact(coefs, cgroups, clanes, Kc, N, rdtype):
    """Inverse of :func:`analyse_numpy_compact`; returns ``(B, N)`` real rows."""
    B = coefs[0].shape[0]
    cdtype = coefs[0].dtype
    V = np.empty((B, Kc + 1), dtype=cdtype)
    V[:, Kc] = 0
    parts = group_chunks(cgroups, [c[0].size for c in coefs], GROUP_PARTS)

    def fill(t):
        b, idx = t
        for i in idx:
            cpos, _, _, cdwin, _, off = cgroups[i]
            E = np_fft(coefs[i][b], 1).reshape(-1)
            np.multiply(np.take(E, cpos), cdwin, out=V[b, off:off + len(cpos)])

    run_tasks(fill, [(b, idx) for b in range(B) for idx in parts])
    out = np.empty((B, N), dtype=rdtype)

    def lanes(b):
        Z = sum_lanes(V[b:b + 1], clanes, N)
        out[b] = np_irfft(Z, N, 1)[0]

    run_tasks(lanes, list(range(B)))
    return out


def sum_lanes(V, lanes, N):
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


def analyse_torch(R, groups):
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


def synthesise_torch(coefs, groups, lanes, K, N, dtype):
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
    return torch_lanes_irfft(V, lanes, N)


def torch_lanes_irfft(V, lanes, N):
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


def analyse_torch_compact(R, cgroups, shapes):
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


def synthesise_torch_compact(coefs, cgroups, clanes, Kc, N, dtype):
    import torch

    B = coefs[0].shape[0]
    V = torch.empty((B, 1, Kc + 1), dtype=dtype, device=coefs[0].device)
    V[..., Kc] = 0
    for C, (cpos, _, _, cdwin, _, off) in zip(coefs, cgroups):
        E = torch.fft.fft(C, dim=-1).reshape(B, -1)
        V[:, 0, off:off + len(cpos)] = torch.index_select(E, -1, cpos) * cdwin
    return torch_lanes_irfft(V, clanes, N)


