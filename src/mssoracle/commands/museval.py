"""``mssoracle museval``: score a folder of MUSDB18 estimates, a drop-in for museval's ``museval`` command."""

import sys
from pathlib import Path

from ..errors import AudioError, DatasetError, ParameterError
from ._common import (add_excerpt_options, add_metric_options, check_excerpt_args, check_excerpt_tracks,
                      check_output_dir, fit_length, parse_aggregation_options, parse_metric_list)
from .bsseval import add_scoring_options, check_scoring_args, print_warnings

HELP = "score MUSDB18 estimates EST_DIR/<subset>/<track>/<target>.wav as museval does (drop-in)"

DESCRIPTION = """\
For every track of the dataset that has estimates in EST_DIR/<subset>/<track>/<target>.wav,
score them as museval's eval_mus_track does (drums, bass, other from one BSS Eval call
of every target but accompaniment; vocals and accompaniment from a separate two-source
call when both are given) and write museval's JSON to OUT/<subset>/<track>.json
(OUT defaults to EST_DIR, as in museval).  References are read from MUSDB18-HQ
folders or MUSDB18 .stem.mp4 files (auto-detected).  A silent reference or estimate
is scored as NaN with a warning.  --metrics adds uSDR, SI-SDR, their improvements
over the track's mixture file and a framewise SNR beside (or instead of) BSS Eval v4.
Prints, per target, the median over frames, then the median (--aggregate sisec, the
default) or the mean (mdx) over tracks, and the headline over drums, bass, other and
vocals.  museval's options -o, --musdb, --is-wav and -m are accepted.

Before any track is scored, OUT must be writable and every selected track's reference
and estimate headers agree (sample rate, channels, one length per track's estimates);
an error names the file.  A track whose audio fails to decode (NaN/inf samples, damaged
data) is reported at once and not written; the other tracks are scored, and the command
exits with status 2 naming every failed track."""

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
    add_excerpt_options(p)
    add_metric_options(p, group=add_scoring_options(p))
    p.set_defaults(run=run)
    return p


def _estimate_files(folder):
    return {p.stem: p for p in sorted(folder.iterdir())
            if p.is_file() and p.suffix.lower() == ".wav" and not p.name.startswith(".")}


def _track_dir(est_dir, track):
    return est_dir / track.subset / track.name if track.subset else est_dir / track.name


def _track_label(track):
    return f"{track.subset}/{track.name}" if track.subset else track.name


def check_estimates(files, header):
    """Check one track's estimate files against its reference header, reading headers only.

    Every estimate must be readable, have the reference's sample rate and channel count, and
    all estimates of a track one length (museval stacks them into one array); that length may
    differ from the reference's (padded with zeros or cut, as museval's ``pad_or_truncate``).
    Errors name the estimate file that is wrong and the reference file it is compared with.

    Parameters
    ----------
    files : dict of str -> Path
        Target name -> estimate WAV.
    header : mssoracle.datasets.TrackHeader
        The reference track's header (:meth:`Track.check`).

    Returns
    -------
    int
        The estimates' common length in samples.

    Raises
    ------
    AudioError
        One line naming the file.
    """
    from ..audio import audio_info

    lengths = {}
    for target, path in files.items():
        sr, ch, n = audio_info(path)
        if header.sample_rate and sr != header.sample_rate:
            raise AudioError(f"{path}: {sr} Hz but the reference {header.path} is {header.sample_rate} Hz; "
                             "estimates must have the reference's sample rate (nothing is resampled)")
        if ch != header.channels:
            raise AudioError(f"{path}: {ch} channel(s) but the reference {header.path} has {header.channels}; "
                             "estimates must have the reference's channel count")
        if n == 0:
            raise AudioError(f"{path}: no samples; an estimate must not be empty")
        lengths[target] = n
    if len(set(lengths.values())) > 1:
        # the odd one out: the length most estimates share (ties: the reference's, else the first file's)
        values = list(lengths.values())
        common = max(dict.fromkeys(values),
                     key=lambda v: (values.count(v), v == header.length, -values.index(v)))
        bad = next(t for t, n in lengths.items() if n != common)
        good = next(t for t, n in lengths.items() if n == common)
        raise AudioError(f"{files[bad]}: {lengths[bad]} samples but {files[good].name} has {common}; "
                         "all estimates of a track must have one length (museval stacks them)")
    return next(iter(lengths.values()))


def run(args):
    import pandas as pd

    from ..aggregation import format_report
    from ..datasets import open_dataset, resolve_root
    from ..errors import MssOracleError

    check_scoring_args(args)
    args.start, args.duration = check_excerpt_args(args.start, args.duration)
    metrics = parse_metric_list(args.metrics)  # a MUSDB track always has its mixture: no metric is refused
    convention, headline = parse_aggregation_options(args, valid_targets=MUSDB_TARGET_NAMES)
    est_dir = Path(args.estimates_dir)
    if not est_dir.is_dir():
        raise ParameterError(f"{est_dir}: no such folder (EST_DIR, the estimates: "
                             "EST_DIR/<subset>/<track>/<target>.wav)")
    out_dir = Path(args.out) if args.out else est_dir
    # the output first: writable, outside the dataset (nothing is created before the work starts)
    check_output_dir(out_dir, data_roots=(resolve_root(args.root),),
                     option="--out" if args.out else "EST_DIR (the default --out)", create=False)
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

    # pre-flight: every selected track's reference and estimate headers, before any track is scored
    check_excerpt_tracks([track for track, _, _ in todo], args.start, args.duration)
    checked = []
    for track, folder, files in todo:
        header = track.check()
        length = check_estimates(files, header)
        checked.append((track, folder, files, header, length))

    frames, failed = [], []
    for i, (track, folder, files, header, est_len) in enumerate(checked, 1):
        path = out_dir / track.subset / f"{track.name}.json" if track.subset else out_dir / f"{track.name}.json"
        # what only decoding shows (NaN/inf samples, damaged audio data): this track is reported now and
        # nothing of it is written; the other tracks go on; the command exits 2 at the end
        try:
            scores = _score_track(track, folder, files, header, est_len, dataset, method, args, metrics)
        except MssOracleError as exc:
            print(f"mssoracle museval: error: [{i}/{len(checked)}] track {_track_label(track)!r} not scored: {exc}",
                  file=sys.stderr)
            failed.append(_track_label(track))
            continue
        print_warnings("museval", scores.warnings, track.name)
        scores.save(path)
        print(f"[{i}/{len(checked)}] {path}", file=sys.stderr)
        df = scores.df  # framewise and whole-track rows
        if len(df):
            frames.append(df)
    if not frames:
        if not failed:
            print("no target scored (fewer than two estimates per track)")
    else:
        df = pd.concat(frames, ignore_index=True)
        done = len(checked) - len(failed)
        print(f"{method}: {done} track(s)")
        print(format_report(df, convention=convention, headline_targets=headline))
    if failed:
        raise AudioError(f"{len(failed)} of {len(checked)} track(s) failed while decoding and were not scored "
                         f"(no file written for them): {', '.join(failed)}; fix the files named above and rerun")
    return 0


def _score_track(track, folder, files, header, est_len, dataset, method, args, metrics):
    """Decode one track's estimates and references, score them with ``metrics``; a :class:`TrackScores`."""
    from ..audio import read_audio
    from ..bsseval import TrackScores
    from ..bsseval.track import TrackEvaluator
    from ..metrics.registry import MetricContext, add_scores

    estimates, rates = {}, {}
    for t, p in files.items():
        estimates[t], rates[t] = read_audio(p)
    from ..datasets import excerpt_samples

    offset, frames = excerpt_samples(args.start, args.duration, track.sample_rate)
    audio = track.load(offset=offset, frames=frames)  # the references of --start/--duration (default: whole)
    for t, p in files.items():  # a stem file's header may leave its rate unknown: checked on the decoded audio
        if rates[t] != audio.sample_rate:
            raise AudioError(f"{p}: {rates[t]} Hz but the reference {header.path} is {audio.sample_rate} Hz; "
                             "estimates must have the reference's sample rate (nothing is resampled)")
    if est_len != audio.length:
        how = "padded with zeros" if est_len < audio.length else "cut"
        print(f"mssoracle museval: {folder}: the estimates have {est_len} samples, the reference {header.path} "
              f"{audio.length}: {how} to {audio.length} (as museval)", file=sys.stderr)
    references = {k: v.T for k, v in audio.references().items()}
    config = {
        "command": "museval",
        "method": method,
        "track": track.name,
        "subset": track.subset,
        "estimates": str(folder),
        "root": str(dataset.root) if dataset.root else None,
        "targets": list(estimates),
        "metrics": [m.name for m in metrics],
        "excerpt": {"start": args.start, "duration": args.duration},
    }
    evaluator = TrackEvaluator(references, sample_rate=audio.sample_rate, win=args.win, hop=args.hop,
                               mode=args.mode, backend=args.backend, device=args.device,
                               track_name=track.name, on_silent="nan", emit_warnings=False)
    if any(m.compute is None for m in metrics):  # bssv4
        scores = evaluator.evaluate({k: v.T for k, v in estimates.items()}, config=config, method=method)
    else:
        scores = TrackScores(track.name, win=args.win, hop=args.hop, method=method, config=config,
                             bsseval=evaluator.parameters())
        scores.duration = audio.length / audio.sample_rate
        scores.warnings = []
    others = [m for m in metrics if m.compute is not None]
    if others:
        rate = audio.sample_rate
        scored = [t for t in estimates if t in references]  # museval scores the targets that have a reference
        ctx = MetricContext(track=track.name, sample_rate=rate, win=int(args.win * rate), hop=int(args.hop * rate),
                            references={t: references[t].T for t in scored},
                            estimates={t: fit_length(estimates[t], audio.length) for t in scored},
                            derived={}, mixture=audio.mixture, grouping="museval")
        add_scores(scores, others, ctx)
    return scores

