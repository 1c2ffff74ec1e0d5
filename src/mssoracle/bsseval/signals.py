"""Block access to the scorer's signals, in float64, without whole-track copies.

A :class:`Signals` is a list of ``nsrc`` sources of ``nsampl`` samples and
``nchan`` channels.  Each source is the **sum of parts**: arrays of the caller,
``(length, nchan)``, numpy of any real dtype and strides (a transposed view
``x.T`` of a ``(channels, time)`` row is fine) or torch tensors on any device.
A part is never copied as a whole: the kernels read blocks of samples with
:meth:`Signals.fill` / :meth:`Signals.gather`, which convert them to float64
(museval accumulates in float64, whatever comes in) and add the parts of a
source in their given order.  A part shorter than ``nsampl`` reads as zeros
beyond its end (museval's ``pad_or_truncate``), a longer one is cut.

:func:`frame_stats` is the one blockwise pass over a :class:`Signals` that
gives everything that is not a correlation: finiteness, the samples whose
channel sum is non-zero (museval's silence tests) per frame and over the whole
signal, and the per-frame energies of the sources and of their differences
with references.
"""

import numpy as np

__all__ = ["Signals", "FrameStats", "frame_stats", "is_torch", "STATS_BLOCK"]

#: samples per block of :func:`frame_stats` (bounds its working memory)
STATS_BLOCK = 1 << 19


def is_torch(x):
    """True for a torch tensor (without importing torch)."""
    return type(x).__module__.split(".")[0] == "torch" and hasattr(x, "detach")


def _torch():
    import torch

    return torch


class Signals:
    """``nsrc`` sources, each the sum of parts (caller arrays, never copied whole).

    Parameters
    ----------
    parts : list of array-like, each ``(length, nchan)``
        numpy arrays (any real dtype, any strides) or torch tensors.
    sources : list of tuple of int, optional
        Source ``j`` is the sum of ``parts[i] for i in sources[j]`` (in that
        order).  Default: one source per part.
    nsampl : int, optional
        Length the sources are read at (default: the first part's length).
    """

    def __init__(self, parts, sources=None, nsampl=None, stack=None):
        self.parts = list(parts)
        #: a C-contiguous float64 ``(nsrc, nsampl, nchan)`` array whose rows are the parts, when there is one
        self.stack = stack
        if sources is None:
            sources = [(i,) for i in range(len(self.parts))]
        self.sources = [tuple(int(i) for i in s) for s in sources]
        self.nsampl = int(self.parts[0].shape[0] if nsampl is None else nsampl)
        self.nchan = int(self.parts[0].shape[1])
        self.nsrc = len(self.sources)
        self.device = None
        for p in self.parts:
            if is_torch(p):
                self.device = p.device
                break

    @property
    def shape(self):
        return (self.nsrc, self.nsampl, self.nchan)

    @property
    def on_torch(self):
        return self.device is not None

    def select(self, indices):
        """The sources ``indices`` (same parts)."""
        return Signals(self.parts, [self.sources[i] for i in indices], self.nsampl)

    def combine(self, groups):
        """Sources that are sums of this set's sources: ``groups[k]`` = indices of the summed sources."""
        return Signals(self.parts, [sum((self.sources[i] for i in g), ()) for g in groups], self.nsampl)

    def with_length(self, nsampl):
        """The same sources read at ``nsampl`` samples (zero padded or cut)."""
        return Signals(self.parts, self.sources, nsampl,
                       stack=self.stack[:, :nsampl] if self.stack is not None and nsampl <= self.nsampl else None)

    def _stack_view(self, a, b):
        """``stack[:, a:b]`` (no copy) when the sources are the float64 stack's rows and ``[a, b)`` is inside."""
        if (self.stack is not None and 0 <= a and b <= self.stack.shape[1]
                and self.sources == [(i,) for i in range(len(self.parts))]):
            return self.stack[:, a:b]
        return None

    def block(self, j, a, b):
        """Samples ``[a, b)`` of source ``j``: a view of the caller's part when it is the only one and
        covers the range (any dtype: callers compute with ``dtype=float64``), else a float64 copy."""
        src = self.sources[j]
        if len(src) == 1 and 0 <= a and b <= min(self.nsampl, self.parts[src[0]].shape[0]):
            return self.parts[src[0]][a:b]
        return self.fill(self.empty(b - a, nsrc=1, device=self.device), a, b, src=[j])[0]

    # ----------------------------------------------------------------- reading
    def _part_block(self, p, a, b):
        """Samples ``[a, min(b, len))`` of part ``p`` (a view), and their count."""
        part = self.parts[p]
        n = max(0, min(b, self.nsampl, part.shape[0]) - a)
        return part[a : a + n], n

    def fill(self, out, a, b, src=None):
        """Write samples ``[a, b)`` of the sources (float64) into ``out[j, :b - a]``.

        ``out`` is a float64 numpy array or torch tensor ``(nsrc', >= b - a, nchan)``;
        ``src`` selects the sources (default: all).  Samples outside ``[0, nsampl)``
        and beyond a part's length are zeros.
        """
        src = range(self.nsrc) if src is None else src
        a0 = max(a, 0)
        lead = a0 - a
        torch_out = is_torch(out)
        for k, j in enumerate(src):
            dst = out[k]
            filled = 0
            for i, p in enumerate(self.sources[j]):
                view, n = self._part_block(p, a0, b)
                if torch_out:
                    t = view if is_torch(view) else _torch().from_numpy(np.asarray(view))
                    if i == 0:
                        dst[lead : lead + n].copy_(t)
                    else:
                        m = min(n, filled)
                        dst[lead : lead + m].add_(t[:m].to(device=dst.device, dtype=dst.dtype))
                        if n > filled:
                            dst[lead + filled : lead + n].copy_(t[filled:n])
                else:
                    if is_torch(view):
                        view = view.detach().cpu().numpy()
                    if i == 0:
                        np.copyto(dst[lead : lead + n], view, casting="unsafe")
                    else:
                        m = min(n, filled)
                        np.add(dst[lead : lead + m], view[:m], out=dst[lead : lead + m], casting="unsafe")
                        if n > filled:
                            np.copyto(dst[lead + filled : lead + n], view[filled:n], casting="unsafe")
                filled = max(filled, n)
            if lead:
                dst[:lead] = 0
            if lead + filled < b - a:
                dst[lead + filled : b - a] = 0
        return out

    def empty(self, nsamples, nsrc=None, device=None):
        """Uninitialised float64 buffer ``(nsrc, nsamples, nchan)`` (torch on ``device`` or numpy)."""
        nsrc = self.nsrc if nsrc is None else nsrc
        if device is not None:
            return _torch().empty((nsrc, nsamples, self.nchan), dtype=_torch().float64, device=device)
        return np.empty((nsrc, nsamples, self.nchan))

    def gather(self, starts, width, device=None):
        """Windows ``[s, s + width)`` for every ``s`` in ``starts``, laid end to end.

        Returns a contiguous float64 ``(nsrc, len(starts) * width, nchan)`` (numpy, or
        torch on ``device``); zeros outside ``[0, nsampl)``.
        """
        starts = np.asarray(starts, dtype=np.int64)
        contiguous = len(starts) == 1 or bool(np.all(np.diff(starts) == width))
        if contiguous and device is None:
            view = self._stack_view(int(starts[0]), int(starts[0]) + len(starts) * width)
            if view is not None:
                return view
        out = self.empty(len(starts) * width, device=device)
        if len(starts) > 1 and contiguous:
            return self.fill(out, int(starts[0]), int(starts[0]) + len(starts) * width)
        for i, s in enumerate(starts):
            self.fill(out[:, i * width : (i + 1) * width], int(s), int(s) + width)
        return out


class FrameStats:
    """Per-frame quantities of a :class:`Signals` (numpy float64).

    Attributes
    ----------
    nonzero : (nsrc, nwin)
        Samples of each frame whose channel sum is non-zero (0: museval's silent frame).
    total : (nsrc,)
        The same over the whole signal (0: silent source).
    finite : (nsrc,) bool
    energy : (nsrc, nwin) or None
        Sum of squares over the frame and the channels.
    diff : (nsrc, nwin) or None
        Energy of ``source - reference``.
    """

    def __init__(self, nonzero, total, finite, energy=None, diff=None):
        self.nonzero, self.total, self.finite, self.energy, self.diff = nonzero, total, finite, energy, diff

    def select(self, idx):
        idx = list(idx)
        pick = (lambda a: None if a is None else a[idx])
        return FrameStats(self.nonzero[idx], self.total[idx], self.finite[idx], pick(self.energy), pick(self.diff))

    @staticmethod
    def stack(items):
        pick = (lambda name: None if any(getattr(s, name) is None for s in items)
                else np.concatenate([getattr(s, name) for s in items]))
        return FrameStats(pick("nonzero"), pick("total"), pick("finite"), pick("energy"), pick("diff"))

    @property
    def silent_frames(self):
        """(nwin,) bool: frames where some source is silent (museval's ``_any_source_silent``)."""
        return (self.nonzero == 0).any(axis=0)


def _breakpoints(starts, stops, nsampl):
    """Sorted elementary boundaries: frame edges, block edges, 0 and ``nsampl``."""
    edges = [np.clip(starts, 0, nsampl), np.clip(stops, 0, nsampl),
             np.arange(0, nsampl, STATS_BLOCK, dtype=np.int64), [0, nsampl]]
    return np.unique(np.concatenate(edges).astype(np.int64))


def frame_stats(sig, starts, stops, *, ref=None, energy=True):
    """One blockwise pass over ``sig`` (and ``ref``): see :class:`FrameStats`.

    ``ref`` (same ``nsrc``) gives :attr:`FrameStats.diff`.  Blocks of
    :data:`STATS_BLOCK` samples are converted to float64; the sums run over
    elementary intervals (between consecutive frame or block edges) in time order,
    so the numbers depend on the framing only.
    """
    nsampl, nsrc, nchan = sig.nsampl, sig.nsrc, sig.nchan
    nwin = len(starts)
    bps = _breakpoints(np.asarray(starts), np.asarray(stops), nsampl)
    nel = len(bps) - 1
    el_nz = np.zeros((nsrc, nel))
    el_e = np.zeros((nsrc, nel)) if energy else None
    el_d = np.zeros((nsrc, nel)) if ref is not None else None
    finite = np.ones(nsrc, dtype=bool)
    device = sig.device if sig.on_torch else (ref.device if ref is not None and ref.on_torch else None)
    chunk_edges = np.arange(0, nsampl, STATS_BLOCK, dtype=np.int64)
    for c0 in chunk_edges:
        c0 = int(c0)
        c1 = min(nsampl, c0 + STATS_BLOCK)
        i0, i1 = np.searchsorted(bps, [c0, c1])
        local = bps[i0:i1] - c0  # starts of the elementary intervals of this block
        n = c1 - c0
        for j in range(nsrc):
            x = sig.block(j, c0, c1)
            r = ref.block(j, c0, c1) if ref is not None else None
            if device is not None:
                _torch_stats(x, r, local, n, device, j, i0, i1, el_nz, el_e, el_d, finite, energy)
                continue
            # float64 arithmetic whatever the input dtype (ufuncs with dtype=, no block copies)
            cs = np.array(x[:, 0], dtype=np.float64)
            for c in range(1, nchan):
                np.add(cs, x[:, c], out=cs, dtype=np.float64)
            el_nz[j, i0:i1] = np.add.reduceat(cs != 0, local, dtype=np.float64)
            if energy or r is not None:
                sq = np.multiply(x[:, 0], x[:, 0], dtype=np.float64)
                for c in range(1, nchan):
                    np.multiply(x[:, c], x[:, c], out=cs, dtype=np.float64)
                    sq += cs
                ej = np.add.reduceat(sq, local)
                if energy:
                    el_e[j, i0:i1] = ej
                if not np.isfinite(ej.sum()):
                    finite[j] &= bool(np.isfinite(x).all())
            else:
                finite[j] &= bool(np.isfinite(x).all())
            if r is not None:
                sq = np.subtract(x[:, 0], r[:, 0], dtype=np.float64)
                sq *= sq
                for c in range(1, nchan):
                    np.subtract(x[:, c], r[:, c], out=cs, dtype=np.float64)
                    cs *= cs
                    sq += cs
                el_d[j, i0:i1] = np.add.reduceat(sq, local)
    # elementary intervals -> frames (each frame is a run of consecutive intervals)
    ia = np.searchsorted(bps, np.clip(starts, 0, nsampl))
    ib = np.searchsorted(bps, np.clip(stops, 0, nsampl))
    out = [_frames_from_elementary(a, ia, ib, nwin) if a is not None else None for a in (el_nz, el_e, el_d)]
    return FrameStats(out[0], el_nz.sum(axis=1), finite, out[1], out[2])


def _frames_from_elementary(el, ia, ib, nwin):
    out = np.zeros((el.shape[0], nwin))
    if nwin == 0:
        return out
    for m in range(int((ib - ia).max(initial=0))):
        sel = ia + m < ib
        out[:, sel] += el[:, (ia + m)[sel]]
    return out


def _torch_stats(x, r, local, n, device, j, i0, i1, el_nz, el_e, el_d, finite, energy):
    torch = _torch()

    def dev(a):
        return (a if is_torch(a) else torch.from_numpy(np.asarray(a))).to(device=device, dtype=torch.float64)

    x = dev(x)
    nchan = x.shape[1]
    cs = x.sum(dim=1) if nchan > 1 else x[:, 0]
    el_nz[j, i0:i1] = _segment_sums(cs != 0, local, n, device)
    sq = (x * x).sum(dim=1)
    ej = _segment_sums(sq, local, n, device)
    if energy:
        el_e[j, i0:i1] = ej
    if not np.isfinite(ej.sum()):
        finite[j] &= bool(torch.isfinite(x).all())
    if r is not None:
        d = x - dev(r)
        el_d[j, i0:i1] = _segment_sums((d * d).sum(dim=1), local, n, device)


def _segment_sums(vals, local, n, device):
    """Sums of ``vals[local[i]:local[i+1]]`` (the last one to ``n``) as a numpy float64 array."""
    if device is None:
        return np.add.reduceat(vals.astype(np.float64, copy=False), local)
    torch = _torch()
    lengths = np.diff(np.append(local, n))
    v = vals.to(torch.float64)
    if len(lengths) == 1:
        return np.array([float(v.sum())])
    parts = torch.split(v, lengths.tolist())
    return torch.stack([p.sum() for p in parts]).cpu().numpy()


def _all_finite(x, device):
    if device is None:
        return np.isfinite(x).all()
    return bool(_torch().isfinite(x).all())
