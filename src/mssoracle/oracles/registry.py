"""The oracle registry: :class:`Oracle`, :func:`get_oracle`, :func:`available_oracles`, :func:`register_oracle`.

Adding an oracle is one function (or one class, for a multi-pass oracle) plus
the decorator, in any module, inside the package or outside it::

    from mssoracle.oracles import Option, register_oracle

    @register_oracle("half", description="half the mixture for every source")
    def half(X, S):
        return [0.5 * x[None] * (s != 0) for x, s in zip(X, S)]

    @register_oracle("gain", options=[Option.number("g", 1.0, minimum=0)], digit="g", digits=(1, 2),
                     description="g times the mixture")      # gain2 = gain[g=2]; gain[g=3] has no digit form
    def gain(X, S, *, g):
        ...

A **pointwise** oracle (``passes=1``, the default) is a function
``f(X, S, **options) -> Y`` whose estimate at a frame depends on that frame
alone: the runner calls it once per block of frames.  A **multi-pass** oracle
is a class ``C(**options)`` with the methods of the pass protocol
(``start``, ``accumulate``, ``end_pass``, ``apply``; see :class:`Oracle`) and
``passes`` an int or a function of the options dict.

Spec grammar (one parser: :func:`mssoracle.specs.parse_bracket_spec`):
``BASE[DIGITS][[key=value,...]]``.  ``DIGITS`` (no leading zero) set the
oracle's *digit option*, and only to the values the oracle declares
(``register_oracle(..., digit="alpha", digits=(1, 2))``): ``irm2`` is
``irm[alpha=2]``, ``wiener3`` ``wiener[iterations=3]``; ``irm3`` is not a name
(write ``irm[alpha=3]``), nor ``wiener0`` (write ``wiener[iterations=0]``, which
equals ``mpi``).  A base alone takes the option's default (``irm`` = ``irm1``).
The canonical name (:attr:`Oracle.name`) uses the digit form exactly when the
value is a declared digit (``irm[alpha=2]`` -> ``irm2``, ``irm[alpha=3]`` stays
``irm[alpha=3]``) and always parses back to an equal oracle.
"""

import numbers

import numpy as np

from .. import validators
from ..errors import ParameterError
from ..registry import Registry
from ..specs import format_options, parse_bracket_spec

__all__ = ["Oracle", "Option", "ORACLE_REGISTRY", "register_oracle", "get_oracle", "available_oracles",
           "oracle_grammar", "at_least"]

#: every registered oracle base name -> its entry (:class:`_Entry`)
ORACLE_REGISTRY = Registry("oracle")


class Option:
    """One option of an oracle: name, default, and a converter ``parse(value, label) -> value``.

    ``parse`` raises :class:`ParameterError` with a one-line message that starts
    with ``label`` (the oracle spec and option).  Use the constructors
    :meth:`number`, :meth:`integer`, :meth:`boolean`, :meth:`choice`.
    """

    def __init__(self, name, default, parse, valid):
        self.name, self.default, self.parse, self.valid = name, default, parse, valid

    @classmethod
    def number(cls, name, default, *, minimum=None, strict=False):
        rel = ">" if strict else ">="
        valid = "a number" + (f" {rel} {minimum:g}" if minimum is not None else "")
        return cls(name, float(default),
                   lambda v, label: validators.number(v, label, minimum=minimum, strict=strict), valid)

    @classmethod
    def integer(cls, name, default, *, minimum=None):
        valid = "an integer" + (f" >= {minimum}" if minimum is not None else "")
        return cls(name, int(default), lambda v, label: validators.integer(v, label, minimum=minimum), valid)

    @classmethod
    def boolean(cls, name, default):
        return cls(name, bool(default), validators.boolean, "true or false")

    @classmethod
    def choice(cls, name, default, choices):
        return cls(name, default, lambda v, label: validators.choice(v, label, tuple(choices)),
                   " or ".join(choices))

    def __repr__(self):
        return f"Option({self.name!r}, default={self.default!r}, {self.valid})"


class at_least:
    """The digits ``k >= minimum`` (``register_oracle(..., digits=at_least(1))``: ``wiener1``, ``wiener2``, ...)."""

    def __init__(self, minimum):
        self.minimum = validators.integer(minimum, "at_least minimum", minimum=0)

    def __call__(self, k):
        return k >= self.minimum

    def __str__(self):
        return f"N >= {self.minimum}"

    def __repr__(self):
        return f"at_least({self.minimum})"


def _check_version(version, what):
    """An algorithm version: an integer >= 1 (bools refused)."""
    if isinstance(version, bool) or not isinstance(version, numbers.Integral) or version < 1:
        raise ParameterError(f"{what}: version must be an integer >= 1 (bump it when its numbers change), "
                             f"got {version!r}")
    return int(version)


class _Entry:
    def __init__(self, name, obj, options, digit, digits, description, passes, listed, version):
        self.name, self.obj, self.options, self.digit = name, obj, list(options), digit
        self.digits = digits
        self.description, self.passes, self.listed = description, passes, tuple(listed)
        self.multipass = isinstance(obj, type)
        self.version = version

    def accepts_digit(self, k):
        """Whether the integer ``k`` is a declared digit value."""
        if self.digit is None:
            return False
        return bool(self.digits(k)) if callable(self.digits) else k in self.digits

    def digits_text(self):
        """``"1, 2 (irm1, irm2)"`` or ``"N >= 1 (wiener1, wiener2, ...)"``."""
        if callable(self.digits):
            first = [k for k in range(0, 100) if self.digits(k)][:2]
            return f"{self.digits} ({', '.join(f'{self.name}{k}' for k in first)}, ...)"
        ks = sorted(self.digits)
        return f"{', '.join(map(str, ks))} ({', '.join(f'{self.name}{k}' for k in ks)})"


def _normalise_digits(key, digit, digits, options):
    """Checked ``digits``: a sorted tuple of ints >= 0, or a predicate (e.g. :class:`at_least`)."""
    if digit is None:
        if digits is not None:
            raise ParameterError(f"oracle {key}: digits= given without digit= (the option the digits set)")
        return None
    if digits is None:
        raise ParameterError(f"oracle {key}: digit option {digit!r} needs digits= (the values a suffix may take, "
                             f"e.g. digits=(1, 2) or digits=at_least(1)): only declared digit forms are names")
    option = next(o for o in options if o.name == digit)
    if callable(digits):
        return digits
    try:
        values = tuple(sorted(set(digits)))
    except TypeError:
        raise ParameterError(f"oracle {key}: digits must be integers >= 0 (a tuple or range) or a predicate "
                             f"such as at_least(1), got {digits!r}") from None
    if not values or any(isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 0 for k in values):
        raise ParameterError(f"oracle {key}: digits must be a non-empty set of integers >= 0, got {digits!r}")
    for k in values:
        option.parse(str(k), f"oracle {key}: digit {k} of option {digit}")  # each declared digit is a valid value
    return tuple(int(k) for k in values)


def register_oracle(name, obj=None, *, options=(), digit=None, digits=None, description="", passes=1, listed=None,
                    version=1, replace=False):
    """Register an oracle under the base name ``name``; as a decorator when ``obj`` is omitted.

    Parameters
    ----------
    name : str
        Base name (lower-case letters, ``_`` or ``-``; no digits: digits are the digit option).
    obj : function or class
        Pointwise: ``f(X, S, **options) -> Y``.  Multi-pass: a class built as
        ``C(**options)`` with ``start() -> state``, ``accumulate(state, p, X, S)``,
        ``end_pass(state, p)``, ``apply(state, X, S) -> Y``.
    options : sequence of :class:`Option`
        In canonical order (the order of a canonical name's brackets).
    digit : str, optional
        Name of the option a digit suffix sets (``irm2`` -> ``alpha=2``).
    digits : tuple of int, range, or predicate
        The values the digit suffix may take (required with ``digit``): ``(1, 2)`` (``irm1``, ``irm2``;
        ``irm3`` is then not a name, ``irm[alpha=3]`` is), or a predicate ``f(k) -> bool`` such as
        :class:`at_least` ``(1)`` (``wiener1``, ``wiener2``, ...).  Only these are names.
    description : str
        One line, shown by ``mssoracle oracles``.
    passes : int or callable
        Number of passes over the blocks (1: pointwise), or ``passes(options) -> int``.
    listed : sequence of str, optional
        Specs shown by :func:`available_oracles` (default: the base name alone).
    version : int
        Algorithm version (>= 1, default 1): bump it whenever the oracle's numbers change
        (``tests/test_versions.py`` holds a stored reference); read with ``ORACLE_REGISTRY.info(name)["version"]``.
    replace : bool
        Allow re-registering a taken name.
    """
    if obj is None:
        return lambda o: register_oracle(name, o, options=options, digit=digit, digits=digits,
                                         description=description, passes=passes, listed=listed, version=version,
                                         replace=replace) or o
    key = str(name).strip().lower() if isinstance(name, str) else ""
    base, suffix, inner = None, None, None
    try:
        base, suffix, inner = parse_bracket_spec(key)
    except ParameterError:
        pass
    if not key or base != key or suffix is not None or inner:
        raise ParameterError(f"oracle name {name!r} must be lower-case letters (and _ or -), without digits")
    names = [o.name for o in options]
    if digit is not None and digit not in names:
        raise ParameterError(f"oracle {key}: digit option {digit!r} is not one of its options {names}")
    digits = _normalise_digits(key, digit, digits, options)
    if not isinstance(obj, type) and not (isinstance(passes, numbers.Integral) and passes == 1):
        raise ParameterError(f"oracle {key}: a multi-pass oracle must be a class with the pass methods")
    if not callable(passes) and not (isinstance(passes, numbers.Integral) and passes >= 1):
        raise ParameterError(f"oracle {key}: passes must be an integer >= 1 or a function of the options")
    if not description or "\n" in description:
        raise ParameterError(f"oracle {key}: description must be one non-empty line")
    version = _check_version(version, f"oracle {key}")
    entry = _Entry(key, obj, options, digit, digits, description, passes,
                   listed if listed is not None else (key,), version)
    ORACLE_REGISTRY.register(key, entry, replace=replace, version=version, description=description)
    return obj


def _valid_text():
    specs = [s for _, e in ORACLE_REGISTRY.items() for s in e.listed]
    return (f"valid oracles: {', '.join(specs)}; a digit suffix takes only the digits an oracle lists "
            "(mssoracle oracles), other values and options go in brackets, e.g. irm[alpha=3], irm[alpha=1.5], "
            "ibm1[theta=0.3], mpi[phase=sum], psm[clip=false], mwf[norm=bin], mwf[reg=1e-6], wiener[iterations=0]")


#: bytes of source coefficients per frame block of :func:`_framewise` (numpy only).  Measured on the 2-core
#: VM, irm1/mpi/psm on a (4, 2, 1025, 256) complex64 block: 13-26 ms whole, 6-11 ms in ~2 MiB blocks of 32
#: frames (temporaries stay in cache); torch keeps whole blocks (one kernel launch per operation).
_BLOCK_BYTES = 1 << 21


def _framewise(func, X, S, options):
    """Apply a pointwise oracle over blocks of frames, group by group; same result as ``func(X, S, **options)``."""
    out = []
    for xg, sg in zip(X, S):
        frames = sg.shape[-1] if sg.ndim == 4 else 0
        step = max(1, _BLOCK_BYTES // max(1, sg[..., :1].nbytes)) if frames else 1
        if frames <= step or xg.ndim != 3:
            out.extend(func([xg], [sg], **options))
            continue
        yg = None
        for a in range(0, frames, step):
            (block,) = func([xg[..., a:a + step]], [sg[..., a:a + step]], **options)
            if yg is None:  # same shape as the sources, and the same memory layout (order "K")
                yg = np.empty_like(sg, dtype=block.dtype)
            yg[..., a:a + step] = block
        out.append(yg)
    return out


class _Pointwise:
    """The pass protocol of a pointwise function (one pass: ``apply`` only)."""

    def __init__(self, func, options):
        self.func, self.options = func, options

    def start(self):
        return None

    def apply(self, state, X, S):
        if (isinstance(X, (list, tuple)) and isinstance(S, (list, tuple)) and len(X) == len(S) and X
                and all(type(a) is np.ndarray for a in (*X, *S))
                and len({s.shape[0] if s.ndim else None for s in S}) == 1):
            return _framewise(self.func, X, S, self.options)
        return self.func(X, S, **self.options)  # torch, or malformed input the oracle reports


class Oracle:
    """An oracle with fixed options.

    ``oracle(X, S) -> Y`` on whole arrays (all passes over one block), or, over
    blocks of time (ranges of frames; the same groups and bins every block),
    the pass protocol::

        state = oracle.start()
        for p in range(oracle.passes - 1):
            for X, S in blocks:
                oracle.accumulate(state, p, X, S)
            oracle.end_pass(state, p)
        for X, S in blocks:
            Y = oracle.apply(state, X, S)

    ``X``: list over groups of ``(channels, bins_g, frames_blk)``; ``S``: list of
    ``(nsrc, channels, bins_g, frames_blk)``; ``Y`` like ``S``, in ``X``'s complex
    dtype.  Statistics accumulate in double precision; the passes over any split
    of the frames equal the whole-array call to rounding.

    Attributes
    ----------
    name : str
        Canonical name: base, the digit option as a suffix when its value is a
        declared digit (``irm1``, ``wiener3``) and in brackets otherwise
        (``irm[alpha=3]``, ``wiener[iterations=0]``), other non-default options in
        brackets in the registered order; :func:`get_oracle` parses it back to an
        equal oracle.
    base : str
    options : dict
        Every option with its value (defaults included).
    description : str
    passes : int
    """

    def __init__(self, base, **options):
        key = str(base).strip().lower() if isinstance(base, str) else ""
        if key not in ORACLE_REGISTRY:
            raise ParameterError(f"unknown oracle {base!r}; {_valid_text()}")
        self._init(ORACLE_REGISTRY.get(key), options, spec=key)

    def _init(self, entry, options, spec):
        known = {o.name: o for o in entry.options}
        values = {}
        for k, raw in options.items():
            if k not in known:
                valid = ", ".join(f"{o.name} ({o.valid})" for o in entry.options) or "none"
                raise ParameterError(f"oracle {spec}: unknown option {k!r}; its options: {valid}")
            values[k] = known[k].parse(raw, f"oracle {spec}: option {k}")
        self.base = entry.name
        self.options = {o.name: values.get(o.name, o.default) for o in entry.options}
        self.description = entry.description
        name, shown = entry.name, {}
        for o in entry.options:
            v = self.options[o.name]
            if o.name == entry.digit and _digit_value(entry, v) is not None:
                name += str(_digit_value(entry, v))
            elif o.name == entry.digit or v != o.default:
                shown[o.name] = v
        self.name = name + format_options(shown)
        self.passes = int(entry.passes(dict(self.options)) if callable(entry.passes) else entry.passes)
        if self.passes < 1:
            raise ParameterError(f"oracle {self.name}: passes must be >= 1, got {self.passes}")
        self._impl = entry.obj(**self.options) if entry.multipass else _Pointwise(entry.obj, self.options)

    # -- the pass protocol ---------------------------------------------------------------------------
    def start(self):
        """A fresh state for one track (one run of the passes)."""
        return {"impl": self._impl.start(), "pass": 0}

    def accumulate(self, state, p, X, S):
        """Accumulate pass ``p``'s statistics (``p < passes - 1``) from one block, in time order."""
        if not 0 <= p < self.passes - 1 or p != state["pass"]:
            raise ParameterError(f"oracle {self.name}: accumulate(pass {p}) out of order "
                                 f"(current pass {state['pass']}, {self.passes} passes)")
        self._impl.accumulate(state["impl"], p, X, S)

    def end_pass(self, state, p):
        """Close pass ``p`` (after its last block)."""
        if p != state["pass"] or p >= self.passes - 1:
            raise ParameterError(f"oracle {self.name}: end_pass({p}) out of order "
                                 f"(current pass {state['pass']}, {self.passes} passes)")
        self._impl.end_pass(state["impl"], p)
        state["pass"] = p + 1

    def apply(self, state, X, S):
        """The estimates of one block (last pass)."""
        if state["pass"] != self.passes - 1:
            raise ParameterError(f"oracle {self.name}: apply before its {self.passes - 1} accumulation "
                                 f"pass(es) ended")
        return self._impl.apply(state["impl"], X, S)

    def __call__(self, X, S):
        """Estimates from whole arrays: every pass over one block.

        A pass implementation may provide ``whole(X, S)`` for this case (the Wiener EM keeps its
        estimates between passes instead of recomputing them); it must equal the passes to rounding.
        """
        if hasattr(self._impl, "whole"):
            return self._impl.whole(X, S)
        state = self.start()
        for p in range(self.passes - 1):
            self.accumulate(state, p, X, S)
            self.end_pass(state, p)
        return self.apply(state, X, S)

    def stability(self, state):
        """The stability figure of a finished run of the passes: one dict per source, or None.

        ``[{"cond": ..., "cancelled": ...}, ...]`` (:mod:`mssoracle.oracles.stability`) for the oracles that
        measure one (``mwf``, ``wienerK`` with K >= 1), after the last block's :meth:`apply`; None for the others.
        """
        report = getattr(self._impl, "stability", None)
        return None if report is None else report(state["impl"])

    def with_stability(self, X, S):
        """``(oracle(X, S), stability figure)`` from whole arrays (see :meth:`stability`)."""
        state = self.start()
        if hasattr(self._impl, "whole"):
            Y = self._impl.whole(X, S, state["impl"])
        else:
            for p in range(self.passes - 1):
                self.accumulate(state, p, X, S)
                self.end_pass(state, p)
            Y = self.apply(state, X, S)
        return Y, self.stability(state)

    def __eq__(self, other):
        return isinstance(other, Oracle) and other.name == self.name

    def __hash__(self):
        return hash(self.name)

    def __repr__(self):
        return f"<Oracle {self.name}>"


def get_oracle(spec):
    """Build an :class:`Oracle` from a spec such as ``irm1``, ``ibm2``, ``mpi[phase=sum]``, ``wiener3``.

    Grammar: ``BASE[DIGITS][[key=value,...]]`` (see the module docstring).

    Raises
    ------
    ParameterError
        Unknown oracle or option, a bad value (one line naming the spec and the option), or a digit
        suffix the oracle does not declare (``irm3``: the message names the bracket form, ``irm[alpha=3]``).
    """
    if isinstance(spec, Oracle):
        return spec
    base, digits, options = parse_bracket_spec(spec, what="oracle", valid=_valid_text())
    if base not in ORACLE_REGISTRY:
        raise ParameterError(f"unknown oracle {spec!r}; {_valid_text()}")
    entry = ORACLE_REGISTRY.get(base)
    if digits is not None:
        if entry.digit is None:
            raise ParameterError(f"oracle {spec!r}: {base} takes no number suffix; {_valid_text()}")
        if len(digits) > 1 and digits[0] == "0":
            raise ParameterError(f"oracle {spec!r}: number suffix with a leading zero; write {base}{int(digits)}")
        if entry.digit in options:
            raise ParameterError(f"oracle {spec!r}: option {entry.digit!r} given twice (suffix and brackets)")
        if not entry.accepts_digit(int(digits)):
            raise ParameterError(_not_a_name(entry, spec, digits, options))
        options = {entry.digit: digits, **options}
    o = Oracle.__new__(Oracle)
    o._init(entry, options, spec=spec.strip() if isinstance(spec, str) else spec)
    return o


def _digit_value(entry, v):
    """The digit form (int) of the digit option's value ``v``, or None when ``v`` is not a declared digit."""
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not float(v).is_integer() or v < 0:
        return None
    k = int(v)
    return k if entry.accepts_digit(k) else None


def _not_a_name(entry, spec, digits, options):
    """The one-line error of an undeclared digit form (``irm3``), naming the bracket form to write."""
    bracket = entry.name + format_options({entry.digit: _parsed(entry, digits), **options})
    text = f"{spec.strip()} is not an oracle name; {entry.name} takes the digits {entry.digits_text()}"
    try:
        o = Oracle.__new__(Oracle)
        o._init(entry, {entry.digit: digits, **options}, spec=bracket)
    except ParameterError as exc:
        return f"{text}; and {bracket} is not valid either ({str(exc).split(': ', 1)[-1]})"
    return f"{text}; write {o.name}"


def _parsed(entry, digits):
    option = next(o for o in entry.options if o.name == entry.digit)
    try:
        return option.parse(digits, "digit")
    except ParameterError:
        return digits


def available_oracles():
    """``{spec: one-line description}`` of the listed oracles, in registration order.

    Each description ends with the oracle's grammar: the digits its digit option
    takes, and its bracket options with their defaults (so the names are documented).
    """
    out = {}
    for _, entry in ORACLE_REGISTRY.items():
        for spec in entry.listed:
            out[spec] = f"{get_oracle(spec).description}{oracle_grammar(entry.name)}"
    return out


def oracle_grammar(base):
    """One-line grammar of ``base``.

    ``"; irmN = irm[alpha=N] for N = 1, 2 (irm1, irm2), else irm[alpha=...]; options: alpha (a number > 0,
    default 1)"``.
    """
    entry = ORACLE_REGISTRY.get(base)
    text = ""
    if entry.digit is not None:
        n = entry.name
        text += (f"; {n}N = {n}[{entry.digit}=N] for {'' if callable(entry.digits) else 'N = '}"
                 f"{entry.digits_text()}, other values {n}[{entry.digit}=...]")
    if entry.options:
        opts = ", ".join(f"{o.name} ({o.valid}, default {format_options({'x': o.default})[3:-1]})"
                         for o in entry.options)
        text += f"; options: {opts}"
    return text
