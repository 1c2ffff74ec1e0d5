"""``mssoracle bsseval``: BSS Eval of a folder of estimate WAVs against a folder of reference WAVs.

A drop-in for museval's ``bsseval`` command, with files matched by name.
"""

import sys
from pathlib import Path

from .. import validators
from ..errors import AudioError, ParameterError

HELP = "BSS Eval v4 of estimate WAVs against reference WAVs matched by file name (museval's bsseval)"

DESCRIPTION = """\
Score every REF_DIR/NAME.wav against EST_DIR/NAME.wav in one BSS Eval call (all files
together, as museval's bsseval does) and print, per file, the median over frames of
SDR, SIR, ISR and SAR.  Every reference needs an estimate and vice versa; all files need
the same sample rate and channel count, the references the same length; estimates are
padded with zeros or cut to that length.  A silent reference or estimate is scored as NaN
(with a warning) and left out of the call.  --json writes museval's per-track JSON."""


def add_scoring_options(parser):
    """``--win``, ``--hop``, ``--mode`` (``-m``), ``--backend``, ``--device``."""
    g = parser.add_argument_group("scoring")
    g.add_argument("--win", type=float, default=1.0, help="frame length in seconds (default 1.0)")
    g.add_argument("--hop", type=float, default=1.0, help="frame hop in seconds (default 1.0)")
    g.add_argument("--mode", "-m", default="v4", choices=["v4", "v3"],
                   help="v4: distortion filters from the whole track (default); v3: per frame")
    g.add_argument("--backend", default="numpy", choices=["numpy", "torch"], help="engine backend (default numpy)")
    g.add_argument("--device", default=None, help="torch device, e.g. cuda (with --backend torch)")
    return g


def check_scoring_args(args):
    for name in ("win", "hop"):
        value = getattr(args, name)
        try:
            validators.seconds(value, f"--{name}")
        except ParameterError:
            raise ParameterError(f"--{name} must be a positive number of seconds, got {value}") from None
    if args.device is not None and args.backend != "torch":
        raise ParameterError(f"--device {args.device} needs --backend torch")


def add_parser(subparsers, name):
    p = subparsers.add_parser(name, help=HELP, description=DESCRIPTION)
    p.add_argument("reference_dir", metavar="REF_DIR", help="folder of reference .wav files")
    p.add_argument("estimates_dir", metavar="EST_DIR", help="folder of estimate .wav files (same names)")
    add_scoring_options(p)
    p.add_argument("--json", metavar="OUT", help="write the frame-wise scores to this JSON file (museval format)")
    p.add_argument("-o", dest="output_dir", metavar="DIR",
                   help="museval's option: write the JSON to DIR/<REF_DIR name>.json")
    p.set_defaults(run=run)
    return p


def print_warnings(command, items, context=None):
    """Print the warnings of a result (:attr:`TrackScores.warnings`) as ``mssoracle COMMAND: warning: ...``.

    Each message once; ``context`` (a track name) prefixes messages that do not already start with it.
    """
    seen = set()
    for w in items:
        msg = str(w["message"])
        if msg in seen:
            continue
        seen.add(msg)
        if context and not msg.startswith(f"{context}:"):
            msg = f"{context}: {msg}"
        print(f"mssoracle {command}: warning: {msg}", file=sys.stderr)


def _wav_files(folder, label):
    folder = Path(folder)
    if not folder.exists():
        raise ParameterError(f"{folder}: no such folder ({label})")
    if not folder.is_dir():
        raise ParameterError(f"{folder}: not a folder ({label}); give a folder of .wav files")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".wav" and not p.name.startswith("."))
    if not files:
        raise AudioError(f"{folder}: no .wav files ({label})")
    return {p.stem: p for p in files}


def read_matched(reference_dir, estimates_dir):
    """Read and check the matched files; return ``(references, estimates, sample_rate)``.

    Both dicts map names to ``(nsampl, nchan)`` arrays, in sorted name order.
    """
    from ..audio import read_audio

    refs = _wav_files(reference_dir, "REF_DIR")
    ests = _wav_files(estimates_dir, "EST_DIR")
    missing = [n for n in refs if n not in ests]
    extra = [n for n in ests if n not in refs]
    if missing:
        raise AudioError(f"{estimates_dir}: no estimate for reference(s) "
                         f"{', '.join(refs[n].name for n in missing)}; every reference needs an estimate "
                         "of the same name")
    if extra:
        raise AudioError(f"{reference_dir}: no reference for estimate(s) "
                         f"{', '.join(ests[n].name for n in extra)}; every estimate needs a reference "
                         "of the same name")
    first = None
    out_refs, out_ests = {}, {}
    for kind, files, out in (("reference", refs, out_refs), ("estimate", ests, out_ests)):
        for name, path in files.items():
            audio, sr = read_audio(path)
            if first is None:
                first = (path, sr, audio.shape)
            elif sr != first[1]:
                raise AudioError(f"{path}: {sr} Hz but {first[0]} is {first[1]} Hz; all files must have the "
                                 "same sample rate")
            elif audio.shape[0] != first[2][0]:
                raise AudioError(f"{path}: {audio.shape[0]} channel(s) but {first[0]} has {first[2][0]}; "
                                 "all files must have the same channel count")
            elif kind == "reference" and audio.shape[1] != first[2][1]:
                raise AudioError(f"{path}: {audio.shape[1]} samples but {first[0]} has {first[2][1]}; "
                                 "all references must have the same length")
            if audio.shape[1] <= audio.shape[0]:
                raise AudioError(f"{path}: only {audio.shape[1]} sample(s); too short to score")
            out[name] = audio.T
    return out_refs, out_ests, first[1]


def run(args):
    from ..bsseval.track import TrackEvaluator

    check_scoring_args(args)
    ref_dir = Path(args.reference_dir)
    refs, ests, sr = read_matched(ref_dir, Path(args.estimates_dir))
    track_name = ref_dir.resolve().name or str(ref_dir)
    config = {
        "command": "bsseval",
        "references": str(ref_dir),
        "estimates": str(args.estimates_dir),
        "files": list(refs),
    }
    evaluator = TrackEvaluator(refs, sample_rate=sr, win=args.win, hop=args.hop, mode=args.mode,
                               backend=args.backend, device=args.device, track_name=track_name,
                               on_silent="nan", grouping="joint", emit_warnings=False)
    scores = evaluator.evaluate(ests, config=config)
    print_warnings("bsseval", scores.warnings, track_name)
    print(f"{track_name}: {len(refs)} file(s), {sr} Hz, {evaluator.nchan} channel(s), "
          f"{evaluator.nwin} frame(s) of {args.win:g} s (hop {args.hop:g} s), BSS Eval {args.mode}; "
          "median over frames:")
    print(repr(scores), end="")
    outputs = []
    if args.json:
        outputs.append(Path(args.json))
    if args.output_dir:
        outputs.append(Path(args.output_dir) / f"{track_name}.json")
    for out in outputs:
        scores.save(out)
        print(f"scores written to {out}")
    return 0
