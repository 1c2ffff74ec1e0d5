"""Non-stationary Gabor transform (NSGT) and sliced constant-Q transform (sliCQT).

Written from Balazs, Dörfler, Jaillet, Holighaus and Velasco, "Theory,
implementation and applications of nonstationary Gabor frames" (J. Comput.
Appl. Math. 2011; the *painless* case with compactly supported windows in
frequency) and Holighaus, Dörfler, Velasco and Grill, "A framework for
invertible, real-time constant-Q transforms" (IEEE TASLP 2013; the slicing).

Definition (length ``N``, real signal ``f`` with spectrum ``F = fft(f)``)
----------------------------------------------------------------------------
Every band ``k`` of the scale (:mod:`.scales`, DC and Nyquist bands
included) has a window ``g_k`` in frequency (Hann halves; the DC and Nyquist
bands flat-topped, completing their neighbours) with compact support of
``count_k`` FFT bins, and ``M_k >= count_k`` time samples (``count_k`` rounded
up to a 5-smooth number so that its FFTs are fast; ``form="matrix"`` uses the
largest ``M`` for every band).  With the support indices ``n`` taken as
integers around the centre (negative below 0 Hz, ``> N/2`` above Nyquist,
``F[n] = conj(F[-n])``)::

    c_k[m] = s_k / M_k * sum_n F[n] g_k[n] exp(+2i pi n m / M_k),   m = 0 .. M_k - 1
    s_k    = sqrt(w_k M_k / N),   w_k = 1 (DC, Nyquist bands), 2 (all others)

i.e. ``c_k = s_k * ifft_M(periodised F g_k)``: coefficient ``m`` of band ``k`` is
localised at time ``m N / M_k``.  The factor ``w_k = 2`` accounts for the
negative-frequency mirror of the band that a real signal does not need to
store; with it the energy of the coefficients of a real signal is::

    sum_k ||c_k||^2 = 1/N sum_n D[n] |F[n]|^2,
    D[n] = 1/2 sum_k w_k (g_k[n]^2 + g_k[-n]^2),

so ``min D ||f||^2 <= ||c||^2 <= max D ||f||^2`` (frame bounds; ``D`` is the
diagonal ``sum_l M_l |g_l|^2`` of the paper's frame operator once the atoms are
normalised by ``s_k``; with the partition-of-unity windows of :mod:`.scales`
``D`` lies in ``[1/2, 1]`` at every signal length, bounded away from 0;
``vqlog`` with ``gamma > 0`` overlaps more and has a larger upper bound).
The frame is *painless* (``M_k >= count_k``), so the frame operator is diagonal
in frequency and the canonical dual windows are ``g~_k = g_k / D``:
:meth:`NSGT.inverse` synthesises with them (the real part of the synthesis,
which is what the canonical dual frame of the real frame gives), so it returns
the least-squares signal for *any* coefficients (e.g. masked ones) and the
exact signal for unmodified ones.

Non-sliced NSGT: ``N`` is the signal length rounded up to an even 5-smooth
number (zero padding; the output is cropped), so the number of coefficients
per band depends on the signal length.

sliCQT
------
The signal is cut into slices of ``sllen`` samples with hop ``sllen / 2``.
The slice window is 0 on ``sllen/4 - trlen/2`` samples at both ends, rises as
``sin`` over ``trlen`` samples, is flat, and falls as ``cos``; consecutive
windows cross in their transitions so ``sum_j w_j^2 = 1`` (the slicing is a
tight frame; synthesis uses the same window).  Slice ``j`` starts at sample
``j sllen/2 - sllen/4 - trlen/2``; ``S = ceil((length + trlen) / (sllen/2))``
slices cover the signal.  Each windowed slice, zero-padded to ``N`` = the
next even 5-smooth length ``>= sllen`` (a fast FFT size: 18060 = 2^2 3 5 7 43
becomes 18432 = 2^11 3^2, 2.5 times faster to transform), is transformed by
the NSGT of length ``N``; the zero margins absorb the time spread of the low
bands' atoms.  The inverse is exact: NSGT inverse per slice, cropped to
``sllen``, times the slice window, overlap-add.

Coefficient layout
------------------
``forward`` returns one complex array per group of bands with the same ``M``
(``form="ragged"``, groups in order of their lowest band, bands in increasing
frequency within a group) or a single group (``form="matrix"``), each
``(..., channels, bands_g, frames_g)``.  NSGT: ``frames_g = M_g``.  sliCQT:
``frames_g = S * M_g``, slice-major: frame ``j M_g + m`` is coefficient ``m``
of slice ``j``, at time ``j sllen/2 - sllen/4 - trlen/2 + m N / M_g``.  The
slices are stored side by side, not overlap-added (the display form of the
paper adds the half-overlapping slices, which cannot be inverted exactly):
every coefficient is independent, masks apply elementwise, and
``inverse(forward(x))`` is exact.  :meth:`NSGT.layout` describes the groups.

Backends
--------
One code path (:mod:`.nsgt_kernels`, written against :mod:`.backend`: the
array API plus FFTs with ``workers=``, index gather, writes into a given
output) for numpy and torch on any device, dispatching on the input's type.
On the host the sliCQT processes blocks of slices (about ``2**20`` samples
each) on a thread pool of :func:`mssoracle.threads.budget` threads, one FFT
thread per task (scipy.fft for numpy), with bounded intermediate buffers; the
non-sliced NSGT gathers and scatters only each band's support (the matrix
form's zero padding is never touched) and spreads the groups over the threads.
On a device (CUDA) each step is one batched call over the block.  Tasks are
planned from the sizes alone, so the numbers do not depend on the thread
budget.  Modules: :mod:`.nsgt_plan` (windows, tables, cache),
:mod:`.nsgt_kernels` (the kernels), this one (the classes, specs).

Streams
-------
:meth:`SliCQT.stream` cuts a track into blocks of about
:data:`~mssoracle.transforms.base.BLOCK_SAMPLES` samples of whole slices
(Bark 262 at 44.1 kHz: 29 slices); the slicing is a tight frame, so the
blocks' syntheses simply add up.  The non-sliced :class:`NSGT` cannot be cut
in time: its stream is one block, the whole track, and its coefficients (and
its plan, as long as the signal) stay proportional to the track length.

torch: tensors in, tensors out, same dtypes.  CUDA tensors (and CPU tensors
that require grad, or any CPU tensor when :data:`TORCH_NATIVE_CPU` is set) run
the kernels with torch's ops; other CPU tensors are handed to the same kernels
as numpy arrays, zero-copy, which is faster on CPU (see :func:`_via_numpy`).

float32 input gives complex64 coefficients, anything else float64 /
complex128.  Windows, dual windows and index tables are built once per
(scale, length, form) and cached (least recently used, bounded by count and
by bytes, since a non-sliced plan is as long as the signal: see
:data:`~mssoracle.transforms.nsgt_plan.PLANS`).

Sample rates
------------
Specs resolve at the track's rate: ``fmax`` defaults to its Nyquist frequency
(and may not exceed it), ``sllen``/``trlen`` default from the scale at that
rate.  :meth:`NSGT.at_rate` rebuilds the spec as given for another rate.  The
sliCQT's name always lists ``sllen``/``trlen``; when ``fmax`` is Nyquist and
the rate is not 44100 Hz, the name carries ``-sr{rate}`` (``nsgt-bark-262-32.9-sr48000``).
"""

import re

from .. import threads, validators
from ..errors import ParameterError
from ..specs import parse_colon_spec
from .. import backend
from . import nsgt_kernels as kernels
from .nsgt_signals import (Sliced, SliceStream, check_coefficients, check_signal, format_number, to_numpy,
                           via_numpy)
from .base import BLOCK_SAMPLES, Transform, check_finite, register_transform
from . import nsgt_compat
from .nsgt_plan import PLANS, next_even_smooth, slice_window
from .scales import SCALE_KINDS, Scale

__all__ = ["NSGT", "SliCQT", "SliCQTStream", "from_spec", "parse_name", "DEFAULTS", "TORCH_NATIVE_CPU"]

#: defaults of the spec keys (``bins``: the scale's default, 262; 24 per octave for ``oct``)
DEFAULTS = {"scale": "bark", "bins": 262, "fmin": 32.9, "gamma": 0.0, "form": "ragged"}
_KEYS = ("scale", "bins", "fmin", "fmax", "sllen", "trlen", "gamma", "form")
_FORMS = ("ragged", "matrix")
#: the rate at which names omit it
_REFERENCE_RATE = 44100

#: run torch CPU tensors through torch's own ops instead of as numpy arrays (faster on CPU: :func:`_via_numpy`)
TORCH_NATIVE_CPU = False


def _via_numpy(t):
    """CPU tensors without autograd use the numpy core (zero-copy in and out).

    Measured fast path (the kernels are the same; only the namespace differs): Bark-262 sliCQT round
    trip of 3:54 stereo float32, 2 threads, torch 2.13 CPU: 1.18 s as numpy arrays vs 1.69 s with
    torch's ops (median of 12, 4 interleaved rounds, 2-core shared machine at load 3.0, 2026-12-01;
    ``bench_nsgt.py --only anchor`` vs ``--only anchor --torch-native``).  Torch's intra-op threads
    on top of the task pool oversubscribe the cores; with one torch thread native is still slower."""
    return via_numpy(t, native=TORCH_NATIVE_CPU)


def _compact_pays(plan, a):
    """Whether the sliced kernels gather only the supports (the matrix form's buffers are mostly zero
    padding)."""
    return plan.K > 2 * plan.Kc


class NSGT(Transform):
    """Non-stationary Gabor transform over the whole signal (painless, Hann windows in frequency).

    Parameters
    ----------
    scale : str
        A registered scale (:data:`~.scales.SCALE_KINDS`): ``oct``, ``log`` (``cqlog``),
        ``lin``, ``mel``, ``bark``, ``vqlog``, or one added with :func:`~.scales.register_scale`.
    bins : int >= 1
        Centres from ``fmin`` to ``fmax`` inclusive (``oct``: per octave).
    fmin : float
        Lowest centre (Hz).
    fmax : float, optional
        Highest centre (Hz), default Nyquist of ``sample_rate``.
    sample_rate : int
    gamma : float
        ``vqlog`` bandwidth offset (Hz).
    form : ``"ragged"`` or ``"matrix"``
        One group per time resolution, or a single group with the largest ``M``.

    Attributes
    ----------
    name : str
        Canonical name used in file paths, e.g. ``nsgt-bark-262-32.9``
        (``-fmax{F}``, ``-sr{rate}`` (default fmax, rate not 44100), ``-gamma{G}``,
        ``-matrix`` appended when not default).
    spec : str
        Canonical spec, e.g. ``nsgt:scale=bark,bins=262,fmin=32.9``.
    scale : :class:`~mssoracle.transforms.scales.Scale`
    frequencies : ndarray ``(bands,)``
        Centre of every band (DC and Nyquist bands included).
    q : ndarray ``(bands,)``

    Notes
    -----
    :meth:`stream` is one whole-track block: the non-sliced NSGT's coefficients
    and plan stay proportional to the track length.
    """

    #: this module's torch CPU rule (``TORCH_NATIVE_CPU``), for :class:`.nsgt_signals.Sliced`
    _via_numpy = staticmethod(_via_numpy)

    kind = "nsgt"
    sliced = False

    def __init__(self, scale="bark", bins=262, fmin=32.9, fmax=None, *, sample_rate=44100, gamma=0.0,
                 form="ragged"):
        self._args = dict(scale=scale, bins=bins, fmin=fmin, fmax=fmax, gamma=gamma, form=form)
        self.sample_rate = validators.sample_rate(sample_rate)
        self.scale = Scale(scale, bins, fmin, fmax, sample_rate=self.sample_rate, gamma=gamma)
        form = str(form).strip().lower()
        if form not in _FORMS:
            raise ParameterError(f"form must be ragged or matrix, got {form!r}")
        self.form = form
        s = self.scale
        self._scale_key = (s.kind, s.bins_arg, s.fmin, s.fmax, float(self.sample_rate), s.gamma)
        self.frequencies = s.band_frequencies
        self.q = s.band_q()

    def at_rate(self, sample_rate):
        """The same spec, as given, at ``sample_rate`` (fmax, sllen and trlen defaults resolved again)."""
        sr = validators.sample_rate(sample_rate)
        if sr == self.sample_rate:
            return self
        return type(self)(**self._args, sample_rate=sr)

    # -- naming ---------------------------------------------------------
    def _name_parts(self):
        s = self.scale
        parts = [self.kind, s.kind, str(s.bins_arg), format_number(s.fmin)]
        if s.fmax != s.nyquist:
            parts.append("fmax" + format_number(s.fmax))
        elif self.sample_rate != _REFERENCE_RATE:  # fmax = Nyquist depends on the rate: name it
            parts.append(f"sr{self.sample_rate}")
        if s.gamma:
            parts.append("gamma" + format_number(s.gamma))
        return parts

    @property
    def name(self):
        parts = self._name_parts()
        if self.form != "ragged":
            parts.append(self.form)
        return "-".join(parts)

    @property
    def spec(self):
        s = self.scale
        items = [f"scale={s.kind}", f"bins={s.bins_arg}", f"fmin={format_number(s.fmin)}"]
        if s.fmax != s.nyquist:
            items.append(f"fmax={format_number(s.fmax)}")
        items += self._spec_extra()
        if s.gamma:
            items.append(f"gamma={format_number(s.gamma)}")
        if self.form != "ragged":
            items.append(f"form={self.form}")
        return f"{self.kind}:" + ",".join(items)

    def _spec_extra(self):
        return []

    def _key(self):
        return (self.kind, self._scale_key, self.form)

    def __eq__(self, other):
        return type(other) is type(self) and other._key() == self._key()

    def __hash__(self):
        return hash(self._key())

    # -- layout ---------------------------------------------------------
    def _length_N(self, length):
        return next_even_smooth(length)

    def _plan_key(self, length):
        return (self._scale_key, self._length_N(length), self.form == "matrix")

    def plan(self, length):
        """The cached :class:`~.nsgt_plan.Plan` used for signals of ``length`` samples."""
        return PLANS(*self._plan_key(validators.length(length, "length", minimum=1)))

    def n_slices(self, length):
        """Slices of a signal of ``length`` samples (1: the non-sliced NSGT)."""
        return 1

    def frames(self, length):
        """Frames of every group: ``slices * M_g``."""
        S = self.n_slices(length)
        return [S * g.M for g in self.plan(length).groups]

    def layout(self, length):
        """Describe the coefficient groups for a signal of ``length`` samples.

        Returns
        -------
        list of dict
            Per group: ``bands`` (band indices), ``frequencies`` (Hz), ``M`` (time
            samples per band and slice), ``frames`` (``slices * M``), ``hop``
            (samples between consecutive coefficients of one slice, ``N / M``).
        """
        p = self.plan(length)
        S = self.n_slices(length)
        return [{"bands": g.bands.copy(), "frequencies": self.frequencies[g.bands], "M": g.M,
                 "frames": S * g.M, "hop": p.N / g.M} for g in p.groups]

    def frame_bounds(self, length):
        """Lower and upper frame bounds ``(min D, max D)`` of the NSGT used at ``length``
        (for the sliCQT: of each slice's NSGT; the slicing itself is tight)."""
        return self.plan(length).frame_bounds

    def _coefficients(self, coefficients, length, slices):
        """Checked coefficient groups as ``(B, bands_g, slices, M_g)`` arrays, the leading shape
        and the complex dtype."""
        return check_coefficients(coefficients, self.plan(length).groups, length, slices, self.name)

    # -- transforms -------------------------------------------------------
    def forward(self, x):
        """Analyse ``x`` ``(..., channels, time)``; returns a list of ``(..., channels, bands_g, frames_g)``."""
        if backend.is_torch(x) and _via_numpy(x):
            import torch

            check_signal(x)
            return [torch.from_numpy(c) for c in self.forward(to_numpy(x))]
        x = check_signal(x)
        check_finite(x, self.name)
        xp = backend.namespace(x)
        L = x.shape[-1]
        lead = tuple(x.shape[:-1])
        x2 = xp.reshape(x, (-1, L))
        N = self._length_N(L)
        fft = backend.fft(xp)
        if not PLANS.has(self._plan_key(L)) and threads.budget() > 1 and backend.on_host(x2):
            # build the windows while the signal's FFT runs
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=1) as ex:
                fut = ex.submit(fft.rfft, x2, N)
                p = self.plan(L)
                R = fut.result()
        else:
            p = self.plan(L)
            R = fft.rfft(x2, n=N)
        cdt = xp.complex64 if x2.dtype == xp.float32 else xp.complex128
        cgroups, _ = p.arrays("compact", x2.dtype, x2)
        coefs = kernels.analyse_compact(R, cgroups, [(len(g.bands), g.M) for g in p.groups], cdt)
        del R
        return [C.reshape(lead + (C.shape[1], C.shape[2] * C.shape[3])) for C in coefs]

    def inverse(self, coefficients, length):
        """Synthesise ``(..., channels, length)`` from coefficients shaped as :meth:`forward` returns
        (the canonical dual frame: least squares for any coefficients)."""
        length = validators.length(length, "length", minimum=1)
        if isinstance(coefficients, (list, tuple)) and coefficients and backend.is_torch(coefficients[0]) \
                and _via_numpy(coefficients[0]):
            import torch

            return torch.from_numpy(self.inverse([to_numpy(c) for c in coefficients], length))
        cs, lead, cdt = self._coefficients(coefficients, length, 1)
        p = self.plan(length)
        xp = backend.namespace(cs[0])
        rdt = backend.real_dtype_of(xp, cdt)
        cgroups, clanes = p.arrays("compact", rdt, cs[0])
        y = kernels.synthesise_compact(cs, cgroups, clanes, p.Kc, p.N, rdt)[:, :length]
        return y.reshape(lead + (length,))


class SliCQT(Sliced, NSGT):
    """Sliced constant-Q transform: NSGTs of length ``sllen`` on half-overlapping slices.

    Parameters
    ----------
    (as :class:`NSGT`), and
    sllen : int, optional
        Slice length, a multiple of 4 at least the scale's longest window
        (default from the scale at ``sample_rate``: ``ceil(max_k 8 Q_k sr / f_k)``
        rounded up to a multiple of 4).
    trlen : int, optional
        Transition length, even, ``0 <= trlen <= sllen / 2`` (default
        ``sllen / 4`` rounded up to an even number).

    Notes
    -----
    Coefficients: ``frames_g = slices * M_g`` (see the module docstring).
    ``name`` always lists ``sllen`` and ``trlen``:
    ``slicq-bark-262-32.9-sllen18060-trlen4516``.  :meth:`stream` gives blocks
    of whole slices (:class:`SliCQTStream`).
    """

    kind = "slicq"
    sliced = True

    def __init__(self, scale="bark", bins=262, fmin=32.9, fmax=None, *, sample_rate=44100, gamma=0.0,
                 form="ragged", sllen=None, trlen=None):
        super().__init__(scale, bins, fmin, fmax, sample_rate=sample_rate, gamma=gamma, form=form)
        self._args.update(sllen=sllen, trlen=trlen)
        d_sllen, _ = self.scale.suggested_sllen_trlen()
        longest = self.scale.longest_window()
        sllen = d_sllen if sllen is None else validators.integer(sllen, "sllen")
        if sllen % 4 or sllen < 4:
            raise ParameterError(f"sllen must be a positive multiple of 4, got {sllen}")
        if sllen < longest:
            raise ParameterError(
                f"sllen {sllen} is too short for the {self.scale.kind} scale's longest window ({longest} samples); "
                f"valid: sllen >= {longest + (-longest % 4)} (default {d_sllen})")
        if trlen is None:
            trlen = -(-sllen // 4)
            trlen += trlen % 2
        else:
            trlen = validators.integer(trlen, "trlen")
        if trlen % 2 or trlen < 0 or trlen > sllen // 2:
            raise ParameterError(f"trlen must be an even number from 0 to sllen/2 = {sllen // 2}, got {trlen}")
        self.sllen, self.trlen = sllen, trlen
        self.hop = sllen // 2
        #: samples of zeros before the signal in the first slice
        self.offset = sllen // 4 + trlen // 2
        # build the plan now: checks the scale fits the slice
        self.plan(1)

    def _name_parts(self):
        return super()._name_parts() + [f"sllen{self.sllen}", f"trlen{self.trlen}"]

    def _spec_extra(self):
        return [f"sllen={self.sllen}", f"trlen={self.trlen}"]

    def _key(self):
        return super()._key() + (self.sllen, self.trlen)

    def _length_N(self, length):
        # slices are zero-padded to a fast FFT length (18060 = 2^2 3 5 7 43 -> 18432 = 2^11 3^2)
        return next_even_smooth(self.sllen)

    def n_slices(self, length):
        """``ceil((length + trlen) / hop)`` slices cover ``length`` samples."""
        return -(-(int(length) + self.trlen) // self.hop)

    @property
    def slices_per_block(self):
        """Slices of one stream block: about :data:`BLOCK_SAMPLES` samples (29 for Bark 262 at 44.1 kHz)."""
        return max(1, BLOCK_SAMPLES // self.hop)

    # -- slices s0 .. s1-1 ----------------------------------------------
    def _segment(self, x, s0, s1):
        """Samples under slices ``s0 .. s1-1`` of the whole signal ``x (..., L)``, zero-padded outside it:
        a fresh contiguous ``(B, (s1 - s0 + 1) * hop)`` array (only this range is copied)."""
        h, L = self.hop, x.shape[-1]
        lead = tuple(x.shape[:-1])
        start = s0 * h - self.offset
        span = (s1 - s0 + 1) * h
        xp = backend.namespace(x)
        seg = backend.zeros(xp, lead + (span,), x.dtype, x)
        a, b = max(start, 0), min(start + span, L)
        if b > a:
            seg[..., a - start:b - start] = x[..., a:b]
        return xp.reshape(seg, (-1, span))

    def _analyse(self, x, s0, s1):
        """Coefficients of slices ``s0 .. s1-1`` of the checked signal ``x (..., L)``."""
        lead = tuple(x.shape[:-1])
        p = self.plan(1)
        ns, h, N = s1 - s0, self.hop, p.N
        seg = self._segment(x, s0, s1)
        B = seg.shape[0]
        xp = backend.namespace(x)
        w = self._window(xp, x.dtype, x)
        sllen = self.sllen

        def rows(b0, b1, r0, r1):  # windowed slices r0 .. r1-1 of rows b0 .. b1-1
            return backend.frames(xp, seg[b0:b1, r0 * h:(r1 + 1) * h], sllen, h) * w

        groups, _ = p.arrays("dense", x.dtype, x)
        compact = None
        if _compact_pays(p, x):  # mostly zero padding (matrix form): touch only the supports
            cg, _ = p.arrays("sliced-compact", x.dtype, x)
            compact = [(r, c, f, wv, j) for r, c, f, wv, j, _ in cg]
        cdt = xp.complex64 if x.dtype == xp.float32 else xp.complex128
        coefs = kernels.analyse(rows, B, ns, N, groups, cdt, x, compact)
        return [xp.reshape(C, lead + (C.shape[1], ns * C.shape[3])) for C in coefs]

    def _window(self, xp, dtype, like):
        """The slice window in ``xp``, ``dtype``, on ``like``'s device."""
        return backend.as_like(xp, slice_window(self.sllen, self.trlen), dtype, like)

    def _synthesise(self, cs, cdt):
        """Windowed, overlap-added synthesis of slices ``cs`` (list of ``(B, bands_g, ns, M_g)``):
        ``(B, (ns + 1) * hop)``, starting ``offset`` samples before the block's first slice's hop."""
        p = self.plan(1)
        B, _, ns, _ = cs[0].shape
        h = self.hop
        xp = backend.namespace(cs[0])
        rdt = backend.real_dtype_of(xp, cdt)
        groups, lanes = p.arrays("dense", rdt, cs[0])
        compact = None
        if _compact_pays(p, cs[0]):
            cg, clanes = p.arrays("sliced-compact", rdt, cs[0])
            compact = ([(r, c, d) for r, c, _, _, _, d in cg], clanes, p.Kc)
        w = self._window(xp, rdt, cs[0])
        out = backend.empty(xp, (B, ns + 1, h), rdt, cs[0])
        edges = {}

        # Overlap-add of windowed slices straight into the output: hops inside a task's range are
        # summed there; the two halves meeting at task boundaries are summed at the end (a + b,
        # commutative: the same bits whatever the tasks).
        def emit(b0, b1, r0, r1, yy):
            yy = yy[..., :2 * h]
            yy *= w
            backend.add(xp, yy[:, 1:, :h], yy[:, :-1, h:], out=out[b0:b1, r0 + 1:r1])
            edges[(b0, b1, r0, 0)] = backend.copy(yy[:, 0, :h])
            edges[(b0, b1, r1, 1)] = backend.copy(yy[:, -1, h:])

        kernels.synthesise(cs, groups, lanes, p.K, p.N, emit, compact)
        for (b0, b1, j, half), v in edges.items():
            if half == 0:
                other = edges.get((b0, b1, j, 1))
                out[b0:b1, j] = v if other is None else v + other
            elif (b0, b1, j, 0) not in edges:
                out[b0:b1, j] = v
        return xp.reshape(out, (B, (ns + 1) * h))


#: the stream of :class:`SliCQT` (blocks of whole slices; :class:`.nsgt_signals.SliceStream`)
SliCQTStream = SliceStream


# ----------------------------------------------------------------------------
_GRAMMAR = ("nsgt|slicq[:SCALE[:BINS[:FMIN]]] or nsgt|slicq:key=value,... with keys "
            "scale, bins, fmin, fmax, sllen, trlen (slicq only), gamma (vqlog only), form=ragged|matrix, "
            "compat=nsgt (nsgt 0.19's transform) with min_win, qvar (slicq), reducedform")


_NUM = r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e-?[0-9]+)?"
_NAME_TAIL = {
    kind: re.compile(rf"^-(?P<bins>[1-9][0-9]*)-(?P<fmin>{_NUM})(?:-fmax(?P<fmax>{_NUM})|-sr(?P<sr>[1-9][0-9]*))?"
                     rf"(?:-gamma(?P<gamma>{_NUM}))?"
                     + (r"-sllen(?P<sllen>[1-9][0-9]*)-trlen(?P<trlen>0|[1-9][0-9]*)" if kind == "slicq" else "")
                     + r"(?:-(?P<form>matrix))?$")
    for kind in ("nsgt", "slicq")}
_NAME_USAGE = {"nsgt": "nsgt-SCALE-BINS-FMIN[-fmaxF|-srRATE][-gammaG][-matrix] (e.g. nsgt-bark-262-32.9)",
               "slicq": "slicq-SCALE-BINS-FMIN[-fmaxF|-srRATE][-gammaG]-sllenS-trlenT[-matrix] "
                        "(e.g. slicq-bark-262-32.9-sllen18060-trlen4516)"}


def parse_name(name, *, sample_rate=None):
    """The :class:`NSGT` or :class:`SliCQT` whose :attr:`~NSGT.name` is ``name``.

    The rate: ``-sr{R}`` in the name (fmax = Nyquist at R Hz) means R; a name with neither ``-sr`` nor
    ``-fmax`` has fmax = Nyquist at 44100 Hz; a name with ``-fmax`` is built at ``sample_rate``
    (default 44100).  :func:`mssoracle.transforms.from_name` checks the rate against a given
    ``sample_rate`` and that the result's name is ``name``.
    """
    if nsgt_compat.is_compat_name(name):  # compat=nsgt: nsgt 0.19's transform (nsgt_compat)
        return nsgt_compat.parse_name(name, sample_rate=sample_rate)
    kind = name.split("-", 1)[0] if isinstance(name, str) else ""
    if kind not in _NAME_TAIL:
        raise ParameterError(f"transform name {name!r} is not an NSGT or sliCQT name; expected "
                             f"{_NAME_USAGE['nsgt']} or {_NAME_USAGE['slicq']}")
    rest = name[len(kind):]
    # the scale: a registered name (longest first, as a name may hold a dash)
    m = scale = None
    for s in sorted(SCALE_KINDS.names(), key=len, reverse=True):
        if rest.startswith(f"-{s}-"):
            m = _NAME_TAIL[kind].match(rest[len(s) + 1:])
            if m:
                scale = s
                break
    if m is None:
        raise ParameterError(f"transform name {name!r} is not a {kind} name; expected {_NAME_USAGE[kind]} "
                             f"with SCALE one of {', '.join(SCALE_KINDS)}")
    g = m.groupdict()
    if g["sr"] is not None:
        rate = int(g["sr"])
    elif g["fmax"] is None:
        rate = _REFERENCE_RATE
    else:
        rate = _REFERENCE_RATE if sample_rate is None else sample_rate
    kw = dict(scale=scale, bins=int(g["bins"]), fmin=float(g["fmin"]),
              fmax=None if g["fmax"] is None else float(g["fmax"]), gamma=float(g["gamma"] or 0.0),
              form=g["form"] or "ragged", sample_rate=rate)
    if kind == "slicq":
        return SliCQT(sllen=int(g["sllen"]), trlen=int(g["trlen"]), **kw)
    return NSGT(**kw)


@register_transform("slicq", description="sliced constant-Q transform (NSGT on half-overlapping slices)",
                    example="slicq:bark:262:32.9", from_name=parse_name)
@register_transform("nsgt", description="non-stationary Gabor transform over the whole signal",
                    example="nsgt:bark:262:32.9", from_name=parse_name)
def from_spec(spec, *, sample_rate=44100):
    """Build an :class:`NSGT` or :class:`SliCQT` from a spec string.

    Grammar::

        nsgt[:SCALE[:BINS[:FMIN]]]        slicq[:SCALE[:BINS[:FMIN]]]
        nsgt:key=value,...                slicq:key=value,...

    Keys: ``scale`` (a registered scale: oct, log, lin, mel, bark, vqlog, ...;
    default bark), ``bins`` (the scale's default: 262; 24 for oct), ``fmin``
    (Hz, default 32.9), ``fmax`` (Hz, default Nyquist at ``sample_rate``),
    ``sllen``, ``trlen`` (slicq only; defaults from the scale at ``sample_rate``),
    ``gamma`` (vqlog only, Hz, default 0), ``form`` (ragged or matrix).

    ``compat=nsgt`` builds nsgt 0.19's transform instead (:mod:`.nsgt_compat`: scales oct, log,
    lin, mel, bark, vqlog; extra keys ``min_win``, ``qvar`` (slicq only) and ``reducedform``;
    default sllen/trlen from the seed's fork's ``suggested_sllen``).
    """
    if not isinstance(spec, str):
        raise ParameterError(f"transform spec must be a string, got {spec!r}")
    kind, args = parse_colon_spec(spec.strip(), ("scale", "bins", "fmin"))
    if kind not in ("nsgt", "slicq"):
        raise ParameterError(f"not an NSGT spec: {spec!r}; expected {_GRAMMAR}")
    if "compat" in args:  # nsgt 0.19's transform, coefficient for coefficient (nsgt_compat)
        unknown = [k for k in args if k not in _KEYS + ("compat",) + nsgt_compat.COMPAT_KEYS]
        if unknown:
            raise ParameterError(f"unknown key {unknown[0]!r} in transform spec {spec!r}; valid keys: "
                                 f"{', '.join(_KEYS + ('compat',) + nsgt_compat.COMPAT_KEYS)}")
        if kind == "nsgt" and ("sllen" in args or "trlen" in args):
            raise ParameterError(f"sllen/trlen apply to slicq only, not nsgt (spec {spec!r}); "
                                 "use slicq:... for the sliced transform")
        sc = args.get("scale", "").strip().lower()
        if sc in SCALE_KINDS:  # aliases (cqlog, octave, linear, ...) by their canonical names
            args = dict(args, scale=SCALE_KINDS.get(sc).name)
        return nsgt_compat.from_args(kind, args, spec, sample_rate=sample_rate,
                                     default_bins=lambda s: SCALE_KINDS.get(s).default_bins)
    extra = [k for k in args if k in nsgt_compat.COMPAT_KEYS]
    if extra:
        raise ParameterError(f"key {extra[0]!r} in transform spec {spec!r} applies with compat=nsgt only "
                             f"(nsgt 0.19's options); add compat=nsgt or drop it")
    unknown = [k for k in args if k not in _KEYS]
    if unknown:
        raise ParameterError(f"unknown key {unknown[0]!r} in transform spec {spec!r}; valid keys: "
                             f"{', '.join(_KEYS)}")
    if kind == "nsgt" and ("sllen" in args or "trlen" in args):
        raise ParameterError(f"sllen/trlen apply to slicq only, not nsgt (spec {spec!r}); "
                             "use slicq:... for the sliced transform")
    scale = args.get("scale", DEFAULTS["scale"]).lower()
    if scale not in SCALE_KINDS:
        raise ParameterError(f"unknown scale {scale!r} in transform spec {spec!r}; valid: {', '.join(SCALE_KINDS)}")
    kw = dict(
        scale=scale,
        bins=validators.integer(args.get("bins", SCALE_KINDS.get(scale).default_bins), "bins"),
        fmin=validators.number(args.get("fmin", DEFAULTS["fmin"]), "fmin"),
        fmax=validators.number(args["fmax"], "fmax") if "fmax" in args else None,
        gamma=validators.number(args.get("gamma", DEFAULTS["gamma"]), "gamma"),
        form=args.get("form", DEFAULTS["form"]),
        sample_rate=sample_rate,
    )
    if kind == "slicq":
        return SliCQT(sllen=args.get("sllen"), trlen=args.get("trlen"), **kw)
    return NSGT(**kw)
