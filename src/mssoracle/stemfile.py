"""Stem files (MUSDB18 ``.stem.mp4``): probing and decoding with PyAV, and the embedded preview.

A stem file is an MP4 file with one AAC stream per source; MUSDB18's order is
mixture, drums, bass, other, vocals (:data:`mssoracle.constants.MUSDB_STEM_STREAMS`).
Every stream is decoded as ffmpeg decodes it (PyAV drives the same libavformat
demuxer and libavcodec decoder): an MP4 edit list, where the file has one, is
honoured (the decoder drops the encoder priming it marks), no trim of our own
is added, nothing is resampled or remixed.

Decoding writes each decoded frame straight into its slice of one
preallocated ``(nstreams, channels, time)`` array: apart from that array, the
decoder holds one frame per stream.  AAC decodes to float32, so float32 output
is the decoder's own samples, bit for bit (float64 holds the same values).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Tuple

import numpy as np

from .audio import BLOCK_FRAMES, checked_sample_rate, count_nonfinite, float_dtype
from .errors import AudioError, DatasetError

__all__ = [
    "DEFAULT_SAMPLE_NAME", "STEM_SUFFIX", "DATASET_HINT", "StemFileInfo",
    "default_sample_path", "probe_stem_file", "read_stem_file", "read_stem_excerpt", "check_stream_count",
    "check_mp4_boxes",
    "DAMAGED_HINT",
]

#: Track name of the preview shipped in the stempeg wheel.
DEFAULT_SAMPLE_NAME = "The Easton Ellises - Falcon 69"
#: File-name suffix of a stem file.
STEM_SUFFIX = ".stem.mp4"
#: What to do when no usable dataset is found (the end of several messages).
DATASET_HINT = ("point --root (or MUSDB_PATH) to a MUSDB18-HQ folder (train/, test/ of track folders), "
                "a MUSDB18 folder of .stem.mp4 files, or a folder of track folders holding mixture.wav "
                "and one WAV per stem")

_DEFAULT_SAMPLE_FILE = "stempeg/data/" + DEFAULT_SAMPLE_NAME + STEM_SUFFIX


# --------------------------------------------------------------------------------------------
# The embedded default sample
# --------------------------------------------------------------------------------------------

def default_sample_path():
    """Path of the MUSDB18 preview shipped in the ``stempeg`` wheel.

    The file is ``stempeg/data/The Easton Ellises - Falcon 69.stem.mp4``
    (6.1 s, 44.1 kHz stereo, five AAC streams).  It is found through the
    package metadata, without importing stempeg (whose import looks for an
    ffmpeg binary).

    Returns
    -------
    Path

    Raises
    ------
    DatasetError
        If stempeg is not installed or the file is missing from it.
    """
    import importlib.metadata as metadata
    import importlib.util

    candidates = []
    try:
        dist = metadata.distribution("stempeg")
    except metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        for f in dist.files or ():
            if str(f).replace("\\", "/").endswith(_DEFAULT_SAMPLE_FILE):
                candidates.append(Path(dist.locate_file(f)))
        candidates.append(Path(dist.locate_file(_DEFAULT_SAMPLE_FILE)))
    try:  # editable or unusual installs: locate the package folder without executing it
        spec = importlib.util.find_spec("stempeg")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            candidates.append(Path(loc) / "data" / (DEFAULT_SAMPLE_NAME + STEM_SUFFIX))
    for c in candidates:
        if c.is_file():
            return c.resolve()
    if dist is None and spec is None:
        raise DatasetError("no dataset root given and stempeg is not installed, so the default "
                           "MUSDB18 preview is unavailable: pip install stempeg, or " + DATASET_HINT)
    raise DatasetError(f"the stempeg installation lacks {_DEFAULT_SAMPLE_FILE}: reinstall stempeg "
                       "(pip install --force-reinstall stempeg), or " + DATASET_HINT)


# --------------------------------------------------------------------------------------------
# Probing
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StemFileInfo:
    """What a stem file's headers say, nothing decoded.

    Attributes
    ----------
    path : Path
    sample_rates : tuple of int
        Per audio stream (0 where the header does not say).
    channels : tuple of int
        Per audio stream.
    capacity : int or None
        An upper bound of the decoded length of every stream (packets x
        samples per frame), None where the header does not give one.  The
        decoded length is at most this; an edit list makes it shorter.
    """

    path: Path
    sample_rates: Tuple[int, ...]
    channels: Tuple[int, ...]
    capacity: object = None

    @property
    def n_streams(self):
        """Number of audio streams."""
        return len(self.sample_rates)

    @property
    def sample_rate(self):
        """The streams' common sampling rate (checked by :meth:`check_uniform`)."""
        return self.sample_rates[0]

    def check_uniform(self):
        """Raise :class:`AudioError` unless every stream has one sampling rate and one channel count
        (rates a header leaves unknown, 0, are checked on the decoded frames instead)."""
        if len(set(r for r in self.sample_rates if r)) > 1:
            desc = ", ".join(f"stream {i}: {r} Hz" for i, r in enumerate(self.sample_rates))
            raise AudioError(f"{self.path}: audio streams have different sample rates ({desc}); "
                             "all streams of a stem file must share one sample rate (nothing is resampled)")
        if len(set(self.channels)) > 1:
            desc = ", ".join(f"stream {i}: {c}" for i, c in enumerate(self.channels))
            raise AudioError(f"{self.path}: audio streams have different channel counts ({desc})")
        return self


def _layout_channels(layout):
    return getattr(layout, "nb_channels", None) or len(layout.channels)


def _stream_capacity(stream):
    """Upper bound of a stream's decoded length from its header, or None."""
    cc = stream.codec_context
    frames, frame_size = int(stream.frames or 0), int(cc.frame_size or 0)
    if frames > 0 and frame_size > 0:
        return frames * frame_size
    return None


def _stream_info(path, streams):
    rates = tuple(int(s.codec_context.sample_rate or 0) for s in streams)
    chans = tuple(_layout_channels(s.codec_context.layout) for s in streams)
    caps = [_stream_capacity(s) for s in streams]
    cap = max(caps) if caps and all(c is not None for c in caps) else None
    return StemFileInfo(Path(path), rates, chans, cap)


#: what to do about a damaged stem file (the end of several messages)
DAMAGED_HINT = "the file is damaged or incompletely copied: download or copy it again"


def check_mp4_boxes(path):
    """Check that an MP4 file's top-level boxes (``ftyp``, ``moov``, ``mdat``, ...) all fit in the file.

    A copy or download cut short keeps a valid start (the ``moov`` index usually comes first) but
    its ``mdat`` box announces more bytes than the file has: that is seen here from a few header
    bytes per box, before anything is decoded.  Files that do not start like an MP4 box structure
    are left to the demuxer.

    Raises
    ------
    AudioError
        A box runs past the end of the file (one line naming the file, the box and both sizes).
    """
    import struct

    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            pos, first = 0, True
            while pos < size:
                f.seek(pos)
                head = f.read(16)
                if len(head) < 8:
                    if first:
                        return
                    raise AudioError(f"{path}: truncated: {size - pos} stray byte(s) after the last complete "
                                     f"MP4 box (file of {size} bytes); {DAMAGED_HINT}")
                n, kind = struct.unpack(">I4s", head[:8])
                if n == 1:
                    if len(head) < 16:
                        raise AudioError(f"{path}: truncated inside the header of its last MP4 box "
                                         f"(file of {size} bytes); {DAMAGED_HINT}")
                    n = struct.unpack(">Q", head[8:16])[0]
                elif n == 0:  # the box runs to the end of the file
                    return
                if not (kind.isascii() and all(32 < c < 127 for c in kind)) or n < 8:
                    if first:
                        return  # not an MP4 box structure: the demuxer will say what it is
                    raise AudioError(f"{path}: damaged MP4 structure at byte {pos}; {DAMAGED_HINT}")
                if first and kind != b"ftyp":
                    return
                if pos + n > size:
                    name = kind.decode("ascii")
                    raise AudioError(f"{path}: truncated: its {name!r} box needs {pos + n} bytes but the file has "
                                     f"only {size}; {DAMAGED_HINT}")
                pos += n
                first = False
    except OSError as exc:
        raise AudioError(f"{path}: cannot read stem file ({exc.strerror or exc})") from None


def probe_stem_file(path):
    """Read a stem file's headers: a :class:`StemFileInfo`, nothing decoded.

    The MP4 box structure is checked first (:func:`check_mp4_boxes`), so a file cut short is
    reported here rather than while decoding.

    Raises
    ------
    AudioError
        Missing, unreadable or truncated file.
    """
    import av

    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    check_mp4_boxes(path)
    try:
        with av.open(str(path)) as container:
            return _stream_info(path, list(container.streams.audio))
    except Exception as exc:
        raise AudioError(f"{path}: cannot read stem file ({_short(exc)}); {DAMAGED_HINT}") from None


def check_stream_count(path, n, names):
    """Raise :class:`AudioError` unless a stem file has one stream per name in ``names``."""
    if n != len(names):
        raise AudioError(f"{path}: {n} audio stream(s), expected {len(names)} "
                         f"({', '.join(names)}) as in MUSDB18 stem files")


# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------

def _frame_to_array(frame, path, index):
    """One decoded audio frame as a ``(channels, samples)`` float array (one frame, not the track)."""
    fmt = frame.format
    channels = _layout_channels(frame.layout)
    a = frame.to_ndarray()
    if not fmt.is_planar:
        a = a.reshape(-1, channels).T
    kind = a.dtype
    if kind == np.float32 or kind == np.float64:
        return a
    if kind == np.int16:
        return a.astype(np.float32) / np.float32(2 ** 15)
    if kind == np.int32:
        return (a.astype(np.float64) / 2.0 ** 31).astype(np.float32)
    if kind == np.uint8:
        return (a.astype(np.float32) - 128.0) / np.float32(128.0)
    raise AudioError(f"{path}: audio stream {index} has unsupported sample format {fmt.name}")


class _Overflow(Exception):
    """The decoded length passed the header's bound: decode again with the measured length."""


def _decode(container, path, streams, out):
    """One pass over the file; frames go into ``out[k, :, pos:pos+n]`` (``out`` None: count only).

    Returns ``(lengths, rates, channels)`` per stream, as decoded.
    """
    order = {s.index: i for i, s in enumerate(streams)}
    pos = [0] * len(streams)
    rates = [None] * len(streams)
    chans = [None] * len(streams)
    cap = out.shape[-1] if out is not None else None
    # Demux ends with an empty packet per stream, whose decode() flushes that decoder.
    for packet in container.demux(*streams):
        k = order[packet.stream.index]
        for frame in packet.decode():
            sr = int(frame.sample_rate)
            ch = _layout_channels(frame.layout)
            if rates[k] is None:
                rates[k], chans[k] = sr, ch
            elif sr != rates[k] or ch != chans[k]:
                raise AudioError(f"{path}: audio stream {k} changes format mid-stream "
                                 f"({rates[k]} Hz x {chans[k]} -> {sr} Hz x {ch}); cannot read it")
            n = int(frame.samples)
            if out is not None:
                if pos[k] + n > cap:
                    raise _Overflow
                if ch != out.shape[1]:
                    raise AudioError(f"{path}: audio stream {k} decodes to {ch} channel(s), its header says "
                                     f"{out.shape[1]}; cannot read it")
                out[k, :, pos[k]:pos[k] + n] = _frame_to_array(frame, path, k)
            pos[k] += n
    return pos, rates, chans


def _decode_range(container, path, streams, out, start):
    """Decode from the beginning, keep samples ``start .. start + out.shape[-1]`` of every stream in ``out``,
    and stop demuxing once every stream has passed them (the rest of the file is never decoded).

    Decoding from the beginning keeps the excerpt sample-exact (the decoder's state and the edit list are
    those of a whole decode).  Returns ``(lengths, rates, channels)``: the samples decoded per stream (the
    stream's whole length where it ends before the excerpt does).
    """
    order = {s.index: i for i, s in enumerate(streams)}
    n_streams, stop = len(streams), start + out.shape[-1]
    pos, rates, chans = [0] * n_streams, [None] * n_streams, [None] * n_streams
    for packet in container.demux(*streams):
        k = order[packet.stream.index]
        if pos[k] >= stop:
            if all(p >= stop for p in pos):
                break
            continue
        for frame in packet.decode():
            sr, ch, n = int(frame.sample_rate), _layout_channels(frame.layout), int(frame.samples)
            if rates[k] is None:
                rates[k], chans[k] = sr, ch
            elif sr != rates[k] or ch != chans[k]:
                raise AudioError(f"{path}: audio stream {k} changes format mid-stream "
                                 f"({rates[k]} Hz x {chans[k]} -> {sr} Hz x {ch}); cannot read it")
            if ch != out.shape[1]:
                raise AudioError(f"{path}: audio stream {k} decodes to {ch} channel(s), its header says "
                                 f"{out.shape[1]}; cannot read it")
            a, b = max(pos[k], start), min(pos[k] + n, stop)
            if a < b:
                out[k, :, a - start:b - start] = _frame_to_array(frame, path, k)[:, a - pos[k]:b - pos[k]]
            pos[k] += n
    return pos, rates, chans


def _probe_checked(path, dtype, streams):
    """``(dtype, path, info)`` of a stem file about to be decoded: the dtype checked, the header probed, the
    stream count (``streams``: their expected names, or None) and uniform streams checked."""
    dtype = float_dtype(dtype)
    path = Path(path)
    info = probe_stem_file(path)
    if info.n_streams == 0:
        raise AudioError(f"{path}: no audio stream; expected a stem file with one stream per source")
    if streams is not None:
        check_stream_count(path, info.n_streams, tuple(streams))
    info.check_uniform()
    return dtype, path, info


def read_stem_excerpt(path, offset, frames, *, dtype=np.float64, streams=None):
    """Samples ``offset .. offset + frames`` of every audio stream of a stem file, decoded with PyAV.

    Decodes from the beginning up to the end of the excerpt and no further (an AAC decoder cannot start
    sample-exactly elsewhere); only the excerpt is kept in memory.  Returns ``(audio, sample_rate,
    lengths)``: ``audio`` ``(nstreams, channels, frames)``, and the samples decoded per stream; a stream
    with fewer than ``offset + frames`` samples ends before the excerpt does (the caller reports it).
    """
    dtype, path, info = _probe_checked(path, dtype, streams)
    out = np.zeros((info.n_streams, info.channels[0], int(frames)), dtype=dtype)
    lengths, rates, chans = _decode_file(path, lambda c, st: _decode_range(c, path, st, out, int(offset)))
    if any(r is None for r in rates):
        raise AudioError(f"{path}: an audio stream decodes to nothing; {DAMAGED_HINT}")
    if len(set(rates)) > 1:
        raise AudioError(f"{path}: audio streams decode to different sample rates ({', '.join(map(str, rates))})")
    if min(lengths) >= offset + frames:
        for k in range(info.n_streams):
            bad = count_nonfinite(out[k])
            if bad:
                what = f" ({streams[k]})" if streams is not None else ""
                raise AudioError(f"{path}: audio stream {k}{what} has {bad} NaN/inf sample(s); audio must be finite")
    return out, checked_sample_rate(rates[0], path), lengths


def _compact(buf, rows, cap, length, block=BLOCK_FRAMES):
    """In ``buf`` (``rows`` rows of ``cap`` samples, flat), move the rows to ``length`` samples each,
    in place, a block at a time (destinations never lie after their sources)."""
    for r in range(1, rows):
        src, dst = r * cap, r * length
        for s in range(0, length, block):
            n = min(block, length - s)
            buf[dst + s:dst + s + n] = buf[src + s:src + s + n]


def _whole(path, out):
    """The ``decode`` of :func:`_decode_file` that decodes every stream whole into ``out`` (:func:`_decode`)."""
    return lambda container, streams: _decode(container, path, streams, out)


def _decode_file(path, decode):
    """Open ``path`` and return ``decode(container, audio_streams)`` (e.g. :func:`_decode`,
    :func:`_decode_range`); PyAV's errors become AudioError."""
    import av

    try:
        container = av.open(str(path))
    except Exception as exc:
        raise AudioError(f"{path}: cannot read stem file ({_short(exc)}); {DAMAGED_HINT}") from None
    try:
        with container:
            return decode(container, list(container.streams.audio))
    except (AudioError, _Overflow):
        raise
    except Exception as exc:
        raise AudioError(f"{path}: cannot decode stem file ({_short(exc)}); {DAMAGED_HINT}") from None


def read_stem_file(path, *, dtype=np.float64, streams=None):
    """Decode every audio stream of a stem file (MUSDB18 ``.stem.mp4``) with PyAV.

    Each stream is decoded as ffmpeg decodes it (same libavformat demuxer and
    libavcodec decoder): an MP4 edit list, where the file has one, is honoured
    (the decoder drops the encoder priming it marks), and no trim of our own
    is added.  Nothing is resampled or remixed.  The frames are written
    straight into one array, preallocated from the header's bound on the
    length (packets x frame size), so that decoding costs one frame per stream
    beyond the result; where a header gives no bound (or a wrong one) the file
    is decoded twice, first to measure it.

    Parameters
    ----------
    path : str or Path
        The stem file.  MUSDB18's stream order is mixture, drums, bass, other,
        vocals (:data:`mssoracle.constants.MUSDB_STEM_STREAMS`).
    dtype : numpy dtype
        float32 or float64.  AAC decodes to float32, so both hold the
        decoder's samples exactly.
    streams : sequence of str, optional
        Names of the streams expected, in order (e.g. ``MUSDB_STEM_STREAMS``):
        a file with another number of streams is rejected before decoding.

    Returns
    -------
    audio : np.ndarray, shape ``(nstreams, channels, time)``, C-contiguous
        Sample-aligned streams of equal length.
    sample_rate : int

    Raises
    ------
    AudioError
        Unreadable file, no audio stream, another stream count than
        ``streams``, streams that differ in sample rate, channel count or
        length, NaN/inf samples.
    ParameterError
        A ``dtype`` other than float32/float64.
    """
    streams = None if streams is None else tuple(streams)
    dtype, path, info = _probe_checked(path, dtype, streams)
    nstreams, channels, cap = info.n_streams, info.channels[0], info.capacity
    buf = None
    if cap is not None:
        buf = np.empty(nstreams * channels * cap, dtype=dtype)
        try:
            lengths, rates, chans = _decode_file(path, _whole(path, buf.reshape(nstreams, channels, cap)))
        except _Overflow:
            buf = None
    if buf is None:  # no usable bound in the header: measure, then decode into an array of that size
        lengths, rates, chans = _decode_file(path, _whole(path, None))
        _check_decoded(path, lengths, rates, chans)
        cap = lengths[0]
        buf = np.empty(nstreams * channels * cap, dtype=dtype)
        lengths, rates, chans = _decode_file(path, _whole(path, buf.reshape(nstreams, channels, cap)))

    _check_decoded(path, lengths, rates, chans)
    length = lengths[0]
    if length < cap:  # an edit list trimmed the priming: close the gaps, give back the tail
        _compact(buf, nstreams * channels, cap, length)
        buf.resize(nstreams * channels * length, refcheck=False)  # no view of buf exists here
    audio = buf.reshape(nstreams, channels, length)
    for k in range(nstreams):
        bad = count_nonfinite(audio[k])
        if bad:
            what = f" ({streams[k]})" if streams is not None else ""
            raise AudioError(f"{path}: audio stream {k}{what} has {bad} NaN/inf sample(s); audio must be finite")
    return audio, checked_sample_rate(rates[0], path)


def _check_decoded(path, lengths, rates, chans):
    empty = [k for k, n in enumerate(lengths) if n == 0]
    if empty:
        raise AudioError(f"{path}: audio stream(s) {empty} decode to no samples")
    if len(set(rates)) > 1:
        desc = ", ".join(f"stream {k}: {r} Hz" for k, r in enumerate(rates))
        raise AudioError(f"{path}: audio streams have different sample rates ({desc}); "
                         "all streams of a stem file must share one sample rate (nothing is resampled)")
    if len(set(chans)) > 1:
        desc = ", ".join(f"stream {k}: {c}" for k, c in enumerate(chans))
        raise AudioError(f"{path}: audio streams have different channel counts ({desc})")
    if len(set(lengths)) > 1:
        desc = ", ".join(f"stream {k}: {n}" for k, n in enumerate(lengths))
        raise AudioError(f"{path}: audio streams decode to different lengths ({desc} samples); "
                         "the streams of a stem file must be sample-aligned")


def _short(exc):
    """The last line of an error, without PyAV's ``[Errno N]`` prefix and trailing ``: '<file>'``."""
    import re

    msg = str(exc).strip().splitlines()
    if not msg:
        return type(exc).__name__
    line = re.sub(r"^\[Errno -?\d+\]\s*", "", msg[-1])
    line = re.sub(r":\s*'[^']*'$", "", line)
    return line or type(exc).__name__
