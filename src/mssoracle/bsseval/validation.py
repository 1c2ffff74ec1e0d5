"""Input checks of the BSS Eval engine: museval's conventions, lengths, silence, framing.

Nothing here copies a signal: :func:`as_sources` turns museval-convention inputs
into a :class:`~mssoracle.bsseval.signals.Signals` of views, and the finiteness and
silence checks read it block by block (:func:`~mssoracle.bsseval.signals.frame_stats`).
"""

import numpy as np

from .. import validators
from ..errors import AudioError, ParameterError, SilentSourceError
from .signals import Signals, frame_stats, is_torch

__all__ = ["MAX_SOURCES", "as_sources", "fit_length", "check_stats", "framing", "check_win_hop",
           "shape_error", "frames_tiled"]

#: museval's ``MAX_SOURCES``
MAX_SOURCES = 100


def _as_array(x):
    """numpy array or torch tensor, without copying."""
    if is_torch(x):
        return x.detach()
    return np.asarray(x)


def _check_dtype(arr, name):
    if is_torch(arr):
        if arr.is_complex():
            raise AudioError(f"{name}: complex samples; expected real audio, shape (nsrc, nsampl, nchan)")
        return
    if arr.dtype == object:
        raise AudioError(f"{name}: could not convert to a numeric array (ragged sources?)")
    if np.iscomplexobj(arr):
        raise AudioError(f"{name}: complex samples; expected real audio, shape (nsrc, nsampl, nchan)")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
            or arr.dtype == bool):
        raise AudioError(f"{name}: samples of dtype {arr.dtype}; expected real audio")


def as_sources(x, name):
    """museval's input conventions -> :class:`Signals` of views ``(nsrc, nsampl, nchan)``.

    Accepts an ``(nsrc, nsampl, nchan)`` array, ``(nsrc, nsampl)`` (mono) or ``(nsampl,)``,
    numpy (any real dtype, any strides) or torch, or a list of ``(nsampl, nchan)`` /
    ``(nsampl,)`` arrays of equal shapes (or a :class:`Signals`, returned as is).
    """
    if isinstance(x, Signals):
        return x
    if isinstance(x, (list, tuple)):
        if len(x) == 0:
            raise ParameterError(f"{name}: empty list of sources; expected (nsrc, nsampl, nchan) arrays")
        items = [_as_array(s) for s in x]
        shapes = [tuple(s.shape) for s in items]
        if len(set(shapes)) != 1:
            raise AudioError(
                f"{name}: all sources must have the same shape (nsampl, nchan), got {', '.join(map(str, shapes))}"
            )
        for s in items:
            _check_dtype(s, name)
        nd = len(shapes[0]) + 1
        if nd > 3:
            raise AudioError(f"{name}: {nd} dimensions, shape {(len(items),) + shapes[0]}; expected at most 3: "
                             "(nsrc, nsampl, nchan)")
        if nd == 1:
            raise AudioError(f"{name}: scalar sources given; expected (nsrc, nsampl, nchan)")
        parts = [s[:, None] if nd == 2 else s for s in items]
        return Signals(parts, nsampl=parts[0].shape[0]) if parts[0].shape[0] else _empty(items, name)
    arr = _as_array(x)
    _check_dtype(arr, name)
    nd = arr.ndim
    if nd > 3:
        raise AudioError(f"{name}: {nd} dimensions, shape {tuple(arr.shape)}; expected at most 3: "
                         "(nsrc, nsampl, nchan)")
    if nd == 0:
        raise AudioError(f"{name}: scalar given; expected (nsrc, nsampl, nchan)")
    if nd == 1:
        arr = arr[None, :, None]
    elif nd == 2:
        arr = arr[:, :, None]
    if arr.shape[0] == 0 or arr.shape[1] == 0 or arr.shape[2] == 0:
        return _empty(arr, name)
    stack = arr if (isinstance(arr, np.ndarray) and arr.dtype == np.float64 and arr.flags.c_contiguous) else None
    return Signals([arr[j] for j in range(arr.shape[0])], nsampl=arr.shape[1], stack=stack)


class _EmptySignals(Signals):
    def __init__(self, shape):  # noqa: D401 - a placeholder with a shape only
        self.parts, self.sources, self.device = [], [], None
        self.nsrc, self.nsampl, self.nchan = (int(s) for s in shape)


def _empty(arr, name):
    shape = tuple(arr.shape) if not isinstance(arr, list) else (len(arr),) + tuple(arr[0].shape)
    shape = (shape + (1, 1, 1))[:3]
    return _EmptySignals(shape)


def fit_length(sig, nsampl):
    """museval's ``pad_or_truncate``: read the sources at ``nsampl`` samples (zero padded or cut, no copy)."""
    return sig if sig.nsampl == nsampl else sig.with_length(nsampl)


def shape_error(ref_shape, est_shape, hint=""):
    return AudioError(
        "The shape of estimated sources and the true sources should match: "
        f"references.shape = {tuple(ref_shape)}, estimates.shape = {tuple(est_shape)} (nsrc, nsampl, nchan)" + hint
    )


def check_sources(sig, name, kind, starts, stops, *, ref=None, energy=False):
    """museval's checks of one side (size, MAX_SOURCES, finite, no whole-signal silent source).

    Returns the :class:`~mssoracle.bsseval.signals.FrameStats` of the pass (with the energies
    of ``sig - ref`` when ``ref`` is given).
    """
    if sig.nsrc * sig.nsampl * sig.nchan == 0:
        raise ParameterError(f"{name}: empty, shape {sig.shape}; expected (nsrc, nsampl, nchan) with nsampl > 0")
    if sig.nsrc > MAX_SOURCES:
        raise ParameterError(f"{name}: {sig.nsrc} sources, more than MAX_SOURCES = {MAX_SOURCES}")
    stats = frame_stats(sig, starts, stops, ref=ref, energy=energy)
    check_stats(stats, name, kind)
    return stats


def check_stats(stats, name, kind):
    """Raise for non-finite or whole-signal silent sources (museval raises on silent ones)."""
    bad = [j for j in range(len(stats.finite)) if not stats.finite[j]]
    if bad:
        raise AudioError(f"{name}: source(s) {bad} contain NaN or inf samples; expected finite audio")
    silent = [j for j in range(len(stats.total)) if stats.total[j] == 0]
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


def frames_tiled(starts, stops):
    """Frames of equal length laid end to end from sample 0 (museval's default hop == win)."""
    return bool(starts[0] == 0 and np.all(stops - starts == stops[0]) and np.all(starts[1:] == stops[:-1]))


def check_win_hop(win, hop, unit):
    """``win`` and ``hop``: positive numbers (``np.inf``: one whole-signal frame)."""
    out = []
    for name, v in (("win", win), ("hop", hop)):
        try:
            inf = float(v) == float("inf") and not isinstance(v, bool)
        except (TypeError, ValueError):
            inf = False
        if inf:
            out.append(float("inf"))
            continue
        try:
            out.append(validators.number(v, name, minimum=0, strict=True))
        except ParameterError:
            raise ParameterError(f"{name} = {v!r}: must be a positive number of {unit}") from None
    return out
