"""Time-frequency transforms behind one small interface.

``from_spec("stft:4096:1024")``, ``from_spec("nsgt:bark:262:32.9")`` and
``from_spec("slicq:scale=bark,bins=262,fmin=32.9")`` build a
:class:`~mssoracle.transforms.base.Transform`.  Spec grammar: a kind, then
``:``-separated positional values or ``,``-separated ``key=value`` pairs.
"""

import importlib

from ..errors import ParameterError
from .base import Transform

__all__ = ["Transform", "from_spec", "KINDS"]

#: spec prefix -> (module, factory function taking (args: str, sample_rate))
KINDS = {
    "stft": ("mssoracle.transforms.stft", "from_spec"),
    "nsgt": ("mssoracle.transforms.nsgt", "from_spec"),
    "slicq": ("mssoracle.transforms.nsgt", "from_spec"),
}


def from_spec(spec, *, sample_rate=44100):
    """Build a transform from a spec string.

    Parameters
    ----------
    spec : str
        ``KIND[:ARGS]``, KIND one of ``stft``, ``nsgt``, ``slicq``.
    sample_rate : int
        Sampling rate of the signals it will see (Hz).

    Returns
    -------
    Transform
    """
    if isinstance(spec, Transform):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise ParameterError(f"transform spec must be a non-empty string, got {spec!r}")
    kind = spec.strip().split(":", 1)[0].lower()
    if kind not in KINDS:
        raise ParameterError(
            f"unknown transform {kind!r} in spec {spec!r}; valid kinds: {', '.join(KINDS)} "
            "(e.g. stft:4096:1024, nsgt:bark:262:32.9, slicq:log:262:32.9)"
        )
    module, func = KINDS[kind]
    return getattr(importlib.import_module(module), func)(spec.strip(), sample_rate=sample_rate)


def parse_spec_args(spec, positional_names):
    """Split ``"kind:a:b"`` or ``"kind:k=v,k2=v2"`` into ``(kind, {name: str})``.

    Positional values are named after ``positional_names`` in order.  Raises
    :class:`ParameterError` for malformed specs.
    """
    kind, _, rest = spec.partition(":")
    kind = kind.lower()
    out = {}
    if not rest:
        return kind, out
    if "=" in rest:
        for item in rest.split(","):
            key, eq, value = item.partition("=")
            key = key.strip().lower()
            if not eq or not key or not value.strip():
                raise ParameterError(
                    f"malformed item {item!r} in transform spec {spec!r}; expected key=value pairs "
                    "separated by commas"
                )
            if key in out:
                raise ParameterError(f"key {key!r} given twice in transform spec {spec!r}")
            out[key] = value.strip()
    else:
        values = rest.split(":")
        if len(values) > len(positional_names):
            raise ParameterError(
                f"too many values in transform spec {spec!r}: {kind} takes at most "
                f"{len(positional_names)} positional values ({':'.join(positional_names)})"
            )
        for name, value in zip(positional_names, values):
            if not value.strip():
                raise ParameterError(f"empty value for {name!r} in transform spec {spec!r}")
            out[name] = value.strip()
    return kind, out
