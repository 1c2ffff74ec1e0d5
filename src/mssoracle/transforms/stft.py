"""Short-time Fourier transform with an exact inverse (numpy and torch).

Conventions (identical to :func:`scipy.signal.stft` / :func:`scipy.signal.istft`
with ``boundary="zeros", padded=True, scaling="spectrum"``):

* the window is the periodic ("DFT-even") window of :func:`scipy.signal.get_window`;
* with ``center=True`` the signal is padded with ``n_fft // 2`` zeros on both
  sides, then with zeros at the end so that the last frame is complete; frame
  ``t`` covers padded samples ``[t * hop, t * hop + n_fft)``;
* coefficients are ``rfft(window * frame) / sum(window)`` (scipy's
  ``scaling="spectrum"``: a sinusoid of amplitude ``A`` peaks at ``A / 2``);
* the inverse is the weighted overlap-add of ``window * irfft(...)`` divided by
  the summed squared window (as :func:`scipy.signal.istft`), which is exact
  whenever the window/hop pair satisfies the NOLA condition (checked with
  :func:`scipy.signal.check_NOLA` when the transform is built).

Because the scale is scipy's, ``stft:2048:1024`` (:data:`SISEC18_STFT_SPEC`)
gives exactly the coefficients of sigsep-mus-oracle's
``scipy.signal.stft(x, nperseg=2048)``, so even the small ``eps`` constants of
the SiSEC 2018 oracles act identically.

Spec grammar (see :func:`from_spec`)::

    stft:N_FFT[:HOP[:WINDOW]]
    stft:n_fft=N_FFT[,hop=HOP][,window=WINDOW][,center=true|false]

``HOP`` defaults to ``N_FFT // 4``; ``WINDOW`` (default ``hann``) is any
:func:`scipy.signal.get_window` name; a parameterised window takes its
parameters after dashes: ``kaiser-8.6``, ``tukey-0.25``, ``gaussian-512``,
``general_gaussian-1.5-300``, ``dpss-3``.
"""

import math
import re

import numpy as np

from .. import validators
from ..constants import SISEC18_STFT_SPEC
from ..errors import ParameterError
from ..specs import parse_colon_spec
from .. import backend
from .base import BLOCK_SAMPLES, Block, Stream, Transform, check_finite, register_transform

__all__ = ["STFT", "STFTStream", "from_spec", "parse_name", "SISEC18_STFT_SPEC", "parse_window", "window_array"]

_DEFAULT_WINDOW = "hann"
#: max elements of an intermediate frame buffer (bounds memory on long signals)
_CHUNK_ELEMENTS = 1 << 22
#: output samples normalised at once by the inverse (bounds its float64 temporaries)
_NORM_CHUNK = 1 << 16

_ALIASES = {
    "han": "hann", "hanning": "hann",
    "hamm": "hamming", "ham": "hamming",
    "black": "blackman", "blk": "blackman",
    "blackharr": "blackmanharris", "bkh": "blackmanharris",
    "box": "boxcar", "ones": "boxcar", "rect": "boxcar", "rectangular": "boxcar",
    "bart": "bartlett", "brt": "bartlett",
    "triang": "triang", "traing": "triang", "tri": "triang",
    "cos": "cosine", "sine": "cosine",
    "ksr": "kaiser", "gauss": "gaussian", "gss": "gaussian",
    "tuk": "tukey", "flat": "flattop", "flt": "flattop",
    "nutt": "nuttall", "nut": "nuttall", "parz": "parzen", "par": "parzen",
    "bohman": "bohman", "bman": "bohman", "bmn": "bohman",
    "barthann": "barthann", "brthan": "barthann", "bth": "barthann",
    "general gaussian": "general_gaussian", "general_gauss": "general_gaussian",
    "general gauss": "general_gaussian", "ggs": "general_gaussian",
    "chebwin": "chebwin", "cheb": "chebwin",
    "exponential": "exponential", "poisson": "exponential",
    "taylor": "taylor", "taylorwin": "taylor",
}
_VALID_WINDOWS = ("hann, hamming, blackman, blackmanharris, nuttall, flattop, bartlett, triang, boxcar, "
                  "cosine, bohman, barthann, parzen, lanczos, kaiser-BETA, tukey-ALPHA, gaussian-STD, "
                  "general_gaussian-P-SIG, dpss-NW, chebwin-AT, taylor-NBAR (any scipy.signal.get_window "
                  "name, parameters after dashes)")
_NUMBER = r"[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?"
_WINDOW_RE = re.compile(r"^([a-z][a-z_ ]*?)((?:-(?:%s))*)$" % _NUMBER)


def _fmt_number(v):
    """Canonical short text of a window parameter: ``8.6``, ``8``, ``1e-05``."""
    v = float(v)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def parse_window(window):
    """Canonicalise a window description.

    Parameters
    ----------
    window : str or tuple
        ``"hann"``, ``"kaiser-8.6"``, or scipy's tuple form ``("kaiser", 8.6)``.

    Returns
    -------
    str
        Canonical text, e.g. ``"kaiser-8.6"``; parseable again by this function.

    Raises
    ------
    ParameterError
        Unknown or malformed window, or a window that scipy cannot build.
    """
    if isinstance(window, tuple):
        if not window or not isinstance(window[0], str):
            raise ParameterError(f"window {window!r}: expected a name or a (name, parameters...) tuple")
        name = window[0].strip().lower()
        try:
            params = tuple(float(p) for p in window[1:])
        except (TypeError, ValueError):
            raise ParameterError(f"window {window!r}: parameters must be numbers") from None
    elif isinstance(window, str):
        text = window.strip().lower()
        m = _WINDOW_RE.match(text)
        if not m:
            raise ParameterError(f"malformed window {window!r}; valid: {_VALID_WINDOWS}")
        name = m.group(1).strip()
        params = tuple(float(p) for p in re.findall(r"-(%s)" % _NUMBER, m.group(2)))
    else:
        raise ParameterError(f"window must be a string such as 'hann' or 'kaiser-8.6', got {window!r}")
    if name.endswith("_periodic"):
        name = name[: -len("_periodic")]
    if name.endswith("_symmetric"):
        raise ParameterError(f"window {window!r}: symmetric windows are not DFT-even; use {name[:-10]!r}")
    name = _ALIASES.get(name, name)
    if any(not math.isfinite(p) for p in params):
        raise ParameterError(f"window {window!r}: parameters must be finite")
    canonical = "-".join([name] + [_fmt_number(p) for p in params])
    window_array(canonical, 8)  # validate with scipy (raises ParameterError)
    return canonical


def _scipy_window_arg(canonical):
    parts = canonical.split("-")
    name = parts[0]
    # re-join exponents split by the dash ("1e-05" -> "1e", "05")
    params = re.findall(r"-(%s)" % _NUMBER, canonical[len(name):])
    if not params:
        return name
    return (name,) + tuple(float(p) for p in params)


def window_array(window, n_fft):
    """The periodic (DFT-even) window of length ``n_fft`` as float64, from its canonical text."""
    from scipy.signal import get_window

    arg = _scipy_window_arg(window)
    try:
        w = get_window(arg, int(n_fft), fftbins=True)
    except Exception as exc:  # scipy raises ValueError/TypeError with varied messages
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ParameterError(f"window {window!r}: scipy cannot build it ({msg}); valid: {_VALID_WINDOWS}") from None
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (int(n_fft),) or not np.all(np.isfinite(w)):
        raise ParameterError(f"window {window!r} of length {n_fft} is not a finite 1-d window")
    return w


class STFT(Transform):
    """Short-time Fourier transform with an exact (NOLA) inverse.

    Parameters
    ----------
    n_fft : int >= 2
        Frame (and FFT) length in samples; any integer, odd ones included.
    hop : int, optional
        Hop in samples, ``1 <= hop <= n_fft`` (default ``n_fft // 4``).
    window : str or tuple
        Periodic window, ``"hann"`` (default), any :func:`scipy.signal.get_window`
        name, parameterised as ``"kaiser-8.6"`` or ``("kaiser", 8.6)``.
    sample_rate : int
        Sampling rate of the signals (Hz); metadata only (no default depends on it,
        so the name never carries the rate).
    center : bool
        Pad ``n_fft // 2`` zeros on both sides (scipy's ``boundary="zeros"``).
        With ``center=False`` frames start at sample 0 and samples where the
        summed squared window vanishes (e.g. sample 0 with a Hann window)
        cannot be recovered.

    Attributes
    ----------
    name : str
        ``stft-2048-512``; non-default options appended in the fixed order
        window, ``nocenter``: ``stft-2048-512-blackman``, ``stft-2048-512-kaiser-8.6-nocenter``.
    spec : str
        Canonical spec parsed back by :func:`from_spec` (``stft:2048:512``).
    n_bins : int
        ``n_fft // 2 + 1``.

    Notes
    -----
    Coefficients for an input ``(..., channels, time)`` are a one-element list
    holding ``(..., channels, n_fft // 2 + 1, frames)``, complex64 for float32
    input and complex128 otherwise; ``frames = 1 + ceil((time + 2 * pad - n_fft) / hop)``
    (at least 1) with ``pad = n_fft // 2`` if ``center`` else 0.  One code path
    for every backend (``array_api_compat``): numpy arrays use :mod:`scipy.fft`
    with the thread budget's workers, torch tensors (CPU or CUDA) :mod:`torch.fft`
    on the tensor's device.  :meth:`stream` cuts the signal into blocks of frames.
    """

    def __init__(self, n_fft, hop=None, *, window=_DEFAULT_WINDOW, sample_rate=44100, center=True):
        from scipy.signal import check_NOLA

        n_fft = validators.integer(n_fft, "STFT n_fft", minimum=2)
        hop = n_fft // 4 if hop is None else validators.integer(hop, "STFT hop", minimum=1, maximum=n_fft)
        if not isinstance(center, (bool, np.bool_)):
            raise ParameterError(f"STFT center must be True or False, got {center!r}")
        self.n_fft = n_fft
        self.hop = hop
        self.window = parse_window(window)
        self.center = bool(center)
        self.sample_rate = validators.sample_rate(sample_rate)
        self.n_bins = n_fft // 2 + 1
        self._win = window_array(self.window, n_fft)
        wsum = float(self._win.sum())
        if not wsum > 0:
            raise ParameterError(f"window {self.window!r} of length {n_fft} sums to {wsum}; need a positive sum")
        self._wsum = wsum
        if not check_NOLA(self._win, n_fft, n_fft - hop):
            good = _largest_nola_hop(self._win, n_fft, hop)
            quarter = max(1, n_fft // 4)
            if good is None:
                hint = "no smaller hop works with this window; choose another window"
            elif quarter < good and check_NOLA(self._win, n_fft, n_fft - quarter):
                hint = f"the largest hop below {hop} that works is {good} (hop={quarter}, i.e. n_fft/4, works too)"
            else:
                hint = f"the largest hop below {hop} that works is {good}"
            raise ParameterError(
                f"STFT n_fft={n_fft}, hop={hop}, window={self.window}: window and hop fail the NOLA "
                f"condition, so the transform cannot be inverted; {hint}"
            )
        k_blocks = -(-n_fft // hop)
        w2 = np.zeros(k_blocks * hop)
        w2[:n_fft] = self._win ** 2
        self._w2 = w2.reshape(k_blocks, hop)  # squared window cut into hops (the normalisation)
        self._cache = {}
        parts = ["stft", str(n_fft), str(hop)]
        if self.window != _DEFAULT_WINDOW:
            parts.append(self.window)
        if not self.center:
            parts.append("nocenter")
        self.name = "-".join(parts)
        if self.center:
            self.spec = f"stft:{n_fft}:{hop}" + ("" if self.window == _DEFAULT_WINDOW else f":{self.window}")
        else:
            self.spec = f"stft:n_fft={n_fft},hop={hop},window={self.window},center=false"

    # ------------------------------------------------------------------ helpers
    @property
    def pad(self):
        """Zeros added before the first sample (``n_fft // 2`` when centred)."""
        return self.n_fft // 2 if self.center else 0

    def n_frames(self, length):
        """Number of frames for a signal of ``length`` samples."""
        total = int(length) + 2 * self.pad
        if total <= self.n_fft:
            return 1
        return 1 + -(-(total - self.n_fft) // self.hop)

    def frames(self, length):
        return [self.n_frames(length)]

    @property
    def frames_per_block(self):
        """Frames of one stream block: about :data:`BLOCK_SAMPLES` input samples (and no more
        coefficients per channel than ``4 * BLOCK_SAMPLES``), from the sizes alone."""
        return max(1, BLOCK_SAMPLES // max(self.hop, self.n_fft // 4))

    def stream(self, length):
        """An :class:`STFTStream`: blocks of :attr:`frames_per_block` frames."""
        return STFTStream(self, length)

    def at_rate(self, sample_rate):
        sr = validators.sample_rate(sample_rate)
        if sr == self.sample_rate:
            return self
        return STFT(self.n_fft, self.hop, window=self.window, sample_rate=sr, center=self.center)

    def __eq__(self, other):
        return isinstance(other, STFT) and (self.spec, self.sample_rate) == (other.spec, other.sample_rate)

    def __hash__(self):
        return hash((self.spec, self.sample_rate))

    def _window_for(self, xp, dtype, like):
        """(analysis window, synthesis window * sum(window)) in ``dtype`` on ``like``'s device (cached)."""
        key = (str(dtype), str(backend.device_of(like)))
        pair = self._cache.get(key)
        if pair is None:
            pair = (backend.as_like(xp, self._win, dtype, like), backend.as_like(xp, self._win * self._wsum, dtype, like))
            self._cache[key] = pair
        return pair

    def _norm(self, frames, a, b):
        """Summed squared window at output samples ``a .. b-1`` (float64; 1 where it is <= 1e-10).

        Summed in the order of :func:`scipy.signal.istft` (window hop by hop), chunk by chunk."""
        hop, k_blocks = self.hop, self._w2.shape[0]
        p0, p1 = a + self.pad, b + self.pad
        j0, j1 = p0 // hop, (p1 - 1) // hop + 1
        nrm = np.zeros((j1 - j0, hop))
        for k in range(k_blocks):
            lo, hi = max(j0, k), min(j1, frames + k)
            if hi > lo:
                nrm[lo - j0:hi - j0] += self._w2[k]
        flat = nrm.reshape(-1)[p0 - j0 * hop:p1 - j0 * hop]
        return np.where(flat > 1e-10, flat, 1.0)

    def _normalise(self, y, frames):
        """Divide ``y (..., length)`` in place by the summed squared window of ``frames`` frames."""
        xp = backend.namespace(y)
        length = y.shape[-1]
        chunk = max(self.hop, (_NORM_CHUNK // self.hop) * self.hop)
        for a in range(0, length, chunk):
            b = min(length, a + chunk)
            y[..., a:b] /= backend.as_like(xp, self._norm(frames, a, b), y.dtype, y)
        return y

    # ------------------------------------------------------------------ kernels (every backend)
    def _check_signal(self, x):
        """``(x, xp)``: a real float32/float64 signal (numpy: any strides, no copy when already one)."""
        if backend.is_torch(x):
            xp = backend.namespace(x)
            if x.is_complex():
                raise ParameterError("STFT input must be a real signal, got a complex tensor")
            if not x.is_floating_point():
                x = x.to(xp.float64)
            elif x.dtype not in (xp.float32, xp.float64):
                x = x.to(xp.float32)
        else:
            xp = np
            x = np.asarray(x)
            if np.iscomplexobj(x):
                raise ParameterError("STFT input must be a real signal, got a complex array")
            if x.dtype != np.float32:
                x = x.astype(np.float64, copy=False)
        if x.ndim == 0 or x.shape[-1] == 0:
            raise ParameterError(f"STFT input must be (..., channels, time) with time > 0, got shape {tuple(x.shape)}")
        return x, xp

    def _analyse(self, x, xp, t0, t1):
        """Frames ``t0 .. t1-1`` of the whole signal ``x (..., length)``: ``(..., bins, t1 - t0)``.

        Only the samples these frames cover are copied (zero-padded where they leave the signal)."""
        n, hop = self.n_fft, self.hop
        length = x.shape[-1]
        lead = tuple(x.shape[:-1])
        s, e = t0 * hop - self.pad, (t1 - 1) * hop - self.pad + n  # signal samples of the frames
        seg = backend.zeros(xp, lead + (e - s,), x.dtype, x)
        a, b = max(s, 0), min(e, length)
        if b > a:
            seg[..., a - s:b - s] = x[..., a:b]
        view = backend.frames(xp, seg, n, hop)  # (..., nt, n)
        nt = t1 - t0
        w = self._window_for(xp, x.dtype, x)[0]
        cdtype = xp.complex64 if x.dtype == xp.float32 else xp.complex128
        numpy = backend.is_numpy(xp)
        # Stored frame-major and returned as a (..., bins, frames) view: every block is written
        # sequentially (a transposed first write into fresh memory costs several times the FFTs),
        # blocks of frames stay contiguous for the blockwise oracles, and the inverse reads them back
        # without a transpose.
        if numpy:
            out = np.empty(lead + (nt, self.n_bins), dtype=cdtype)
            scale = cdtype(1.0 / self._wsum)
        else:
            out = xp.empty(lead + (nt, self.n_bins), dtype=cdtype, device=x.device)
            scale = 1.0 / self._wsum
        step = max(1, _CHUNK_ELEMENTS // max(1, math.prod(lead) * n))
        # numpy: one reused window buffer (no allocation per chunk)
        buf = np.empty(lead + (min(step, nt), n), dtype=x.dtype) if numpy else None
        fft = backend.fft(xp)
        for c0 in range(0, nt, step):
            block = view[..., c0:c0 + step, :]
            seg_w = np.multiply(block, w, out=buf[..., :block.shape[-2], :]) if numpy else block * w
            spec = fft.rfft(seg_w, n=n, axis=-1)
            spec *= scale
            out[..., c0:c0 + spec.shape[-2], :] = spec
        return xp.moveaxis(out, -1, -2)

    def _synthesise(self, z, xp, blocks):
        """Overlap-add ``window * irfft(z) * sum(window)`` of ``z (..., bins, nt)`` into the zeros
        ``blocks (..., nt + ceil(n/hop) - 1, hop)`` (frame ``t`` starts at block ``t``)."""
        n, hop = self.n_fft, self.hop
        nt = z.shape[-1]
        lead = tuple(z.shape[:-2])
        wsyn = self._window_for(xp, blocks.dtype, blocks)[1]
        step = max(1, _CHUNK_ELEMENTS // max(1, math.prod(lead) * n))
        fft = backend.fft(xp)
        for t0 in range(0, nt, step):
            seg = fft.irfft(xp.moveaxis(z[..., t0:t0 + step], -1, -2), n=n, axis=-1)
            seg *= wsyn
            _overlap_add(blocks, seg, t0, hop)

    def _check_coefficients(self, coefficients, frames=None):
        z = _single_group(coefficients)
        if z.ndim < 2 or z.shape[-2] != self.n_bins or (frames is not None and z.shape[-1] != frames):
            want = "frames" if frames is None else frames
            raise ParameterError(
                f"STFT {self.spec} expects coefficients (..., {self.n_bins}, {want}), got shape {tuple(z.shape)}"
            )
        if z.shape[-1] == 0:
            raise ParameterError("STFT inverse needs at least one frame")
        if backend.is_torch(z):
            xp = backend.namespace(z)
            if not z.is_complex():
                z = z.to(xp.complex128)
        else:
            xp = np
            z = np.asarray(z)
            if not np.iscomplexobj(z):
                z = z.astype(np.complex128)
        return z, xp

    # ------------------------------------------------------------------ forward / inverse
    def forward(self, x):
        """Analyse ``x`` of shape ``(..., channels, time)`` (any leading dims).

        Returns
        -------
        list of one complex array ``(..., channels, n_fft // 2 + 1, frames)``
        """
        x, xp = self._check_signal(x)
        check_finite(x, self.name)
        return [self._analyse(x, xp, 0, self.n_frames(x.shape[-1]))]

    def inverse(self, coefficients, length):
        """Synthesise ``(..., channels, length)`` from ``[Z]``, ``Z`` shaped ``(..., channels, bins, frames)``.

        Weighted overlap-add of ``window * irfft(Z) * sum(window)`` divided by
        the summed squared window where it exceeds 1e-10 (as :func:`scipy.signal.istft`),
        then cropped to ``length`` samples after the centre padding (zero-filled
        if ``length`` is longer than the frames cover).  complex64 gives float32.
        """
        length = validators.length(length, "STFT inverse length")
        z, xp = self._check_coefficients(coefficients)
        rdtype = backend.real_dtype_of(xp, z.dtype)
        frames = z.shape[-1]
        lead = tuple(z.shape[:-2])
        blocks = backend.zeros(xp, lead + (frames + self._w2.shape[0] - 1, self.hop), rdtype, z)
        self._synthesise(z, xp, blocks)
        y = _crop(xp.reshape(blocks, lead + (-1,)), self.pad, length, xp)
        return self._normalise(y, frames)


class STFTStream(Stream):
    """An :class:`STFT` over signals of one length, in blocks of frames.

    ``blocks[i]`` is frames ``start .. stop-1``; :meth:`forward` copies only the
    samples they cover, :meth:`inverse_add` adds their windowed synthesis
    (un-normalised) into the output, :meth:`finish` divides by the summed squared
    window chunk by chunk (as :func:`scipy.signal.istft`).
    """

    def __init__(self, transform, length):
        super().__init__(transform, length)
        total = transform.n_frames(self.length)
        per = transform.frames_per_block
        self.frames = [total]
        self.blocks = [Block(i, t0, min(total, t0 + per)) for i, t0 in enumerate(range(0, total, per))]

    def forward(self, x, block):
        t = self.transform
        x, xp = t._check_signal(x)
        if x.shape[-1] != self.length:
            raise ParameterError(f"{t.name}: stream input must be (..., channels, {self.length}), "
                                 f"got shape {tuple(x.shape)}")
        return [t._analyse(x, xp, block.start, block.stop)]

    def inverse_add(self, coefficients, block, out):
        t = self.transform
        self._check_out(out)
        z, xp = t._check_coefficients(coefficients, block.stop - block.start)
        lead = tuple(z.shape[:-2])
        nt = block.stop - block.start
        buf = backend.zeros(xp, lead + (nt + t._w2.shape[0] - 1, t.hop), out.dtype, out)
        t._synthesise(z, xp, buf)
        flat = xp.reshape(buf, lead + (-1,))
        s = block.start * t.hop - t.pad
        a, b = max(s, 0), min(s + flat.shape[-1], self.length)
        if b > a:
            out[..., a:b] += flat[..., a - s:b - s]
        return out

    def finish(self, out):
        self._check_out(out)
        return self.transform._normalise(out, self.frames[0])


def _overlap_add(blocks, seg, t0, hop):
    """Add windowed frames ``seg (..., nt, n)`` starting at frame ``t0`` into ``blocks (..., nblocks, hop)``.

    Frame ``t`` covers blocks ``t .. t + ceil(n / hop) - 1``; any array namespace.
    """
    n, nt = seg.shape[-1], seg.shape[-2]
    for k in range(-(-n // hop)):
        piece = seg[..., k * hop:(k + 1) * hop]
        blocks[..., t0 + k:t0 + k + nt, : piece.shape[-1]] += piece


def _crop(y, start, length, xp):
    avail = y.shape[-1] - start
    if length <= avail:
        return y[..., start:start + length]
    tail = backend.zeros(xp, tuple(y.shape[:-1]) + (length - avail,), y.dtype, y)
    return xp.concat([y[..., start:], tail], axis=-1)


def _single_group(coefficients):
    if isinstance(coefficients, (list, tuple)):
        if len(coefficients) != 1:
            raise ParameterError(f"STFT coefficients are a list of exactly one group, got {len(coefficients)}")
        return coefficients[0]
    return coefficients


def _largest_nola_hop(win, n_fft, hop, tries=4096):
    """Largest hop below ``hop`` for which ``win`` satisfies NOLA (None if none found)."""
    from scipy.signal import check_NOLA

    for h in range(hop - 1, max(0, hop - 1 - tries), -1):
        if check_NOLA(win, n_fft, n_fft - h):
            return h
    return None



_KEYS = {"n_fft": "n_fft", "nfft": "n_fft", "n": "n_fft", "hop": "hop", "hop_length": "hop",
         "window": "window", "win": "window", "center": "center"}
_USAGE = "valid: stft:N_FFT[:HOP[:WINDOW]] or stft:n_fft=N,hop=H,window=W,center=true|false (e.g. stft:4096:1024)"


_NAME_USAGE = "expected stft-N_FFT-HOP[-WINDOW][-nocenter] (e.g. stft-2048-512, stft-2048-512-kaiser-8.6)"
_NAME_RE = re.compile(r"^stft-([1-9][0-9]*)-([1-9][0-9]*)(?:-(.+))?$")


def parse_name(name, *, sample_rate=None):
    """The :class:`STFT` whose :attr:`~STFT.name` is ``name`` (``stft-2048-512``, ``stft-2048-512-kaiser-8.6-nocenter``).

    The name does not depend on the rate: the transform is built at ``sample_rate`` (default 44100).
    :func:`mssoracle.transforms.from_name` checks that the result's name is ``name`` (canonical).
    """
    text = name if isinstance(name, str) else ""
    center = True
    if text.endswith("-nocenter"):
        text, center = text[: -len("-nocenter")], False
    m = _NAME_RE.match(text)
    if not m:
        raise ParameterError(f"transform name {name!r} is not an STFT name; {_NAME_USAGE}")
    n_fft, hop, window = m.groups()
    return STFT(int(n_fft), int(hop), window=window or _DEFAULT_WINDOW, center=center,
                sample_rate=44100 if sample_rate is None else sample_rate)


@register_transform("stft", description="short-time Fourier transform (scipy conventions, exact inverse)",
                    example="stft:4096:1024", from_name=parse_name)
def from_spec(spec, *, sample_rate=44100):
    """Build an :class:`STFT` from ``stft:N_FFT[:HOP[:WINDOW]]`` or ``stft:n_fft=..,hop=..,window=..,center=..``.

    Examples: ``stft:4096`` (hop 1024), ``stft:4096:1024``, ``stft:2048:512:kaiser-8.6``,
    ``stft:n_fft=4096,hop=1024,window=hann``, ``stft:n_fft=2048,center=false``.
    """
    if not isinstance(spec, str):
        raise ParameterError(f"STFT spec must be a string, got {spec!r}")
    kind, args = parse_colon_spec(spec.strip(), ("n_fft", "hop", "window"))
    if kind != "stft":
        raise ParameterError(f"not an STFT spec: {spec!r}; {_USAGE}")
    opts = {}
    for key, value in args.items():
        if key not in _KEYS:
            raise ParameterError(f"unknown key {key!r} in transform spec {spec!r}; {_USAGE}")
        canon = _KEYS[key]
        if canon in opts:
            raise ParameterError(f"{canon!r} given twice in transform spec {spec!r}")
        opts[canon] = value
    if "n_fft" not in opts:
        raise ParameterError(f"transform spec {spec!r} lacks n_fft; {_USAGE}")

    def integer(key):
        return validators.integer(opts[key], f"{key} in transform spec {spec!r}")

    n_fft = integer("n_fft")
    hop = integer("hop") if "hop" in opts else None
    center = validators.boolean(opts["center"], f"center in transform spec {spec!r}") if "center" in opts else True
    return STFT(n_fft, hop, window=opts.get("window", _DEFAULT_WINDOW), sample_rate=sample_rate, center=center)
