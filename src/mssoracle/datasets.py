"""Datasets of stems: MUSDB18-HQ folders, MUSDB18 stem files, folders of stems.

Layouts (detected from the root, see :func:`open_dataset`):

``musdb18hq``
    ``<root>/{train,test}/<track>/{mixture,drums,bass,other,vocals}.wav``
``musdb18``
    ``<root>/{train,test}/<track>.stem.mp4``: MP4 files with five AAC streams
    in the order mixture, drums, bass, other, vocals, decoded with PyAV
    (no ffmpeg binary needed).  A folder of ``.stem.mp4`` files without
    ``train``/``test`` and a single ``.stem.mp4`` file are accepted too.
``folder``
    ``<root>/<track>/{mixture,<stem>...}.wav``: any set of stems, the same
    for every track; the targets are the stem names.  A single track folder
    is accepted too.
``default-sample``
    No root and no ``MUSDB_PATH``: the MUSDB18 preview of *The Easton
    Ellises - Falcon 69* that ships inside the ``stempeg`` wheel.

A :class:`Dataset` is a sequence of lazy :class:`Track` objects: nothing is
decoded until :meth:`Track.load`, so that one track at a time is in memory.
Signals are ``(channels, time)`` arrays, as everywhere in mssoracle.
"""

import difflib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional, Tuple

import numpy as np

from .audio import audio_info, read_audio
from .errors import AudioError, DatasetError, ParameterError

__all__ = [
    "MUSDB_TARGETS",
    "MUSDB_STEM_STREAMS",
    "MUSDB_VALIDATION_TRACKS",
    "DEFAULT_SAMPLE_NAME",
    "Track",
    "TrackAudio",
    "Dataset",
    "open_dataset",
    "default_sample_path",
    "read_stem_file",
    "resolve_root",
    "reference_targets",
]

#: Stem order of mssoracle's arrays for MUSDB18 tracks.
MUSDB_TARGETS = ("drums", "bass", "other", "vocals")
#: Order of the audio streams in a MUSDB18 ``.stem.mp4`` file.
MUSDB_STEM_STREAMS = ("mixture",) + MUSDB_TARGETS
#: Name of the derived target (sum of every stem but vocals).
ACCOMPANIMENT = "accompaniment"

#: The official MUSDB18 validation split: 14 tracks of the ``train`` subset.
#: Source: sigsep-mus-db (``musdb`` 0.4.x), file ``musdb/configs/mus.yaml``,
#: key ``validation_tracks`` (https://github.com/sigsep/sigsep-mus-db).
MUSDB_VALIDATION_TRACKS = (
    "Actions - One Minute Smile",
    "Clara Berry And Wooldog - Waltz For My Victims",
    "Johnny Lokke - Promises & Lies",
    "Patrick Talbot - A Reason To Leave",
    "Triviul - Angelsaint",
    "Alexander Ross - Goodbye Bolero",
    "Fergessen - Nos Palpitants",
    "Leaf - Summerghost",
    "Skelpolu - Human Mistakes",
    "Young Griffo - Pennies",
    "ANiMAL - Rockshow",
    "James May - On The Line",
    "Meaxic - Take A Step",
    "Traffic Experiment - Sirens",
)

#: Track name of the preview shipped in the stempeg wheel.
DEFAULT_SAMPLE_NAME = "The Easton Ellises - Falcon 69"
_DEFAULT_SAMPLE_FILE = "stempeg/data/" + DEFAULT_SAMPLE_NAME + ".stem.mp4"

_SUBSETS = ("train", "test")
_SPLITS = ("train", "valid")
_STEM_SUFFIX = ".stem.mp4"
_AUDIO_SUFFIXES = (".wav", ".flac")
_WHAT_TO_DO = ("point --root (or MUSDB_PATH) to a MUSDB18-HQ folder (train/, test/ of track folders), "
               "a MUSDB18 folder of .stem.mp4 files, or a folder of track folders holding mixture.wav "
               "and one WAV per stem")


# --------------------------------------------------------------------------------------------
# Root resolution and the embedded default sample
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
            candidates.append(Path(loc) / "data" / (DEFAULT_SAMPLE_NAME + _STEM_SUFFIX))
    for c in candidates:
        if c.is_file():
            return c.resolve()
    if dist is None and spec is None:
        raise DatasetError("no dataset root given and stempeg is not installed, so the default "
                           "MUSDB18 preview is unavailable: pip install stempeg, or " + _WHAT_TO_DO)
    raise DatasetError(f"the stempeg installation lacks {_DEFAULT_SAMPLE_FILE}: reinstall stempeg "
                       "(pip install --force-reinstall stempeg), or " + _WHAT_TO_DO)


# --------------------------------------------------------------------------------------------
# Stem files (PyAV)
# --------------------------------------------------------------------------------------------

def _frame_to_array(frame, path, index):
    """One decoded audio frame as a ``(channels, samples)`` float array."""
    fmt = frame.format
    layout = frame.layout
    channels = getattr(layout, "nb_channels", None) or len(layout.channels)
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


def read_stem_file(path, *, dtype=np.float64):
    """Decode every audio stream of a stem file (MUSDB18 ``.stem.mp4``) with PyAV.

    Each stream is decoded as ffmpeg decodes it (same libavformat demuxer and
    libavcodec decoder): an MP4 edit list, where the file has one, is honoured
    (the decoder drops the encoder priming it marks), and no trim of our own
    is added.  Nothing is resampled or remixed.

    Parameters
    ----------
    path : str or Path
        The stem file.  MUSDB18's stream order is mixture, drums, bass, other,
        vocals (:data:`MUSDB_STEM_STREAMS`).
    dtype : numpy dtype
        float32 or float64.

    Returns
    -------
    audio : np.ndarray, shape ``(nstreams, channels, time)``
        Sample-aligned streams of equal length.
    sample_rate : int

    Raises
    ------
    AudioError
        Unreadable file, no audio stream, or streams that differ in sample
        rate, channel count or length.
    """
    import av

    dtype = _check_dtype(dtype)
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    try:
        container = av.open(str(path))
    except Exception as exc:
        raise AudioError(f"{path}: cannot read stem file ({_short(exc)})") from None
    try:
        streams = list(container.streams.audio)
        if not streams:
            raise AudioError(f"{path}: no audio stream; expected a stem file with one stream per source")
        chunks = {s.index: [] for s in streams}
        rates = {s.index: None for s in streams}
        chans = {s.index: None for s in streams}
        order = {s.index: i for i, s in enumerate(streams)}
        idxs = [s.index for s in streams]  # read while the container is open
        try:
            # One pass over the file; each packet goes to its own stream's decoder.  Demux ends
            # with an empty packet per stream, whose decode() flushes that decoder.
            for packet in container.demux(*streams):
                idx = packet.stream.index
                for frame in packet.decode():
                    a = _frame_to_array(frame, path, order[idx])
                    sr = int(frame.sample_rate)
                    if rates[idx] is None:
                        rates[idx], chans[idx] = sr, a.shape[0]
                    elif sr != rates[idx] or a.shape[0] != chans[idx]:
                        raise AudioError(f"{path}: audio stream {order[idx]} changes format mid-stream "
                                         f"({rates[idx]} Hz x {chans[idx]} -> {sr} Hz x {a.shape[0]}); "
                                         "cannot read it")
                    chunks[idx].append(a)
        except AudioError:
            raise
        except Exception as exc:
            raise AudioError(f"{path}: cannot decode stem file ({_short(exc)})") from None
    finally:
        container.close()

    empty = [order[i] for i in idxs if not chunks[i]]
    if empty:
        raise AudioError(f"{path}: audio stream(s) {empty} decode to no samples")
    if len(set(rates[i] for i in idxs)) > 1:
        desc = ", ".join(f"stream {order[i]}: {rates[i]} Hz" for i in idxs)
        raise AudioError(f"{path}: audio streams have different sample rates ({desc}); "
                         "all streams of a stem file must share one sample rate (nothing is resampled)")
    if len(set(chans[i] for i in idxs)) > 1:
        desc = ", ".join(f"stream {order[i]}: {chans[i]}" for i in idxs)
        raise AudioError(f"{path}: audio streams have different channel counts ({desc})")
    lengths = [sum(c.shape[1] for c in chunks[i]) for i in idxs]
    if len(set(lengths)) > 1:
        desc = ", ".join(f"stream {order[i]}: {n}" for i, n in zip(idxs, lengths))
        raise AudioError(f"{path}: audio streams decode to different lengths ({desc} samples); "
                         "the streams of a stem file must be sample-aligned")
    out = np.empty((len(idxs), chans[idxs[0]], lengths[0]), dtype=dtype)
    for k, i in enumerate(idxs):
        pos = 0
        for c in chunks[i]:
            out[k, :, pos:pos + c.shape[1]] = c
            pos += c.shape[1]
        chunks[i] = None  # free as we go
    return out, int(rates[idxs[0]])


def _probe_stem_file(path):
    """Header check of a stem file: ``(n_audio_streams, sample_rates, channels)``, nothing decoded."""
    import av

    try:
        with av.open(str(path)) as container:
            streams = list(container.streams.audio)
            rates = [int(s.codec_context.sample_rate or 0) for s in streams]
            chans = []
            for s in streams:
                layout = s.codec_context.layout
                chans.append(getattr(layout, "nb_channels", None) or len(layout.channels))
    except Exception as exc:
        raise AudioError(f"{path}: cannot read stem file ({_short(exc)})") from None
    return len(streams), rates, chans


# --------------------------------------------------------------------------------------------
# Tracks
# --------------------------------------------------------------------------------------------

def reference_targets(stem_names):
    """Targets a track with these stems offers: the stems, plus ``accompaniment``.

    ``accompaniment`` (the sum of every stem but vocals) is offered when there
    is a ``vocals`` stem and at least one other stem, and no stem of that name.
    """
    names = tuple(stem_names)
    if "vocals" in names and len(names) >= 2 and ACCOMPANIMENT not in names:
        return names + (ACCOMPANIMENT,)
    return names


@dataclass
class TrackAudio:
    """The decoded audio of one track.

    Attributes
    ----------
    name : str
    subset : str or None
        ``"train"``/``"test"`` for MUSDB18 tracks, None otherwise.
    sample_rate : int
    mixture : np.ndarray, shape ``(channels, time)``
    stems : dict of str to np.ndarray, each ``(channels, time)``
        In the track's stem order (:data:`MUSDB_TARGETS` for MUSDB18).
    """

    name: str
    subset: Optional[str]
    sample_rate: int
    mixture: np.ndarray
    stems: Dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def stem_names(self):
        """Tuple of the stem names, in order."""
        return tuple(self.stems)

    @property
    def targets(self):
        """Names :meth:`references` offers (stems, then ``accompaniment`` where defined)."""
        return reference_targets(self.stems)

    @property
    def length(self):
        """Number of samples."""
        return self.mixture.shape[-1]

    def references(self, targets=None):
        """Reference signals per target.

        Parameters
        ----------
        targets : sequence of str or str, optional
            Names to return, in this order (a string may list several,
            comma-separated).  Default: every stem, then ``accompaniment``
            where defined (see :func:`reference_targets`).

        Returns
        -------
        dict of str to np.ndarray, each ``(channels, time)``
            The stems themselves (not copies) and ``accompaniment``, the sum of
            every stem except vocals (MUSDB18: drums + bass + other).

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
            if t in self.stems:
                out[t] = self.stems[t]
            else:  # accompaniment
                others = [v for k, v in self.stems.items() if k != "vocals"]
                acc = others[0].copy()
                for v in others[1:]:
                    acc += v
                out[t] = acc
        return out


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
    def files(self):
        """Dict ``{"mixture": Path, <stem>: Path, ...}`` of a folder track; for a stem file,
        ``{"mixture": path}``."""
        return dict(self._files) if self._files is not None else {"mixture": self.path}

    def check(self):
        """Check the files' headers (existence, sample rate, channels, length) without decoding.

        Raises
        ------
        DatasetError, AudioError
            With one line naming the file and the problem.
        """
        if self._files is None:
            if not self.path.is_file():
                raise DatasetError(f"{self.path}: no such file")
            n, rates, chans = _probe_stem_file(self.path)
            _check_stream_count(self.path, n, len(self.stem_names))
            if len(set(rates)) > 1:
                raise AudioError(f"{self.path}: audio streams have different sample rates ({rates} Hz); "
                                 "all streams of a stem file must share one sample rate (nothing is resampled)")
            if len(set(chans)) > 1:
                raise AudioError(f"{self.path}: audio streams have different channel counts ({chans})")
            return
        for key, f in self._files.items():
            if not f.is_file():
                raise DatasetError(_missing_stem_message(f, self))
        mix = self._files["mixture"]
        msr, mch, mlen = audio_info(mix)
        for stem in self.stem_names:
            f = self._files[stem]
            _compare_with_mixture(f, audio_info(f), mix, (msr, mch, mlen))

    def load(self, *, dtype=np.float64):
        """Read the mixture and the stems.

        Parameters
        ----------
        dtype : numpy dtype
            float64 (default) or float32.

        Returns
        -------
        TrackAudio

        Raises
        ------
        AudioError, DatasetError
            A missing or unreadable file, a stem whose sample rate, channel
            count or length differs from the mixture's, NaN/inf samples.
        """
        dtype = _check_dtype(dtype)
        if self._files is None:
            audio, sr = read_stem_file(self.path, dtype=dtype)
            _check_stream_count(self.path, audio.shape[0], len(self.stem_names))
            names = ("mixture",) + self.stem_names
            for k, nm in enumerate(names):
                bad = np.count_nonzero(~np.isfinite(audio[k]))
                if bad:
                    raise AudioError(f"{self.path}: audio stream {k} ({nm}) has {bad} NaN/inf sample(s); "
                                     "audio must be finite")
            stems = {nm: audio[k + 1] for k, nm in enumerate(self.stem_names)}
            return TrackAudio(self.name, self.subset, sr, audio[0], stems)

        for f in self._files.values():
            if not f.is_file():
                raise DatasetError(_missing_stem_message(f, self))
        mix_path = self._files["mixture"]
        mixture, sr = read_audio(mix_path, dtype=dtype)
        ref = (sr, mixture.shape[0], mixture.shape[1])
        stems = {}
        for stem in self.stem_names:
            f = self._files[stem]
            _compare_with_mixture(f, audio_info(f), mix_path, ref)  # cheap, before reading
            x, ssr = read_audio(f, dtype=dtype)
            _compare_with_mixture(f, (ssr, x.shape[0], x.shape[1]), mix_path, ref)
            stems[stem] = x
        return TrackAudio(self.name, self.subset, sr, mixture, stems)


def _check_stream_count(path, n, n_stems):
    if n != n_stems + 1:
        raise AudioError(f"{path}: {n} audio stream(s), expected {n_stems + 1} "
                         f"({', '.join(MUSDB_STEM_STREAMS)}) as in MUSDB18 stem files")


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
    need = ", ".join(Path(p).name for p in track._files.values())
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
        over the names of the tracks left after ``subset``/``split``, sorted.
        The drawn tracks are returned in sorted (dataset) order.
    seed : int
        Seed of that draw.
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
        Invalid ``subset``, ``split``, ``n_tracks`` or their combination.
    """
    subset = _check_subset(subset)
    split = _check_split(split, subset)
    if n_tracks is not None:
        if isinstance(n_tracks, bool) or not isinstance(n_tracks, (int, np.integer)) or n_tracks < 1:
            raise ParameterError(f"number of tracks must be a positive integer, got {n_tracks!r}")
        if track_names is not None:
            raise ParameterError("choose tracks either by number (--tracks N) or by name (--track NAME), not both")
    if track_names is not None:
        if isinstance(track_names, str):
            track_names = [track_names]
        track_names = list(dict.fromkeys(str(t) for t in track_names))
        if not track_names:
            track_names = None

    rroot = resolve_root(root)
    if rroot is None:
        path = default_sample_path()
        if split is not None:
            raise ParameterError("--split applies to MUSDB18 datasets; the default sample is a single track: "
                                 "give --root (or MUSDB_PATH)")
        if not quiet:
            print(f"mssoracle: no --root and no MUSDB_PATH: using the 6-second MUSDB18 preview shipped in the "
                  f"stempeg wheel ({path})", file=sys.stderr)
        tracks = [Track(DEFAULT_SAMPLE_NAME, None, path, MUSDB_TARGETS)]
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
        raise DatasetError(f"{rroot}: no tracks; {_WHAT_TO_DO}")

    if track_names is not None:
        tracks = _select_by_name(tracks, track_names, rroot, others)
    elif n_tracks is not None:
        if n_tracks > len(tracks):
            raise DatasetError(f"{rroot or tracks[0].path}: {n_tracks} tracks asked for but only {len(tracks)} "
                               "available; ask for fewer")
        names = np.array([f"{t.name}\x00{t.subset or ''}" for t in tracks], dtype=object)
        drawn = set(np.random.default_rng(seed).choice(names, n_tracks, replace=False).tolist())
        tracks = [t for t, key in zip(tracks, names) if key in drawn]

    if kind == "folder":
        _check_same_stems(tracks)
    if check:
        for t in tracks:
            t.check()
    return Dataset(tracks, root=rroot, kind=kind, subset=ds_subset, split=split)


def _check_subset(subset):
    if subset is None or subset == "all":
        return None
    if subset not in _SUBSETS:
        raise ParameterError(f"unknown subset {subset!r}; choose train, test or all")
    return subset


def _check_split(split, subset):
    if split is None:
        return None
    if split not in _SPLITS:
        raise ParameterError(f"unknown split {split!r}; choose train or valid (the official MUSDB18 "
                             "validation split of the train subset)")
    if subset == "test":
        raise ParameterError(f"--split {split} divides the train subset; it cannot be combined with --subset test "
                             "(use --subset train, or drop --split)")
    return split


def _visible(p):
    return not p.name.startswith(".")


def _scan(root, subset, split):
    """Detect the layout under ``root``; return ``(kind, tracks, dataset_subset, other_subset_tracks)``."""
    if not root.exists():
        raise DatasetError(f"{root}: no such file or directory; {_WHAT_TO_DO}")
    if root.is_file():
        if not root.name.endswith(_STEM_SUFFIX):
            raise DatasetError(f"{root}: not a dataset folder nor a .stem.mp4 file; {_WHAT_TO_DO}")
        if split is not None:
            raise ParameterError("--split selects among MUSDB18 train tracks; it does not apply to a single file")
        sub = root.parent.name if root.parent.name in _SUBSETS else None
        return "musdb18", [Track(root.name[:-len(_STEM_SUFFIX)], sub, root, MUSDB_TARGETS)], sub, {}
    try:
        entries = sorted(p for p in root.iterdir() if _visible(p))
    except OSError as exc:
        raise DatasetError(f"{root}: cannot list folder ({exc.strerror or exc})") from None
    if not entries:
        raise DatasetError(f"{root}: empty folder; {_WHAT_TO_DO}")

    subdirs = [p for p in entries if p.is_dir() and p.name in _SUBSETS]
    if subdirs:
        return _scan_musdb(root, subset, split, {p.name for p in subdirs})

    if split is not None:
        raise ParameterError(f"--split selects among MUSDB18 train tracks; {root} has no train/ folder")
    sub = root.name if root.name in _SUBSETS else None
    if _find_audio(root, "mixture") is not None:  # a single track folder
        return "folder", [_folder_track(root, root.name, sub)], sub, {}
    stem_files = [p for p in entries if p.is_file() and p.name.endswith(_STEM_SUFFIX)]
    track_dirs = [p for p in entries if p.is_dir()]
    with_mix = [p for p in track_dirs if _find_audio(p, "mixture") is not None]
    if stem_files and with_mix:
        raise DatasetError(f"{root}: holds both .stem.mp4 files and track folders; keep one layout per root")
    if stem_files:
        return "musdb18", [Track(p.name[:-len(_STEM_SUFFIX)], sub, p, MUSDB_TARGETS) for p in stem_files], sub, {}
    if with_mix:
        for p in track_dirs:
            if p not in with_mix:
                raise DatasetError(f"{p / 'mixture.wav'}: missing; every track folder of a stem-folder dataset "
                                   "needs mixture.wav and one WAV per stem")
        return "folder", [_folder_track(p, p.name, sub) for p in with_mix], sub, {}
    raise DatasetError(f"{root}: no MUSDB18-HQ (train/, test/), MUSDB18 (.stem.mp4) or stem-folder layout "
                       f"found; {_WHAT_TO_DO}")


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
    if set(stems) == set(MUSDB_TARGETS):
        stems = list(MUSDB_TARGETS)
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
    stems = [p for p in entries if p.is_file() and p.name.endswith(_STEM_SUFFIX)]
    if dirs and stems:
        raise DatasetError(f"{folder}: holds both .stem.mp4 files and track folders; keep one layout per root")
    if stems:
        return "musdb18", [(p.name[:-len(_STEM_SUFFIX)], p) for p in stems]
    if dirs:
        return "musdb18hq", [(p.name, p) for p in dirs]
    return None, []


def _scan_musdb(root, subset, split, present):
    wanted = [subset] if subset else [s for s in _SUBSETS if s in present]
    if split is not None:
        wanted = ["train"]
    for s in wanted:
        if s not in present:
            have = ", ".join(sorted(p + "/" for p in present))
            raise DatasetError(f"{root / s}: no such folder; this MUSDB18 root has only {have}: "
                               f"choose that subset (--subset {sorted(present)[0]})")
    kinds = set()
    listing = {}
    for s in _SUBSETS:
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
        raise DatasetError(f"{where}: no tracks (no track folders, no .stem.mp4 files); {_WHAT_TO_DO}")
    kind = kinds.pop()

    def make(s, name, p):
        if kind == "musdb18":
            return Track(name, s, p, MUSDB_TARGETS)
        files = {"mixture": p / "mixture.wav"}
        files.update({t: p / (t + ".wav") for t in MUSDB_TARGETS})
        return Track(name, s, p, MUSDB_TARGETS, files=files)  # files checked by check()/load()

    valid = set(MUSDB_VALIDATION_TRACKS)
    tracks, others = [], {}
    for s, items in listing.items():
        for name, p in items:
            if s in wanted and (split is None or (name in valid) == (split == "valid")):
                tracks.append(make(s, name, p))
            else:
                why = f"in the {s} subset" if s not in wanted else f"in the {'valid' if name in valid else 'train'} split"
                others.setdefault(name, why)
    return kind, tracks, (subset if split is None else "train"), others


def _select_by_name(tracks, names, root, others):
    by_name = {}
    for t in tracks:
        by_name.setdefault(t.name, []).append(t)
    out, missing = [], []
    for n in names:
        if n in by_name:
            out.extend(by_name[n])
        else:
            missing.append(n)
    if missing:
        n = missing[0]
        if n in others:
            hint = f"it is {others[n]}, which was not selected"
        else:
            close = difflib.get_close_matches(n, list(by_name), n=3, cutoff=0.5)
            if not close:  # try case-insensitive substring matches too
                close = [k for k in by_name if n.lower() in k.lower()][:3]
            hint = ("did you mean " + " or ".join(repr(c) for c in close) + "?") if close else \
                f"{len(by_name)} tracks are available, e.g. {', '.join(repr(k) for k in list(by_name)[:3])}"
        where = root if root is not None else tracks[0].path
        more = f" (and {len(missing) - 1} more unknown)" if len(missing) > 1 else ""
        raise DatasetError(f"{where}: no track named {n!r}{more}; {hint}")
    return out


def _check_same_stems(tracks):
    if not tracks:
        return
    first = tracks[0]
    for t in tracks[1:]:
        if set(t.stem_names) != set(first.stem_names):
            extra = sorted(set(t.stem_names) - set(first.stem_names))
            lack = sorted(set(first.stem_names) - set(t.stem_names))
            diff = "; ".join(x for x in (f"has {', '.join(extra)}" if extra else "",
                                         f"lacks {', '.join(lack)}" if lack else "") if x)
            raise DatasetError(f"{t.path}: stems ({', '.join(t.stem_names)}) differ from those of {first.path} "
                               f"({', '.join(first.stem_names)}): it {diff}; every track must have the same stems")


def _check_dtype(dtype):
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ParameterError(f"dtype must be float32 or float64, got {dt}")
    return dt


def _short(exc):
    msg = str(exc).strip().splitlines()
    return msg[-1] if msg else type(exc).__name__
