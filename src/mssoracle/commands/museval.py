"""``mssoracle museval``: score a folder of MUSDB18 estimates, a drop-in for museval's ``museval`` command."""

import sys
from pathlib import Path

from ..errors import AudioError, DatasetError, ParameterError
from .bsseval import add_scoring_options, check_scoring_args, print_warnings

HELP = "score MUSDB18 estimates EST_DIR/<subset>/<track>/<target>.wav as museval does (drop-in)"

DESCRIPTION = """\
For every track of the dataset that has estimates in EST_DIR/<subset>/<track>/<target>.wav,
score them as museval's eval_mus_track does (drums, bass, other from one BSS Eval call
of every target but accompaniment; vocals and accompaniment from a separate two-source
call when both are given) and write museval's JSON to OUT/<subset>/<track>.json
(OUT defaults to EST_DIR, as in museval).  References are read from MUSDB18-HQ
folders or MUSDB18 .stem.mp4 files (auto-detected).  A silent reference or estimate
is scored as NaN with a warning.  Prints the median over frames, then over tracks,
per target.  museval's options -o, --musdb, --is-wav and -m are accepted."""

#: targets musdb defines (museval only scores files named after them)
MUSDB_TARGET_NAMES = ("vocals", "drums", "bass", "other", "accompaniment", "linear_mixture")


def add_parser(subparsers, name):
    p = subparsers.add_parser(name, help=HELP, description=DESCRIPTION)
    p.add_argument("estimates_dir", metavar="EST_DIR", help="estimates: EST_DIR/<subset>/<track>/<target>.wav")
    p.add_argument("--root", "--musdb", dest="root", metavar="MUSDB_ROOT",
                   help="MUSDB18 or MUSDB18-HQ root (default: $MUSDB_PATH, else the preview shipped "
                        "with stempeg)")
    p.add_argument("--subset", default="all", choices=["train", "test", "all"],
                   help="subset(s) to score (default: all, as museval: every track that has estimates)")
    p.add_argument("--track", action="append", metavar="NAME", help="score only this track (repeatable)")
    p.add_argument("--out", "-o", dest="out", metavar="DIR",
                   help="write OUT/<subset>/<track>.json (default: EST_DIR, as museval)")
    p.add_argument("--is-wav", dest="is_wav", action="store_true",
                   help="museval's option; accepted and ignored (the layout is detected)")
    add_scoring_options(p)
    p.set_defaults(run=run)
    return p


def _estimate_files(folder):
    return {p.stem: p for p in sorted(folder.iterdir())
            if p.is_file() and p.suffix.lower() == ".wav" and not p.name.startswith(".")}


def _track_dir(est_dir, track):
    return est_dir / track.subset / track.name if track.subset else est_dir / track.name


def _read_estimates(files, track_name):
    """Read estimate WAVs; check they agree with each other. Return ``{target: (channels, time)}``, sr."""
    from ..audio import read_audio

    out, first = {}, None
    for target, path in files.items():
        audio, sr = read_audio(path)
        if first is None:
            first = (path, sr, audio.shape[0])
        elif sr != first[1]:
            raise AudioError(f"{path}: {sr} Hz but {first[0]} is {first[1]} Hz")
        elif audio.shape[0] != first[2]:
            raise AudioError(f"{path}: {audio.shape[0]} channel(s) but {first[0]} has {first[2]}")
        out[target] = audio
    return out, first


def run(args):
    import pandas as pd

    from ..bsseval.museval_io import aggregate, format_medians
    from ..bsseval.track import TrackEvaluator
    from ..datasets import open_dataset

    check_scoring_args(args)
    est_dir = Path(args.estimates_dir)
    if not est_dir.is_dir():
        raise ParameterError(f"{est_dir}: no such folder (EST_DIR, the estimates: "
                             "EST_DIR/<subset>/<track>/<target>.wav)")
    out_dir = Path(args.out) if args.out else est_dir
    method = est_dir.resolve().name
    dataset = open_dataset(args.root, subset=None if args.subset == "all" else args.subset,
                           track_names=args.track, check=False)

    todo = []
    for track in dataset:
        folder = _track_dir(est_dir, track)
        if folder.is_dir():
            files = _estimate_files(folder)
            ignored = [n for n in files if n not in MUSDB_TARGET_NAMES and n != "mixture"]
            if ignored:
                print(f"mssoracle museval: {folder}: ignoring {', '.join(files[n].name for n in ignored)} "
                      f"(not a target: {', '.join(MUSDB_TARGET_NAMES)})", file=sys.stderr)
            files = {n: p for n, p in files.items() if n in MUSDB_TARGET_NAMES}
            if files:
                todo.append((track, folder, files))
    known = {(t.subset, t.name) for t in dataset}
    orphans = []
    for sub in ([args.subset] if args.subset != "all" else ["train", "test"]):
        if (est_dir / sub).is_dir():
            orphans += [f"{sub}/{p.name}" for p in sorted((est_dir / sub).iterdir())
                        if p.is_dir() and (sub, p.name) not in known]
    if orphans and not args.track:
        print(f"mssoracle museval: no reference track for estimate folder(s) {', '.join(orphans)}; skipped",
              file=sys.stderr)
    if not todo:
        raise DatasetError(f"{est_dir}: no estimates for any of the {len(dataset)} track(s) of "
                           f"{dataset.root or 'the default sample'}; expected "
                           f"{est_dir}/<subset>/<track>/<target>.wav with target in "
                           f"{', '.join(MUSDB_TARGET_NAMES)}")
    skipped = len(dataset) - len(todo)
    if skipped:
        print(f"mssoracle museval: {skipped} track(s) without estimates skipped (as museval does)", file=sys.stderr)

    frames = []
    for i, (track, folder, files) in enumerate(todo, 1):
        estimates, (first_path, est_sr, est_ch) = _read_estimates(files, track.name)
        audio = track.load()
        nch = audio.mixture.shape[0]
        if est_sr != audio.sample_rate:
            raise AudioError(f"{first_path}: {est_sr} Hz but track {track.name!r} is {audio.sample_rate} Hz")
        if est_ch != nch:
            raise AudioError(f"{first_path}: {est_ch} channel(s) but track {track.name!r} has {nch}")
        references = {k: v.T for k, v in audio.references().items()}
        config = {
            "command": "museval",
            "method": method,
            "track": track.name,
            "subset": track.subset,
            "estimates": str(folder),
            "root": str(dataset.root) if dataset.root else None,
            "targets": list(estimates),
        }
        evaluator = TrackEvaluator(references, sample_rate=audio.sample_rate, win=args.win, hop=args.hop,
                                   mode=args.mode, backend=args.backend, device=args.device,
                                   track_name=track.name, on_silent="nan", emit_warnings=False)
        scores = evaluator.evaluate({k: v.T for k, v in estimates.items()}, config=config, method=method)
        print_warnings("museval", scores.warnings, track.name)
        del audio, references, estimates, evaluator
        path = out_dir / track.subset / f"{track.name}.json" if track.subset else out_dir / f"{track.name}.json"
        scores.save(path)
        print(f"[{i}/{len(todo)}] {path}", file=sys.stderr)
        if len(scores):
            frames.append(scores.df)
    if not frames:
        print("no target scored (fewer than two estimates per track)")
        return 0
    df = pd.concat(frames, ignore_index=True)
    agg = aggregate(df.drop(columns=["method"]))
    order = [t for t in MUSDB_TARGET_NAMES if t in set(agg["target"])]
    print(f"{method}: {len(todo)} track(s), median over frames, then over tracks")
    print(format_medians(agg, targets=order))
    return 0
