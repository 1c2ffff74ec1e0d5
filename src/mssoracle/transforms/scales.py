"""Frequency scales of the NSGT and sliCQT: centre frequencies, bandwidths, Q.

A scale places ``bins`` centre frequencies ``f_1 < ... < f_K`` from ``fmin`` to
``fmax`` (both included; ``oct`` stops at the last centre not above ``fmax``)
equally spaced on a warped axis ``u = warp(f)``:

=========  ============================================  ==============================
scale      warp ``u(f)``                                 centres
=========  ============================================  ==============================
``lin``    ``f``                                         ``fmin + k (fmax - fmin)/(K-1)``
``log``    ``ln f``  (constant Q; alias ``cqlog``)       ``fmin (fmax/fmin)^(k/(K-1))``
``oct``    ``log2 f``, ``bins`` per octave               ``fmin 2^(k/bins)``, ``<= fmax``
``mel``    ``2595 log10(1 + f/700)`` (HTK)               equally spaced in mel
``bark``   ``6 asinh(f/600)``                            equally spaced in Bark
``vqlog``  ``ln f`` (centres of ``log``)                 bandwidth ``alpha f + gamma``
=========  ============================================  ==============================

(``k = 0 .. K-1``.)  The window of centre ``f_k`` is a Hann window in frequency
that rises from the lower neighbour ``f_{k-1}`` to ``f_k`` and falls to the
upper neighbour ``f_{k+1}`` (two half-Hann windows); the neighbours of the end
centres are the scale's next points beyond its ends (``warp^-1`` of ``u_0 - du``
and ``u_{K-1} + du``).  Its support width is the bandwidth
``B_k = f_{k+1} - f_{k-1}`` and ``Q_k = f_k / B_k`` (so on ``log`` with ``b``
bins per octave ``Q = 1 / (2^(1/b) - 2^(-1/b))``).  Neighbouring windows cross
where their halves meet, so the windows sum to one at every frequency (a
partition of unity; ``sum g_k^2`` lies in ``[1/2, 1]``).

``vqlog`` (variable Q, Schörkhuber, Klapuri, Holighaus, Dörfler 2014) keeps the
``log`` centres and widens both halves of each window by the factor
``1 + gamma / (alpha f_k)`` where ``alpha = B_k / f_k`` of the ``log`` scale, so
that ``B_k = alpha f_k + gamma``: Q falls at low frequencies, and ``gamma = 0``
is exactly ``log``.

Two bands complete the frame of a real signal: a **DC band** centred at 0 Hz
and a **Nyquist band** centred at ``sr/2``.  Each is symmetric about its
centre and is the complement of its neighbour's half window: the DC band is
``1 - (rising half of the first scale window)`` on ``[0, f_1]`` (flat at 1 below
the point where that window starts to rise, then a ``sin^2`` flank down to 0 at
``f_1``), mirrored to negative frequencies; the Nyquist band likewise
completes the falling half of the last window up to Nyquist.  So the windows
sum to one at every frequency from 0 to Nyquist, and ``sum g_k^2 >= 1/2``
(``vqlog`` with ``gamma > 0``: the widened windows sum to at least one).  A
centre that falls exactly on 0 Hz (``fmin = 0``, allowed for ``lin``, ``mel``
and ``bark``) or on Nyquist (``fmax = sr/2``, the default) *is* that band: its
window becomes a Hann window symmetric about 0 (resp. Nyquist), with
half-width the distance to its inner neighbour, and no extra band is added.
So a transform has ``bins + 2``, ``bins + 1`` (the default ``fmax``) or ``bins``
bands.  Windows that reach below 0 Hz or above Nyquist (the ``lin`` scale's
first window when ``fmin`` is less than the spacing; ``vqlog`` with a large
``gamma``) are folded back by the transform (a real signal's spectrum is
Hermitian).
"""

import collections.abc
import math

import numpy as np

from .. import validators
from ..errors import ParameterError
from ..registry import Registry

__all__ = ["Scale", "ScaleKind", "SCALES", "SCALE_KINDS", "register_scale", "make_scale",
           "hz_to_mel", "mel_to_hz", "hz_to_bark", "bark_to_hz"]

#: registered frequency scales: name -> :class:`ScaleKind`
SCALE_KINDS = Registry("scale")


class ScaleKind:
    """A registered frequency scale: its warp ``u = warp(f)``, the inverse, and its defaults.

    Attributes
    ----------
    name, description : str
    warp, unwarp : callable
        Hz -> warped axis and back (numpy arrays in, float64 arrays out), increasing.
    positive : bool
        ``fmin`` must be > 0 (log-like warps), else >= 0.
    per_unit : bool
        ``bins`` counts centres per unit of the warped axis from ``fmin`` up to
        ``fmax`` (``oct``: per octave) instead of centres from ``fmin`` to ``fmax``.
    default_bins : int
        ``bins`` when a spec does not give it.
    widen : callable or None
        ``widen(centres, lower, upper, gamma) -> (lower, upper)``: the bandwidth
        offset ``gamma`` (``vqlog``); None: the scale takes no ``gamma``.
    """

    __slots__ = ("name", "warp", "unwarp", "description", "positive", "per_unit", "default_bins", "widen")

    def __init__(self, name, warp, unwarp, *, description="", positive=False, per_unit=False, default_bins=262,
                 widen=None):
        self.name, self.warp, self.unwarp, self.description = name, warp, unwarp, description
        self.positive, self.per_unit, self.default_bins, self.widen = bool(positive), bool(per_unit), \
            int(default_bins), widen

    def __repr__(self):
        return f"<ScaleKind {self.name}>"


def register_scale(name, warp=None, *, inverse, description="", aliases=(), positive=False, per_unit=False,
                   default_bins=262, widen=None, replace=False):
    """Register a frequency scale; decorates its warp ``f (Hz) -> u``, ``inverse`` is ``u -> f``::

        @register_scale("sqrt", inverse=lambda u: np.asarray(u) ** 2, description="centres equally spaced in sqrt(f)")
        def sqrt_warp(f):
            return np.sqrt(np.asarray(f, dtype=np.float64))

    after which ``slicq:scale=sqrt,bins=40,fmin=50`` works.  Returns the warp unchanged.
    """
    def deco(fn):
        kind = ScaleKind(str(name).strip().lower(), fn, inverse, description=description, positive=positive,
                         per_unit=per_unit, default_bins=default_bins, widen=widen)
        SCALE_KINDS.register(name, kind, aliases=aliases, replace=replace, description=description)
        return fn
    return deco if warp is None else deco(warp)


class _Descriptions(collections.abc.Mapping):
    """Live view ``scale name -> one-line description`` of :data:`SCALE_KINDS`."""

    def __getitem__(self, name):
        if name not in SCALE_KINDS:
            raise KeyError(name)
        return SCALE_KINDS.get(name).description

    def __iter__(self):
        return iter(SCALE_KINDS.names())

    def __len__(self):
        return len(SCALE_KINDS)


#: scale name -> one-line description (a live view of the registry)
SCALES = _Descriptions()


def hz_to_mel(f):
    """HTK mel: ``2595 log10(1 + f / 700)``."""
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m):
    """Inverse of :func:`hz_to_mel`."""
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def hz_to_bark(f):
    """Bark (Traunmüller-style asinh form used by the seed): ``6 asinh(f / 600)``."""
    return 6.0 * np.arcsinh(np.asarray(f, dtype=np.float64) / 600.0)


def bark_to_hz(b):
    """Inverse of :func:`hz_to_bark`."""
    return 600.0 * np.sinh(np.asarray(b, dtype=np.float64) / 6.0)


def _vqlog_widen(centres, lower, upper, gamma):
    """Widen both halves by ``1 + gamma / (alpha f)``, ``alpha = B / f`` of the log scale: ``B = alpha f + gamma``."""
    alpha = (lower + upper) / centres
    widen = 1.0 + gamma / (alpha * centres)
    return lower * widen, upper * widen


def _f64(f):
    return np.asarray(f, dtype=np.float64)


register_scale("oct", np.log2, inverse=np.exp2, description="bins per octave from fmin, constant Q",
               aliases=("octave",), positive=True, per_unit=True, default_bins=24)
register_scale("log", np.log, inverse=np.exp, aliases=("cqlog", "logarithmic"), positive=True,
               description="bins log-spaced centres from fmin to fmax, constant Q (alias cqlog)")
register_scale("lin", _f64, inverse=_f64, aliases=("linear",), description="bins equally spaced centres from fmin to fmax")
register_scale("mel", hz_to_mel, inverse=mel_to_hz, description="bins centres equally spaced in HTK mel, 2595*log10(1+f/700)")
register_scale("bark", hz_to_bark, inverse=bark_to_hz, description="bins centres equally spaced in Bark, 6*asinh(f/600)")
register_scale("vqlog", np.log, inverse=np.exp, positive=True, widen=_vqlog_widen,
               description="log centres, bandwidth alpha*f + gamma (variable Q)")


def scale_kind(name):
    """The registered :class:`ScaleKind` of ``name`` (or an alias); one-line error listing the valid ones."""
    if not isinstance(name, str):
        raise ParameterError(f"scale must be a name, got {name!r}; valid: {', '.join(SCALE_KINDS)}")
    return SCALE_KINDS.get(name)


class Scale:
    """A frequency scale with its DC and Nyquist bands.

    Parameters
    ----------
    kind : str
        One of ``oct``, ``log`` (``cqlog``), ``lin``, ``mel``, ``bark``, ``vqlog``.
    bins : int >= 1
        Number of centres from ``fmin`` to ``fmax`` (``oct``: per octave).
    fmin : float
        Lowest centre (Hz); ``> 0`` for ``oct``, ``log``, ``vqlog``.
    fmax : float, optional
        Highest centre (Hz, default Nyquist), ``fmin < fmax <= sample_rate / 2``.
    sample_rate : float
    gamma : float >= 0
        ``vqlog`` only: bandwidth offset in Hz.

    Attributes
    ----------
    frequencies : ndarray ``(bins,)``
        Scale centres (Hz), excluding the added DC/Nyquist bands.
    bandwidths : ndarray ``(bins,)``
        Support widths ``B_k`` of their windows (Hz).
    q : ndarray ``(bins,)``
        ``frequencies / bandwidths``.
    band_frequencies, band_lower, band_upper : ndarray ``(bands,)``
        Centre, lower and upper support edge of every band, DC and Nyquist
        bands included, in increasing frequency (edges may lie below 0 or
        above Nyquist; the transform folds them back).
    self_mirrored : ndarray of bool ``(bands,)``
        True for the DC and Nyquist bands (windows symmetric about 0 or Nyquist).
    """

    def __init__(self, kind, bins, fmin, fmax=None, *, sample_rate=44100, gamma=0.0):
        self.kind_def = scale_kind(kind)
        self.kind = self.kind_def.name
        self.sample_rate = validators.sample_rate(sample_rate)
        nyquist = self.sample_rate / 2.0
        self.nyquist = nyquist
        self.bins_arg = validators.integer(bins, "bins", minimum=1)
        self.fmin = validators.number(fmin, "fmin")
        self.fmax = nyquist if fmax is None else validators.number(fmax, "fmax")
        self.gamma = validators.number(gamma, "gamma", minimum=0)
        if self.gamma != 0 and self.kind_def.widen is None:
            raise ParameterError(f"gamma applies to scales with a bandwidth offset (vqlog), not {self.kind!r}; "
                                 "use scale=vqlog")
        if self.fmax > nyquist * (1 + 1e-12):
            raise ParameterError(
                f"fmax {self.fmax:g} Hz is above Nyquist ({nyquist:g} Hz at sample rate {self.sample_rate:g}); "
                f"valid: fmin < fmax <= {nyquist:g}")
        self.fmax = min(self.fmax, nyquist)
        positive = self.kind_def.positive
        if self.fmin < 0 or (positive and self.fmin <= 0):
            raise ParameterError(
                f"fmin must be {'> 0' if positive else '>= 0'} Hz for the {self.kind} scale, got {fmin!r}")
        if self.fmin >= self.fmax:
            raise ParameterError(f"fmin ({self.fmin:g} Hz) must be below fmax ({self.fmax:g} Hz); "
                                 f"valid: 0 <= fmin < fmax <= {nyquist:g}")
        self._build()

    # ------------------------------------------------------------------
    def _build(self):
        kd = self.kind_def
        warp, unwarp = kd.warp, kd.unwarp
        u0, u1 = float(warp(self.fmin)), float(warp(self.fmax))
        if kd.per_unit:
            du = 1.0 / self.bins_arg
            count = int(math.floor((u1 - u0) / du + 1e-9)) + 1
        else:
            count = self.bins_arg
            du = (u1 - u0) / (count - 1) if count > 1 else (u1 - u0)
        u = u0 + du * np.arange(-1, count + 1, dtype=np.float64)
        f = np.array(unwarp(u), dtype=np.float64)
        # exact end points (no round-off drift)
        f[1] = self.fmin
        if not kd.per_unit and count > 1:
            f[count] = self.fmax
        self.du = du
        centres = f[1:-1].copy()
        lower = f[1:-1] - f[:-2]       # distance to the lower neighbour
        upper = f[2:] - f[1:-1]        # distance to the upper neighbour
        if kd.widen is not None and self.gamma > 0:
            lower, upper = kd.widen(centres, lower, upper, self.gamma)
        self.frequencies = centres
        self.bandwidths = lower + upper
        self.q = centres / self.bandwidths

        nyq = self.nyquist
        tol = 1e-9 * nyq
        bands_c = list(centres)
        bands_lo = list(lower)
        bands_hi = list(upper)
        mirror = [False] * count
        flat = [0.0] * count
        if centres[0] <= tol:  # centre on DC: it is the DC band (symmetric Hann)
            half = upper[0]
            bands_c[0], bands_lo[0], bands_hi[0], mirror[0] = 0.0, half, half, True
        else:  # DC band: 1 - (rising half of the first window), mirrored about 0
            bands_c.insert(0, 0.0)
            bands_lo.insert(0, centres[0])
            bands_hi.insert(0, centres[0])
            mirror.insert(0, True)
            flat.insert(0, centres[0] - lower[0])
        if centres[-1] >= nyq - tol:  # centre on Nyquist: it is the Nyquist band (symmetric Hann)
            half = nyq - (centres[-2] if count > 1 else 0.0)
            bands_c[-1], bands_lo[-1], bands_hi[-1], mirror[-1], flat[-1] = nyq, half, half, True, 0.0
        else:  # Nyquist band: 1 - (falling half of the last window), mirrored about Nyquist
            half = nyq - centres[-1]
            bands_c.append(nyq)
            bands_lo.append(half)
            bands_hi.append(half)
            mirror.append(True)
            flat.append(half - upper[-1])
        self.band_frequencies = np.asarray(bands_c, dtype=np.float64)
        self.band_lower_width = np.asarray(bands_lo, dtype=np.float64)
        self.band_upper_width = np.asarray(bands_hi, dtype=np.float64)
        self.band_lower = self.band_frequencies - self.band_lower_width
        self.band_upper = self.band_frequencies + self.band_upper_width
        self.self_mirrored = np.asarray(mirror, dtype=bool)
        self.band_flat = np.asarray(flat, dtype=np.float64)
        if np.any(self.band_lower_width <= 0) or np.any(self.band_upper_width <= 0):
            raise ParameterError(f"scale {self.kind}:{self.bins_arg}:{self.fmin:g}: degenerate bands; "
                                 "use fewer bins or a wider fmin..fmax range")

    # ------------------------------------------------------------------
    @property
    def bins(self):
        """Number of scale centres (``oct``: from ``bins`` per octave)."""
        return len(self.frequencies)

    @property
    def bands(self):
        """Number of bands including the DC and Nyquist bands."""
        return len(self.band_frequencies)

    def band_q(self):
        """Q of every band (``centre / support width``; 0 for the DC band)."""
        return self.band_frequencies / (self.band_lower_width + self.band_upper_width)

    def suggested_sllen_trlen(self):
        """The seed's slice length: ``ceil(max_k 8 Q_k sr / f_k)`` rounded up to a multiple of 4,
        and ``trlen = sllen / 4`` rounded up to an even number.

        With ``Q_k = f_k / B_k`` this is ``8 sr / min_k B_k``: eight main-lobe
        half-widths of the narrowest window.
        """
        raw = float(np.max(8.0 * self.sample_rate / self.bandwidths))  # = 8 Q sr / f
        sllen = int(math.ceil(raw - 1e-9))
        sllen += -sllen % 4
        trlen = -(-sllen // 4)
        trlen += trlen % 2
        return sllen, trlen

    def longest_window(self):
        """Length in samples of the longest atom, ``ceil(sr / B_min)``: the reciprocal of the
        narrowest band's bandwidth.

        A slice (``sllen``) shorter than this would give the narrowest band less
        than one FFT bin, so that band could sample no frequency at all; the
        seed's default slice length is eight times this.
        """
        widths = self.band_lower_width + self.band_upper_width
        return int(math.ceil(self.sample_rate / float(np.min(widths)) - 1e-9))

    def window(self, band, freqs):
        """Value of band ``band``'s window at frequencies ``freqs`` (Hz, any real; not folded)."""
        d = np.asarray(freqs, dtype=np.float64) - self.band_frequencies[band]
        return band_window(d, self.band_lower_width[band], self.band_upper_width[band],
                           self.band_flat[band] if self.self_mirrored[band] else None)

    def __repr__(self):
        extra = f", gamma={self.gamma:g}" if self.gamma else ""
        return (f"Scale({self.kind!r}, bins={self.bins_arg}, fmin={self.fmin:g}, fmax={self.fmax:g}, "
                f"sample_rate={self.sample_rate:g}{extra})")


def hann_halves(d, lower, upper):
    """Asymmetric Hann window: ``cos^2(pi d / (2 lower))`` for ``-lower < d <= 0``,
    ``cos^2(pi d / (2 upper))`` for ``0 <= d < upper``, 0 elsewhere."""
    d = np.asarray(d, dtype=np.float64)
    width = np.where(d < 0, lower, upper)
    x = d / width
    return np.where(np.abs(x) < 1, np.cos(0.5 * np.pi * x) ** 2, 0.0)


def plateau(d, half, flat):
    """Symmetric window of half-width ``half``: 1 for ``|d| <= flat``, then
    ``sin^2(pi/2 (half - |d|) / (half - flat))`` down to 0 at ``|d| = half``
    (``flat <= 0``: no flat top; ``flat = 0``: a Hann window)."""
    a = np.abs(np.asarray(d, dtype=np.float64))
    x = (half - a) / (half - flat)
    return np.where(a >= half, 0.0, np.where(a <= flat, 1.0, np.sin(0.5 * np.pi * np.clip(x, 0, 1)) ** 2))


def band_window(d, lower, upper, flat=None):
    """A band's window at offsets ``d`` from its centre: :func:`hann_halves` for
    scale bands, :func:`plateau` (``flat`` given) for the DC and Nyquist bands."""
    if flat is None:
        return hann_halves(d, lower, upper)
    return plateau(d, lower, flat)


def make_scale(kind, bins, fmin, fmax=None, *, sample_rate=44100, gamma=0.0):
    """Build a :class:`Scale` (see the module docstring for the formulas)."""
    return Scale(kind, bins, fmin, fmax, sample_rate=sample_rate, gamma=gamma)

