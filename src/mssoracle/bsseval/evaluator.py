"""The BSS Eval v4 (and v3) evaluator, numerically equal to museval 0.4.1, much faster.

museval's ``bss_eval`` (after mir_eval) projects every estimate on the span of
the references delayed by 0..``filters_len - 1`` samples.  The least-squares
filters solve ``G C = D`` where ``G`` is the Gram matrix of the delayed
references and ``D`` holds the correlations between delayed references and
the estimate.  Per frame, the four metrics are energy ratios of the true
source, of the two projections (on the own reference, ``P_j``, and on all
references, ``P``) and of the estimate.

This module computes exactly the same quantities, reorganised:

* the correlations (:mod:`~mssoracle.bsseval.kernels`) are accumulated per frame
  with short block FFTs, the whole-signal ones (v4) from the frames' plus the
  boundary products;
* ``G`` is factorised once (:mod:`~mssoracle.bsseval.solvers`) and serves every estimate;
* the energy of a projection over a frame is a quadratic form of the frame's
  reference correlations with the autocorrelation of the filters
  (``||sum_a u_a * x_a||^2 = sum_ab sum_d r_ab(d) W_ab(d)``), so no projection
  is ever synthesised: one matrix product gives every frame's energies;
* the energies of the estimates and of ``estimate - reference`` and the silence
  tests come from one blockwise pass (:func:`~mssoracle.bsseval.signals.frame_stats`).

The signals are never copied as a whole (float32 or float64, any strides, numpy or
torch: see :mod:`~mssoracle.bsseval.signals`).  Sources that are sums of others
(accompaniment) can be scored without a second correlation pass:
:meth:`Evaluator.combined` derives their correlations by bilinearity.

Shapes follow museval at the boundary: ``(nsrc, nsampl, nchan)``.
"""

import itertools
import warnings

import numpy as np
import scipy.fft

from .. import threads
from ..errors import ParameterError
from .kernels import NumpyOps, TorchOps, combine_corr, correlations, parallel_map
from .signals import FrameStats, frame_stats
from .solvers import EPS, factor, global_factor, gram, source_factor
from .validation import as_sources, check_sources, check_win_hop, fit_length, framing, shape_error

__all__ = ["evaluate", "Evaluator", "IllConditionedWarning", "COND_WARN", "Correlations", "get_ops"]

#: condition number above which SIR/ISR/SAR are rounding noise (a warning is issued)
COND_WARN = 1e12


class IllConditionedWarning(UserWarning):
    """The reference Gram matrix is nearly singular: SIR, ISR and SAR are unreliable (SDR is not affected)."""


def get_ops(backend, device, inputs=None):
    """The correlation kernels: numpy, or torch on ``device``.

    Dispatch on the input's type: estimates that are torch tensors run on their own device
    whatever ``backend`` says (no copy to the host).
    """
    if backend not in ("numpy", "torch"):
        raise ParameterError(f"backend = {backend!r}: must be 'numpy' or 'torch'")
    if backend == "numpy" and device not in (None, "cpu"):
        raise ParameterError(f"device = {device!r}: the numpy backend runs on the CPU only; use backend='torch'")
    if inputs is not None and getattr(inputs, "device", None) is not None:
        backend, device = "torch", inputs.device
    if backend == "numpy":
        return NumpyOps()
    return TorchOps(device)


class Correlations:
    """Correlations of the references (x) with a set of estimates (y) of one :class:`Evaluator`.

    ``frames (nwin, nx, ny, F)``; ``glob (nx, ny, F)`` in v4 (None in v3).
    """

    def __init__(self, frames, glob):
        self.frames, self.glob = frames, glob

    def combine(self, xgroups, ygroups, nchan):
        """Correlations of sums of references with sums of estimates (bilinearity)."""
        return Correlations(combine_corr(self.frames, xgroups, ygroups, nchan),
                            None if self.glob is None else combine_corr(self.glob, xgroups, ygroups, nchan))


# ---------------------------------------------------------------------------
# per-frame energies as quadratic forms of the frame correlations
# ---------------------------------------------------------------------------


def filter_autocorr(w, F):
    """``M[a, b, d] = (2 - [d == 0]) * sum_k w[a, k] w[b, k - d]`` for ``d = 0..F-1``; ``w (n, F)``."""
    fft = scipy.fft
    nfft = fft.next_fast_len(2 * F - 1, real=True)
    Wf = fft.rfft(w, n=nfft, axis=-1)
    M = fft.irfft(Wf[:, None, :] * np.conj(Wf[None, :, :]), n=nfft, axis=-1)[:, :, :F]
    M[:, :, 1:] *= 2.0
    return M


def safe_db(num, den):
    """museval's ``_safe_db``, vectorised: ``+inf`` where ``den == 0``."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 10.0 * np.log10(num / den)
    return np.where(den == 0, np.inf, out)


def floor_den(den, num):
    """Energies of small differences can come out <= 0 by rounding; floor them at ``eps**2 * num``.

    museval's own values there are rounding noise too (about 300 dB); the floor
    keeps them finite and large instead of NaN.
    """
    floor = EPS * EPS * np.abs(num)
    return np.where(den > floor, den, floor)


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------


class Evaluator:
    """BSS Eval of any number of estimate sets against fixed references.

    Everything that depends only on the references (per-frame correlations, the
    factorisation of the Gram matrix, silent frames, energies) is computed once,
    in the same pass over the data as the first estimates (or when :attr:`cond`
    is first read); every further :meth:`evaluate` costs one correlation pass
    over the estimates plus small solves.

    Parameters
    ----------
    references : ndarray, shape=(nsrc, nsampl, nchan), or list of (nsampl, nchan) arrays
        True sources (museval's convention; ``(nsrc, nsampl)`` is mono): numpy of any
        real dtype and strides, or torch tensors.  They are read, never copied: do not
        modify them while the Evaluator is in use.
    sample_rate : float
        Sample rate in Hz, to convert ``win`` and ``hop``.
    win, hop : float
        Frame length and hop in **seconds** (``int(win * sample_rate)`` samples,
        as museval's ``eval_mus_track``); ``np.inf`` gives one whole-signal frame.
    mode : {"v4", "v3"}
        ``"v4"``: distortion filters estimated on the whole signal; ``"v3"``: per frame.
    padding : bool
        Zero-pad or cut estimates to the reference length (museval's ``pad_or_truncate``).
    backend : {"numpy", "torch"}
        Where the correlations run; estimates that are torch tensors always run on
        their own device.
    device : str or None
        torch device (``None``: CPU).
    filters_len : int
        Number of filter taps (museval: 512).
    compute_permutation : bool
        Score every estimate against every reference and keep the best permutation
        (museval's ``bss_eval(compute_permutation=True)``); the chosen permutation is
        in :attr:`perm` after :meth:`evaluate`.
    bss_eval_sources : bool
        museval's ``bsseval_sources_version`` criteria (ISR is NaN).
    emit_warnings : bool
        Issue the :class:`IllConditionedWarning` with ``warnings.warn`` (default); it is
        recorded in :attr:`warnings` either way.

    Attributes
    ----------
    cond : float
        Estimated (1-norm, LAPACK ``pocon``) condition number of the reference Gram
        matrix ``G`` of the delayed references (v4: whole signal; v3: the largest over
        frames).  Above ``1e12`` SIR, ISR and SAR are dominated by rounding errors
        (museval's too); SDR does not depend on ``G`` at all.
    frame_cond : ndarray or None
        v3 only: the condition estimate of every frame.
    perm : ndarray, shape=(nsrc, 1) (v4) or (nsrc, nwin) (v3)
        The permutation chosen by the last :meth:`evaluate` (identity unless
        ``compute_permutation``): estimate ``perm[j]`` is scored against reference ``j``.
    nwin, win, hop : int
        Number of frames, frame length and hop in samples.
    warnings : list of dict
        ``{"category": class name, "message": text}`` of the warnings of the reference work.
    """

    def __init__(
        self,
        references,
        *,
        sample_rate=44100,
        win=1.0,
        hop=1.0,
        mode="v4",
        padding=True,
        backend="numpy",
        device=None,
        filters_len=512,
        compute_permutation=False,
        bss_eval_sources=False,
        emit_warnings=True,
        reference_stats=None,
        _win_samples=None,
        _hop_samples=None,
    ):
        if _win_samples is None:
            win, hop = check_win_hop(win, hop, "seconds")
            if not (float(sample_rate) > 0):
                raise ParameterError(f"sample_rate = {sample_rate!r}: must be positive")
            win_s = int(win * sample_rate) if np.isfinite(win) else np.inf
            hop_s = int(hop * sample_rate) if np.isfinite(hop) else np.inf
            if win_s == 0 or hop_s == 0:
                raise ParameterError(
                    f"win = {win} s, hop = {hop} s at {sample_rate} Hz give {win_s}/{hop_s} samples; need >= 1"
                )
        else:
            win_s, hop_s = check_win_hop(_win_samples, _hop_samples, "samples")
            win_s = int(win_s) if np.isfinite(win_s) else np.inf
            hop_s = int(hop_s) if np.isfinite(hop_s) else np.inf
        if mode not in ("v4", "v3"):
            raise ParameterError(f"mode = {mode!r}: must be 'v4' or 'v3'")
        if isinstance(filters_len, bool) or int(filters_len) != filters_len or filters_len < 1:
            raise ParameterError(f"filters_len = {filters_len!r}: must be a positive integer")
        self.filters_len = int(filters_len)
        self.mode = mode
        self.padding = bool(padding)
        self.compute_permutation = bool(compute_permutation)
        self.bss_eval_sources = bool(bss_eval_sources)
        self.sample_rate = sample_rate
        self.backend = backend
        self.device = device
        self.emit_warnings = bool(emit_warnings)
        self._ops = get_ops(backend, device)

        refs = as_sources(references, "references")
        if refs.nsrc * refs.nsampl * refs.nchan == 0:
            raise ParameterError(f"references: empty, shape {refs.shape}; expected (nsrc, nsampl, nchan)")
        self.references = refs
        self.nsrc, self.nsampl, self.nchan = refs.shape
        self.win = win_s
        self.hop = hop_s
        self.starts, self.stops = framing(self.nsampl, win_s, hop_s)
        self.nwin = len(self.starts)
        if reference_stats is None:
            reference_stats = check_sources(refs, "references", "reference", self.starts, self.stops)
        self._ref_silent = reference_stats.silent_frames
        self.perm = None
        self.warnings = []
        self._prepared = False
        self._cond = float("nan")
        self._frame_cond = None

    # -- reference-only work (done once, fused with the first estimates) ----
    @property
    def cond(self):
        """Condition-number estimate of the reference Gram matrix (v4: whole signal; v3: worst frame)."""
        self._ensure_prepared()
        return self._cond

    @property
    def frame_cond(self):
        """v3: condition-number estimate per frame (None in v4)."""
        self._ensure_prepared()
        return self._frame_cond

    @property
    def prepared(self):
        """True once the reference correlations and factorisations exist."""
        return self._prepared

    def _ensure_prepared(self):
        if not self._prepared:
            self._prepare(None)

    def _ops_for(self, est):
        """The kernels for ``est``: torch tensors run on their own device (numpy ops have no device)."""
        if est is not None and est.on_torch and str(est.device) != str(getattr(self._ops, "device", None)):
            return get_ops("torch", est.device)
        return self._ops

    def _prepare(self, est0):
        """Correlations of the references (and, fused in the same pass, of the first estimates),
        factorisations of the Gram matrices.  Returns the estimate :class:`Correlations` or None."""
        refs = self.references
        ysigs = [refs] if est0 is None else [refs, est0]
        r_frames, r_glob = correlations(self._ops_for(est0), refs, ysigs, self.starts, self.stops, self.nsampl,
                                        self.filters_len, self.mode == "v4")
        self._r_frames = r_frames[0]  # (nwin, nx, nx, F)
        self._r_glob = None if r_glob is None else r_glob[0]
        pending = None if est0 is None else Correlations(r_frames[1], None if r_glob is None else r_glob[1])
        del r_frames, r_glob
        self._finish_prepare()
        return pending

    def _finish_prepare(self):
        """Reference energies and factorisations from the reference correlations."""
        nx = self.nsrc * self.nchan
        a_idx = np.arange(nx)
        self._Es = self._r_frames[:, a_idx, a_idx, 0].reshape(self.nwin, self.nsrc, self.nchan).sum(axis=2)
        with threads.single_threaded_blas():
            if self.mode == "v4":
                r_ref = self._r_glob
                f_all = global_factor(r_ref)
                self._factor_all = [f_all]
                self._factor_src = [f_all if self.nsrc == 1 else source_factor(r_ref, j, self.nchan)
                                    for j in range(self.nsrc)]
                self._cond = f_all.cond
                self._frame_cond = None
            else:
                def frame_factors(t):
                    fa = factor(gram(self._r_frames[t]))
                    return fa, [fa if self.nsrc == 1 else source_factor(self._r_frames[t], j, self.nchan)
                                for j in range(self.nsrc)]

                done = parallel_map(frame_factors, range(self.nwin))
                self._factor_all = [d[0] for d in done]
                self._factor_src = [d[1] for d in done]
                self._frame_cond = np.asarray([fa.cond for fa in self._factor_all])
                known = self._frame_cond[~np.isnan(self._frame_cond)]
                self._cond = float(known.max()) if len(known) else float("nan")
        self._prepared = True
        if not (self._cond <= COND_WARN):
            msg = (f"the reference Gram matrix is ill-conditioned (condition number ~{self._cond:.3g} > "
                   f"{COND_WARN:.0e}): SIR, ISR and SAR are dominated by rounding errors (in museval as well); "
                   "SDR is not affected. Typical of lossy (AAC) or band-limited references.")
            self.warnings.append({"category": IllConditionedWarning.__name__, "message": msg})
            if self.emit_warnings:
                warnings.warn(msg, IllConditionedWarning, stacklevel=4)

    def combined(self, groups, *, reference_stats=None, emit_warnings=None):
        """An Evaluator whose sources are sums of this one's (``groups[k]``: the summed source indices).

        Its reference correlations (per frame and, v4, whole signal) are sums of this
        Evaluator's (bilinearity): no pass over the signals for them.  The silent-frame
        test of the summed references is not linear: it is read from ``reference_stats``
        (:class:`~mssoracle.bsseval.signals.FrameStats` of the sums) or computed here in
        one blockwise pass.
        """
        self._ensure_prepared()
        groups = [tuple(int(i) for i in g) for g in groups]
        child = Evaluator.__new__(Evaluator)
        for k in ("filters_len", "mode", "padding", "compute_permutation", "bss_eval_sources", "sample_rate",
                  "backend", "device", "_ops", "win", "hop", "starts", "stops", "nwin", "nsampl", "nchan"):
            setattr(child, k, getattr(self, k))
        child.emit_warnings = self.emit_warnings if emit_warnings is None else bool(emit_warnings)
        child.references = self.references.combine(groups)
        child.nsrc = len(groups)
        if reference_stats is None:
            reference_stats = check_sources(child.references, "references", "reference", self.starts, self.stops)
        child._ref_silent = reference_stats.silent_frames
        child.perm = None
        child.warnings = []
        child._frame_cond = None
        child._cond = float("nan")
        child._r_frames = combine_corr(self._r_frames, groups, groups, self.nchan)
        child._r_glob = None if self._r_glob is None else combine_corr(self._r_glob, groups, groups, self.nchan)
        child._finish_prepare()
        return child

    # -- estimates ---------------------------------------------------------
    def prepare_estimates(self, estimates):
        """museval's conventions -> checked :class:`~mssoracle.bsseval.signals.Signals` (no copy)."""
        est = as_sources(estimates, "estimates")
        if self.padding and est.nsrc * est.nsampl * est.nchan:
            est = fit_length(est, self.nsampl)
        if est.shape != self.references.shape:
            raise shape_error(self.references.shape, est.shape,
                              "" if self.padding else "; pass padding=True to pad or cut the estimates")
        return est

    def estimate_stats(self, est):
        """museval's checks of the estimates (finite, not silent) and their per-frame energies."""
        return check_sources(est, "estimates", "estimated", self.starts, self.stops,
                             ref=None if self.bss_eval_sources else self.references, energy=True)

    def correlate(self, est):
        """:class:`Correlations` of the references with the estimates ``est`` (a checked Signals)."""
        if not self._prepared:
            return self._prepare(est)
        frames, glob = correlations(self._ops_for(est), self.references, [est], self.starts, self.stops,
                                    self.nsampl, self.filters_len, self.mode == "v4")
        return Correlations(frames[0], None if glob is None else glob[0])

    def evaluate(self, estimates):
        """Score one set of estimates.

        Parameters
        ----------
        estimates : ndarray, shape=(nsrc, nsampl, nchan), or list of (nsampl, nchan) arrays
            Any real dtype, any strides, numpy or torch (never copied whole).

        Returns
        -------
        SDR, ISR, SIR, SAR : ndarray, shape=(nsrc, nwin), float64
        """
        est = self.prepare_estimates(estimates)
        stats = self.estimate_stats(est)
        return self.score(self.correlate(est), stats, est)

    def score(self, corr, stats, est=None):
        """The metrics from the estimates' :class:`Correlations` and :class:`FrameStats`.

        ``est`` (the estimate Signals) is only read with ``compute_permutation`` (energies of
        ``estimate - reference`` for every pair).
        """
        with threads.single_threaded_blas():
            return self._score(corr.frames, corr.glob, stats, est)

    def _score(self, rd_frames, rd_glob, stats, est):
        F = self.filters_len
        nsrc, nchan, nwin = self.nsrc, self.nchan, self.nwin
        nx = nsrc * nchan
        silent = self._ref_silent | stats.silent_frames
        Eest = stats.energy  # (nsrc, nwin)
        Ediff = stats.diff

        if self.compute_permutation:
            import itertools

            cand = np.array(list(itertools.permutations(range(nsrc))))
            pairs = sorted({(jt, int(p[jt])) for p in cand for jt in range(nsrc)})
        else:
            cand = np.arange(nsrc)[None, :]
            pairs = [(j, j) for j in range(nsrc)]
        npair = len(pairs)

        # energies per pair: Quu, Qvv, Qww, Qv'v', Lu, Lv  -> (npair, nwin)
        Quu = np.empty((npair, nwin))
        Qvv = np.empty((npair, nwin))
        Qww = np.empty((npair, nwin))
        Qvs = np.empty((npair, nwin))
        Lu = np.empty((npair, nwin))
        Lv = np.empty((npair, nwin))
        frames_sets = [slice(None)] if self.mode == "v4" else [slice(t, t + 1) for t in range(nwin)]
        for fs in frames_sets:
            if self.mode == "v4":
                f_all, f_src = self._factor_all[0], self._factor_src
                rd = rd_glob  # (nx, ne, F)
            else:
                t = fs.start
                f_all, f_src = self._factor_all[t], self._factor_src[t]
                rd = rd_frames[t]
            r_fr = self._r_frames[fs].reshape(-1, nx * nx * F)
            rd_fr = rd_frames[fs].reshape(-1, nx * nx * F)
            # D[(a, k), e] = rd[a, e, k]
            D = np.ascontiguousarray(rd.transpose(0, 2, 1)).reshape(nx * F, nx)
            C = f_all.solve(D)  # (nx*F, nx): column e = est channel
            C = C.reshape(nx, F, nsrc, nchan)  # [a, k, je, c]
            # collect filter sets per pair
            forms_r = []
            forms_d = []
            for jt, je in pairs:
                sl = slice(jt * nchan, (jt + 1) * nchan)
                if nsrc == 1:
                    Cj = C[:, :, je, :]
                else:
                    Dj = np.ascontiguousarray(rd[sl, je * nchan : (je + 1) * nchan].transpose(0, 2, 1)).reshape(
                        nchan * F, nchan
                    )
                    Cj = f_src[jt].solve(Dj).reshape(nchan, F, nchan)  # [cj, k, c]
                Muu = 0.0
                Mvv = 0.0
                Mww = 0.0
                Mvs = 0.0
                Du = np.zeros((nx, nx, F))
                Dv = np.zeros((nx, nx, F))
                for c in range(nchan):
                    u = C[:, :, je, c]  # (nx, F)
                    v = np.zeros((nx, F))
                    v[sl] = Cj[:, :, c]
                    w = u - v
                    vs = v.copy()
                    vs[jt * nchan + c, 0] -= 1.0
                    Muu = Muu + filter_autocorr(u, F)
                    Mvv = Mvv + filter_autocorr(v, F)
                    Mww = Mww + filter_autocorr(w, F)
                    Mvs = Mvs + filter_autocorr(vs, F)
                    Du[:, je * nchan + c, :] = u
                    Dv[:, je * nchan + c, :] = v
                forms_r.append(np.stack([np.asarray(Muu), Mvv, Mww, Mvs]).reshape(4, -1))
                forms_d.append(np.stack([Du, Dv]).reshape(2, -1))
            Mr = np.concatenate(forms_r).T  # (nx*nx*F, 4*npair)
            Md = np.concatenate(forms_d).T
            er = (r_fr @ Mr).reshape(-1, npair, 4)
            ed = (rd_fr @ Md).reshape(-1, npair, 2)
            Quu[:, fs] = er[:, :, 0].T
            Qvv[:, fs] = er[:, :, 1].T
            Qww[:, fs] = er[:, :, 2].T
            Qvs[:, fs] = er[:, :, 3].T
            Lu[:, fs] = ed[:, :, 0].T
            Lv[:, fs] = ed[:, :, 1].T

        # metrics for every pair
        s_r = np.empty((4, nsrc, nsrc, nwin))
        s_r[:] = np.nan
        for p, (jt, je) in enumerate(pairs):
            if self.bss_eval_sources:
                sdr = safe_db(Qvv[p], floor_den(Eest[je] - 2 * Lv[p] + Qvv[p], Qvv[p]))
                isr = np.full(nwin, np.nan)
            else:
                if jt == je:
                    ediff = Ediff[jt]
                else:
                    ediff = self._ediff(est, jt, je)
                sdr = safe_db(self._Es[:, jt], ediff)
                isr = safe_db(self._Es[:, jt], floor_den(Qvs[p], self._Es[:, jt]))
            sir = safe_db(Qvv[p], Qww[p] if self._exact_zero(jt, je) else floor_den(Qww[p], Qvv[p]))
            sar = safe_db(Quu[p], floor_den(Eest[je] - 2 * Lu[p] + Quu[p], Quu[p]))
            s_r[:, jt, je] = np.stack([sdr, isr, sir, sar])
        s_r[:, :, :, silent] = np.nan

        # best permutation (museval's rule)
        dum = np.arange(nsrc)
        if self.mode == "v3":
            mean_sir = np.empty((len(cand), nwin))
            axis_mean = 0
        else:
            mean_sir = np.empty((len(cand), 1))
            axis_mean = None
        with np.errstate(all="ignore"):
            for i, pm in enumerate(cand):
                mean_sir[i] = np.mean(s_r[2, dum, pm, :], axis=axis_mean)
        popt = cand[np.argmax(mean_sir, axis=0)].T
        if self.mode == "v4":
            result = s_r[:, dum, popt[:, 0], :]
        else:
            result = np.empty((4, nsrc, nwin))
            for t in range(nwin):
                result[:, :, t] = s_r[:, dum, popt[:, t], t]
        self.perm = popt
        return result[0], result[1], result[2], result[3]

    def _exact_zero(self, jt, je):
        # one source: C and Cj are the same solve, e_interf is exactly zero (museval gives +inf SIR)
        return self.nsrc == 1

    def _ediff(self, est, jt, je):
        st = frame_stats(est.select([je]), self.starts, self.stops, ref=self.references.select([jt]), energy=False)
        return st.diff[0]


def evaluate(
    references,
    estimates,
    win=1 * 44100,
    hop=1 * 44100,
    mode="v4",
    padding=True,
    *,
    backend="numpy",
    device=None,
    compute_permutation=False,
    filters_len=512,
    bss_eval_sources=False,
):
    """BSS Eval images of ``estimates`` against ``references``, as ``museval.evaluate``.

    Parameters
    ----------
    references, estimates : ndarray, shape=(nsrc, nsampl, nchan), or lists of (nsampl, nchan) arrays
        ``(nsrc, nsampl)`` is read as mono.  With ``padding`` the estimates are zero
        padded or cut to the reference length.  Any real dtype and strides, numpy or torch:
        they are read block by block in float64, never copied whole.
    win, hop : int
        Frame length and hop in **samples** (``np.inf``: one whole-signal frame).
    mode : {"v4", "v3"}
    padding : bool
    backend : {"numpy", "torch"}
    device : str or None
    compute_permutation : bool
        Keep the best permutation of the estimates (museval's ``bss_eval``); the
        returned metrics are in that order.  ``museval.evaluate`` has no such option
        and never returns the permutation; neither does this function (use
        :class:`Evaluator` and its ``perm`` attribute).
    filters_len : int
    bss_eval_sources : bool
        museval's ``bsseval_sources_version`` criteria.

    Returns
    -------
    SDR, ISR, SIR, SAR : ndarray, shape=(nsrc, nwin)

    Warnings (:class:`IllConditionedWarning`) are issued with ``warnings.warn`` in the caller's thread.
    """
    refs = as_sources(references, "references")
    est = as_sources(estimates, "estimates")
    if padding and refs.nsrc * refs.nsampl * refs.nchan and est.nsrc * est.nsampl * est.nchan:
        est = fit_length(est, refs.nsampl)
    # museval's order of checks: shapes, then silent references (Evaluator), then silent estimates (evaluate)
    if refs.shape != est.shape:
        raise shape_error(refs.shape, est.shape)
    ev = Evaluator(
        refs,
        mode=mode,
        padding=padding,
        backend=backend,
        device=device,
        filters_len=filters_len,
        compute_permutation=compute_permutation,
        bss_eval_sources=bss_eval_sources,
        emit_warnings=False,
        _win_samples=win,
        _hop_samples=hop,
    )
    try:
        return ev.evaluate(est)
    finally:
        for w in ev.warnings:
            warnings.warn(w["message"], IllConditionedWarning, stacklevel=2)
