"""Input handling of the metric kernels (:mod:`.usdr`, :mod:`.sisdr`, :mod:`.snr`): shapes, dtypes, blocks.

The kernels take numpy arrays or torch tensors of shape ``(..., channels, time)``, or a list/tuple of
``(channels, time)`` arrays (a leading batch dimension).  Nothing is stacked or copied whole: the
kernels read blocks of samples along time (:func:`blocks`) and accumulate their sums, so their
temporaries stay under :data:`BLOCK_BYTES` per array whatever the signal length.

:class:`SumOf` is a lazy sum of arrays of one shape (a derived target such as the accompaniment): its
blocks are the sums of the parts' blocks, in float64, and no whole-signal sum exists.
"""

import math

import numpy as np

from ..backend import is_torch
from ..errors import AudioError, ParameterError

__all__ = ["BLOCK_BYTES", "SumOf", "Pair", "pair", "blocks", "buffered", "sumsq", "block_len", "to_torch", "zeros",
           "as_f", "check_finite", "eps_of", "result", "db", "has_signal", "reference", "estimate", "mixture",
           "per_target", "improvements"]

#: bytes of one float64 block temporary (all leading rows of an item together)
BLOCK_BYTES = 8 << 20


def _torch():
    import torch

    return torch


class SumOf:
    """The sum of ``parts`` (arrays or tensors of one shape), read block by block in float64.

    Supports ``x.shape``, ``x.ndim``, ``x.dtype`` (the first part's) and ``x[..., a:b]``.
    """

    def __init__(self, parts):
        parts = list(parts)
        if not parts:
            raise ParameterError("SumOf: no parts")
        shapes = {tuple(p.shape) for p in parts}
        if len(shapes) != 1:
            raise ParameterError(f"SumOf: parts of different shapes {sorted(shapes)}")
        self.parts = parts
        self.shape = tuple(parts[0].shape)
        self.ndim = len(self.shape)
        self.dtype = parts[0].dtype
        self.torch = any(is_torch(p) for p in parts)
        self.device = next((p.device for p in parts if is_torch(p)), None)

    def __getitem__(self, idx):
        if self.torch:
            torch = _torch()
            out = None
            for p in self.parts:
                b = p[idx]
                b = (b if is_torch(b) else torch.from_numpy(np.asarray(b))).to(device=self.device,
                                                                               dtype=torch.float64)
                out = b.clone() if out is None else out.add_(b)
            return out
        out = None
        for p in self.parts:
            b = p[idx]
            if out is None:
                out = np.array(b, dtype=np.float64)
            else:
                np.add(out, b, out=out, dtype=np.float64)
        return out


def _kind(x):
    return "torch" if (is_torch(x) or (isinstance(x, SumOf) and x.torch)) else "numpy"


def _device(x):
    if isinstance(x, SumOf):
        return x.device
    return x.device if is_torch(x) else None


def _check_dtype(x, name):
    if isinstance(x, SumOf):
        for p in x.parts:
            _check_dtype(p, name)
        return
    if is_torch(x):
        torch = _torch()
        if x.is_complex() or x.dtype == torch.bool:
            raise AudioError(f"{name}: samples of dtype {x.dtype}; expected real audio")
        return
    if x.dtype == object:
        raise AudioError(f"{name}: could not convert to a numeric array (ragged signals?)")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise AudioError(f"{name}: samples of dtype {x.dtype}; expected real audio")


def _as_item(x, name):
    if isinstance(x, SumOf):
        return x
    if is_torch(x):
        return x.detach()
    try:
        return np.asarray(x)
    except (TypeError, ValueError):
        raise AudioError(f"{name}: could not convert to a numeric array (ragged signals?)") from None


def eps_of(dtype):
    """``finfo(dtype).eps`` of a numpy or torch floating dtype (float64's for integer dtypes)."""
    if dtype is not None and "torch" in type(dtype).__module__:
        torch = _torch()
        return float(torch.finfo(dtype).eps) if dtype.is_floating_point else float(np.finfo(np.float64).eps)
    dtype = np.dtype(dtype)
    return float(np.finfo(dtype).eps) if np.issubdtype(dtype, np.floating) else float(np.finfo(np.float64).eps)


class Pair:
    """Checked references and estimates: ``items`` of equal shapes ``(..., channels, time)``.

    Attributes
    ----------
    refs, ests : list
        One item per list entry (one item for an array input).
    batch : tuple
        Shape of the result (``(len(list),) + item.shape[:-2]`` or ``array.shape[:-2]``).
    listed : bool
    torch : bool
        Some input is a torch tensor: results are torch tensors on :attr:`device`.
    device
    est_dtype
        dtype of the estimates (torchmetrics' ``eps`` follows the ``preds`` dtype).
    nchan, nsampl : int
    """

    def __init__(self, refs, ests, batch, listed, min_ndim):
        self.refs, self.ests, self.batch, self.listed = refs, ests, batch, listed
        kinds = {_kind(x) for x in refs + ests}
        self.torch = "torch" in kinds
        devices = {str(_device(x)) for x in refs + ests if _device(x) is not None}
        if len(devices) > 1:
            raise ParameterError(f"references and estimates on different devices ({', '.join(sorted(devices))})")
        self.device = next((_device(x) for x in refs + ests if _device(x) is not None), None)
        self.est_dtype = ests[0].dtype
        shape = tuple(refs[0].shape)
        self.nchan, self.nsampl = int(shape[-2]), int(shape[-1])


def _shape_of(x, listed):
    if listed:
        return (len(x),) + tuple(x[0].shape)
    return tuple(x.shape)


def pair(references, estimates, *, min_ndim=2, what="(..., channels, time)"):
    """Check and normalise the two inputs of a kernel: a :class:`Pair`.

    Raises
    ------
    ParameterError
        Shapes that differ (both named), fewer than ``min_ndim`` dimensions, empty signals,
        ragged lists.
    AudioError
        Non-real dtypes.
    """
    listed = isinstance(references, (list, tuple)) or isinstance(estimates, (list, tuple))
    if listed:
        sides = []
        for x, name in ((references, "references"), (estimates, "estimates")):
            if not isinstance(x, (list, tuple)):
                x = _as_item(x, name)
                if x.ndim < 1:
                    raise ParameterError(f"{name}: a scalar; expected {what}")
                x = [x[i] for i in range(x.shape[0])]
            items = [_as_item(s, name) for s in x]
            if not items:
                raise ParameterError(f"{name}: an empty list; expected a list of (channels, time) arrays")
            shapes = [tuple(s.shape) for s in items]
            if len(set(shapes)) != 1:
                raise ParameterError(f"{name}: the list's signals have different shapes "
                                     f"({', '.join(map(str, dict.fromkeys(shapes)))}); they must be equal")
            sides.append(items)
        refs, ests = sides
        rshape, eshape = (len(refs),) + tuple(refs[0].shape), (len(ests),) + tuple(ests[0].shape)
    else:
        refs, ests = [_as_item(references, "references")], [_as_item(estimates, "estimates")]
        rshape, eshape = tuple(refs[0].shape), tuple(ests[0].shape)
    if rshape != eshape:
        raise ParameterError(f"references and estimates must have the same shape {what}: "
                             f"references.shape = {rshape}, estimates.shape = {eshape}")
    if len(rshape) < min_ndim:
        raise ParameterError(f"references and estimates: shape {rshape}, {len(rshape)} dimension(s); "
                             f"expected {what}")
    if listed and refs[0].ndim < 2:
        raise ParameterError(f"references and estimates: list entries of shape {tuple(refs[0].shape)}; "
                             "expected (channels, time) arrays")
    if rshape[-1] == 0 or rshape[-2] == 0 or 0 in rshape:
        raise ParameterError(f"references and estimates: empty signals, shape {rshape}; expected {what} "
                             "with channels and time > 0")
    for x in refs:
        _check_dtype(x, "references")
    for x in ests:
        _check_dtype(x, "estimates")
    batch = rshape[:-2]
    return Pair(refs, ests, batch, listed, min_ndim)


def block_len(item):
    """Samples per block of ``item`` ``(..., channels, time)``: :data:`BLOCK_BYTES` of float64 over all rows."""
    rows = max(1, math.prod(item.shape[:-1]))
    return int(max(4096, min(item.shape[-1], BLOCK_BYTES // (8 * rows))))


def blocks(p, r, e):
    """Blocks ``(r[..., a:b], e[..., a:b])`` along time, views of the inputs (a :class:`SumOf` gives float64
    sums); with torch inputs every block is a tensor on the pair's device."""
    n = p.nsampl
    step = block_len(r)
    for a in range(0, n, step):
        b = min(n, a + step)
        rb, eb = r[..., a:b], e[..., a:b]
        if p.torch:
            rb, eb = to_torch(rb, p.device), to_torch(eb, p.device)
        yield rb, eb


def buffered(p, r, e, dtype="float64"):
    """numpy inputs: blocks ``(x, y)`` of ``r`` and ``e`` copied into two reused ``dtype`` buffers (writable,
    C-contiguous: the kernels work in place and sum with ``einsum``); at most :data:`BLOCK_BYTES` each."""
    n = p.nsampl
    step = block_len(r)
    lead = tuple(r.shape[:-1])
    bx, by = np.empty(lead + (step,), dtype=dtype), np.empty(lead + (step,), dtype=dtype)
    for a in range(0, n, step):
        b = min(n, a + step)
        x, y = bx[..., : b - a], by[..., : b - a]
        np.copyto(x, r[..., a:b], casting="unsafe")
        np.copyto(y, e[..., a:b], casting="unsafe")
        yield x, y


def sumsq(x, y=None, axes="t"):
    """``sum(x * y)`` over time (``axes="t"``) or channels and time (``"ct"``), without a product array."""
    y = x if y is None else y
    return np.einsum("...ct,...ct->..." if axes == "ct" else "...t,...t->...", x, y)


def to_torch(x, device):
    if is_torch(x):
        return x if device is None or x.device == device else x.to(device)
    torch = _torch()
    return torch.from_numpy(np.ascontiguousarray(x)).to(device) if device is not None else \
        torch.from_numpy(np.ascontiguousarray(x))


def zeros(p, shape, dtype="float64"):
    if p.torch:
        torch = _torch()
        return torch.zeros(shape, dtype=getattr(torch, dtype), device=p.device)
    return np.zeros(shape, dtype=dtype)


def as_f(p, x, dtype="float64"):
    """``x`` in ``dtype`` (a new array only when the dtype differs)."""
    if p.torch:
        torch = _torch()
        return x.to(getattr(torch, dtype))
    return np.asarray(x, dtype=dtype)


def finite(p, x):
    if p.torch:
        return bool(_torch().isfinite(x).all())
    return bool(np.isfinite(x).all())


def check_finite(p, sums):
    """Raise :class:`AudioError` naming the side and entry when a sum is not finite because of the input."""
    if finite(p, sums):
        return
    for side, items in (("references", p.refs), ("estimates", p.ests)):
        for i, x in enumerate(items):
            bad = _count_non_finite(p, x)
            if bad:
                where = f" (list entry {i})" if p.listed else ""
                raise AudioError(f"{side}{where}: {bad} NaN/inf sample(s); audio must be finite")


def _count_non_finite(p, x):
    n = 0
    step = block_len(x)
    for a in range(0, int(x.shape[-1]), step):
        b = x[..., a : a + step]
        if is_torch(b):
            n += int((~_torch().isfinite(b)).sum())
        else:
            b = np.asarray(b)
            if np.issubdtype(b.dtype, np.floating):
                n += int(np.count_nonzero(~np.isfinite(b)))
    return n


def result(p, per_item):
    """Stack the per-item results (each of shape ``item.shape[:-2]``) to :attr:`Pair.batch`, float64."""
    if p.torch:
        torch = _torch()
        vals = [v.to(torch.float64) for v in per_item]
        out = torch.stack(vals) if p.listed else vals[0]
        return out.reshape(p.batch)
    vals = [np.asarray(v, dtype=np.float64) for v in per_item]
    out = np.stack(vals) if p.listed else vals[0]
    return np.asarray(out, dtype=np.float64).reshape(p.batch)


def db(p, num, den):
    """``10 * log10(num / den)`` in the arrays' namespace (numpy: no warnings for 0 or inf)."""
    if p.torch:
        return 10.0 * _torch().log10(num / den)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 10.0 * np.log10(num / den)


# -- MetricContext helpers of the registered metrics --------------------------------------------------------

def _lazy(ctx, name, estimates):
    """Target ``name``'s signal, or the :class:`SumOf` of a derived target's parts (never materialised)."""
    given = name in (ctx.estimates if estimates else ctx.references)
    parts = ctx.parts(name, estimates=estimates)
    return parts[0] if given else SumOf(parts)


def has_signal(ctx, name):
    """``name`` has a reference and an estimate (a derived target: all its parts have both)."""
    if name in ctx.references and name in ctx.estimates:
        return True
    parts = ctx.derived.get(name)
    return bool(parts) and name not in ctx.references and all(p in ctx.references and p in ctx.estimates
                                                              for p in parts)


def scored_targets(ctx):
    """The targets of ``ctx`` that have a reference and an estimate (:func:`has_signal`), in its order."""
    return [t for t in ctx.targets() if has_signal(ctx, t)]


def per_target(ctx, output, kernel):
    """``{target: kernel(reference, estimate)}`` (a float) of every scored target, each computed once per
    context under ``output`` (a metric and its improvement share it)."""
    return {t: ctx.memo((output, t), lambda t=t: float(kernel(reference(ctx, t), estimate(ctx, t))))
            for t in scored_targets(ctx)}


def improvements(ctx, output, kernel, metric):
    """``{target: kernel(s, s_hat) - kernel(s, mixture)}``: the improvement over the mixture as the estimate;
    the mixture's score is computed once per :attr:`MetricContext.baselines` (once per track in the runner)."""
    mix = mixture(ctx, metric)
    return {t: v - ctx.baseline((output, t), lambda t=t: float(kernel(reference(ctx, t), mix)))
            for t, v in per_target(ctx, output, kernel).items()}


def reference(ctx, name):
    return _lazy(ctx, name, False)


def estimate(ctx, name):
    return _lazy(ctx, name, True)


def mixture(ctx, metric):
    """``ctx.mixture``, or :class:`ParameterError` when there is none (improvement metrics)."""
    if ctx.mixture is None:
        raise ParameterError(f"metric {metric!r} is an improvement over the mixture and needs one; this "
                             f"evaluation of {ctx.track!r} has no mixture")
    return ctx.mixture
