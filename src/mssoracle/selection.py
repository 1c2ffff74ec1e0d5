"""Track selection: MUSDB18 subsets and the official validation split, reproducible random draws,
selection by name with suggestions.

Everything here works on any objects with ``name`` and ``subset`` attributes
(:class:`mssoracle.datasets.Track`); nothing is read from disk.
"""

import difflib

import numpy as np

from . import validators
from .errors import DatasetError, ParameterError

__all__ = [
    "MUSDB_VALIDATION_TRACKS", "SUBSETS", "SPLITS",
    "check_subset", "check_split", "check_selection", "in_split", "draw_tracks", "select_by_name",
]

#: MUSDB18's subsets, in folder order.
SUBSETS = ("train", "test")
#: The parts of MUSDB18's train subset under the official validation split.
SPLITS = ("train", "valid")

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

_VALIDATION = frozenset(MUSDB_VALIDATION_TRACKS)


def check_subset(subset):
    """``"train"``/``"test"``, or None for both (``None`` or ``"all"``); else :class:`ParameterError`."""
    if subset is None or subset == "all":
        return None
    if subset not in SUBSETS:
        raise ParameterError(f"unknown subset {subset!r}; choose train, test or all")
    return subset


def check_split(split, subset):
    """``"train"``/``"valid"`` or None; the split divides the train subset, so ``subset="test"`` is an error."""
    if split is None:
        return None
    if split not in SPLITS:
        raise ParameterError(f"unknown split {split!r}; choose train or valid (the official MUSDB18 "
                             "validation split of the train subset)")
    if subset == "test":
        raise ParameterError(f"--split {split} divides the train subset; it cannot be combined with --subset test "
                             "(use --subset train, or drop --split)")
    return split


def check_selection(n_tracks, seed, track_names):
    """Validate a selection by number or by name: return ``(n_tracks, seed, track_names)``.

    ``track_names`` becomes a list without duplicates (given order kept), or
    None when empty; a single string is one name.  Choosing both by number and
    by name is a :class:`ParameterError`.
    """
    if n_tracks is not None:
        n_tracks = validators.integer(n_tracks, "number of tracks", minimum=1)
    seed = validators.integer(seed, "seed", minimum=0)
    if track_names is not None:
        if isinstance(track_names, str):
            track_names = [track_names]
        track_names = list(dict.fromkeys(str(t) for t in track_names)) or None
    if n_tracks is not None and track_names is not None:
        raise ParameterError("choose tracks either by number (--tracks N) or by name (--track NAME), not both")
    return n_tracks, seed, track_names


def in_split(name, split):
    """Whether a train track of this name belongs to ``split`` (None: every track does)."""
    if split is None:
        return True
    return (name in _VALIDATION) == (split == "valid")


def draw_tracks(tracks, n_tracks, seed, where):
    """Draw ``n_tracks`` of ``tracks`` (sorted by name, then subset) at random, reproducibly.

    The draw is ``numpy.random.default_rng(seed).choice(keys, n_tracks,
    replace=False)`` over the tracks' keys ``name NUL subset`` in the given
    (sorted) order; the drawn tracks come back in that order.  ``where`` (a
    path) starts the message when more tracks are asked for than there are.
    """
    if n_tracks > len(tracks):
        raise DatasetError(f"{where}: {n_tracks} tracks asked for but only {len(tracks)} available; ask for fewer")
    keys = np.array([f"{t.name}\x00{t.subset or ''}" for t in tracks], dtype=object)
    drawn = set(np.random.default_rng(seed).choice(keys, n_tracks, replace=False).tolist())
    return [t for t, key in zip(tracks, keys) if key in drawn]


def select_by_name(tracks, names, where, others=None):
    """The tracks called ``names``, in that order (every subset's track of that name).

    Parameters
    ----------
    tracks : sequence
        Objects with ``name`` (and ``subset``).
    names : sequence of str
    where : str or Path
        Starts the error message (the dataset root).
    others : dict of str to str, optional
        Tracks of the dataset left out by the subset/split, name -> why (e.g.
        ``"in the test subset"``), so that the message says why a name is not
        selectable.

    Raises
    ------
    DatasetError
        An unknown name, with the closest matches (or a few available names).
    """
    others = others or {}
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
        more = f" (and {len(missing) - 1} more unknown)" if len(missing) > 1 else ""
        raise DatasetError(f"{where}: no track named {n!r}{more}; {hint}")
    return out
