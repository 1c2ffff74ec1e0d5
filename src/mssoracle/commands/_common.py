"""Option helpers shared by sub-commands."""

import re

from ..transforms import KINDS

_SPEC_START = re.compile(r"^\s*(%s)(:|$)" % "|".join(KINDS), re.IGNORECASE)


def split_transform_specs(values):
    """Split ``--transform`` values on commas that start a new spec.

    ``stft:2048,stft:4096`` gives two specs, while the keyword form
    ``stft:n_fft=4096,hop=1024`` stays one (``hop=1024`` starts no spec).
    Each option may also be repeated.
    """
    specs = []
    for value in values:
        for i, part in enumerate(value.split(",")):
            if i == 0 or _SPEC_START.match(part):
                specs.append(part)
            else:
                specs[-1] += "," + part
    return [s.strip() for s in specs if s.strip()]


def split_oracle_specs(values):
    """Split ``--oracle`` values on commas outside brackets: ``irm1,ibm[alpha=2,theta=0.3]``."""
    specs = []
    for value in values:
        depth, current = 0, ""
        for ch in value:
            depth += ch == "["
            depth -= ch == "]"
            if ch == "," and depth <= 0:
                specs.append(current)
                current = ""
            else:
                current += ch
        specs.append(current)
    return [s.strip() for s in specs if s.strip()]


def add_data_options(parser):
    """``--root``, ``--subset``, ``--split``, ``--tracks``, ``--seed``, ``--track``."""
    g = parser.add_argument_group("data")
    g.add_argument("--root", help="dataset root: MUSDB18-HQ folders, MUSDB18 .stem.mp4 files or a folder of "
                                  "stem folders (default: $MUSDB_PATH, else the preview shipped with stempeg)")
    g.add_argument("--subset", default=None, choices=["train", "test"],
                   help="MUSDB subset (default: test; ignored for a plain folder of stems)")
    g.add_argument("--split", choices=["train", "valid"],
                   help="official MUSDB18 train/validation split of the train subset")
    g.add_argument("--tracks", type=int, metavar="N", help="evaluate N tracks drawn reproducibly with --seed")
    g.add_argument("--seed", type=int, default=0, help="seed of the --tracks draw (default 0)")
    g.add_argument("--track", action="append", metavar="NAME", help="evaluate this track (repeatable)")
    return g


def open_dataset_from_args(args):
    from ..datasets import open_dataset

    subset = args.subset
    if subset is None:
        subset = "train" if args.split else "test"
    return open_dataset(args.root, subset=subset, split=args.split, n_tracks=args.tracks, seed=args.seed,
                        track_names=args.track)
