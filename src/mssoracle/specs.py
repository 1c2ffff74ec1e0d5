"""The spec grammars of the command line, parsed in one place.

Two grammars:

* colon specs (transforms): ``KIND[:A[:B...]]`` with positional values, or
  ``KIND:key=value,key=value`` -- :func:`parse_colon_spec`;
* bracket specs (oracles, metrics): ``BASE[DIGITS][[key=value,...]]``, e.g.
  ``irm1``, ``ibm2[theta=0.3]``, ``wiener3`` -- :func:`parse_bracket_spec`.

Both raise :class:`~mssoracle.errors.ParameterError` with a one-line message
that quotes the spec.  Values stay text: each registry entry converts and
checks its own options (with :mod:`mssoracle.validators`).
"""

import re

from .errors import ParameterError

__all__ = ["parse_colon_spec", "parse_bracket_spec", "format_options"]


def parse_colon_spec(spec, positional_names, *, what="transform"):
    """Split ``"kind:a:b"`` or ``"kind:k=v,k2=v2"`` into ``(kind, {name: text})``.

    Positional values are named after ``positional_names`` in order; keys are
    lower-cased.
    """
    kind, _, rest = spec.partition(":")
    kind = kind.strip().lower()
    out = {}
    if not rest:
        return kind, out
    if "=" in rest:
        for item in rest.split(","):
            key, eq, value = item.partition("=")
            key = key.strip().lower()
            if not eq or not key or not value.strip():
                raise ParameterError(
                    f"malformed item {item!r} in {what} spec {spec!r}; expected key=value pairs "
                    "separated by commas"
                )
            if key in out:
                raise ParameterError(f"key {key!r} given twice in {what} spec {spec!r}")
            out[key] = value.strip()
    else:
        values = rest.split(":")
        if len(values) > len(positional_names):
            raise ParameterError(
                f"too many values in {what} spec {spec!r}: {kind} takes at most "
                f"{len(positional_names)} positional values ({':'.join(positional_names)})"
            )
        for name, value in zip(positional_names, values):
            if not value.strip():
                raise ParameterError(f"empty value for {name!r} in {what} spec {spec!r}")
            out[name] = value.strip()
    return kind, out


_BRACKET_RE = re.compile(r"^([a-z][a-z_-]*?)([0-9]+)?(?:\[([^\[\]]*)\])?$")


def parse_bracket_spec(spec, *, what="oracle", valid=""):
    """Split ``"base12[k=v,k2=v2]"`` into ``(base, digits or None, {key: text})``.

    ``valid`` is appended to error messages (e.g. the list of valid names).
    """
    tail = f"; {valid}" if valid else ""
    if not isinstance(spec, str) or not spec.strip():
        raise ParameterError(f"{what} spec must be a non-empty string, got {spec!r}{tail}")
    text = spec.strip().lower().replace(" ", "")
    m = _BRACKET_RE.match(text)
    if not m:
        raise ParameterError(f"unknown {what} {spec!r}{tail}")
    base, digits, inner = m.groups()
    options = {}
    if inner is not None:
        if not inner:
            raise ParameterError(f"{what} {spec!r}: empty brackets; write e.g. {base}[key=value]")
        for item in inner.split(","):
            key, eq, value = item.partition("=")
            if not eq or not key or not value:
                raise ParameterError(f"{what} {spec!r}: malformed option {item!r}; expected key=value")
            if key in options:
                raise ParameterError(f"{what} {spec!r}: option {key!r} given twice")
            options[key] = value
    return base, digits, options


def format_options(options):
    """``{"theta": 0.3, "clip": False}`` -> ``"[theta=0.3,clip=false]"`` (empty dict: ``""``)."""
    if not options:
        return ""
    return "[" + ",".join(f"{k}={_fmt(v)}" for k, v in options.items()) + "]"


def _fmt(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return str(v)
