"""Track-level BSS Eval with named targets: museval's ``eval_mus_track``, reusable across methods.

Which targets are scored in which BSS Eval call (museval 0.4.1, issue #65)
--------------------------------------------------------------------------
Let ``T`` be the targets that have both a reference and an estimate, in
MUSDB's order (``vocals, drums, bass, other, accompaniment, linear_mixture``,
then any other name in the order of the ``references`` dict).

* If ``T`` holds both ``vocals`` and ``accompaniment``: accompaniment is
  taken out of ``T``; ``T`` (vocals included) is scored in one call and the
  vocals scores of that call are discarded; vocals and accompaniment are then
  scored together in a second, two-source call.
* Otherwise ``T`` is scored in one call (an ``accompaniment`` estimate without
  a vocals estimate is scored together with drums, bass and other).
* A call needs at least two targets; with fewer museval scores nothing and
  warns, and so do we (the vocals/accompaniment call is made regardless).

BSS Eval projects each estimate on the references of *its* call, so a
target's SIR/ISR/SAR (and SDR, through the distortion filters) depend on which
other targets share the call.  A silent frame (all samples zero, channels
summed, as museval tests it) of any reference or estimate of a call gives NaN
in that frame for every target of that call.

Silent sources (``on_silent``)
------------------------------
A reference or estimate that is silent over the whole track makes museval
raise; ``on_silent="raise"`` (the default) raises
:class:`~mssoracle.errors.SilentSourceError` naming the target.  With
``on_silent="nan"`` (what the ``museval``/``eval`` commands use) the target is
left out of every call it belongs to, gets NaN in every frame, and a
:class:`SilentSourceWarning` is issued; the call's other targets are scored
without it (so their scores are those of a call without that target, also
when only one target remains, which then has SIR = +inf, written as NaN).
The JSON's ``cond`` entries record, per call, the planned ``sources``, the
``excluded`` ones and why, and the condition estimate.
"""

import contextlib
import math
import warnings

import numpy as np

from .. import __version__
from ..errors import AudioError, ParameterError, SilentSourceError
from .museval_io import TrackScores

__all__ = ["TrackEvaluator", "eval_track", "SilentSourceWarning", "MUSDB_TARGETS", "plan_evaluations"]

#: the order of musdb's ``Track.targets`` (museval builds its lists in this order)
MUSDB_TARGETS = ("vocals", "drums", "bass", "other", "accompaniment", "linear_mixture")
#: how musdb builds the derived targets (summed in this order)
_DERIVED = {"accompaniment": ("bass", "drums", "other"), "linear_mixture": ("vocals", "bass", "drums", "other")}


class SilentSourceWarning(UserWarning):
    """A whole-track silent reference or estimate was scored as NaN (``on_silent="nan"``)."""


class FewTargetsWarning(UserWarning):
    """Fewer than two targets to score: museval scores nothing (and warns) in that case."""


def plan_evaluations(targets, grouping="museval"):
    """Which BSS Eval calls score which targets.

    Parameters
    ----------
    targets : list of str
        Targets having a reference and an estimate, in evaluation order.
    grouping : {"museval", "joint"}
        ``"museval"``: ``eval_mus_track``'s rules (see the module docstring);
        ``"joint"``: every target in one call (museval's ``eval_dir``).

    Returns
    -------
    calls : list of (sources, scored)
        ``sources``: the targets passed to the call, in order; ``scored``:
        those whose scores are kept from it.
    few : bool
        True when museval would warn that fewer than two targets were given.
    """
    targets = list(targets)
    if grouping == "joint":
        return ([(tuple(targets), tuple(targets))] if targets else []), False
    calls = []
    has_acc = "vocals" in targets and "accompaniment" in targets
    first = [t for t in targets if not (has_acc and t == "accompaniment")]
    few = False
    if len(first) >= 2:
        calls.append((tuple(first), tuple(t for t in first if not (has_acc and t == "vocals"))))
    elif not has_acc:
        few = True
    if has_acc:
        calls.append((("vocals", "accompaniment"), ("vocals", "accompaniment")))
    return calls, few


def _is_silent(x):
    """museval's test (``_any_source_silent``): the channel sum is zero at every sample."""
    return not np.any(x.sum(axis=-1))


def _as_signal(x, name, kind):
    """``(nsampl, nchan)`` float64 view (mono ``(nsampl,)`` becomes ``(nsampl, 1)``)."""
    try:
        x = np.asarray(x)
    except Exception:
        raise ParameterError(f"{kind} {name!r}: not an array") from None
    if x.dtype == object or not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise ParameterError(f"{kind} {name!r}: audio must be a real numeric array, got dtype {x.dtype}")
    x = x.astype(np.float64, copy=False)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ParameterError(f"{kind} {name!r}: expected shape (nsampl, nchan) or (nsampl,), got {x.shape}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ParameterError(f"{kind} {name!r}: empty audio (shape {x.shape})")
    if x.shape[1] > x.shape[0]:
        raise ParameterError(f"{kind} {name!r}: shape {x.shape} has more channels than samples; "
                             "BSS Eval takes (nsampl, nchan), transpose (channels, time) arrays")
    if not np.isfinite(x).all():
        bad = int(np.count_nonzero(~np.isfinite(x)))
        raise AudioError(f"{kind} {name!r}: {bad} NaN/inf sample(s); audio must be finite")
    return x


def _fit_length(x, n):
    """museval's ``pad_or_truncate``: cut to ``n`` samples or pad zeros at the end."""
    if x.shape[0] > n:
        return x[:n]
    if x.shape[0] < n:
        return np.pad(x, [(0, n - x.shape[0]), (0, 0)])
    return x


def _nwin(nsampl, win, hop):
    """museval's ``Framing.nwin``."""
    if win < nsampl:
        return int(np.floor((nsampl - win + hop) / hop))
    return 1


class TrackEvaluator:
    """Score any number of estimate sets of one track, as ``museval.eval_mus_track`` does.

    The reference-only work of each BSS Eval call (correlations, Gram
    factorisation: :class:`mssoracle.bsseval.Evaluator`) is done once, the
    first time that call is needed, and reused for every later
    :meth:`evaluate`; scoring ten methods costs one reference preparation plus
    ten cheap estimate passes.

    Parameters
    ----------
    references : dict of str -> np.ndarray, shape ``(nsampl, nchan)`` or ``(nsampl,)``
        Reference signals, all of the same shape.  ``accompaniment``
        (``bass + drums + other``) and ``linear_mixture`` are derived as musdb
        does when an estimate asks for them and they are missing.
    sample_rate : int
        Sampling rate in Hz.
    win, hop : float
        Frame length and hop in seconds (museval: ``int(win * sample_rate)``
        samples).
    mode : {"v4", "v3"}
        ``"v4"``: distortion filters from the whole track; ``"v3"``: per frame.
    backend : {"numpy", "torch"}
    device : str, optional
        torch device (``"cuda"``).
    track_name : str, optional
        Written in the scores (default ``"track"``).
    on_silent : {"raise", "nan"}
        What to do with a whole-track silent reference or estimate (see the
        module docstring).
    grouping : {"museval", "joint"}
        ``"museval"``: ``eval_mus_track``'s calls; ``"joint"``: all targets in
        one call (museval's ``eval_dir``/``bsseval``).
    filters_len : int
        Distortion filter length (512 in museval).
    bss_eval_sources : bool
        The ``bss_eval_sources`` variant instead of ``bss_eval_images``.

    Attributes
    ----------
    targets : list of str
        Reference names in evaluation order.
    nsampl, nchan : int
    win_samples, hop_samples, nwin : int
    evaluators : dict
        The :class:`~mssoracle.bsseval.Evaluator` built for each call, keyed
        by the tuple of its sources.
    """

    def __init__(self, references, *, sample_rate=44100, win=1.0, hop=1.0, mode="v4", backend="numpy",
                 device=None, track_name=None, on_silent="raise", grouping="museval", filters_len=512,
                 bss_eval_sources=False):
        if not isinstance(references, dict) or not references:
            raise ParameterError("references must be a non-empty dict of target name -> (nsampl, nchan) array")
        if on_silent not in ("raise", "nan"):
            raise ParameterError(f"on_silent must be 'raise' or 'nan', got {on_silent!r}")
        if grouping not in ("museval", "joint"):
            raise ParameterError(f"grouping must be 'museval' or 'joint', got {grouping!r}")
        if mode not in ("v4", "v3"):
            raise ParameterError(f"mode must be 'v4' or 'v3', got {mode!r}")
        try:
            sample_rate_ok = float(sample_rate) > 0 and float(sample_rate) == int(sample_rate)
        except (TypeError, ValueError):
            sample_rate_ok = False
        if not sample_rate_ok:
            raise ParameterError(f"sample_rate must be a positive integer, got {sample_rate!r}")
        for label, value in (("win", win), ("hop", hop)):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0 \
                    or not math.isfinite(value):
                raise ParameterError(f"{label} must be a positive number of seconds, got {value!r}")
        self.sample_rate = int(sample_rate)
        self.win = win
        self.hop = hop
        self.win_samples = int(win * self.sample_rate)
        self.hop_samples = int(hop * self.sample_rate)
        if self.win_samples < 1 or self.hop_samples < 1:
            raise ParameterError(f"win={win} s and hop={hop} s must each be at least one sample "
                                 f"at {self.sample_rate} Hz")
        self.mode = mode
        self.backend = backend
        self.device = device
        self.track_name = "track" if track_name is None else str(track_name)
        self.on_silent = on_silent
        self.grouping = grouping
        self.filters_len = int(filters_len)
        self.bss_eval_sources = bool(bss_eval_sources)

        refs = {}
        shape = None
        for name, x in references.items():
            x = _as_signal(x, name, "reference")
            if shape is None:
                shape = x.shape
            elif x.shape != shape:
                first = next(iter(refs))
                raise ParameterError(f"reference {name!r}: shape {x.shape} differs from reference "
                                     f"{first!r}'s {shape}; all references must have the same shape")
            refs[str(name)] = x
        self._refs = refs
        self.nsampl, self.nchan = shape
        self.nwin = _nwin(self.nsampl, self.win_samples, self.hop_samples)
        self._silent_ref = {}
        self.evaluators = {}

    # ------------------------------------------------------------ helpers
    @property
    def targets(self):
        names = list(self._refs)
        return [t for t in MUSDB_TARGETS if t in self._refs] + [t for t in names if t not in MUSDB_TARGETS]

    def _reference(self, name):
        if name not in self._refs and name in _DERIVED:
            parts = [self._refs[p] for p in _DERIVED[name] if p in self._refs]
            if not parts:
                return None
            total = parts[0].copy()
            for p in parts[1:]:
                total += p
            self._refs[name] = total
        return self._refs.get(name)

    def _ref_is_silent(self, name):
        if name not in self._silent_ref:
            self._silent_ref[name] = _is_silent(self._refs[name])
        return self._silent_ref[name]

    def parameters(self):
        """The scoring parameters stored under ``"bsseval"`` in the JSON."""
        return {
            "engine": "mssoracle.bsseval",
            "mssoracle_version": __version__,
            "grouping": self.grouping,
            "mode": self.mode,
            "win": self.win,
            "hop": self.hop,
            "sample_rate": self.sample_rate,
            "win_samples": self.win_samples,
            "hop_samples": self.hop_samples,
            "filters_len": self.filters_len,
            "bss_eval_sources": self.bss_eval_sources,
            "backend": self.backend,
            "device": None if self.device is None else str(self.device),
            "on_silent": self.on_silent,
        }

    @contextlib.contextmanager
    def _relay_warnings(self, key):
        """Re-issue the engine's warnings (e.g. ill-conditioning) naming the track and the call."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        for w in caught:
            warnings.warn(w.category(f"{self.track_name}: BSS Eval call over {', '.join(key)}: {w.message}"),
                          stacklevel=4)

    def _evaluator(self, sources):
        """The (cached) Evaluator of the call over ``sources``."""
        key = tuple(sources)
        ev = self.evaluators.get(key)
        if ev is None:
            from .engine import Evaluator

            with self._relay_warnings(key):
                ev = Evaluator([self._refs[s] for s in key], sample_rate=self.sample_rate, win=self.win,
                               hop=self.hop, mode=self.mode, padding=True, backend=self.backend,
                               device=self.device, filters_len=self.filters_len, compute_permutation=False,
                               bss_eval_sources=self.bss_eval_sources)
            self.evaluators[key] = ev
        return ev

    def _estimates(self, estimates):
        if not isinstance(estimates, dict):
            raise ParameterError("estimates must be a dict of target name -> (nsampl, nchan) array")
        unknown = [k for k in estimates if k not in self._refs and self._reference(k) is None]
        if unknown:
            warnings.warn(f"{self.track_name}: no reference for estimate(s) {', '.join(map(repr, unknown))}; "
                          "ignored (as museval does)", UserWarning, stacklevel=3)
        out = {}
        for name in self.targets:
            if name not in estimates:
                continue
            x = _as_signal(estimates[name], name, "estimate")
            if x.shape[1] != self.nchan:
                raise ParameterError(f"estimate {name!r}: {x.shape[1]} channel(s), the references have "
                                     f"{self.nchan}")
            out[name] = _fit_length(x, self.nsampl)
        return out

    # ------------------------------------------------------------ scoring
    def evaluate(self, estimates, *, config=None, method=None):
        """Score one set of estimates.

        Parameters
        ----------
        estimates : dict of str -> np.ndarray, shape ``(nsampl', nchan)`` or ``(nsampl',)``
            Estimates by target name; padded with zeros or cut to the
            references' length (museval's ``pad_or_truncate``).  Names without
            a reference are ignored with a warning.
        config : dict, optional
            Stored verbatim as the JSON's ``"config"`` (what produced the
            estimates: method, transform, ...).
        method : str, optional
            Method name for the tidy table (default ``config["method"]``).

        Returns
        -------
        TrackScores
            Empty (with a :class:`FewTargetsWarning`) when fewer than two
            targets can be scored, as museval.

        Raises
        ------
        SilentSourceError
            A silent reference or estimate with ``on_silent="raise"``.
        """
        for name in estimates if isinstance(estimates, dict) else ():
            if name not in self._refs:
                self._reference(name)  # derive accompaniment / linear_mixture on demand
        ests = self._estimates(estimates)
        calls, few = plan_evaluations(list(ests), self.grouping)
        scores = TrackScores(self.track_name, win=self.win, hop=self.hop, method=method, config=config,
                             bsseval=self.parameters())
        if few:
            warnings.warn(f"{self.track_name}: incorrect usage of BSS Eval: at least two estimates must be "
                          f"provided (got {', '.join(ests) or 'none'}); target scores will be empty "
                          "(as museval)", FewTargetsWarning, stacklevel=2)

        # whole-track silence: museval raises
        silent = {}
        for name in dict.fromkeys(s for sources, _ in calls for s in sources):
            if self._ref_is_silent(name):
                silent[name] = "silent reference"
            elif _is_silent(ests[name]):
                silent[name] = "silent estimate"
        if silent and self.on_silent == "raise":
            name, why = next(iter(silent.items()))
            what = "reference" if why == "silent reference" else "estimate"
            raise SilentSourceError(
                f"{self.track_name}: the {what} of {name!r} is silent (all zeros) over the whole track; "
                "BSS Eval (museval too) cannot score it. Pass on_silent='nan' to score it as NaN")
        for name, why in silent.items():
            warnings.warn(f"{self.track_name}: {name}: {why} over the whole track; its scores are NaN and "
                          "it is left out of the BSS Eval call(s) of the other targets", SilentSourceWarning,
                          stacklevel=2)

        nan = np.full(self.nwin, np.nan)
        for sources, scored in calls:
            kept = [s for s in sources if s not in silent]
            excluded = {s: silent[s] for s in sources if s in silent}
            cond = None
            results = {}
            if kept:
                ev = self._evaluator(kept)
                with self._relay_warnings(tuple(kept)):
                    sdr, isr, sir, sar = ev.evaluate(np.stack([ests[s] for s in kept]))
                    cond = getattr(ev, "cond", None)
                for i, s in enumerate(kept):
                    results[s] = {"SDR": sdr[i], "SIR": sir[i], "SAR": sar[i], "ISR": isr[i]}
            for s in scored:
                scores.add_target(s, results.get(s) or {"SDR": nan, "SIR": nan, "SAR": nan, "ISR": nan})
            scores.add_evaluation(sources, scored, cond, excluded)
        return scores


def eval_track(references, estimates, *, sample_rate=44100, win=1.0, hop=1.0, mode="v4", backend="numpy",
               device=None, track_name=None, on_silent="raise", config=None, method=None, **kwargs):
    """Score named estimates of one track as ``museval.eval_mus_track`` does.

    A thin wrapper: ``TrackEvaluator(references, ...).evaluate(estimates)``
    (see :class:`TrackEvaluator` for the parameters; ``references`` and
    ``estimates`` are dicts of ``(nsampl, nchan)`` arrays).

    Returns
    -------
    TrackScores
    """
    evaluator = TrackEvaluator(references, sample_rate=sample_rate, win=win, hop=hop, mode=mode,
                               backend=backend, device=device, track_name=track_name, on_silent=on_silent,
                               **kwargs)
    return evaluator.evaluate(estimates, config=config, method=method)
