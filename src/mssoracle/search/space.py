"""The search space of ``mssoracle search``: ranges, the candidate transform spec of a set of parameters.

A :class:`SearchSpace` is one transform family (``slicq``, ``nsgt`` or ``stft``) and the values its
parameters may take:

``slicq`` / ``nsgt``
    ``scale`` (categorical, the given scales), ``bins`` (integer range), ``fmin`` (Hz, step 0.1) and, for
    the ``vqlog`` scale only, ``gamma`` (Hz, step 0.1): a parameter exists only where it changes the
    transform.  The sliCQT's slice length is the scale's suggested one
    (:meth:`~mssoracle.transforms.scales.Scale.suggested_sllen_trlen`); a candidate whose ``sllen``
    exceeds ``max_sllen`` is pruned (:meth:`SearchSpace.check`).
``stft``
    ``window`` (categorical): powers of two of a range (``256:16384``: 7 windows) or an explicit list,
    hop ``n_fft / 4`` (``preset="seed"``: the seed's ``3 W / 4``).

:meth:`SearchSpace.spec` turns parameters into the canonical transform spec
(:attr:`mssoracle.transforms.Transform.spec`), the identity of a configuration: two parameter sets with
the same canonical spec are one configuration ("duplicate").  :meth:`SearchSpace.grid` lists every
configuration (the grid sampler's explicit list of canonical specs), :meth:`SearchSpace.size` counts
them.
"""

import dataclasses
import math

from ..errors import ParameterError

__all__ = ["FAMILIES", "FMIN_STEP", "GAMMA_STEP", "GRID_LIMIT", "IntRange", "FloatRange", "SearchSpace",
           "parse_int_range", "parse_float_range", "parse_windows", "parse_scales", "stft_spec"]

FAMILIES = ("slicq", "nsgt", "stft")
#: the step of ``fmin`` and ``gamma`` (Hz) for every sampler
FMIN_STEP = 0.1
GAMMA_STEP = 0.1
#: the most configurations ``--sampler grid`` lists (a larger space: narrow the ranges)
GRID_LIMIT = 20_000
#: the scales the search offers by default
DEFAULT_SCALES = ("bark", "mel", "log", "vqlog", "oct", "lin")


@dataclasses.dataclass(frozen=True)
class IntRange:
    """Integers ``low .. high`` inclusive."""

    low: int
    high: int

    def values(self):
        return range(self.low, self.high + 1)

    def __len__(self):
        return self.high - self.low + 1

    def text(self):
        return str(self.low) if self.low == self.high else f"{self.low}:{self.high}"


@dataclasses.dataclass(frozen=True)
class FloatRange:
    """``low, low + step, ...`` up to ``high`` (values rounded to the step's decimals)."""

    low: float
    high: float
    step: float

    def __len__(self):
        return int(math.floor((self.high - self.low) / self.step + 1e-9)) + 1

    def values(self):
        return [round(self.low + i * self.step, 6) for i in range(len(self))]

    def text(self):
        return _g(self.low) if self.low == self.high else f"{_g(self.low)}:{_g(self.high)}"


def _g(x):
    return f"{x:g}"


def _two(text, option):
    parts = [p.strip() for p in str(text).split(":")]
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or not all(parts):
        raise ParameterError(f"{option} {text!r}: expected LOW:HIGH (or one value), e.g. {option} 10:300")
    return parts


def parse_int_range(text, option, *, minimum=1):
    """``"10:300"`` or ``"262"`` -> :class:`IntRange`; empty, inverted or below ``minimum``: ParameterError."""
    lo, hi = _two(text, option)
    try:
        low, high = int(lo), int(hi)
    except ValueError:
        raise ParameterError(f"{option} {text!r}: expected integers LOW:HIGH, e.g. {option} 10:300") from None
    if low > high:
        raise ParameterError(f"{option} {text}: the range is inverted (LOW {low} > HIGH {high}); write "
                             f"{option} {high}:{low}")
    if low < minimum:
        raise ParameterError(f"{option} {text}: values must be >= {minimum}")
    return IntRange(low, high)


def parse_float_range(text, option, *, minimum=0.0, strict=False, step=FMIN_STEP):
    """``"10:130"`` or ``"32.9"`` -> :class:`FloatRange` on a grid of ``step`` (both ends rounded to it)."""
    lo, hi = _two(text, option)
    try:
        low, high = float(lo), float(hi)
    except ValueError:
        raise ParameterError(f"{option} {text!r}: expected numbers LOW:HIGH, e.g. {option} 10:130") from None
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ParameterError(f"{option} {text}: values must be finite")
    if low > high:
        raise ParameterError(f"{option} {text}: the range is inverted (LOW {low:g} > HIGH {high:g}); write "
                             f"{option} {high:g}:{low:g}")
    if low < minimum or (strict and low <= minimum):
        raise ParameterError(f"{option} {text}: values must be {'>' if strict else '>='} {minimum:g}")
    rlow, rhigh = round(low / step) * step, round(high / step) * step
    if abs(rlow - low) > 1e-9 or abs(rhigh - high) > 1e-9:
        raise ParameterError(f"{option} {text}: the search uses a step of {step:g}; give ends on that grid "
                             f"(e.g. {option} {round(rlow, 6):g}:{round(rhigh, 6):g})")
    return FloatRange(round(rlow, 6), round(rhigh, 6), step)


def parse_windows(text):
    """``--windows``: ``LOW:HIGH`` (the powers of two in it) or a comma list of window lengths."""
    text = str(text).strip()
    if "," in text or ":" not in text:
        try:
            windows = [int(w) for w in text.split(",") if w.strip()]
        except ValueError:
            raise ParameterError(f"--windows {text!r}: expected LOW:HIGH (powers of two) or a list of "
                                 "integers, e.g. --windows 256:16384 or --windows 1024,3000") from None
        if not windows:
            raise ParameterError("--windows is empty; give e.g. --windows 256:16384")
        bad = [w for w in windows if w < 16]
        if bad:
            raise ParameterError(f"--windows: window {bad[0]} is too short (at least 16 samples)")
        return tuple(dict.fromkeys(windows))
    r = parse_int_range(text, "--windows", minimum=16)
    windows = tuple(1 << k for k in range(4, 31) if r.low <= 1 << k <= r.high)
    if not windows:
        raise ParameterError(f"--windows {text}: no power of two in the range; e.g. --windows 256:16384 "
                             "(or a list: --windows 1000,3000)")
    return windows


def parse_scales(text, *, compat=None):
    """``--scales bark,mel`` -> tuple of registered scale names (lower case, duplicates dropped)."""
    from ..transforms import SCALE_KINDS

    names = tuple(dict.fromkeys(s.strip().lower() for s in str(text).split(",") if s.strip()))
    if not names:
        raise ParameterError(f"--scales is empty; give scales among {', '.join(SCALE_KINDS)}")
    unknown = [s for s in names if s not in SCALE_KINDS]
    if unknown:
        raise ParameterError(f"--scales: unknown scale {unknown[0]!r}; valid: {', '.join(SCALE_KINDS)}")
    return tuple(SCALE_KINDS.get(s).name for s in names)


def stft_spec(window, *, preset=None):
    """The STFT of ``window`` samples the search uses: hop ``W / 4`` (``preset="seed"``: ``W - W // 4``)."""
    window = int(window)
    hop = window - window // 4 if preset == "seed" else max(1, window // 4)
    return f"stft:{window}:{hop}"


@dataclasses.dataclass(frozen=True)
class SearchSpace:
    """One family's parameters and their ranges (see the module docstring).

    Parameters
    ----------
    family : {"slicq", "nsgt", "stft"}
    scales : tuple of str
    bins : IntRange
    fmin : FloatRange
    gamma : FloatRange
        Searched for ``vqlog`` only.
    max_sllen : int or None
        sliCQT candidates whose slice length exceeds it are pruned (``slicq`` only).
    windows : tuple of int
        STFT window lengths (``stft`` only).
    compat : str or None
        ``"nsgt"``: ``compat=nsgt`` is appended to every NSGT/sliCQT candidate.
    preset : str or None
        ``"seed"``: the seed's STFT hop ``3 W / 4``.
    """

    family: str
    scales: tuple = ()
    bins: IntRange = None
    fmin: FloatRange = None
    gamma: FloatRange = None
    max_sllen: int = None
    windows: tuple = ()
    compat: str = None
    preset: str = None

    # ------------------------------------------------------------------ description
    def as_dict(self):
        """The settings form (JSON types) stored in the study's ``user_attrs``."""
        if self.family == "stft":
            return {"family": "stft", "windows": list(self.windows), "preset": self.preset}
        d = {"family": self.family, "scales": list(self.scales), "bins": self.bins.text(),
             "fmin": self.fmin.text(), "compat": self.compat}
        if "vqlog" in self.scales:
            d["gamma"] = self.gamma.text()
        if self.family == "slicq":
            d["max_sllen"] = self.max_sllen
        return d

    def parameter_names(self):
        """Every parameter a trial may have (``trials.csv``'s ``param_`` columns), in order."""
        if self.family == "stft":
            return ["window"]
        return ["scale", "bins", "fmin"] + (["gamma"] if "vqlog" in self.scales else [])

    def size(self):
        """The number of configurations (parameter sets) of the space."""
        if self.family == "stft":
            return len(self.windows)
        per = len(self.bins) * len(self.fmin)
        return sum(per * (len(self.gamma) if s == "vqlog" else 1) for s in self.scales)

    # ------------------------------------------------------------------ candidates
    def suggest(self, trial):
        """Draw a parameter set with an Optuna trial (TPE, random); returns the params dict."""
        if self.family == "stft":
            return {"window": trial.suggest_categorical("window", list(self.windows))}
        scale = trial.suggest_categorical("scale", list(self.scales))
        params = {"scale": scale,
                  "bins": trial.suggest_int("bins", self.bins.low, self.bins.high),
                  "fmin": round(trial.suggest_float("fmin", self.fmin.low, self.fmin.high, step=FMIN_STEP), 6)}
        if scale == "vqlog":
            params["gamma"] = round(trial.suggest_float("gamma", self.gamma.low, self.gamma.high,
                                                        step=GAMMA_STEP), 6)
        return params

    def spec(self, params):
        """The (not yet canonical) transform spec of ``params``."""
        if self.family == "stft":
            return stft_spec(params["window"], preset=self.preset)
        items = [f"scale={params['scale']}", f"bins={int(params['bins'])}", f"fmin={float(params['fmin']):g}"]
        if params.get("gamma"):
            items.append(f"gamma={float(params['gamma']):g}")
        if self.compat:
            items.append(f"compat={self.compat}")
        return f"{self.family}:" + ",".join(items)

    def grid(self):
        """Every configuration's spec (not built: cheap), in a fixed order; ParameterError over GRID_LIMIT."""
        n = self.size()
        if n > GRID_LIMIT:
            raise ParameterError(f"--sampler grid: the space has {n} configurations (more than {GRID_LIMIT}); "
                                 "narrow --bins/--fmin/--gamma (a single value fixes one) or use --sampler "
                                 "tpe or random")
        if self.family == "stft":
            return [self.spec({"window": w}) for w in self.windows]
        out = []
        for s in self.scales:
            gammas = self.gamma.values() if s == "vqlog" else [0.0]
            for b in self.bins.values():
                for f in self.fmin.values():
                    for g in gammas:
                        out.append(self.spec({"scale": s, "bins": b, "fmin": f, "gamma": g}))
        return out

    def params_of(self, transform):
        """The parameters of a built transform of this family (``--enqueue``), checked against the ranges.

        Raises
        ------
        ParameterError
            Another family, a value outside a range, or a spec the search would not build (e.g. a
            non-default ``sllen``).
        """
        spec = transform.spec
        kind = spec.split(":", 1)[0]
        if kind != self.family:
            raise ParameterError(f"--enqueue {spec}: a {kind} transform, the search is over --family "
                                 f"{self.family}")
        if self.family == "stft":
            w = int(transform.n_fft)
            if w not in self.windows:
                raise ParameterError(f"--enqueue {spec}: window {w} is not among --windows "
                                     f"{','.join(map(str, self.windows))}")
            params = {"window": w}
        else:
            # from the canonical spec, which both designs (ours and compat=nsgt) write the same way
            from ..specs import parse_colon_spec

            _, args = parse_colon_spec(spec, ())
            if args.get("compat") != self.compat:
                want = f"compat={self.compat}" if self.compat else "no compat= key"
                raise ParameterError(f"--enqueue {spec}: the search's candidates have {want} "
                                     f"({'--compat ' + self.compat if self.compat else 'no --compat'})")
            kind = args["scale"]
            params = {"scale": kind, "bins": int(args["bins"]), "fmin": round(float(args["fmin"]), 6)}
            if kind == "vqlog":
                params["gamma"] = round(float(args.get("gamma", 0.0)), 6)
            if kind not in self.scales:
                raise ParameterError(f"--enqueue {spec}: scale {kind} is not among --scales "
                                     f"{','.join(self.scales)}")
            checks = [("bins", self.bins, "--bins"), ("fmin", self.fmin, "--fmin")]
            if "gamma" in params:
                checks.append(("gamma", self.gamma, "--gamma"))
            for key, rng, opt in checks:
                v = params[key]
                if not rng.low - 1e-9 <= v <= rng.high + 1e-9:
                    raise ParameterError(f"--enqueue {spec}: {key} {v:g} is outside {opt} {rng.text()}")
                if isinstance(rng, FloatRange) and abs(round(v / rng.step) * rng.step - v) > 1e-9:
                    raise ParameterError(f"--enqueue {spec}: {key} {v:g} is not on the search's {rng.step:g} grid")
        return params
