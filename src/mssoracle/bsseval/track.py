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

Derived targets (``derived``)
-----------------------------
``evaluate(estimates, derived=("accompaniment",))`` scores ``accompaniment``
as the sum of its parts (:data:`mssoracle.constants.DERIVED_TARGETS`, those
present among the references), reference **and** estimate, without the caller
passing (or anyone materialising) that signal.  Its call with vocals then costs
no second correlation pass: its correlations (per frame and whole track) are
sums of the four-source call's (bilinearity) and its Gram factorisation is
built from them; what is not linear (the per-frame energies of the summed
estimate and of its difference with the summed reference, the silent-frame and
whole-track silence tests of the sums) is computed exactly, blockwise, in
float64.  Whenever a call's references and estimates are sums of those of an
earlier call of the same estimate set, its correlations are derived the same
way; otherwise (an explicit accompaniment signal, or a part left out because it
is silent) the call gets its own pass.

Signals and warnings
--------------------
References and estimates are ``(nsampl, nchan)`` arrays of any real dtype and
strides (``x.T`` of a ``(channels, time)`` row), or torch tensors; they are read
block by block in float64 and never copied whole (one reference stack serves
every call).  Warnings (ill-conditioned calls, silent targets, too few targets,
estimates without a reference) are returned in :attr:`TrackScores.warnings`
(dicts ``track, call, category, message``) and, with ``emit_warnings``, also
issued with ``warnings.warn``.
"""

import warnings

import numpy as np

from .. import __version__, validators
from ..constants import DERIVED_TARGETS, MUSEVAL_TARGET_ORDER, derived_targets
from ..errors import AudioError, ParameterError, SilentSourceError
from .evaluator import Evaluator, IllConditionedWarning
from .museval_io import TrackScores
from .signals import FrameStats, Signals, frame_stats, is_torch
from .validation import framing

__all__ = ["TrackEvaluator", "eval_track", "SilentSourceWarning", "FewTargetsWarning", "plan_evaluations",
           "WARNING_CATEGORIES"]

# target order: constants.MUSEVAL_TARGET_ORDER, the order of musdb's ``Track.targets`` (museval builds its
# lists in this order)


class SilentSourceWarning(UserWarning):
    """A whole-track silent reference or estimate was scored as NaN (``on_silent="nan"``)."""


class FewTargetsWarning(UserWarning):
    """Fewer than two targets to score: museval scores nothing (and warns) in that case."""


#: warning classes by the name stored in :attr:`TrackScores.warnings`
WARNING_CATEGORIES = {c.__name__: c for c in (IllConditionedWarning, SilentSourceWarning, FewTargetsWarning,
                                              UserWarning)}


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


def _as_signal(x, name, kind):
    """``(nsampl, nchan)`` view of a numpy array or torch tensor (mono ``(nsampl,)`` becomes ``(nsampl, 1)``).

    Nothing is copied or converted: the scorer reads blocks in float64.
    """
    if is_torch(x):
        x = x.detach()
        if x.is_complex() or x.dtype == __import__("torch").bool:
            raise ParameterError(f"{kind} {name!r}: audio must be a real numeric array, got dtype {x.dtype}")
    else:
        try:
            x = np.asarray(x)
        except Exception:
            raise ParameterError(f"{kind} {name!r}: not an array") from None
        if x.dtype == object or not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
            raise ParameterError(f"{kind} {name!r}: audio must be a real numeric array, got dtype {x.dtype}")
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ParameterError(f"{kind} {name!r}: expected shape (nsampl, nchan) or (nsampl,), got {tuple(x.shape)}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ParameterError(f"{kind} {name!r}: empty audio (shape {tuple(x.shape)})")
    if x.shape[1] > x.shape[0]:
        raise ParameterError(f"{kind} {name!r}: shape {tuple(x.shape)} has more channels than samples; "
                             "BSS Eval takes (nsampl, nchan), transpose (channels, time) arrays")
    return x


def _count_non_finite(x):
    """Non-finite samples of ``x``, counted block by block."""
    n = 0
    step = 1 << 19
    for a in range(0, x.shape[0], step):
        blk = x[a : a + step]
        if is_torch(blk):
            n += int((~__import__("torch").isfinite(blk)).sum())
        else:
            n += int(np.count_nonzero(~np.isfinite(blk)))
    return n


def _raise_non_finite(x, name, kind):
    bad = _count_non_finite(x)
    raise AudioError(f"{kind} {name!r}: {bad} NaN/inf sample(s); audio must be finite")


class TrackEvaluator:
    """Score any number of estimate sets of one track, as ``museval.eval_mus_track`` does.

    The reference-only work of each BSS Eval call (correlations, Gram
    factorisation: :class:`mssoracle.bsseval.Evaluator`) is done once, the
    first time that call is needed, and reused for every later
    :meth:`evaluate`; scoring ten methods costs one reference preparation plus
    ten cheap estimate passes.  All calls read the same reference stack (the
    caller's arrays, never copied); a derived reference (accompaniment) is a sum
    read block by block.

    Parameters
    ----------
    references : dict of str -> array, shape ``(nsampl, nchan)`` or ``(nsampl,)``
        Reference signals, all of the same shape: numpy of any real dtype and
        strides, or torch tensors.  ``accompaniment`` (``bass + drums + other``)
        and ``linear_mixture`` are derived as musdb does (as sums, never
        materialised) when an estimate asks for them and they are missing.
    sample_rate : int
        Sampling rate in Hz.
    win, hop : float
        Frame length and hop in seconds (museval: ``int(win * sample_rate)``
        samples).
    mode : {"v4", "v3"}
        ``"v4"``: distortion filters from the whole track; ``"v3"``: per frame.
    backend : {"numpy", "torch"}
        Where the correlations run (estimates that are torch tensors always run
        on their own device).
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
    emit_warnings : bool
        Default of :meth:`evaluate`'s ``emit_warnings``.

    Attributes
    ----------
    targets : list of str
        Reference names in evaluation order.
    nsampl, nchan : int
    win_samples, hop_samples, nwin : int
    evaluators : dict
        The :class:`~mssoracle.bsseval.Evaluator` built for each call, keyed
        by the tuple of its sources (a reference that is a sum of parts, not
        the one given, is written ``"accompaniment=bass+drums+other"``).
    """

    def __init__(self, references, *, sample_rate=44100, win=1.0, hop=1.0, mode="v4", backend="numpy",
                 device=None, track_name=None, on_silent="raise", grouping="museval", filters_len=512,
                 bss_eval_sources=False, emit_warnings=True):
        if not isinstance(references, dict) or not references:
            raise ParameterError("references must be a non-empty dict of target name -> (nsampl, nchan) array")
        validators.choice(on_silent, "on_silent", ("raise", "nan"))
        validators.choice(grouping, "grouping", ("museval", "joint"))
        validators.choice(mode, "mode", ("v4", "v3"))
        self.sample_rate = validators.sample_rate(sample_rate)
        win = validators.seconds(win, "win")
        hop = validators.seconds(hop, "hop")
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
        self.filters_len = validators.integer(filters_len, "filters_len", minimum=1)
        self.bss_eval_sources = bool(bss_eval_sources)
        self.emit_warnings = bool(emit_warnings)

        refs = {}
        shape = None
        for name, x in references.items():
            x = _as_signal(x, name, "reference")
            if shape is None:
                shape = tuple(x.shape)
            elif tuple(x.shape) != shape:
                first = next(iter(refs))
                raise ParameterError(f"reference {name!r}: shape {tuple(x.shape)} differs from reference "
                                     f"{first!r}'s {shape}; all references must have the same shape")
            refs[str(name)] = x
        self._refs = refs
        self._names = list(refs)
        self._index = {n: i for i, n in enumerate(self._names)}
        self._stack = [refs[n] for n in self._names]  # the one reference stack of every call
        self.nsampl, self.nchan = shape
        self.starts, self.stops = framing(self.nsampl, self.win_samples, self.hop_samples)
        self.nwin = len(self.starts)
        # one blockwise pass: finiteness, silence and silent frames of every given reference
        stats = frame_stats(Signals(self._stack), self.starts, self.stops, energy=False)
        for i, n in enumerate(self._names):
            if not stats.finite[i]:
                _raise_non_finite(self._stack[i], n, "reference")
        self._ref_stats = {(i,): stats.select([i]) for i in range(len(self._names))}
        self.evaluators = {}
        self._warned = set()

    # ------------------------------------------------------------ helpers
    @property
    def targets(self):
        names = list(self._refs)
        return [t for t in MUSEVAL_TARGET_ORDER if t in self._refs] + [t for t in names if t not in MUSEVAL_TARGET_ORDER]

    def _order(self, names):
        names = list(names)
        return [t for t in MUSEVAL_TARGET_ORDER if t in names] + [t for t in names if t not in MUSEVAL_TARGET_ORDER]

    def _parts_of(self, name):
        """Reference stack indices of the parts of the derived target ``name``.

        The accompaniment rule of :func:`mssoracle.constants.derived_targets` (every stem but vocals),
        musdb's parts first in musdb's order (bass, drums, other), then any other stem.
        """
        rule = derived_targets(self._names).get(name) or DERIVED_TARGETS.get(name, ())
        musdb = DERIVED_TARGETS.get(name, ())
        parts = [p for p in musdb if p in rule] + [p for p in rule if p not in musdb]
        return tuple(self._index[p] for p in parts if p in self._index)

    def _ref_source(self, name, derived):
        """Stack indices whose sum is ``name``'s reference (None: no reference)."""
        if name in derived or name not in self._index:
            parts = self._parts_of(name)
            return parts or None
        return (self._index[name],)

    def _label(self, name, src):
        if src == (self._index.get(name),):
            return name
        return f"{name}={'+'.join(self._names[i] for i in src)}"

    def _ref_stats_of(self, src):
        st = self._ref_stats.get(src)
        if st is None:
            st = frame_stats(Signals(self._stack, [src], self.nsampl), self.starts, self.stops, energy=False)
            self._ref_stats[src] = st
        return st

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

    def _new_evaluator(self, rsrc, stats):
        return Evaluator(Signals(self._stack, rsrc, self.nsampl), sample_rate=self.sample_rate, win=self.win,
                         hop=self.hop, mode=self.mode, padding=True, backend=self.backend, device=self.device,
                         filters_len=self.filters_len, compute_permutation=False,
                         bss_eval_sources=self.bss_eval_sources, emit_warnings=False, reference_stats=stats)

    @staticmethod
    def _derivation(done, rsrc, esrc):
        """An earlier call whose references and estimates the call's are sums of: ``(entry, xg, yg)`` or None."""
        for entry in done:
            _, _, rparts, eparts = entry
            try:
                xg = [[rparts.index(p) for p in s] for s in rsrc]
                yg = [[eparts.index(p) for p in s] for s in esrc]
            except ValueError:
                continue
            return entry, xg, yg
        return None

    # ------------------------------------------------------------ scoring
    def evaluate(self, estimates, *, config=None, method=None, derived=(), emit_warnings=None):
        """Score one set of estimates.

        Parameters
        ----------
        estimates : dict of str -> array, shape ``(nsampl', nchan)`` or ``(nsampl',)``
            Estimates by target name (numpy of any real dtype and strides, or torch
            tensors; never copied); padded with zeros or cut to the references'
            length (museval's ``pad_or_truncate``).  Names without a reference are
            ignored with a warning.
        config : dict, optional
            Stored verbatim as the JSON's ``"config"`` (what produced the
            estimates: method, transform, ...).
        method : str, optional
            Method name for the tidy table (default ``config["method"]``).
        derived : iterable of str
            Targets scored as the sum of their parts (:data:`mssoracle.constants.DERIVED_TARGETS`,
            the parts present among the references), reference and estimate; no signal is
            passed for them.  Every part needs an estimate.
        emit_warnings : bool, optional
            Also issue the warnings with ``warnings.warn`` (default: the constructor's
            ``emit_warnings``); they are in :attr:`TrackScores.warnings` either way.

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
        emit = self.emit_warnings if emit_warnings is None else bool(emit_warnings)
        if not isinstance(estimates, dict):
            raise ParameterError("estimates must be a dict of target name -> (nsampl, nchan) array")
        if isinstance(derived, str):
            derived = (derived,)
        derived = tuple(dict.fromkeys(str(d) for d in derived))
        scores = TrackScores(self.track_name, win=self.win, hop=self.hop, method=method, config=config,
                             bsseval=self.parameters())
        scores.duration = self.nsampl / self.sample_rate
        log = []

        def note(category, message, call=()):
            log.append({"track": self.track_name, "call": ",".join(call), "category": category.__name__,
                        "message": message})

        for d in derived:
            if d not in DERIVED_TARGETS:
                raise ParameterError(f"derived target {d!r}: unknown; known: {', '.join(DERIVED_TARGETS)}")
            if d in estimates:
                raise ParameterError(f"derived target {d!r} also has an estimate; its estimate is the sum of "
                                     f"{', '.join(DERIVED_TARGETS[d])}: pass one or the other")
            parts = self._parts_of(d)
            if not parts:
                raise ParameterError(f"derived target {d!r}: none of its parts ({', '.join(DERIVED_TARGETS[d])}) "
                                     "has a reference")
            missing = [self._names[p] for p in parts if self._names[p] not in estimates]
            if missing:
                raise ParameterError(f"derived target {d!r}: no estimate for its part(s) {', '.join(missing)}")

        unknown = [k for k in estimates if self._ref_source(k, ()) is None]
        if unknown:
            note(UserWarning, f"{self.track_name}: no reference for estimate(s) {', '.join(map(repr, unknown))}; "
                 "ignored (as museval does)")
        # estimates: one part per given signal; targets: reference and estimate sources
        eparts, eidx = [], {}
        for name in self._order(k for k in estimates if k not in unknown):
            x = _as_signal(estimates[name], name, "estimate")
            if x.shape[1] != self.nchan:
                raise ParameterError(f"estimate {name!r}: {x.shape[1]} channel(s), the references have "
                                     f"{self.nchan}")
            eidx[name] = len(eparts)
            eparts.append(x)
        names = self._order(list(eidx) + list(derived))
        rsrc = {t: self._ref_source(t, derived) for t in names}
        esrc = {t: (eidx[t],) if t in eidx else tuple(eidx[self._names[p]] for p in self._parts_of(t))
                for t in names}

        calls, few = plan_evaluations(names, self.grouping)
        if few:
            note(FewTargetsWarning, f"{self.track_name}: incorrect usage of BSS Eval: at least two estimates must "
                 f"be provided (got {', '.join(names) or 'none'}); target scores will be empty (as museval)")
        needed = list(dict.fromkeys(s for sources, _ in calls for s in sources))
        stats = {}
        if needed:
            est_sig = Signals(eparts, [esrc[t] for t in needed], self.nsampl)
            ref_sig = None if self.bss_eval_sources else Signals(self._stack, [rsrc[t] for t in needed], self.nsampl)
            st = frame_stats(est_sig, self.starts, self.stops, ref=ref_sig, energy=True)
            for i, t in enumerate(needed):
                if not st.finite[i]:
                    bad = [eparts[e] for e in esrc[t]]
                    for e, x in zip(esrc[t], bad):
                        if _count_non_finite(x):
                            _raise_non_finite(x, [k for k, v in eidx.items() if v == e][0], "estimate")
                stats[t] = st.select([i])

        # whole-track silence: museval raises
        silent = {}
        for name in needed:
            if self._ref_stats_of(rsrc[name]).total[0] == 0:
                silent[name] = "silent reference"
            elif stats[name].total[0] == 0:
                silent[name] = "silent estimate"
        if silent and self.on_silent == "raise":
            name, why = next(iter(silent.items()))
            what = "reference" if why == "silent reference" else "estimate"
            raise SilentSourceError(
                f"{self.track_name}: the {what} of {name!r} is silent (all zeros) over the whole track; "
                "BSS Eval (museval too) cannot score it. Pass on_silent='nan' to score it as NaN")
        for name, why in silent.items():
            note(SilentSourceWarning, f"{self.track_name}: {name}: {why} over the whole track; its scores are NaN "
                 "and it is left out of the BSS Eval call(s) of the other targets")

        nan = np.full(self.nwin, np.nan)
        done = []  # calls of this estimate set whose sources are single parts: (ev, corr, ref parts, est parts)
        for sources, scored in calls:
            kept = [s for s in sources if s not in silent]
            excluded = {s: silent[s] for s in sources if s in silent}
            cond = None
            results = {}
            if kept:
                rs = [rsrc[s] for s in kept]
                es = [esrc[s] for s in kept]
                key = tuple(self._label(s, rsrc[s]) for s in kept)
                ref_stats = FrameStats.stack([self._ref_stats_of(r) for r in rs])
                deriv = self._derivation(done, rs, es)
                ev = self.evaluators.get(key)
                if ev is None:
                    ev = deriv[0][0].combined(deriv[1], reference_stats=ref_stats) if deriv else \
                        self._new_evaluator(rs, ref_stats)
                    self.evaluators[key] = ev
                est_sig = Signals(eparts, es, self.nsampl)
                corr = deriv[0][1].combine(deriv[1], deriv[2], self.nchan) if deriv else ev.correlate(est_sig)
                sdr, isr, sir, sar = ev.score(corr, FrameStats.stack([stats[s] for s in kept]), est_sig)
                cond = ev.cond
                if all(len(r) == 1 for r in rs) and all(len(e) == 1 for e in es):
                    done.append((ev, corr, [r[0] for r in rs], [e[0] for e in es]))
                for w in getattr(ev, "warnings", ()):
                    note(WARNING_CATEGORIES.get(w["category"], UserWarning),
                         f"{self.track_name}: BSS Eval call over {', '.join(kept)}: {w['message']}", kept)
                for i, s in enumerate(kept):
                    results[s] = {"SDR": sdr[i], "SIR": sir[i], "SAR": sar[i], "ISR": isr[i]}
            for s in scored:
                scores.add_target(s, results.get(s) or {"SDR": nan, "SIR": nan, "SAR": nan, "ISR": nan})
            scores.add_evaluation(sources, scored, cond, excluded)
        del done
        scores.warnings = log
        if emit:
            for w in log:
                once = w["category"] == IllConditionedWarning.__name__
                if once and w["message"] in self._warned:
                    continue  # the call's reference work warned already (it is cached)
                if once:
                    self._warned.add(w["message"])
                warnings.warn(WARNING_CATEGORIES.get(w["category"], UserWarning)(w["message"]), stacklevel=2)
        return scores


def eval_track(references, estimates, *, sample_rate=44100, win=1.0, hop=1.0, mode="v4", backend="numpy",
               device=None, track_name=None, on_silent="raise", config=None, method=None, derived=(),
               emit_warnings=True, **kwargs):
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
                               emit_warnings=emit_warnings, **kwargs)
    return evaluator.evaluate(estimates, config=config, method=method, derived=derived)
