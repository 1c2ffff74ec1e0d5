"""Method names: the canonical text of an (oracle, transform, qualifiers) configuration, and its parser.

Grammar::

    <oracle canonical name>-<transform name>[+<key>=<value>]...

e.g. ``irm1-stft-2048-512``, ``irm[alpha=3]-stft-4096-1024+precision=float64``,
``irm1-stft-2048-1536+start=30+duration=10``,
``mpi-slicq-bark-262-32.9-sllen18060-trlen4516+mixture=sum+win=2+hop=0.5``.

* the oracle part is :attr:`mssoracle.oracles.Oracle.name` (``irm1``, ``irm[alpha=3]``,
  ``wiener[iterations=0]``), the transform part :attr:`mssoracle.transforms.Transform.name` at the
  track's rate (``stft-2048-512``, ``nsgt-bark-262-32.9-sr48000``);
* a qualifier appears only when it is not its default (:data:`DEFAULT_QUALIFIERS`), in the fixed
  order :data:`QUALIFIER_ORDER`: ``start`` and ``duration`` (an excerpt in seconds, as musdb's
  ``chunk_start``/``chunk_duration``: samples ``int(start*rate) .. + int(duration*rate)``; defaults 0 and
  None, the whole track), ``mixture`` (``file``; ``sum``: the sum of the stems),
  ``precision`` (``float32``; ``float64``), ``win`` and ``hop`` (BSS Eval framing in seconds, 1),
  ``mode`` (``v4``; ``v3``), ``filters`` (BSS Eval filter length, 512) and ``sources`` (``images``;
  ``sources``: the bss_eval_sources variant).  Numbers are written as in oracle brackets
  (:func:`mssoracle.specs.format_options`: ``2``, ``0.5``).

Everything that changes the numbers of a result is in its method name or in a directory level, so
two configurations never share a file.  :func:`parse_method_name` accepts canonical names only and
gives back the configuration: ``method_name(c.oracle, c.transform, **c.qualifiers) == name``.
"""

import dataclasses
import re
from types import MappingProxyType

from .. import validators
from ..constants import DEFAULT_PRECISION, PRECISIONS
from ..errors import ParameterError
from ..specs import format_options

__all__ = ["method_name", "parse_method_name", "MethodConfig", "DEFAULT_QUALIFIERS", "QUALIFIER_ORDER",
           "QUALIFIER_CHOICES"]

#: every qualifier with its default value (a default is left out of the name)
DEFAULT_QUALIFIERS = MappingProxyType({"start": 0.0, "duration": None, "mixture": "file",
                                       "precision": DEFAULT_PRECISION, "win": 1.0, "hop": 1.0,
                                       "mode": "v4", "filters": 512, "sources": "images"})
#: the order in which qualifiers appear in a name
QUALIFIER_ORDER = ("start", "duration", "mixture", "precision", "win", "hop", "mode", "filters", "sources")
#: the values of the text qualifiers
QUALIFIER_CHOICES = MappingProxyType({"mixture": ("file", "sum"), "precision": tuple(PRECISIONS),
                                      "mode": ("v4", "v3"), "sources": ("images", "sources")})

_QUALIFIER_RE = re.compile(r"\+(%s)=" % "|".join(QUALIFIER_ORDER))


def _qualifier(key, value, label):
    """The checked, normalised value of qualifier ``key`` (``label`` starts the error message)."""
    if key in QUALIFIER_CHOICES:
        return validators.choice(value, f"{label} {key}", QUALIFIER_CHOICES[key])
    if key in ("win", "hop"):
        return float(validators.number(value, f"{label} {key} (seconds)", minimum=0, strict=True))
    if key == "start":
        return float(validators.number(value, f"{label} start (seconds)", minimum=0))
    if key == "duration":
        return float(validators.number(value, f"{label} duration (seconds)", minimum=0, strict=True))
    if key == "filters":
        return validators.integer(value, f"{label} filters (BSS Eval filter length)", minimum=1)
    raise ParameterError(f"{label}: unknown qualifier {key!r}; valid: {', '.join(QUALIFIER_ORDER)}")


def _text(value):
    """A qualifier value as written in a name (numbers as in oracle brackets: ``2``, ``0.5``)."""
    return format_options({"x": value})[3:-1]


def _normalised(qualifiers, label):
    out = dict(DEFAULT_QUALIFIERS)
    for key, value in qualifiers.items():
        if key not in DEFAULT_QUALIFIERS:
            raise ParameterError(f"{label}: unknown qualifier {key!r}; valid: {', '.join(QUALIFIER_ORDER)}")
        if value is not None:
            out[key] = _qualifier(key, value, label)
    return out


def method_name(oracle, transform, **qualifiers):
    """The canonical method name of a configuration.

    Parameters
    ----------
    oracle : Oracle or str
        An :class:`~mssoracle.oracles.Oracle` (or a spec, canonicalised).
    transform : Transform or str
        A :class:`~mssoracle.transforms.Transform` resolved at the track's rate (or a spec, at 44100 Hz).
    **qualifiers
        Any of :data:`QUALIFIER_ORDER`; a value equal to its default (or None) is left out.

    Returns
    -------
    str
        e.g. ``irm1-stft-2048-512``, ``irm[alpha=3]-stft-4096-1024+precision=float64``.

    Raises
    ------
    ParameterError
        Unknown qualifier or a bad value (one line).
    """
    from ..oracles import get_oracle
    from ..transforms import from_spec

    o = get_oracle(oracle)
    t = from_spec(transform)
    values = _normalised(qualifiers, f"method {o.name}-{t.name}")
    tail = "".join(f"+{k}={_text(values[k])}" for k in QUALIFIER_ORDER if values[k] != DEFAULT_QUALIFIERS[k])
    return f"{o.name}-{t.name}{tail}"


@dataclasses.dataclass(frozen=True)
class MethodConfig:
    """The configuration a method name stands for.

    Attributes
    ----------
    oracle : Oracle
    transform : Transform
        At the rate the name implies (see :func:`mssoracle.transforms.from_name`).
    qualifiers : dict
        Every key of :data:`QUALIFIER_ORDER`, defaults filled in.
    """

    oracle: object
    transform: object
    qualifiers: dict

    @property
    def name(self):
        """The canonical method name (the one parsed)."""
        return method_name(self.oracle, self.transform, **self.qualifiers)


def _split_qualifiers(name):
    m = _QUALIFIER_RE.search(name)
    if m is None:
        return name, []
    head, rest = name[:m.start()], name[m.start():]
    items, pos = [], 0
    while pos < len(rest):
        m = _QUALIFIER_RE.match(rest, pos)
        nxt = _QUALIFIER_RE.search(rest, pos + 1) if m else None
        if m is None:
            raise ParameterError(f"method name {name!r}: malformed qualifier {rest[pos:]!r}; expected "
                                 f"+KEY=VALUE with KEY one of {', '.join(QUALIFIER_ORDER)}")
        end = nxt.start() if nxt else len(rest)
        items.append((m.group(1), rest[m.end():end]))
        pos = end
    return head, items


def _split_head(name, head):
    """``(oracle text, transform text)``: the first ``-`` after which a registered transform kind starts and
    before which a valid oracle name stands."""
    from ..oracles import get_oracle
    from ..transforms import TRANSFORMS

    first_error = None
    for i, c in enumerate(head):
        if c != "-" or i == 0:
            continue
        left, right = head[:i], head[i + 1:]
        if right.split("-", 1)[0] not in TRANSFORMS:
            continue
        try:
            oracle = get_oracle(left)
        except ParameterError as exc:
            first_error = first_error or exc
            continue
        return left, oracle, right
    if first_error is not None:
        raise ParameterError(f"method name {name!r}: {first_error}") from None
    raise ParameterError(f"method name {name!r} is not <oracle>-<transform name>[+key=value...] "
                         f"(e.g. irm1-stft-2048-512); transform kinds: {', '.join(TRANSFORMS)}")


def parse_method_name(name, *, sample_rate=None):
    """The configuration of a canonical method name (the inverse of :func:`method_name`).

    Parameters
    ----------
    name : str
        e.g. ``irm1-stft-2048-512+precision=float64``.
    sample_rate : int, optional
        The rate of the track the method ran on; a transform name that fixes its rate (``-sr48000``,
        or an NSGT/sliCQT with the default fmax and no ``-sr``: 44100 Hz) must agree with it.
        Default: the name's own rate (44100 unless it says otherwise).

    Returns
    -------
    MethodConfig

    Raises
    ------
    ParameterError
        Anything that is not a canonical method name: an oracle or transform that is not a name or not
        canonical (``irm3``, ``irm``), qualifiers out of order, repeated, unknown, at their default or
        not written canonically; the message says what to write.
    """
    if not isinstance(name, str) or not name.strip():
        raise ParameterError(f"method name must be a non-empty string, got {name!r}")
    from ..transforms import from_name

    head, items = _split_qualifiers(name)
    left, oracle, right = _split_head(name, head)
    if oracle.name != left:
        raise ParameterError(f"method name {name!r}: oracle {left!r} is not written canonically; "
                             f"write {oracle.name}")
    try:
        transform = from_name(right, sample_rate=sample_rate)
    except ParameterError as exc:
        raise ParameterError(f"method name {name!r}: {exc}") from None
    given = {}
    for key, text in items:
        if key in given:
            raise ParameterError(f"method name {name!r}: qualifier {key} given twice")
        given[key] = _qualifier(key, text, f"method name {name!r}: qualifier")
    qualifiers = _normalised(given, f"method name {name!r}")
    canonical = method_name(oracle, transform, **qualifiers)
    if canonical != name:
        raise ParameterError(f"method name {name!r} is not canonical (qualifiers only when not default, in the "
                             f"order {', '.join(QUALIFIER_ORDER)}; numbers as 2, 0.5); write {canonical}")
    return MethodConfig(oracle, transform, qualifiers)
