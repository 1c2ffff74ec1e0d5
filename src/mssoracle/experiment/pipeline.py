"""Oracle estimates of one track, computed in blocks of time with flat memory.

For one transform, the oracles of a track are processed in *groups* of at most
:data:`ESTIMATES_IN_FLIGHT`.  A group makes as many passes over the transform's
blocks (STFT frame ranges, sliCQT slice ranges; the non-sliced NSGT is one
block) as its oracle with the most passes needs (pointwise masks: one; ``mwf``:
two; ``wienerK``: K + 1).  In every pass each block of the mixture and of the
stems is analysed, handed to the oracles that take part in that pass, and, in
an oracle's last pass, its block estimate is synthesised and overlap-added
straight into that oracle's estimate signal.  So no whole-track coefficients are
ever held (except for the non-sliced NSGT, whose single block is the track), and
peak memory is the signals, at most :data:`ESTIMATES_IN_FLIGHT` estimate
signals and one block's coefficients, whatever the number of oracles or
transforms.

Everything stays in the signals' precision and on their device (numpy, or torch
tensors on the ``--device``); nothing is copied to the host here.
"""

import numpy as np

__all__ = ["ESTIMATES_IN_FLIGHT", "estimate_groups", "compute_estimates"]

#: estimate signals held at once per track (each is nsrc x channels x time in the signals' precision).
#: Two lets the default command (two oracles per transform) analyse each block once per transform;
#: measured in benchmarks/bench_memory.py.
ESTIMATES_IN_FLIGHT = 2


def _passes(oracle):
    return int(oracle.passes)


def estimate_groups(oracles, size=ESTIMATES_IN_FLIGHT):
    """Split ``oracles`` into groups of at most ``size``, oracles with the same number of passes together.

    The order inside the groups follows the number of passes (stable), so that a
    group's passes are shared as much as possible.
    """
    ordered = sorted(oracles, key=_passes)  # stable
    return [ordered[i:i + size] for i in range(0, len(ordered), size)]


def _zeros_like_stems(stems):
    torch = _torch_of(stems)
    if torch is not None:
        return torch.zeros_like(stems)
    return np.zeros(stems.shape, dtype=stems.dtype)


def _check_finite(mixture, stems):
    from ..backend import namespace
    from ..errors import AudioError

    for name, x in (("mixture", mixture), ("stems", stems)):
        xp = namespace(x)
        if not bool(xp.all(xp.isfinite(x))):
            raise AudioError(f"compute_estimates: the {name} holds NaN or inf samples; oracles need finite audio")


def _torch_of(x):
    import sys

    torch = sys.modules.get("torch")
    return torch if torch is not None and isinstance(x, torch.Tensor) else None


def compute_estimates(transform, oracles, mixture, stems, *, checked=False, stability=None):
    """Yield ``(oracle, estimate)`` for every oracle, at most :data:`ESTIMATES_IN_FLIGHT` alive at once.

    Parameters
    ----------
    transform : mssoracle.transforms.Transform
        Already resolved at the track's sample rate.
    oracles : list of mssoracle.oracles.Oracle
    mixture : array ``(channels, time)``
        numpy (float32/float64) or a torch tensor; the oracles' mixture.
    stems : array ``(nsrc, channels, time)``
        Same type, dtype and device as ``mixture``.
    checked : bool
        The signals are known to be finite (the runner's are checked when decoded): the oracles then
        skip their scan of every block's coefficients for NaN/inf
        (:func:`mssoracle.oracles.finite_inputs`).  Otherwise the signals are checked here, once.
    stability : dict, optional
        Filled, before each oracle's estimate is yielded, with ``stability[oracle]`` = the oracle's
        stability figure on this track (:meth:`mssoracle.oracles.Oracle.stability`: one dict per stem,
        or None for the oracles that measure none).

    Raises
    ------
    AudioError
        NaN or inf samples (unless ``checked``).

    Yields
    ------
    oracle, estimate : array ``(nsrc, channels, time)``
        In the stems' dtype and on their device.  The caller should drop each
        estimate before asking for the next one (the generator frees its
        reference as soon as it is yielded).
    """
    from ..oracles import finite_inputs

    if not checked:
        _check_finite(mixture, stems)
    length = int(stems.shape[-1])
    stream = transform.stream(length)  # Transform's default: one block, the whole signal
    for group in estimate_groups(list(oracles)):
        runners = list(group)
        total = max(_passes(r) for r in runners)
        states = [r.start() for r in runners]
        outs = [None] * len(runners)
        for p in range(total):
            # oracle i takes part in the last passes(i) passes; its own pass index is q
            active = [(i, p - (total - _passes(r))) for i, r in enumerate(runners) if p >= total - _passes(r)]
            for i, q in active:
                if q == _passes(runners[i]) - 1 and outs[i] is None:
                    outs[i] = _zeros_like_stems(stems)
            for block in stream.blocks:
                X = stream.forward(mixture, block)
                S = stream.forward(stems, block)
                for i, q in active:
                    r = runners[i]
                    with np.errstate(divide="ignore", invalid="ignore"), finite_inputs():  # 0/0: silent bins
                        if q < _passes(r) - 1:
                            r.accumulate(states[i], q, X, S)
                            continue
                        Y = r.apply(states[i], X, S)
                    stream.inverse_add(Y, block, outs[i])
                    del Y
                del X, S
            for i, q in active:
                if q < _passes(runners[i]) - 1:
                    runners[i].end_pass(states[i], q)
        for i, r in enumerate(runners):
            stream.finish(outs[i])
            if stability is not None:
                stability[r] = r.stability(states[i])
        del states
        for i, oracle in enumerate(group):
            est, outs[i] = outs[i], None
            yield oracle, est
            del est
