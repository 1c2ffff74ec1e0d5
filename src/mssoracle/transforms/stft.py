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
import sys

import numpy as np

from ..errors import ParameterError
from .base import Transform

__all__ = ["STFT", "from_spec", "SISEC18_STFT_SPEC", "parse_window", "window_array"]

#: sigsep-mus-oracle's STFT (SiSEC 2018 oracles): ``scipy.signal.stft(x, nperseg=2048)``,
#: i.e. n_fft 2048, hop 1024 (50 % overlap), periodic Hann, zero boundary padding, padded.
SISEC18_STFT_SPEC = "stft:2048:1024"

_DEFAULT_WINDOW = "hann"
#: max elements of an intermediate frame buffer (bounds memory on long signals)
_CHUNK_ELEMENTS = 1 << 22

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


def _is_torch(x):
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


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
        Sampling rate of the signals (Hz); metadata only.
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
    (at least 1) with ``pad = n_fft // 2`` if ``center`` else 0.  numpy arrays
    use :mod:`scipy.fft` (all cores); torch tensors (CPU or CUDA) use
    :mod:`torch.fft` on the tensor's device.
    """

    def __init__(self, n_fft, hop=None, *, window=_DEFAULT_WINDOW, sample_rate=44100, center=True):
        from scipy.signal import check_NOLA

        n_fft = _as_int(n_fft, "n_fft")
        if n_fft < 2:
            raise ParameterError(f"STFT n_fft must be an integer >= 2, got {n_fft}")
        hop = n_fft // 4 if hop is None else _as_int(hop, "hop")
        if hop < 1 or hop > n_fft:
            raise ParameterError(f"STFT hop must be an integer in 1..n_fft={n_fft}, got {hop}")
        if not isinstance(center, (bool, np.bool_)):
            raise ParameterError(f"STFT center must be True or False, got {center!r}")
        self.n_fft = n_fft
        self.hop = hop
        self.window = parse_window(window)
        self.center = bool(center)
        self.sample_rate = int(sample_rate)
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

    def __eq__(self, other):
        return isinstance(other, STFT) and (self.spec, self.sample_rate) == (other.spec, other.sample_rate)

    def __hash__(self):
        return hash((self.spec, self.sample_rate))

    def _window_for(self, dtype, device=None):
        """(analysis window, synthesis window * sum(window)) in ``dtype`` (numpy or torch on ``device``)."""
        key = (str(dtype), str(device))
        if key not in self._cache:
            if device is None:
                pair = (self._win.astype(dtype), (self._win * self._wsum).astype(dtype))
            else:
                import torch

                pair = (torch.as_tensor(self._win, dtype=dtype, device=device),
                        torch.as_tensor(self._win * self._wsum, dtype=dtype, device=device))
            self._cache[key] = pair
        return self._cache[key]

    def _norm_numpy(self, frames):
        """Summed squared window over the padded output, float64, length ``(frames + K - 1) * hop``."""
        hop, k_blocks = self.hop, -(-self.n_fft // self.hop)
        w2 = np.zeros(k_blocks * hop)
        w2[: self.n_fft] = self._win ** 2
        blocks = np.zeros((frames + k_blocks - 1, hop))
        for k in range(k_blocks):
            blocks[k:k + frames] += w2[k * hop:(k + 1) * hop]
        return blocks.reshape(-1)

    # ------------------------------------------------------------------ forward
    def forward(self, x):
        """Analyse ``x`` of shape ``(..., channels, time)`` (any leading dims).

        Returns
        -------
        list of one complex array ``(..., channels, n_fft // 2 + 1, frames)``
        """
        if _is_torch(x):
            return [self._forward_torch(x)]
        x = np.asarray(x)
        if np.iscomplexobj(x):
            raise ParameterError("STFT input must be a real signal, got a complex array")
        if x.dtype != np.float32:
            x = x.astype(np.float64, copy=False)
        if x.ndim == 0 or x.shape[-1] == 0:
            raise ParameterError(f"STFT input must be (..., channels, time) with time > 0, got shape {x.shape}")
        return [self._forward_numpy(x)]

    def _padded_length(self, length):
        frames = self.n_frames(length)
        return frames, (frames - 1) * self.hop + self.n_fft

    def _forward_numpy(self, x):
        import scipy.fft as sfft

        n, hop = self.n_fft, self.hop
        length = x.shape[-1]
        frames, total = self._padded_length(length)
        lead = x.shape[:-1]
        xp = np.zeros(lead + (total,), dtype=x.dtype)
        xp[..., self.pad:self.pad + length] = x[..., : total - self.pad]
        w = self._window_for(x.dtype)[0]
        cdtype = np.complex64 if x.dtype == np.float32 else np.complex128
        # Stored frame-major and returned as a (..., bins, frames) view: every block is written
        # sequentially (a transposed first write into fresh memory costs several times the FFTs),
        # blocks of frames stay contiguous for the blockwise oracles, and the inverse reads them back
        # without a transpose.
        out = np.empty(lead + (frames, self.n_bins), dtype=cdtype)
        view = np.lib.stride_tricks.sliding_window_view(xp, n, axis=-1)[..., ::hop, :]
        step = max(1, _CHUNK_ELEMENTS // max(1, int(np.prod(lead, dtype=np.int64)) * n))
        scale = cdtype(1.0 / self._wsum)
        buf = np.empty(lead + (min(step, frames), n), dtype=x.dtype)  # reused: no allocation per block
        for t0 in range(0, frames, step):
            block = view[..., t0:t0 + step, :]
            seg = np.multiply(block, w, out=buf[..., : block.shape[-2], :])
            spec = sfft.rfft(seg, n=n, axis=-1, workers=-1)
            spec *= scale
            out[..., t0:t0 + spec.shape[-2], :] = spec
        return np.swapaxes(out, -1, -2)

    def _forward_torch(self, x):
        import torch

        if x.is_complex():
            raise ParameterError("STFT input must be a real signal, got a complex tensor")
        if not x.is_floating_point():
            x = x.to(torch.float64)
        elif x.dtype not in (torch.float32, torch.float64):
            x = x.to(torch.float32)
        if x.ndim == 0 or x.shape[-1] == 0:
            raise ParameterError(f"STFT input must be (..., channels, time) with time > 0, got shape {tuple(x.shape)}")
        n, hop = self.n_fft, self.hop
        length = x.shape[-1]
        frames, total = self._padded_length(length)
        lead = tuple(x.shape[:-1])
        xp = x.new_zeros(lead + (total,))
        xp[..., self.pad:self.pad + length] = x[..., : total - self.pad]
        w = self._window_for(x.dtype, x.device)[0]
        cdtype = torch.complex64 if x.dtype == torch.float32 else torch.complex128
        out = torch.empty(lead + (self.n_bins, frames), dtype=cdtype, device=x.device)
        view = xp.unfold(-1, n, hop)  # (..., frames, n)
        step = max(1, _CHUNK_ELEMENTS // max(1, math.prod(lead) * n))
        for t0 in range(0, frames, step):
            seg = view[..., t0:t0 + step, :] * w
            spec = torch.fft.rfft(seg, n=n, dim=-1) / self._wsum
            out[..., t0:t0 + spec.shape[-2]] = spec.transpose(-1, -2)
        return out

    # ------------------------------------------------------------------ inverse
    def inverse(self, coefficients, length):
        """Synthesise ``(..., channels, length)`` from ``[Z]``, ``Z`` shaped ``(..., channels, bins, frames)``.

        Weighted overlap-add of ``window * irfft(Z) * sum(window)`` divided by
        the summed squared window where it exceeds 1e-10 (as :func:`scipy.signal.istft`),
        then cropped to ``length`` samples after the centre padding (zero-filled
        if ``length`` is longer than the frames cover).  complex64 gives float32.
        """
        z = _single_group(coefficients)
        length = _as_int(length, "length")
        if length < 0:
            raise ParameterError(f"STFT inverse length must be >= 0, got {length}")
        if z.ndim < 2 or z.shape[-2] != self.n_bins:
            raise ParameterError(
                f"STFT {self.spec} expects coefficients (..., {self.n_bins}, frames), got shape {tuple(z.shape)}"
            )
        if z.shape[-1] == 0:
            raise ParameterError("STFT inverse needs at least one frame")
        if _is_torch(z):
            return self._inverse_torch(z, length)
        return self._inverse_numpy(np.asarray(z), length)

    def _inverse_numpy(self, z, length):
        import scipy.fft as sfft

        if not np.iscomplexobj(z):
            z = z.astype(np.complex128)
        rdtype = np.float32 if z.dtype == np.complex64 else np.float64
        n, hop = self.n_fft, self.hop
        k_blocks = -(-n // hop)
        frames = z.shape[-1]
        lead = z.shape[:-2]
        blocks = np.zeros(lead + (frames + k_blocks - 1, hop), dtype=rdtype)
        wsyn = self._window_for(rdtype)[1]
        step = max(1, _CHUNK_ELEMENTS // max(1, int(np.prod(lead, dtype=np.int64)) * n))
        for t0 in range(0, frames, step):
            seg = sfft.irfft(np.swapaxes(z[..., t0:t0 + step], -1, -2), n=n, axis=-1, workers=-1)
            seg *= wsyn
            _overlap_add(blocks, seg, t0, hop)
        y = blocks.reshape(lead + (-1,))
        norm = self._norm_numpy(frames)
        y /= np.where(norm > 1e-10, norm, 1.0).astype(rdtype)
        return _crop(y, self.pad, length, np)

    def _inverse_torch(self, z, length):
        import torch

        if not z.is_complex():
            z = z.to(torch.complex128)
        rdtype = torch.float32 if z.dtype == torch.complex64 else torch.float64
        n, hop = self.n_fft, self.hop
        k_blocks = -(-n // hop)
        frames = z.shape[-1]
        lead = tuple(z.shape[:-2])
        blocks = torch.zeros(lead + (frames + k_blocks - 1, hop), dtype=rdtype, device=z.device)
        wsyn = self._window_for(rdtype, z.device)[1]
        step = max(1, _CHUNK_ELEMENTS // max(1, math.prod(lead) * n))
        for t0 in range(0, frames, step):
            seg = torch.fft.irfft(z[..., t0:t0 + step].transpose(-1, -2), n=n, dim=-1) * wsyn
            _overlap_add(blocks, seg, t0, hop)
        y = blocks.reshape(lead + (-1,))
        norm = self._norm_numpy(frames)
        norm = torch.as_tensor(np.where(norm > 1e-10, norm, 1.0), dtype=rdtype, device=z.device)
        y = y / norm
        return _crop(y, self.pad, length, torch)


def _overlap_add(blocks, seg, t0, hop):
    """Add windowed frames ``seg (..., nt, n)`` starting at frame ``t0`` into ``blocks (..., nblocks, hop)``.

    Frame ``t`` covers blocks ``t .. t + ceil(n / hop) - 1``; works on numpy arrays and torch tensors.
    """
    n, nt = seg.shape[-1], seg.shape[-2]
    for k in range(-(-n // hop)):
        piece = seg[..., k * hop:(k + 1) * hop]
        blocks[..., t0 + k:t0 + k + nt, : piece.shape[-1]] += piece


def _crop(y, start, length, lib):
    avail = y.shape[-1] - start
    if length <= avail:
        return y[..., start:start + length]
    tail = lib.zeros(tuple(y.shape[:-1]) + (length - avail,), dtype=y.dtype,
                     **({"device": y.device} if lib is not np else {}))
    return lib.concatenate([y[..., start:], tail], -1) if lib is np else lib.cat([y[..., start:], tail], -1)


def _single_group(coefficients):
    if isinstance(coefficients, (list, tuple)):
        if len(coefficients) != 1:
            raise ParameterError(f"STFT coefficients are a list of exactly one group, got {len(coefficients)}")
        return coefficients[0]
    return coefficients


def _as_int(value, name):
    if isinstance(value, (bool, np.bool_)):
        raise ParameterError(f"STFT {name} must be an integer, got {value!r}")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ParameterError(f"STFT {name} must be an integer, got {value!r}")


def _largest_nola_hop(win, n_fft, hop, tries=4096):
    """Largest hop below ``hop`` for which ``win`` satisfies NOLA (None if none found)."""
    from scipy.signal import check_NOLA

    for h in range(hop - 1, max(0, hop - 1 - tries), -1):
        if check_NOLA(win, n_fft, n_fft - h):
            return h
    return None


_BOOL = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}
_KEYS = {"n_fft": "n_fft", "nfft": "n_fft", "n": "n_fft", "hop": "hop", "hop_length": "hop",
         "window": "window", "win": "window", "center": "center"}


def from_spec(spec, *, sample_rate=44100):
    """Build an :class:`STFT` from ``stft:N_FFT[:HOP[:WINDOW]]`` or ``stft:n_fft=..,hop=..,window=..,center=..``.

    Examples: ``stft:4096`` (hop 1024), ``stft:4096:1024``, ``stft:2048:512:kaiser-8.6``,
    ``stft:n_fft=4096,hop=1024,window=hann``, ``stft:n_fft=2048,center=false``.
    """
    from . import parse_spec_args

    usage = "valid: stft:N_FFT[:HOP[:WINDOW]] or stft:n_fft=N,hop=H,window=W,center=true|false (e.g. stft:4096:1024)"
    if not isinstance(spec, str):
        raise ParameterError(f"STFT spec must be a string, got {spec!r}")
    kind, args = parse_spec_args(spec.strip(), ("n_fft", "hop", "window"))
    if kind != "stft":
        raise ParameterError(f"not an STFT spec: {spec!r}; {usage}")
    opts = {}
    for key, value in args.items():
        if key not in _KEYS:
            raise ParameterError(f"unknown key {key!r} in transform spec {spec!r}; {usage}")
        canon = _KEYS[key]
        if canon in opts:
            raise ParameterError(f"{canon!r} given twice in transform spec {spec!r}")
        opts[canon] = value
    if "n_fft" not in opts:
        raise ParameterError(f"transform spec {spec!r} lacks n_fft; {usage}")

    def integer(key):
        try:
            return int(opts[key])
        except ValueError:
            raise ParameterError(f"{key} {opts[key]!r} in transform spec {spec!r} is not an integer; {usage}") from None

    n_fft = integer("n_fft")
    hop = integer("hop") if "hop" in opts else None
    center = True
    if "center" in opts:
        if opts["center"].lower() not in _BOOL:
            raise ParameterError(f"center {opts['center']!r} in transform spec {spec!r} must be true or false")
        center = _BOOL[opts["center"].lower()]
    return STFT(n_fft, hop, window=opts.get("window", _DEFAULT_WINDOW), sample_rate=sample_rate, center=center)
