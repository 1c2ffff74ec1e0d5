"""NSGT kernels: batched analysis and synthesis of spectra with a :class:`~.nsgt_plan.Plan`'s tables.

One code path for every array namespace (numpy, torch on any device), written
against :mod:`.backend` (``array_api_compat`` plus a shim for FFTs with
``workers=``, index gather, writes into a given output).  The work is cut into
tasks ``(b0, b1, s0, s1)`` (rows ``b0:b1``, slices ``s0:s1``; for the
non-sliced NSGT, rows and runs of groups):

* host arrays (numpy, torch CPU tensors): tasks of about a cache-sized buffer
  (:data:`CHUNK_SAMPLES`) on a thread pool of :func:`mssoracle.threads.budget`
  threads, one FFT thread per task; the work inside releases the GIL;
* device tensors (CUDA, ...) and tensors that require grad: one task over
  everything, so that each step is one batched kernel.

Tasks are planned from the sizes alone and every task writes its own part of
the output, so the numbers do not depend on the thread budget.  The compact
tables gather and scatter only each band's support.
"""

from .. import threads
from .. import backend

__all__ = ["run_tasks", "chunks", "analyse", "synthesise", "analyse_compact", "synthesise_compact", "sum_lanes",
           "group_chunks", "CHUNK_SAMPLES", "MIN_TASKS", "GROUP_PARTS"]

#: samples per task buffer on the host (rows of a chunk ~ this / N)
CHUNK_SAMPLES = 1 << 20
#: the slices of all rows are split into at least this many tasks (when there are that many slices)
MIN_TASKS = 8
#: the non-sliced kernels split the groups of one row into this many tasks
GROUP_PARTS = 4


def run_tasks(fn, tasks):
    """Run ``fn(task)`` for every task, on a thread pool when there are several cores."""
    n = threads.budget()
    if n == 1 or len(tasks) == 1:
        for t in tasks:
            fn(t)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(n, len(tasks))) as ex:
        for _ in ex.map(fn, tasks):
            pass


def chunks(B, S, N, like=None):
    """``(b0, b1, s0, s1)`` tasks.  On the host: one row each, slices filling about a cache-sized
    buffer, at least :data:`MIN_TASKS` tasks in all when there are that many slices (planned from
    the sizes alone, never from the thread budget).  On a device: one task."""
    if like is not None and _one_task(like):
        return [(0, B, 0, S)]
    per = max(1, CHUNK_SAMPLES // max(N, 1))
    if S > 1:
        per = min(per, max(1, -(-S * B // MIN_TASKS)))
    return [(b, b + 1, s0, min(S, s0 + per)) for b in range(B) for s0 in range(0, S, per)]


def _one_task(like):
    """Device tensors, and tensors that require grad (autograd's in-place bookkeeping on views of one
    output is not safe from several threads), run as one batched task."""
    return not backend.on_host(like) or bool(getattr(like, "requires_grad", False))


def _conj_at(xp, X, idx):
    """Conjugate ``X[..., idx]`` in place (``idx`` integer positions along the last axis)."""
    if idx.shape[0]:
        X[..., idx] = xp.conj(X[..., idx])


def analyse(rows, B, S, N, groups, cdtype, like, compact=None):
    """NSGT of the rows given by ``rows(b0, b1, s0, s1) -> (b1-b0, s1-s0, sllen)`` real frames
    (zero-padded to ``N``).  ``groups``: the plan's dense tables ``(fidx, fwin, dwin, cflat)``;
    ``compact``: the sliced compact tables ``(rows, cols, cfid, cfwin, cconj)``, used when the bands'
    buffers are mostly zero padding (matrix form): only the supports are gathered and scattered.
    ``like``: an array of the namespace and device to work on.

    Returns the groups as ``(B, bands_g, S, M_g)`` arrays."""
    xp = backend.namespace(like)
    f = backend.fft(xp, workers=1)
    out = [backend.empty(xp, (B, fwin.shape[0], S, fwin.shape[1]), cdtype, like) for _, fwin, _, _ in groups]

    def task(t):
        b0, b1, s0, s1 = t
        nb, sc = b1 - b0, s1 - s0
        R = f.rfft(rows(b0, b1, s0, s1), n=N)  # (nb, sc, F)
        for i, ((fidx, fwin, _, cflat), C) in enumerate(zip(groups, out)):
            nbg, Mg = fwin.shape
            dst = C[b0:b1, :, s0:s1, :]
            if compact is not None:
                rows_, cols, cfid, cfwin, cconj = compact[i]
                X = backend.take(xp, R, cfid)  # (nb, sc, support)
                _conj_at(xp, X, cconj)
                X *= cfwin
                dst[...] = 0
                dst[:, rows_, :, cols] = xp.permute_dims(X, (2, 0, 1))
            else:
                X = backend.take(xp, R, fidx)  # (nb, sc, nbg*Mg)
                _conj_at(xp, X, cflat)
                backend.multiply(xp, xp.permute_dims(xp.reshape(X, (nb, sc, nbg, Mg)), (0, 2, 1, 3)), fwin[:, None, :],
                                 out=dst)
            f.ifft_inplace(dst)

    run_tasks(task, chunks(B, S, N, like))
    return out


def synthesise(coefs, groups, lanes, K, N, emit, compact=None):
    """Inverse NSGT of ``coefs`` (list of ``(B, bands_g, S, M_g)``); ``emit(b0, b1, s0, s1, y)``
    receives the real rows ``(b1-b0, s1-s0, N)``.  With ``compact`` (tables ``(rows, cols, cdwin)``,
    lanes, ``Kc``) the synthesis buffer holds only the supports."""
    like = coefs[0]
    xp = backend.namespace(like)
    f = backend.fft(xp, workers=1)
    B, _, S, _ = coefs[0].shape
    cdtype = coefs[0].dtype
    if compact is not None:
        ctabs, lanes, K = compact

    def task(t):
        b0, b1, s0, s1 = t
        nb, sc = b1 - b0, s1 - s0
        V = backend.empty(xp, (nb, sc, K + 1), cdtype, like)
        V[..., K] = 0
        off = 0
        for i, (C, (_, _, dwin, _)) in enumerate(zip(coefs, groups)):
            nbg, Mg = dwin.shape
            E = f.fft(C[b0:b1, :, s0:s1, :])  # (nb, nbg, sc, Mg)
            if compact is not None:
                rows_, cols, cdwin = ctabs[i]
                n = cols.shape[0]
                vals = E[:, rows_, :, cols]  # (support, nb, sc)
                backend.multiply(xp, xp.permute_dims(vals, (1, 2, 0)), cdwin, out=V[..., off:off + n])
                off += n
            else:
                backend.multiply(xp, xp.permute_dims(E, (0, 2, 1, 3)), dwin,
                                 out=backend.split_last(xp, V[..., off:off + nbg * Mg], (nbg, Mg)))
                off += nbg * Mg
            del E
        Z = sum_lanes(xp, V, lanes, N)
        del V
        emit(b0, b1, s0, s1, f.irfft(Z, n=N, overwrite_x=True))

    run_tasks(task, chunks(B, S, N, like))


def group_chunks(sizes, parts):
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


def _row_tasks(B, parts, like):
    """``(b0, b1, groups)`` tasks of the non-sliced kernels: per row and run of groups on the host,
    one on a device."""
    if _one_task(like):
        return [(0, B, [i for p in parts for i in p])]
    return [(b, b + 1, idx) for b in range(B) for idx in parts]


def analyse_compact(R, cgroups, shapes, cdtype):
    """Non-sliced NSGT of the spectrum ``R (B, F)`` (``rfft(x, N)``): per band only its support is
    gathered, the rest of each ``M``-sample buffer is zero.  Returns ``(B, bands_g, 1, M_g)`` arrays."""
    xp = backend.namespace(R)
    f = backend.fft(xp, workers=1)
    B = R.shape[0]
    out = [backend.empty(xp, (B, nbg, 1, Mg), cdtype, R) for nbg, Mg in shapes]
    parts = group_chunks([nbg * Mg for nbg, Mg in shapes], GROUP_PARTS)

    def task(t):
        b0, b1, idx = t
        for i in idx:
            cpos, cfid, cfwin, _, cconj, _ = cgroups[i]
            X = backend.take(xp, R[b0:b1], cfid)
            _conj_at(xp, X, cconj)
            X *= cfwin
            Cb = out[i][b0:b1]
            flat = xp.reshape(Cb, (b1 - b0, -1))
            if cpos.shape[0] < flat.shape[1]:
                flat[...] = 0
            flat[:, cpos] = X
            f.ifft_inplace(Cb)

    run_tasks(task, _row_tasks(B, parts, R))
    return out


def synthesise_compact(coefs, cgroups, clanes, Kc, N, rdtype):
    """Inverse of :func:`analyse_compact`; returns ``(B, N)`` real rows."""
    like = coefs[0]
    xp = backend.namespace(like)
    f = backend.fft(xp, workers=1)
    B = coefs[0].shape[0]
    V = backend.empty(xp, (B, Kc + 1), coefs[0].dtype, like)
    V[:, Kc] = 0
    parts = group_chunks([backend.numel(c[0]) for c in coefs], GROUP_PARTS)

    def fill(t):
        b0, b1, idx = t
        for i in idx:
            cpos, _, _, cdwin, _, off = cgroups[i]
            E = xp.reshape(f.fft(coefs[i][b0:b1]), (b1 - b0, -1))
            backend.multiply(xp, backend.take(xp, E, cpos), cdwin, out=V[b0:b1, off:off + cpos.shape[0]])

    run_tasks(fill, _row_tasks(B, parts, like))
    out = backend.empty(xp, (B, N), rdtype, like)
    rows = [(0, B)] if _one_task(like) else [(b, b + 1) for b in range(B)]

    def lanes(t):
        b0, b1 = t
        out[b0:b1] = f.irfft(sum_lanes(xp, V[b0:b1], clanes, N), n=N, overwrite_x=True)

    run_tasks(lanes, rows)
    return out


def sum_lanes(xp, V, lanes, N):
    """``Z (..., F)`` from the synthesis buffer ``V (..., K + 1)``: ``Z[j] = sum_l V[src_l[j]]``."""
    F = N // 2 + 1
    Z = None
    for src, cj, sparse in lanes:
        if sparse is not None:  # few entries: add them where they go (targets of one lane are distinct)
            tgt, srcs, conj = sparse
            vals = backend.take(xp, V, srcs)
            _conj_at(xp, vals, conj)
            Z[..., tgt] += vals
            continue
        T = backend.take(xp, V, src)
        _conj_at(xp, T, cj)
        if Z is None:
            Z = T
        else:
            Z += T
    for j in ((0, F - 1) if N % 2 == 0 else (0,)):  # DC and Nyquist of a real signal: real (a copy: no overlap)
        Z[..., j] = backend.copy(xp.real(Z[..., j]))
    return Z
