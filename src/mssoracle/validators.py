"""Validators of user-given numbers, lengths and sample rates: one rule each, one message style.

Every function returns the value converted to its canonical type or raises
:class:`~mssoracle.errors.ParameterError` with a one-line message naming the
option (``name``), what was given and what is valid.
"""

import math
import numbers

from .errors import ParameterError

__all__ = ["integer", "number", "boolean", "sample_rate", "length", "choice", "seconds"]


def _is_bool(value):
    return isinstance(value, bool) or type(value).__name__ == "bool_"


def integer(value, name, *, minimum=None, maximum=None):
    """An integer (``int``, numpy integer, integral float or decimal text) within ``[minimum, maximum]``."""
    v = None
    if not _is_bool(value):
        if isinstance(value, numbers.Integral):
            v = int(value)
        elif isinstance(value, numbers.Real) and math.isfinite(float(value)) and float(value).is_integer():
            v = int(value)
        elif isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            v = int(value.strip())
    rng = _range_text(minimum, maximum)
    if v is None:
        raise ParameterError(f"{name} must be an integer{rng}, got {value!r}")
    if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
        raise ParameterError(f"{name} must be an integer{rng}, got {value!r}")
    return v


def number(value, name, *, minimum=None, maximum=None, strict=False):
    """A finite real number; ``minimum``/``maximum`` inclusive, or exclusive with ``strict``."""
    try:
        if _is_bool(value) or isinstance(value, complex):
            raise TypeError
        v = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        v = None
    lo = ">" if strict else ">="
    hi = "<" if strict else "<="
    parts = []
    if minimum is not None:
        parts.append(f"{lo} {minimum:g}")
    if maximum is not None:
        parts.append(f"{hi} {maximum:g}")
    rng = (" " + " and ".join(parts)) if parts else ""
    if v is None or not math.isfinite(v):
        raise ParameterError(f"{name} must be a finite number{rng}, got {value!r}")
    bad_lo = minimum is not None and (v <= minimum if strict else v < minimum)
    bad_hi = maximum is not None and (v >= maximum if strict else v > maximum)
    if bad_lo or bad_hi:
        raise ParameterError(f"{name} must be a finite number{rng}, got {value!r}")
    return v


_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def boolean(value, name):
    """``True``/``False``, or the text ``true/false/1/0/yes/no/on/off`` (any case)."""
    if _is_bool(value):
        return bool(value)
    s = str(value).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ParameterError(f"{name} must be true or false, got {value!r}")


def sample_rate(value, name="sample_rate"):
    """A sampling rate: a positive integer number of Hz (an integral float is accepted)."""
    if _is_bool(value) or not isinstance(value, (numbers.Real, str)):
        raise ParameterError(f"{name} must be a positive integer (Hz), got {value!r}")
    try:
        v = float(value)
    except ValueError:
        v = float("nan")
    if not (math.isfinite(v) and v > 0 and v.is_integer()):
        raise ParameterError(f"{name} must be a positive integer (Hz), got {value!r}")
    return int(v)


def length(value, name="length", *, minimum=0):
    """A signal length in samples: an integer ``>= minimum``."""
    return integer(value, name, minimum=minimum)


def seconds(value, name):
    """A positive, finite duration in seconds."""
    return number(value, name, minimum=0, strict=True)


def choice(value, name, choices):
    """``value`` if it is one of ``choices`` (compared as lower-case text), else a one-line error."""
    s = str(value).strip().lower() if isinstance(value, str) else value
    if s not in choices:
        raise ParameterError(f"{name} must be one of {', '.join(map(str, choices))}, got {value!r}")
    return s


def _range_text(minimum, maximum):
    if minimum is not None and maximum is not None:
        return f" from {minimum} to {maximum}"
    if minimum is not None:
        return f" >= {minimum}"
    if maximum is not None:
        return f" <= {maximum}"
    return ""
