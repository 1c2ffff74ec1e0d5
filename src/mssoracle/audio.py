"""Audio reading, writing and validation.

Signals inside mssoracle are ``(..., channels, time)`` arrays, float32 or
float64 (:data:`mssoracle.constants.PRECISIONS`).  WAV/FLAC/OGG files are read
with soundfile, block by block, straight into a caller's array
(:func:`read_audio_into`), so that reading a file costs one block on top of
the array it fills; MUSDB18 ``.stem.mp4`` files are decoded with PyAV in
:mod:`mssoracle.stemfile`.
"""

from pathlib import Path

import numpy as np

from . import validators
from ._atomic import atomic_path
from .constants import PRECISIONS
from .errors import AudioError, ParameterError

__all__ = [
    "read_audio", "read_audio_into", "write_audio", "valid_audio", "audio_info", "float_dtype",
    "count_nonfinite", "checked_sample_rate", "BLOCK_FRAMES",
]

#: frames per block when reading a file into an array, and when scanning an array for NaN/inf
#: (2**16 frames: 512 KiB per stereo float32 block)
BLOCK_FRAMES = 1 << 16


def float_dtype(dtype, name="dtype"):
    """``dtype`` as a numpy dtype if it is float32 or float64, else a one-line :class:`ParameterError`."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise ParameterError(f"{name} must be one of {', '.join(PRECISIONS)}, got {dtype!r}") from None
    return np.dtype(validators.choice(dt.name, name, PRECISIONS))


def checked_sample_rate(rate, path):
    """A file's sampling rate checked with :func:`mssoracle.validators.sample_rate` (one rule for every
    sample rate); a bad one is an :class:`AudioError` naming the file."""
    try:
        return validators.sample_rate(rate, "sample rate")
    except ParameterError as exc:
        raise AudioError(f"{path}: {exc}") from None


def count_nonfinite(x, *, block=BLOCK_FRAMES):
    """Number of NaN/inf samples of ``x`` (``(..., time)``), scanned ``block`` samples of time at a time,
    so that no mask of the whole array is made."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        return 0
    n = x.shape[-1] if x.ndim else 1
    if x.ndim == 0:
        return int(not np.isfinite(x))
    bad = 0
    for start in range(0, n, block):
        part = x[..., start:start + block]
        if not np.isfinite(part).all():
            bad += int(np.count_nonzero(~np.isfinite(part)))
    return bad


def valid_audio(y, *, name="signal", mono=None, allow_silent=True):
    """Check that ``y`` is usable audio; raise :class:`AudioError` otherwise.

    The finiteness and silence scans go block by block (no whole-signal mask).

    Parameters
    ----------
    y : np.ndarray, shape ``(..., channels, time)`` or ``(time,)``
        Audio samples.
    name : str
        What ``y`` is (a file path, a source name), used in messages.
    mono : bool, optional
        If True require a 1-d signal; if False require at least 2 dims.
    allow_silent : bool
        If False, an all-zero signal is an error.

    Returns
    -------
    bool
        True (so that it can be used in assertions, as in librosa).
    """
    if not isinstance(y, np.ndarray):
        raise AudioError(f"{name}: audio must be a numpy array, got {type(y).__name__}")
    if not np.issubdtype(y.dtype, np.floating):
        raise AudioError(f"{name}: audio must be floating point, got dtype {y.dtype}")
    if y.ndim == 0 or y.shape[-1] == 0:
        raise AudioError(f"{name}: audio is empty (shape {y.shape})")
    if mono is True and y.ndim != 1:
        raise AudioError(f"{name}: expected mono audio of shape (time,), got shape {y.shape}")
    if mono is False and y.ndim < 2:
        raise AudioError(f"{name}: expected audio of shape (..., channels, time), got shape {y.shape}")
    bad = count_nonfinite(y)
    if bad:
        raise AudioError(f"{name}: {bad} NaN/inf sample(s); audio must be finite")
    if not allow_silent and not any(np.any(y[..., s:s + BLOCK_FRAMES])
                                    for s in range(0, y.shape[-1], BLOCK_FRAMES)):
        raise AudioError(f"{name}: audio is silent (all zeros)")
    return True


def audio_info(path):
    """Return ``(sample_rate, channels, frames)`` of an audio file without reading it.

    A WAV file cut short (its ``data`` chunk announces more samples than the file holds, which
    libsndfile silently accepts) is an error here, from the header alone.

    Raises
    ------
    AudioError
        Unreadable or truncated file (one line naming it).
    """
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception as exc:  # soundfile raises RuntimeError/LibsndfileError
        raise AudioError(f"{path}: cannot read audio file ({_short(exc)})") from None
    if info.format == "WAV":
        announced = _wav_announced_frames(path)
        if announced is not None and announced > info.frames:
            raise AudioError(f"{path}: truncated: its header announces {announced} samples but the file holds "
                             f"only {info.frames}; the file is damaged or incompletely copied: copy it again")
    return info.samplerate, info.channels, info.frames


def _wav_announced_frames(path):
    """Frames a RIFF/WAVE file's ``data`` chunk announces (its size / the block alignment), or None
    where the header does not say (not RIFF, a streaming size, no ``fmt `` before ``data``)."""
    import struct

    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            align = None
            while True:
                chunk = f.read(8)
                if len(chunk) < 8:
                    return None
                cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if cid == b"fmt ":
                    body = f.read(min(size, 16))
                    if len(body) < 14:
                        return None
                    align = struct.unpack("<H", body[12:14])[0]
                    f.seek(size - len(body) + (size & 1), 1)
                elif cid == b"data":
                    if not align or size in (0, 0xFFFFFFFF):
                        return None
                    return size // align
                else:
                    f.seek(size + (size & 1), 1)
    except OSError:
        return None


def read_audio_into(path, out, *, check=True, block=BLOCK_FRAMES):
    """Read an audio file straight into ``out``, block by block; return its sampling rate.

    The file is read ``block`` frames at a time into one small ``(block,
    channels)`` buffer and each block is transposed into its slice of
    ``out``, so that no second copy of the signal exists at any point.

    Parameters
    ----------
    path : str or Path
        WAV, FLAC, OGG or any format libsndfile reads.
    out : np.ndarray, shape ``(channels, time)``, float32 or float64
        Filled in place (any strides, e.g. a row of a stack of signals).  The
        file must have exactly this channel count and length.  Reading float64
        files into float32 rounds them (16-bit and 24-bit PCM and float32
        files are exact in float32).
    check : bool
        Reject NaN/inf samples (:class:`AudioError` naming the file).
    block : int
        Frames per block.

    Returns
    -------
    int
        The sampling rate.

    Raises
    ------
    AudioError
        Missing or unreadable file, another channel count or length than
        ``out``'s, a bad sampling rate, NaN/inf samples.
    """
    import soundfile as sf

    path = Path(path)
    if not (isinstance(out, np.ndarray) and out.ndim == 2 and out.flags.writeable):
        raise ParameterError("out must be a writeable (channels, time) numpy array")
    dtype = float_dtype(out.dtype, "out dtype")
    channels, length = out.shape
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    try:
        f = sf.SoundFile(str(path))
    except Exception as exc:
        raise AudioError(f"{path}: cannot read audio file ({_short(exc)})") from None
    with f:
        sr = checked_sample_rate(f.samplerate, path)
        if f.channels != channels or f.frames != length:
            raise AudioError(f"{path}: {f.channels} channel(s) x {f.frames} samples, expected "
                             f"{channels} x {length}")
        buf = np.empty((min(block, max(length, 1)), channels), dtype=dtype)
        pos, bad = 0, 0
        try:
            while pos < length:
                n = f.read(frames=min(block, length - pos), dtype=dtype.name, always_2d=True,
                           out=buf[:min(block, length - pos)]).shape[0]
                if n == 0:
                    break
                part = buf[:n]
                if check:
                    bad += count_nonfinite(part.T)
                out[:, pos:pos + n] = part.T
                pos += n
        except AudioError:
            raise
        except Exception as exc:
            raise AudioError(f"{path}: cannot read audio file ({_short(exc)})") from None
    if pos != length:
        raise AudioError(f"{path}: the header announces {length} samples but only {pos} could be read; "
                         "the file is truncated")
    if check:
        if length == 0:
            raise AudioError(f"{path}: audio is empty (shape {out.shape})")
        if bad:
            raise AudioError(f"{path}: {bad} NaN/inf sample(s); audio must be finite")
    return sr


def read_audio(path, *, dtype=np.float64, check=True):
    """Read an audio file into a ``(channels, time)`` array.

    Parameters
    ----------
    path : str or Path
        WAV, FLAC, OGG or any format libsndfile reads.  For ``.stem.mp4``
        files use :func:`mssoracle.stemfile.read_stem_file`.
    dtype : numpy dtype
        Output dtype (float32 or float64; float64 files read as float32 are
        rounded).
    check : bool
        Validate the samples (finite, non-empty).

    Returns
    -------
    audio : np.ndarray, shape ``(channels, time)``, C-contiguous
        Read in blocks straight into this array (no second copy).
    sample_rate : int
    """
    dtype = float_dtype(dtype)
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    _, channels, frames = audio_info(path)
    audio = np.empty((channels, frames), dtype=dtype)
    sr = read_audio_into(path, audio, check=check)
    return audio, sr


def write_audio(path, audio, sample_rate, *, subtype="FLOAT"):
    """Write a ``(channels, time)`` (or ``(time,)``) array to a WAV file atomically.

    The file is written to a temporary name in the same folder and renamed,
    so that an interrupted run never leaves a truncated file.  ``subtype`` is
    soundfile's (``"FLOAT"`` keeps float32 precision; ``"PCM_16"`` for CD).
    """
    import soundfile as sf

    audio = np.asarray(audio)
    data = audio.T if audio.ndim == 2 else audio
    with atomic_path(path) as tmp:
        sf.write(str(tmp), data, int(sample_rate), subtype=subtype, format="WAV")


def _short(exc):
    msg = str(exc).strip().splitlines()
    return msg[-1] if msg else type(exc).__name__
