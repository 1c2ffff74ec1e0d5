"""Datasets of stems: MUSDB18-HQ folders, MUSDB18 stem files, folders of stems.

Layouts (detected from the root, see :func:`open_dataset`):

``musdb18hq``
    ``<root>/{train,test}/<track>/{mixture,drums,bass,other,vocals}.wav``
``musdb18``
    ``<root>/{train,test}/<track>.stem.mp4``: MP4 files with five AAC streams
    in the order mixture, drums, bass, other, vocals, decoded with PyAV
    (:mod:`mssoracle.stemfile`; no ffmpeg binary needed).  A folder of
    ``.stem.mp4`` files without ``train``/``test`` and a single ``.stem.mp4``
    file are accepted too.
``folder``
    ``<root>/<track>/{mixture,<stem>...}.wav``: any set of stems, the same
    for every track; the targets are the stem names.  A single track folder
    is accepted too.
``default-sample``
    No root and no ``MUSDB_PATH``: the MUSDB18 preview of *The Easton
    Ellises - Falcon 69* that ships inside the ``stempeg`` wheel.

A :class:`Dataset` is a sequence of lazy :class:`Track` objects: nothing is
decoded until :meth:`Track.load`, so that one track at a time is in memory.
Which tracks are selected (subsets, the validation split, random draws, names)
is :mod:`mssoracle.selection`'s business.

:meth:`Track.load` decodes the mixture and the stems into ONE array
``signals`` of shape ``(1 + nstems, channels, time)`` (mixture first), in
float32 by default; :class:`TrackAudio`'s ``mixture``, ``stems`` and
``stem_stack`` are views of it.  Signals are ``(channels, time)``, as
everywhere in mssoracle.
"""

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple, Optional

import numpy as np

from .audio import BLOCK_FRAMES, audio_info, checked_sample_rate, count_nonfinite, float_dtype, read_audio_into
from .constants import ACCOMPANIMENT, MUSDB_STEM_STREAMS, MUSDB_STEMS
from .errors import AudioError, DatasetError, ParameterError
from .selection import (MUSDB_VALIDATION_TRACKS, SUBSETS, check_selection, check_split, check_subset,
                        draw_tracks, in_split, select_by_name)
from .stemfile import (DATASET_HINT, DEFAULT_SAMPLE_NAME, STEM_SUFFIX, check_stream_count, default_sample_path,
                       probe_stem_file, read_stem_excerpt, read_stem_file)

__all__ = [
    "Track",
    "TrackAudio",
    "TrackHeader",
    "Dataset",
    "open_dataset",
    "resolve_root",
    "reference_targets",
    "accompaniment_parts",
    # re-exported from mssoracle.stemfile / mssoracle.selection / mssoracle.constants
    "read_stem_file",
    "default_sample_path",
    "DEFAULT_SAMPLE_NAME",
    "MUSDB_VALIDATION_TRACKS",
    "MUSDB_STEMS",
    "MUSDB_STEM_STREAMS",
]

_AUDIO_SUFFIXES = (".wav", ".flac")
#: algorithm version of the decoding (WAV/FLAC/stem files -> samples): bump it when decoded numbers change
LOADER_VERSION = 1


# --------------------------------------------------------------------------------------------
# Root resolution
# --------------------------------------------------------------------------------------------

def resolve_root(root=None):
    """Return the dataset root: ``root``, else ``$MUSDB_PATH``, else None.

    Parameters
    ----------
    root : str or Path, optional
        Explicit root (``--root``).  An empty string counts as not given.

    Returns
    -------
    Path or None
        None means "use the embedded default sample" (:func:`default_sample_path`).
    """
    if root is not None and str(root) != "":
        return Path(root).expanduser()
    env = os.environ.get("MUSDB_PATH", "")
    if env.strip():
        return Path(env).expanduser()
    return None


# --------------------------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------------------------

def accompaniment_parts(stem_names):
    """The stems whose sum is ``accompaniment`` for a track with these stems, in stem order; () if none.

    ``accompaniment`` is every stem but vocals (for MUSDB18: drums, bass and
    other, the set of :data:`mssoracle.constants.DERIVED_TARGETS`
    ``["accompaniment"]``); it exists when there is a ``vocals`` stem and at
    least one other stem, and no stem of that name.
    """
    names = tuple(stem_names)
    if "vocals" not in names or ACCOMPANIMENT in names or len(names) < 2:
        return ()
    return tuple(n for n in names if n != "vocals")


def reference_targets(stem_names):
    """Targets a track with these stems offers: the stems, plus ``accompaniment``
    where :func:`accompaniment_parts` defines it."""
    names = tuple(stem_names)
    return names + ((ACCOMPANIMENT,) if accompaniment_parts(names) else ())


# --------------------------------------------------------------------------------------------
# Decoded audio
# --------------------------------------------------------------------------------------------

class TrackAudio:
    """The decoded audio of one track: one array, and views of it.

    Parameters
    ----------
    name : str
    subset : str or None
    sample_rate : int
    signals : np.ndarray, shape ``(1 + nstems, channels, time)``
        The mixture, then the stems in ``stem_names`` order.
    stem_names : sequence of str

    Attributes
    ----------
    name : str
    subset : str or None
        ``"train"``/``"test"`` for MUSDB18 tracks, None otherwise.
    sample_rate : int
    signals : np.ndarray, shape ``(1 + nstems, channels, time)``, C-contiguous
        Everything :meth:`Track.load` decoded, float32 or float64.
    stem_names : tuple of str
        In the track's order (:data:`mssoracle.constants.MUSDB_STEMS` for MUSDB18).
    mixture : np.ndarray, shape ``(channels, time)``
        ``signals[0]`` (a view).
    stems : mapping of str to np.ndarray, each ``(channels, time)``
        Read-only mapping, name -> ``signals[1 + i]`` (views), in stem order.
    stem_stack : np.ndarray, shape ``(nstems, channels, time)``
        ``signals[1:]`` (a view): the stack of sources the oracles take.
    """

    __slots__ = ("name", "subset", "sample_rate", "signals", "stem_names", "_stems")

    def __init__(self, name, subset, sample_rate, signals, stem_names):
        signals = np.asarray(signals)
        stem_names = tuple(stem_names)
        if signals.ndim != 3 or signals.shape[0] != 1 + len(stem_names):
            raise ValueError(f"signals must be (1 + {len(stem_names)}, channels, time), got {signals.shape}")
        self.name = str(name)
        self.subset = subset
        self.sample_rate = int(sample_rate)
        self.signals = signals
        self.stem_names = stem_names
        self._stems = MappingProxyType({n: signals[1 + i] for i, n in enumerate(stem_names)})

    @classmethod
    def from_arrays(cls, name, subset, sample_rate, mixture, stems):
        """Build from a ``(channels, time)`` mixture and a dict of stems (copied into one new array)."""
        stems = dict(stems)
        mixture = np.asarray(mixture)
        signals = np.empty((1 + len(stems),) + mixture.shape, dtype=np.result_type(mixture, *stems.values()))
        signals[0] = mixture
        for i, x in enumerate(stems.values()):
            signals[1 + i] = x
        return cls(name, subset, sample_rate, signals, tuple(stems))

    def __repr__(self):
        return (f"TrackAudio({self.name!r}, subset={self.subset!r}, sample_rate={self.sample_rate}, "
                f"signals={self.signals.shape} {self.signals.dtype})")

    @property
    def mixture(self):
        """``signals[0]``: the mixture, ``(channels, time)``."""
        return self.signals[0]

    @property
    def stems(self):
        """Read-only mapping name -> ``signals[1 + i]``, ``(channels, time)`` views, in stem order."""
        return self._stems

    @property
    def stem_stack(self):
        """``signals[1:]``: the stems as one ``(nstems, channels, time)`` view."""
        return self.signals[1:]

    @property
    def dtype(self):
        """The signals' dtype (float32 or float64)."""
        return self.signals.dtype

    @property
    def channels(self):
        """Number of channels."""
        return self.signals.shape[1]

    @property
    def length(self):
        """Number of samples."""
        return self.signals.shape[-1]

    @property
    def targets(self):
        """Names :meth:`references` offers (stems, then ``accompaniment`` where defined)."""
        return reference_targets(self.stem_names)

    @property
    def derived(self):
        """Derived targets as ``{name: parts}`` (``{"accompaniment": (drums, bass, other)}`` for
        MUSDB18; empty where not defined), for scorers that sum the parts themselves."""
        parts = accompaniment_parts(self.stem_names)
        return {ACCOMPANIMENT: parts} if parts else {}

    def references(self, targets=None):
        """Reference signals per target.

        The stems are returned as they are (views of :attr:`signals`, not
        copies); ``accompaniment`` is **materialised**: a new ``(channels,
        time)`` array, the sum of :func:`accompaniment_parts`.  Code that
        cares about memory asks for the stems only and derives accompaniment
        from them (as the experiment runner's scorer does).

        Parameters
        ----------
        targets : sequence of str or str, optional
            Names to return, in this order (a string may list several,
            comma-separated).  Default: every stem, then ``accompaniment``
            where defined (see :func:`reference_targets`).

        Returns
        -------
        dict of str to np.ndarray, each ``(channels, time)``

        Raises
        ------
        DatasetError
            An unknown target; the message lists the valid ones.
        """
        valid = self.targets
        if targets is None:
            wanted = valid
        else:
            if isinstance(targets, str):
                targets = [t for t in (s.strip() for s in targets.split(",")) if t]
            wanted = tuple(dict.fromkeys(targets))
            bad = [t for t in wanted if t not in valid]
            if bad:
                raise DatasetError(f"track {self.name!r}: unknown target(s) {', '.join(map(repr, bad))}; "
                                   f"valid targets: {', '.join(valid)}")
        out = {}
        for t in wanted:
            if t in self._stems:
                out[t] = self._stems[t]
            else:  # accompaniment
                parts = [self._stems[p] for p in accompaniment_parts(self.stem_names)]
                acc = parts[0].copy()
                for v in parts[1:]:
                    acc += v
                out[t] = acc
        return out


# --------------------------------------------------------------------------------------------
# Tracks
# --------------------------------------------------------------------------------------------

class TrackHeader(NamedTuple):
    """What a track's headers say (:meth:`Track.check`), nothing decoded.

    Attributes
    ----------
    path : Path
        The mixture file (a folder track's ``mixture.wav``, or the ``.stem.mp4`` file).
    sample_rate : int
    channels : int
    length : int or None
        Samples per channel; None for a stem file (known only once decoded).
    """

    path: Path
    sample_rate: int
    channels: int
    length: Optional[int]


class Track:
    """One track of a :class:`Dataset`; nothing is read until :meth:`load`.

    Attributes
    ----------
    name : str
    subset : str or None
        ``"train"``/``"test"`` for MUSDB18 tracks, None for a plain folder or
        the default sample.
    path : Path
        The track folder, or the ``.stem.mp4`` file.
    stem_names : tuple of str
        The stems (mixture excluded), in the order of the arrays.
    """

    def __init__(self, name, subset, path, stem_names, *, files=None):
        self.name = str(name)
        self.subset = subset
        self.path = Path(path)
        self.stem_names = tuple(stem_names)
        # for folder tracks: {"mixture": Path, stem: Path...}; None for a stem file
        self._files = dict(files) if files is not None else None

    def __repr__(self):
        return f"Track({self.name!r}, subset={self.subset!r}, path={str(self.path)!r})"

    @property
    def is_stem_file(self):
        """True for a ``.stem.mp4`` track, False for a folder of audio files."""
        return self._files is None

    @property
    def targets(self):
        """Target names of this track (stems, then ``accompaniment`` where defined)."""
        return reference_targets(self.stem_names)

    @property
    def derived(self):
        """Derived targets as ``{name: parts}`` (see :attr:`TrackAudio.derived`)."""
        parts = accompaniment_parts(self.stem_names)
        return {ACCOMPANIMENT: parts} if parts else {}

    @property
    def files(self):
        """Dict ``{"mixture": Path, <stem>: Path, ...}`` of a folder track; for a stem file,
        ``{"mixture": path}``."""
        return dict(self._files) if self._files is not None else {"mixture": self.path}

    @property
    def sample_rate(self):
        """The track's sampling rate from the mixture's header (nothing decoded)."""
        if self._files is None:
            return checked_sample_rate(probe_stem_file(self.path).check_uniform().sample_rate, self.path)
        mix = self._files["mixture"]
        if not mix.is_file():
            raise DatasetError(_missing_stem_message(mix, self))
        return checked_sample_rate(audio_info(mix)[0], mix)

    def check(self):
        """Check the files' headers without decoding; return what they say.

        Folder tracks: every file exists and is readable, and each stem has the
        mixture's sample rate, channel count and length.  Stem files: the file
        is complete (its MP4 boxes fit in it, so a file cut short is caught
        here), has one audio stream per source, and its streams share one
        sample rate and channel count.  What only decoding can show (damaged
        audio data, NaN/inf samples) is left to :meth:`load`.

        Returns
        -------
        TrackHeader
            ``(path, sample_rate, channels, length)`` of the mixture; ``length``
            is None for a stem file (its exact decoded length is known only
            after decoding).

        Raises
        ------
        DatasetError, AudioError
            With one line naming the file and the problem.
        """
        if self._files is None:
            if not self.path.is_file():
                raise DatasetError(f"{self.path}: no such file")
            info = probe_stem_file(self.path)
            check_stream_count(self.path, info.n_streams, ("mixture",) + self.stem_names)
            info.check_uniform()
            sr = checked_sample_rate(info.sample_rate, self.path) if info.sample_rate else 0
            return TrackHeader(self.path, sr, info.channels[0], None)
        sr, channels, length = self._check_folder()
        return TrackHeader(self._files["mixture"], sr, channels, length)

    def _check_folder(self):
        """Header checks of a folder track; returns the mixture's ``(sample_rate, channels, length)``."""
        for f in self._files.values():
            if not f.is_file():
                raise DatasetError(_missing_stem_message(f, self))
        mix = self._files["mixture"]
        msr, mch, mlen = audio_info(mix)
        checked_sample_rate(msr, mix)
        if mlen == 0:
            raise AudioError(f"{mix}: no samples; the mixture of a track must not be empty")
        for stem in self.stem_names:
            f = self._files[stem]
            _compare_with_mixture(f, audio_info(f), mix, (msr, mch, mlen))
        return msr, mch, mlen

    def header_length(self):
        """``(samples, exact)`` from the headers, nothing decoded: a folder track's length (exact), or a stem
        file's upper bound on its decoded length (``exact`` False; None when the header gives none)."""
        if self._files is None:
            self.check()
            return probe_stem_file(self.path).capacity, False
        return self.check().length, True

    def load(self, *, dtype=np.float32, offset=0, frames=None):
        """Decode the mixture and the stems into one array.

        The mixture and the stems are decoded straight into one preallocated
        C-contiguous array ``signals`` of shape ``(1 + nstems, channels,
        time)``: WAV/FLAC files are read block by block into their row, and
        the frames of a stem file are written into theirs as they are
        decoded, so that loading costs one block beyond the result.

        Parameters
        ----------
        dtype : numpy dtype
            float32 (default) or float64.  float32 loses nothing for MUSDB18:
            AAC decodes to float32 and 16-bit (and 24-bit) PCM is exact in
            float32.  Files stored as float64 (rare) are rounded to float32
            unless ``dtype=np.float64``.
        offset, frames : int
            An excerpt: samples ``offset .. offset + frames`` (``frames`` None: to the end), as musdb's
            ``chunk_start``/``chunk_duration`` give it with ``offset = int(start * rate)`` and
            ``frames = int(duration * rate)`` (:func:`excerpt_samples`).  WAV/FLAC files are read from
            ``offset`` on (a seek: nothing before it is read); a stem file is decoded from its beginning up
            to the excerpt's end and no further (:func:`mssoracle.stemfile.read_stem_excerpt`; sample-exact,
            only the excerpt kept), or whole when ``frames`` is None.  An excerpt that does not lie inside
            the track is a :class:`ParameterError`.

        Returns
        -------
        TrackAudio
            ``signals`` and its views ``mixture``, ``stems``, ``stem_stack``.

        Raises
        ------
        AudioError, DatasetError
            A missing or unreadable file, a stem whose sample rate, channel
            count or length differs from the mixture's, NaN/inf samples.
        ParameterError
            A ``dtype`` other than float32/float64.
        """
        dtype = float_dtype(dtype)
        if self._files is None:
            if not self.path.is_file():
                raise DatasetError(f"{self.path}: no such file")
            names = ("mixture",) + self.stem_names
            if frames is not None:  # decoded up to the excerpt's end, no further
                if offset < 0 or frames <= 0:
                    check_excerpt(offset, frames, max(offset, 0) + 1, self, self.sample_rate)
                signals, sr, lengths = read_stem_excerpt(self.path, offset, frames, dtype=dtype, streams=names)
                if min(lengths) < offset + frames:  # the track ends before the excerpt does
                    check_excerpt(offset, frames, min(lengths), self, sr)
                return TrackAudio(self.name, self.subset, sr, signals, self.stem_names)
            signals, sr = read_stem_file(self.path, dtype=dtype, streams=names)
            if offset:
                a, b = check_excerpt(offset, frames, signals.shape[-1], self, sr)
                signals = np.ascontiguousarray(signals[..., a:b])
            return TrackAudio(self.name, self.subset, sr, signals, self.stem_names)

        sr, channels, length = self._check_folder()  # headers, before anything is allocated
        a, b = check_excerpt(offset, frames, length, self, sr) if (offset or frames is not None) else (0, length)
        signals = np.empty((1 + len(self.stem_names), channels, b - a), dtype=dtype)
        for k, key in enumerate(("mixture",) + self.stem_names):
            if (a, b) == (0, length):
                read_audio_into(self._files[key], signals[k])
            else:
                _read_excerpt_into(self._files[key], signals[k], a)
        return TrackAudio(self.name, self.subset, checked_sample_rate(sr, self._files["mixture"]), signals,
                          self.stem_names)


def excerpt_samples(start, duration, sample_rate):
    """``(offset, frames)`` of an excerpt given in seconds: ``int(start * rate)``, ``int(duration * rate)``
    (``frames`` None when ``duration`` is None: to the end of the track)."""
    start = 0.0 if start is None else float(start)
    offset = int(start * int(sample_rate))
    return offset, (None if duration is None else int(float(duration) * int(sample_rate)))


def excerpt_range_text(length, sample_rate):
    """``"0 <= start < 12.34 s"``-like text of the valid range of a track of ``length`` samples."""
    return f"{length / sample_rate:.6g} s ({length} samples at {sample_rate} Hz)"


def check_excerpt(offset, frames, length, track, sample_rate, *, start=None, duration=None, exact=True):
    """``(a, b)``: the checked sample range of an excerpt of a track of ``length`` samples.

    Raises :class:`ParameterError` (one line naming the value, the track and the valid range) when the excerpt
    does not lie inside the track; ``start``/``duration`` are the seconds given (for the message).  With
    ``exact=False`` ``length`` is an upper bound (a stem file's header) and only what surely lies outside
    is refused.
    """
    name = getattr(track, "name", track)
    total = excerpt_range_text(length, sample_rate)
    s_text = f"{start:g}" if start is not None else f"{offset / sample_rate:g}"
    if offset < 0 or offset >= length:
        at_most = "" if exact else " at most"
        raise ParameterError(f"--start {s_text}: outside track {name!r}, which lasts {total}{at_most}; "
                             f"valid: 0 <= start < {length / sample_rate:.6g}")
    if frames is None:
        return offset, length
    d_text = f"{duration:g}" if duration is not None else f"{frames / sample_rate:g}"
    if frames <= 0 or offset + frames > length:
        raise ParameterError(f"--duration {d_text}: the excerpt from {s_text} s ends outside track {name!r}, which "
                             f"lasts {total}{'' if exact else ' at most'}; valid: 0 < duration <= "
                             f"{(length - offset) / sample_rate:.6g} from start {s_text}")
    return offset, offset + frames


def _read_excerpt_into(path, out, offset, *, block=BLOCK_FRAMES):
    """Read ``out.shape[1]`` frames of an audio file from frame ``offset`` on (a seek) into ``out``, checked finite."""
    import soundfile as sf

    channels, length = out.shape
    try:
        f = sf.SoundFile(str(path))
    except Exception as exc:
        raise AudioError(f"{path}: cannot read audio file ({exc})") from None
    dtype = out.dtype
    with f:
        if f.channels != channels or f.frames < offset + length:
            raise AudioError(f"{path}: {f.channels} channel(s) x {f.frames} samples, expected {channels} channel(s) "
                             f"and at least {offset + length} samples")
        f.seek(offset)
        buf = np.empty((min(block, max(length, 1)), channels), dtype=dtype)
        pos, bad = 0, 0
        while pos < length:
            n = f.read(frames=min(block, length - pos), dtype=dtype.name, always_2d=True,
                       out=buf[:min(block, length - pos)]).shape[0]
            if n == 0:
                break
            bad += count_nonfinite(buf[:n].T)
            out[:, pos:pos + n] = buf[:n].T
            pos += n
    if pos != length:
        raise AudioError(f"{path}: only {pos} of the {length} samples from {offset} could be read; "
                         "the file is truncated")
    if bad:
        raise AudioError(f"{path}: {bad} NaN/inf sample(s); audio must be finite")


def _compare_with_mixture(path, info, mix_path, mix_info):
    sr, ch, n = info
    msr, mch, mn = mix_info
    mname = Path(mix_path).name
    if sr != msr:
        raise AudioError(f"{path}: {sr} Hz but {mname} is {msr} Hz; "
                         "all stems of a track must share the mixture's sample rate")
    if ch != mch:
        raise AudioError(f"{path}: {ch} channel(s) but {mname} has {mch}; "
                         "all stems of a track must have the mixture's channel count")
    if n != mn:
        raise AudioError(f"{path}: {n} samples but {mname} has {mn}; "
                         "all stems of a track must be sample-aligned with the mixture (same length)")


def _missing_stem_message(f, track):
    need = ", ".join(Path(p).name for p in track.files.values())
    return f"{f}: missing stem file; track folder {track.path} needs {need}"


# --------------------------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------------------------

_KIND_LABEL = {
    "musdb18hq": "MUSDB18-HQ",
    "musdb18": "MUSDB18 (stem files)",
    "folder": "stem folders",
    "default-sample": "default sample",
}


class Dataset(Sequence):
    """A sequence of lazy :class:`Track` objects, as selected by :func:`open_dataset`.

    Attributes
    ----------
    root : Path or None
        The root given (None for the default sample).
    kind : str
        ``"musdb18hq"``, ``"musdb18"``, ``"folder"`` or ``"default-sample"``.
    subset : str or None
        ``"train"``/``"test"``, None for both or for layouts without subsets.
    split : str or None
        ``"train"``/``"valid"`` when a MUSDB18 split was asked for.
    tracks : list of Track
    """

    def __init__(self, tracks, *, root, kind, subset=None, split=None):
        self.tracks = list(tracks)
        self.root = Path(root) if root is not None else None
        self.kind = kind
        self.subset = subset
        self.split = split

    def __len__(self):
        return len(self.tracks)

    def __getitem__(self, i):
        if isinstance(i, str):
            for t in self.tracks:
                if t.name == i:
                    return t
            raise KeyError(i)
        return self.tracks[i]

    def __repr__(self):
        return (f"Dataset(kind={self.kind!r}, root={str(self.root) if self.root else None!r}, "
                f"subset={self.subset!r}, split={self.split!r}, {len(self)} track(s))")

    @property
    def names(self):
        """Track names, in order."""
        return [t.name for t in self.tracks]

    @property
    def stem_names(self):
        """Stem names shared by every track."""
        return self.tracks[0].stem_names if self.tracks else ()

    @property
    def targets(self):
        """Target names (stems, then ``accompaniment`` where defined)."""
        return reference_targets(self.stem_names)

    def describe(self):
        """One line for logs, e.g. ``MUSDB18-HQ at /data/musdb (test): 50 tracks``."""
        where = f" at {self.root}" if self.root is not None else ""
        if self.kind == "default-sample" and self.tracks:
            where = f" ({self.tracks[0].path})"
        sel = ", ".join(x for x in (self.subset, f"split {self.split}" if self.split else None) if x)
        sel = f" ({sel})" if sel else ""
        return f"{_KIND_LABEL.get(self.kind, self.kind)}{where}{sel}: {len(self)} track(s)"


def open_dataset(root=None, *, subset="test", split=None, n_tracks=None, seed=0, track_names=None,
                 check=True, quiet=False):
    """Open a dataset of stems and select tracks.

    Parameters
    ----------
    root : str or Path, optional
        Dataset root (see the layouts in :mod:`mssoracle.datasets`); a single
        ``.stem.mp4`` file or a single track folder works too.  Default:
        ``$MUSDB_PATH``, else the MUSDB18 preview shipped in the stempeg wheel
        (announced with one line on stderr unless ``quiet``).
    subset : {"train", "test", None, "all"}
        MUSDB18 subset; None or ``"all"`` for both.  Ignored by layouts
        without subsets (stem folders, single files, the default sample).
    split : {None, "train", "valid"}
        The official MUSDB18 validation split of the train subset: ``"valid"``
        gives its 14 tracks (:data:`MUSDB_VALIDATION_TRACKS`), ``"train"`` the
        other train tracks.  Implies the train subset; an error with
        ``subset="test"``; MUSDB18 layouts only.
    n_tracks : int, optional
        Draw this many tracks at random, reproducibly:
        ``numpy.random.default_rng(seed).choice(sorted_names, n_tracks, replace=False)``
        over the names of the tracks left after ``subset``/``split``, sorted
        (:func:`mssoracle.selection.draw_tracks`).  The drawn tracks are
        returned in sorted (dataset) order.
    seed : int
        Seed of that draw (a non-negative integer).
    track_names : sequence of str, optional
        Select these tracks, in this order.  Unknown names raise
        :class:`DatasetError` with the closest matches.  Not combinable with
        ``n_tracks``.
    check : bool
        Check the selected tracks' file headers now (missing stem, other
        sample rate, channel count or length for WAVs; stream count and rates
        for stem files), so that a bad track fails before any work is done.
        :meth:`Track.load` checks everything again, samples included.
    quiet : bool
        Do not announce the default sample on stderr.

    Returns
    -------
    Dataset
        Tracks sorted by name (then subset), unless ``track_names`` gives an order.

    Raises
    ------
    DatasetError
        Missing, empty or unrecognised root, missing subset folder, missing
        stem, inconsistent stem sets, no track selected, unknown track.
    ParameterError
        Invalid ``subset``, ``split``, ``n_tracks``, ``seed`` or their combination.
    """
    subset = check_subset(subset)
    split = check_split(split, subset)
    n_tracks, seed, track_names = check_selection(n_tracks, seed, track_names)

    rroot = resolve_root(root)
    if rroot is None:
        path = default_sample_path()
        if split is not None:
            raise ParameterError("--split applies to MUSDB18 datasets; the default sample is a single track: "
                                 "give --root (or MUSDB_PATH)")
        if not quiet:
            print(f"mssoracle: no --root and no MUSDB_PATH: using the 6-second MUSDB18 preview shipped in the "
                  f"stempeg wheel ({path})", file=sys.stderr)
        tracks = [Track(DEFAULT_SAMPLE_NAME, None, path, MUSDB_STEMS)]
        kind, ds_subset, others = "default-sample", None, {}
    else:
        kind, tracks, ds_subset, others = _scan(rroot, subset, split)

    tracks.sort(key=lambda t: (t.name, t.subset or ""))
    if not tracks:
        if split is not None:
            n_train = sum(1 for why in others.values() if "split" in why)
            what = (f"the official {len(MUSDB_VALIDATION_TRACKS)} validation tracks, e.g. "
                    f"{MUSDB_VALIDATION_TRACKS[0]!r}" if split == "valid" else
                    f"the train tracks outside the {len(MUSDB_VALIDATION_TRACKS)} validation tracks")
            raise DatasetError(f"{rroot / 'train'}: none of its {n_train} track(s) is in the MUSDB18 {split!r} "
                               f"split ({what}); drop --split, or use the full MUSDB18 train set")
        raise DatasetError(f"{rroot}: no tracks; {DATASET_HINT}")

    where = rroot if rroot is not None else tracks[0].path
    if track_names is not None:
        tracks = select_by_name(tracks, track_names, where, others)
    elif n_tracks is not None:
        tracks = draw_tracks(tracks, n_tracks, seed, where)

    if kind == "folder":
        _check_same_stems(tracks)
    if check:
        for t in tracks:
            t.check()
    return Dataset(tracks, root=rroot, kind=kind, subset=ds_subset, split=split)


# --------------------------------------------------------------------------------------------
# Layout detection
# --------------------------------------------------------------------------------------------

def _visible(p):
    return not p.name.startswith(".")


def _scan(root, subset, split):
    """Detect the layout under ``root``; return ``(kind, tracks, dataset_subset, other_subset_tracks)``."""
    if not root.exists():
        raise DatasetError(f"{root}: no such file or directory; {DATASET_HINT}")
    if root.is_file():
        if not root.name.endswith(STEM_SUFFIX):
            raise DatasetError(f"{root}: not a dataset folder nor a .stem.mp4 file; {DATASET_HINT}")
        if split is not None:
            raise ParameterError("--split selects among MUSDB18 train tracks; it does not apply to a single file")
        sub = root.parent.name if root.parent.name in SUBSETS else None
        return "musdb18", [Track(root.name[:-len(STEM_SUFFIX)], sub, root, MUSDB_STEMS)], sub, {}
    try:
        entries = sorted(p for p in root.iterdir() if _visible(p))
    except OSError as exc:
        raise DatasetError(f"{root}: cannot list folder ({exc.strerror or exc})") from None
    if not entries:
        raise DatasetError(f"{root}: empty folder; {DATASET_HINT}")

    subdirs = [p for p in entries if p.is_dir() and p.name in SUBSETS]
    if subdirs:
        return _scan_musdb(root, subset, split, {p.name for p in subdirs})

    if split is not None:
        raise ParameterError(f"--split selects among MUSDB18 train tracks; {root} has no train/ folder")
    sub = root.name if root.name in SUBSETS else None
    if _find_audio(root, "mixture") is not None:  # a single track folder
        return "folder", [_folder_track(root, root.name, sub)], sub, {}
    stem_files = [p for p in entries if p.is_file() and p.name.endswith(STEM_SUFFIX)]
    track_dirs = [p for p in entries if p.is_dir()]
    with_mix = [p for p in track_dirs if _find_audio(p, "mixture") is not None]
    if stem_files and with_mix:
        raise DatasetError(f"{root}: holds both .stem.mp4 files and track folders; keep one layout per root")
    if stem_files:
        return "musdb18", [Track(p.name[:-len(STEM_SUFFIX)], sub, p, MUSDB_STEMS) for p in stem_files], sub, {}
    if with_mix:
        for p in track_dirs:
            if p not in with_mix:
                raise DatasetError(f"{p / 'mixture.wav'}: missing; every track folder of a stem-folder dataset "
                                   "needs mixture.wav and one WAV per stem")
        return "folder", [_folder_track(p, p.name, sub) for p in with_mix], sub, {}
    raise DatasetError(f"{root}: no MUSDB18-HQ (train/, test/), MUSDB18 (.stem.mp4) or stem-folder layout "
                       f"found; {DATASET_HINT}")


def _find_audio(folder, stem):
    found = [folder / (stem + s) for s in _AUDIO_SUFFIXES if (folder / (stem + s)).is_file()]
    if len(found) > 1:
        raise DatasetError(f"{folder}: both {found[0].name} and {found[1].name}; keep one file per stem")
    return found[0] if found else None


def _folder_track(folder, name, subset):
    """A track from a folder of audio files: the mixture and whatever stems are there."""
    try:
        files = sorted(p for p in folder.iterdir()
                       if p.is_file() and _visible(p) and p.suffix in _AUDIO_SUFFIXES)
    except OSError as exc:
        raise DatasetError(f"{folder}: cannot list folder ({exc.strerror or exc})") from None
    stems = sorted({p.name[:-len(p.suffix)] for p in files} - {"mixture"})
    if not stems:
        raise DatasetError(f"{folder}: mixture but no stem files; a track folder needs mixture.wav and one "
                           "WAV per stem")
    if set(stems) == set(MUSDB_STEMS):
        stems = list(MUSDB_STEMS)
    mapping = {"mixture": _find_audio(folder, "mixture")}
    for s in stems:
        mapping[s] = _find_audio(folder, s)
    return Track(name, subset, folder, stems, files=mapping)


def _list_subset(folder, sub):
    """``(kind, [(name, path)])`` of one MUSDB subset folder, nothing checked beyond the layout."""
    try:
        entries = sorted(p for p in folder.iterdir() if _visible(p))
    except OSError as exc:
        raise DatasetError(f"{folder}: cannot list folder ({exc.strerror or exc})") from None
    dirs = [p for p in entries if p.is_dir()]
    stems = [p for p in entries if p.is_file() and p.name.endswith(STEM_SUFFIX)]
    if dirs and stems:
        raise DatasetError(f"{folder}: holds both .stem.mp4 files and track folders; keep one layout per root")
    if stems:
        return "musdb18", [(p.name[:-len(STEM_SUFFIX)], p) for p in stems]
    if dirs:
        return "musdb18hq", [(p.name, p) for p in dirs]
    return None, []


def _scan_musdb(root, subset, split, present):
    wanted = [subset] if subset else [s for s in SUBSETS if s in present]
    if split is not None:
        wanted = ["train"]
    for s in wanted:
        if s not in present:
            have = ", ".join(sorted(p + "/" for p in present))
            raise DatasetError(f"{root / s}: no such folder; this MUSDB18 root has only {have}: "
                               f"choose that subset (--subset {sorted(present)[0]})")
    kinds = set()
    listing = {}
    for s in SUBSETS:
        if s in present:
            k, items = _list_subset(root / s, s)
            listing[s] = items
            if k is not None and (s in wanted):
                kinds.add(k)
    if len(kinds) > 1:
        raise DatasetError(f"{root}: train/ and test/ use different layouts (stem files and track folders); "
                           "keep one layout per root")
    if not kinds:
        where = root / wanted[0] if len(wanted) == 1 else root
        raise DatasetError(f"{where}: no tracks (no track folders, no .stem.mp4 files); {DATASET_HINT}")
    kind = kinds.pop()

    def make(s, name, p):
        if kind == "musdb18":
            return Track(name, s, p, MUSDB_STEMS)
        files = {"mixture": p / "mixture.wav"}
        files.update({t: p / (t + ".wav") for t in MUSDB_STEMS})
        return Track(name, s, p, MUSDB_STEMS, files=files)  # files checked by check()/load()

    tracks, others = [], {}
    for s, items in listing.items():
        for name, p in items:
            if s in wanted and in_split(name, split):
                tracks.append(make(s, name, p))
            else:
                why = f"in the {s} subset" if s not in wanted else \
                    f"in the {'valid' if in_split(name, 'valid') else 'train'} split"
                others.setdefault(name, why)
    return kind, tracks, (subset if split is None else "train"), others


def _check_same_stems(tracks):
    """Every track of a stem-folder dataset has the same stems; the odd one out is named by its file.

    The expected set is the one most tracks have (ties: the larger set), so that the message names
    the track that lacks a stem (``<track>/<stem>.wav: missing``), not a good track.
    """
    if len(tracks) < 2:
        return
    counts = {}
    for t in tracks:
        key = frozenset(t.stem_names)
        counts[key] = counts.get(key, 0) + 1
    expected = max(counts, key=lambda k: (counts[k], len(k)))
    model = next(t for t in tracks if frozenset(t.stem_names) == expected)
    for t in tracks:
        if frozenset(t.stem_names) == expected:
            continue
        lack = sorted(expected - set(t.stem_names))
        extra = sorted(set(t.stem_names) - expected)
        need = ", ".join(("mixture",) + tuple(model.stem_names))
        if lack:
            suffix = t.files["mixture"].suffix or ".wav"
            missing = ", ".join(str(t.path / f"{n}{suffix}") for n in lack)
            instead = f" (it has {', '.join(t.files[n].name for n in extra)} instead)" if extra else ""
            raise DatasetError(f"{missing}: missing stem file{'s' if len(lack) > 1 else ''}{instead}; every track "
                               f"folder must have the same stems ({need}, as {model.path})")
        files = ", ".join(str(t.files[n]) for n in extra)
        raise DatasetError(f"{files}: stem{'s' if len(extra) > 1 else ''} no other track has; every track folder "
                           f"must have the same stems ({need}, as {model.path}): remove or rename it")
