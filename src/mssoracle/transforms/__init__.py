"""Time-frequency transforms behind one small interface.

``from_spec("stft:4096:1024")``, ``from_spec("nsgt:bark:262:32.9")`` and
``from_spec("slicq:scale=bark,bins=262,fmin=32.9")`` build a
:class:`~mssoracle.transforms.base.Transform`.  Spec grammar
(:func:`mssoracle.specs.parse_colon_spec`): a kind, then ``:``-separated
positional values or ``,``-separated ``key=value`` pairs.  Kinds live in the
registry :data:`TRANSFORMS` (:func:`register_transform`), frequency scales in
:data:`~mssoracle.transforms.scales.SCALE_KINDS` (:func:`register_scale`).
"""

from ..errors import ParameterError
from .base import BLOCK_SAMPLES, TRANSFORMS, Block, Stream, Transform, WholeStream, register_transform
from .scales import SCALE_KINDS, register_scale
from . import stft as _stft_kind  # noqa: F401  (registers "stft")
from . import nsgt as _nsgt_kinds  # noqa: F401  (registers "nsgt" and "slicq")

__all__ = ["Transform", "Stream", "WholeStream", "Block", "BLOCK_SAMPLES", "from_spec", "KINDS", "TRANSFORMS",
           "register_transform", "SCALE_KINDS", "register_scale"]

#: the registered transform kinds (spec prefixes), live: iterating gives the names
KINDS = TRANSFORMS


def from_spec(spec, *, sample_rate=None):
    """Build a transform from a spec string.

    Parameters
    ----------
    spec : str or Transform
        ``KIND[:ARGS]``, KIND a registered kind (``stft``, ``nsgt``, ``slicq``).
        A :class:`Transform` is returned as it is, or :meth:`Transform.at_rate`
        when ``sample_rate`` is given.
    sample_rate : int, optional
        Sampling rate of the signals it will see (Hz, default 44100 for a spec
        string); rate-dependent defaults (fmax = Nyquist, sllen/trlen) are
        resolved at it.

    Returns
    -------
    Transform
    """
    if isinstance(spec, Transform):
        return spec if sample_rate is None else spec.at_rate(sample_rate)
    if sample_rate is None:
        sample_rate = 44100
    if not isinstance(spec, str) or not spec.strip():
        raise ParameterError(f"transform spec must be a non-empty string, got {spec!r}")
    kind = spec.strip().split(":", 1)[0].lower()
    if kind not in TRANSFORMS:
        examples = ", ".join(TRANSFORMS.info(k).get("example") or k for k in TRANSFORMS)
        raise ParameterError(
            f"unknown transform {kind!r} in spec {spec!r}; valid kinds: {', '.join(TRANSFORMS)} (e.g. {examples})"
        )
    return TRANSFORMS.get(kind)(spec.strip(), sample_rate=sample_rate)
