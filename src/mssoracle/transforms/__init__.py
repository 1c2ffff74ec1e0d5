"""Time-frequency transforms behind one small interface.

``from_spec("stft:4096:1024")``, ``from_spec("nsgt:bark:262:32.9")`` and
``from_spec("slicq:scale=bark,bins=262,fmin=32.9")`` build a
:class:`~mssoracle.transforms.base.Transform`; :func:`from_name` reads a
transform's canonical name back (``from_name("stft-4096-1024")``).  Spec grammar
(:func:`mssoracle.specs.parse_colon_spec`): a kind, then ``:``-separated
positional values or ``,``-separated ``key=value`` pairs.  Kinds live in the
registry :data:`TRANSFORMS` (:func:`register_transform`), frequency scales in
:data:`~mssoracle.transforms.scales.SCALE_KINDS` (:func:`register_scale`).
"""

from .. import validators
from ..errors import ParameterError
from .base import BLOCK_SAMPLES, TRANSFORMS, Block, Stream, Transform, WholeStream, register_transform
from .scales import SCALE_KINDS, register_scale
from . import stft as _stft_kind  # noqa: F401  (registers "stft")
from . import nsgt as _nsgt_kinds  # noqa: F401  (registers "nsgt" and "slicq")

__all__ = ["Transform", "Stream", "WholeStream", "Block", "BLOCK_SAMPLES", "from_spec", "from_name", "KINDS",
           "TRANSFORMS", "register_transform", "SCALE_KINDS", "register_scale"]

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


def from_name(name, *, sample_rate=None):
    """The transform whose canonical :attr:`Transform.name` is ``name``: the inverse of ``Transform.name``.

    Parameters
    ----------
    name : str
        A canonical name, e.g. ``stft-2048-512``, ``stft-4096-1024-kaiser-8.6``,
        ``nsgt-bark-262-32.9-sr48000``, ``slicq-bark-262-32.9-sllen18060-trlen4516``.
    sample_rate : int, optional
        The rate the transform is for.  A name that fixes its rate (``-sr{R}``, or the NSGT/sliCQT
        default fmax without ``-sr``: 44100 Hz) must agree with it; a rate-independent name (an STFT, an
        explicit ``-fmax``) is built at it.  Default: the name's own rate, else 44100.

    Returns
    -------
    Transform
        ``from_name(t.name, sample_rate=t.sample_rate).spec == t.spec`` for every transform ``t``.

    Raises
    ------
    ParameterError
        Unknown kind, a kind without a name parser, a malformed or non-canonical name, or a name at
        another rate.
    """
    if not isinstance(name, str) or not name.strip():
        raise ParameterError(f"transform name must be a non-empty string, got {name!r}")
    kind = name.split("-", 1)[0]
    if kind not in TRANSFORMS:
        raise ParameterError(f"transform name {name!r}: unknown kind {kind!r}; valid kinds: {', '.join(TRANSFORMS)}")
    parser = TRANSFORMS.info(kind).get("from_name")
    if parser is None:
        raise ParameterError(f"transform name {name!r}: the {kind} kind registers no name parser "
                             f"(register_transform(..., from_name=...)), so its names cannot be read back")
    rate = None if sample_rate is None else validators.sample_rate(sample_rate)
    try:
        t = parser(name, sample_rate=rate)
    except ParameterError as exc:
        msg = str(exc)
        raise ParameterError(msg if repr(name) in msg else f"transform name {name!r}: {msg}") from None
    if t.name != name:
        raise ParameterError(f"transform name {name!r} is not canonical; write {t.name}")
    if rate is not None and t.sample_rate != rate:
        raise ParameterError(f"transform name {name!r} is a transform at {t.sample_rate} Hz, not {rate} Hz "
                             f"(at {rate} Hz its name would be {t.at_rate(rate).name})")
    return t
