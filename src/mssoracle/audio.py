"""Audio reading, writing and validation.

Signals inside mssoracle are ``(..., channels, time)`` arrays (float64 unless
stated otherwise).  WAV/FLAC/OGG files are read with soundfile; MUSDB18
``.stem.mp4`` files are decoded with PyAV in :mod:`mssoracle.datasets`.
"""

from pathlib import Path

import numpy as np

from ._atomic import atomic_path
from .errors import AudioError

__all__ = ["read_audio", "write_audio", "valid_audio", "audio_info"]


def valid_audio(y, *, name="signal", mono=None, allow_silent=True):
    """Check that ``y`` is usable audio; raise :class:`AudioError` otherwise.

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
    if not np.isfinite(y).all():
        bad = np.count_nonzero(~np.isfinite(y))
        raise AudioError(f"{name}: {bad} NaN/inf sample(s); audio must be finite")
    if not allow_silent and not np.any(y):
        raise AudioError(f"{name}: audio is silent (all zeros)")
    return True


def audio_info(path):
    """Return ``(sample_rate, channels, frames)`` of an audio file without reading it."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception as exc:  # soundfile raises RuntimeError/LibsndfileError
        raise AudioError(f"{path}: cannot read audio file ({_short(exc)})") from None
    return info.samplerate, info.channels, info.frames


def read_audio(path, *, dtype=np.float64, check=True):
    """Read an audio file into a ``(channels, time)`` array.

    Parameters
    ----------
    path : str or Path
        WAV, FLAC, OGG or any format libsndfile reads.  For ``.stem.mp4``
        files use :func:`mssoracle.datasets.read_stem_file`.
    dtype : numpy dtype
        Output dtype (float32 or float64).
    check : bool
        Validate the samples (finite, non-empty) with :func:`valid_audio`.

    Returns
    -------
    audio : np.ndarray, shape ``(channels, time)``
    sample_rate : int
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    try:
        data, sr = sf.read(str(path), dtype="float64" if dtype == np.float64 else "float32",
                           always_2d=True)
    except Exception as exc:
        raise AudioError(f"{path}: cannot read audio file ({_short(exc)})") from None
    audio = np.ascontiguousarray(data.T, dtype=dtype)
    if check:
        valid_audio(audio, name=str(path))
    return audio, int(sr)


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
