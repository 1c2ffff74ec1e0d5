"""Tracks decoded once into float32 ``.npy`` files and memory-mapped by every search worker.

A search scores every trial on the same tracks.  Decoding them for every trial (and holding them in every
worker: 14 MUSDB18 validation tracks are about 6 GB in float32) would cost more than many trials, so
:func:`build_cache` decodes each track once into ``CACHE/<fingerprint>.npy`` (shape ``(1 + nstems,
channels, time)``, float32: the mixture, then the stems in the track's order; the fingerprint is the
content fingerprint of the track's files, :mod:`mssoracle.experiment.fingerprint`) and every worker opens
it with ``numpy.load(mmap_mode="r")``: workers on one machine share the page cache.  Files are written
atomically (a temporary name, then a rename), so workers racing to build one file never read half of it.

:class:`CachedDataset` is a dataset of :class:`CachedTrack` s with the interface the experiment runner
reads (:func:`mssoracle.experiment.runner.run_unit`): ``name``, ``subset``, ``path``, ``files``,
``sample_rate``, ``stem_names`` and ``load(dtype=, offset=, frames=)`` giving a
:class:`~mssoracle.datasets.TrackAudio` whose signals are views of the mapped file (a copy only for
another dtype).  The decoded samples are the ones ``Track.load(dtype=np.float32)`` returns, so a trial
scores the same audio ``eval`` does (float64 runs: float32 samples widened, exact for 16/24-bit and
float32 sources).
"""

import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from ..errors import DatasetError

__all__ = ["CachedTrack", "CachedDataset", "build_cache", "cache_file"]


def cache_file(folder, fingerprint):
    """The cache file of a track's content fingerprint."""
    return Path(folder) / f"{fingerprint}.npy"


def _write_atomic(path, signals, meta):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npy")
    np.save(tmp, signals)
    meta_path = path.with_suffix(".json")
    mtmp = meta_path.with_name(f".{meta_path.stem}.{os.getpid()}.tmp.json")
    mtmp.write_text(json.dumps(meta))
    os.replace(mtmp, meta_path)
    os.replace(tmp, path)  # the array last: a present .npy always has its .json


@dataclasses.dataclass
class CachedTrack:
    """One track of the cache (see the module docstring); built by :func:`build_cache`."""

    name: str
    subset: object
    path: Path
    files: dict
    sample_rate: int
    stem_names: tuple
    fingerprint: str
    cache: Path
    source: object = None  # the Track, to rebuild a missing cache file on another machine

    def _array(self):
        path = cache_file(self.cache, self.fingerprint)
        if not path.is_file():
            if self.source is None:
                raise DatasetError(f"track cache {path} is missing; rerun the search from the folder that has it")
            build_cache([self.source], self.cache, fingerprints=[self.fingerprint])
        return np.load(path, mmap_mode="r")

    def header_length(self):
        return int(self._array().shape[-1]), True

    def load(self, *, dtype=np.float32, offset=0, frames=None):
        """The track's audio as a :class:`~mssoracle.datasets.TrackAudio` of views of the mapped file.

        Parameters
        ----------
        dtype : numpy dtype
            float32 (views, nothing copied) or float64 (a copy).
        offset, frames : int
            An excerpt: samples ``offset .. offset + frames`` (``frames`` None: to the end).
        """
        from ..datasets import TrackAudio

        signals = self._array()
        stop = signals.shape[-1] if frames is None else offset + int(frames)
        if offset or stop != signals.shape[-1]:
            signals = signals[:, :, int(offset):stop]
        if np.dtype(dtype) != signals.dtype:
            signals = signals.astype(dtype)
        return TrackAudio(self.name, self.subset, self.sample_rate, signals, self.stem_names)


class CachedDataset:
    """A list of :class:`CachedTrack` with the dataset attributes the runner reads (``kind``, ``root``)."""

    def __init__(self, tracks, *, kind, root):
        self._tracks = list(tracks)
        self.kind = kind
        self.root = root

    def __len__(self):
        return len(self._tracks)

    def __getitem__(self, i):
        return self._tracks[i]

    def __iter__(self):
        return iter(self._tracks)

    def names(self):
        return [t.name for t in self._tracks]


def build_cache(tracks, folder, *, fingerprints=None, log=None):
    """Decode every track not yet in ``folder`` into its float32 ``.npy``; return the :class:`CachedDataset`.

    Parameters
    ----------
    tracks : Dataset or sequence of Track
    folder : Path
        The cache folder (created).
    fingerprints : list of str, optional
        The tracks' content fingerprints (computed here when not given).
    log : callable, optional
        Receives one line per track decoded.

    Returns
    -------
    CachedDataset
    """
    from ..experiment.fingerprint import FingerprintCache

    folder = Path(folder)
    kind, root = getattr(tracks, "kind", None), getattr(tracks, "root", None)
    tracks = list(tracks)
    if fingerprints is None:
        fp = FingerprintCache(None)
        fingerprints = [fp.track(t) for t in tracks]
    out = []
    for track, fingerprint in zip(tracks, fingerprints):
        path = cache_file(folder, fingerprint)
        if not path.is_file():
            audio = track.load(dtype=np.float32)
            meta = {"name": track.name, "sample_rate": int(audio.sample_rate), "stems": list(audio.stem_names),
                    "shape": list(audio.signals.shape)}
            _write_atomic(path, np.ascontiguousarray(audio.signals, dtype=np.float32), meta)
            del audio
            if log is not None:
                log(f"decoded {track.name!r} into {path}")
        out.append(CachedTrack(name=track.name, subset=track.subset, path=track.path, files=dict(track.files),
                               sample_rate=int(track.sample_rate), stem_names=tuple(track.stem_names),
                               fingerprint=fingerprint, cache=folder, source=track))
    return CachedDataset(out, kind=kind, root=root)
