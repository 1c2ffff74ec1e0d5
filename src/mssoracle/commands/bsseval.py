"""``mssoracle bsseval``: BSS Eval of a folder of estimate WAVs against a folder of reference WAVs.

A drop-in for museval's ``bsseval`` command, with files matched by name.
"""

import sys
from pathlib import Path

from .. import validators
from ..errors import AudioError, ParameterError
from ._common import add_metric_options, check_device, check_mixture_metrics, check_output_file, fit_length, \
    parse_metric_list

HELP = "BSS Eval v4 of estimate WAVs against reference WAVs matched by file name (museval's bsseval)"

DESCRIPTION = """\
Score every REF_DIR/NAME.wav against EST_DIR/NAME.wav in one BSS Eval call (all files
together, as museval's bsseval does) and print, per file, the median over frames of
SDR, SIR, ISR and SAR.  Every reference needs an estimate and vice versa; all files need
the same sample rate and channel count, the references the same length; estimates are
padded with zeros or cut to that length.  A silent reference or estimate is scored as NaN
(with a warning) and left out of the call.  --json writes museval's per-track JSON.
--metrics adds uSDR, SI-SDR and a framewise SNR (per file); their improvements over the
mixture (usdri, sisdri) need --mixture FILE, the mixture the estimates were separated from."""


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
    check_device(args.backend, args.device)


def add_parser(subparsers, name):
    p = subparsers.add_parser(name, help=HELP, description=DESCRIPTION)
    p.add_argument("reference_dir", metavar="REF_DIR", help="folder of reference .wav files")
    p.add_argument("estimates_dir", metavar="EST_DIR", help="folder of estimate .wav files (same names)")
    add_scoring_options(p)
    p.add_argument("--json", metavar="OUT", help="write the frame-wise scores to this JSON file (museval format)")
    p.add_argument("-o", dest="output_dir", metavar="DIR",
                   help="museval's option: write the JSON to DIR/<REF_DIR name>.json")
    g = add_metric_options(p, aggregate=False)
    g.add_argument("--mixture", metavar="FILE",
                   help="the mixture WAV the estimates were separated from (needed by --metrics usdri,sisdri; "
                        "same rate, channels and length as the references)")
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
    from ..audio import audio_info, read_audio

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
    # headers first (readable, one sample rate, one channel count, one reference length), then the samples
    infos = {}
    for kind, files in (("reference", refs), ("estimate", ests)):
        for name, path in files.items():
            infos[(kind, name)] = (path, *audio_info(path))
    items = list(infos.values())
    rate, rate_file = _common_value([(p, sr) for p, sr, _, _ in items])
    chans, chans_file = _common_value([(p, ch) for p, _, ch, _ in items])
    length, length_file = _common_value([(p, n) for (k, _), (p, _, _, n) in infos.items() if k == "reference"])
    for (kind, name), (path, sr, ch, n) in infos.items():
        if sr != rate:
            raise AudioError(f"{path}: {sr} Hz but {rate_file} is {rate} Hz; all files must have the "
                             "same sample rate")
        if ch != chans:
            raise AudioError(f"{path}: {ch} channel(s) but {chans_file} has {chans}; "
                             "all files must have the same channel count")
        if kind == "reference" and n != length:
            raise AudioError(f"{path}: {n} samples but {length_file} has {length}; "
                             "all references must have the same length")
        if n <= ch:
            raise AudioError(f"{path}: only {n} sample(s); too short to score")
    out_refs, out_ests = {}, {}
    for kind, files, out in (("reference", refs, out_refs), ("estimate", ests, out_ests)):
        for name, path in files.items():
            audio, _ = read_audio(path)
            out[name] = audio.T
    return out_refs, out_ests, rate


def _common_value(pairs):
    """The value most files share (ties: the first file's), and a file that has it: the odd file is
    the one an error names."""
    values = [v for _, v in pairs]
    best = max(dict.fromkeys(values), key=lambda v: (values.count(v), -values.index(v)))
    return best, next(p for p, v in pairs if v == best)


def read_mixture(path, sample_rate, channels, length):
    """Read ``--mixture FILE`` after checking its header against the references'; ``(channels, time)``."""
    from ..audio import audio_info, read_audio

    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"{path}: no such file (--mixture, the mixture the estimates were separated from)")
    sr, ch, n = audio_info(path)
    if sr != sample_rate or ch != channels or n != length:
        raise AudioError(f"{path}: {sr} Hz, {ch} channel(s), {n} samples but the references are {sample_rate} Hz, "
                         f"{channels} channel(s), {length} samples; --mixture must be the references' mixture")
    audio, _ = read_audio(path)  # (channels, time)
    return audio


def run(args):
    from ..bsseval import TrackScores
    from ..bsseval.track import TrackEvaluator
    from ..metrics.registry import MetricContext, add_scores

    check_scoring_args(args)
    metrics = parse_metric_list(args.metrics)
    check_mixture_metrics(metrics, available=args.mixture is not None,
                          what="give --mixture FILE, the mixture the estimates were separated from")
    ref_dir = Path(args.reference_dir)
    track_name = ref_dir.resolve().name or str(ref_dir)
    # every output is proven writable before anything is read, scored or printed
    outputs = []
    if args.json:
        outputs.append(check_output_file(args.json, option="--json"))
    if args.output_dir:
        check_output_file(Path(args.output_dir) / f"{track_name}.json", option="-o")
        outputs.append(Path(args.output_dir) / f"{track_name}.json")
    refs, ests, sr = read_matched(ref_dir, Path(args.estimates_dir))
    nsampl, nchan = next(iter(refs.values())).shape
    mixture = read_mixture(args.mixture, sr, nchan, nsampl) if args.mixture is not None else None
    config = {
        "command": "bsseval",
        "references": str(ref_dir),
        "estimates": str(args.estimates_dir),
        "files": list(refs),
        "metrics": [m.name for m in metrics],
    }
    if args.mixture is not None:
        config["mixture"] = str(args.mixture)
    evaluator = TrackEvaluator(refs, sample_rate=sr, win=args.win, hop=args.hop, mode=args.mode,
                               backend=args.backend, device=args.device, track_name=track_name,
                               on_silent="nan", grouping="joint", emit_warnings=False)
    if any(m.compute is None for m in metrics):  # bssv4
        scores = evaluator.evaluate(ests, config=config)
    else:
        scores = TrackScores(track_name, win=args.win, hop=args.hop, config=config, bsseval=evaluator.parameters())
        scores.duration = nsampl / sr
        scores.warnings = []
    others = [m for m in metrics if m.compute is not None]
    if others:
        ctx = MetricContext(track=track_name, sample_rate=sr, win=int(args.win * sr), hop=int(args.hop * sr),
                            references={n: r.T for n, r in refs.items()},
                            estimates={n: fit_length(ests[n].T, nsampl) for n in refs}, derived={},
                            mixture=mixture, grouping="joint")
        add_scores(scores, others, ctx)
    print_warnings("bsseval", scores.warnings, track_name)
    names = [m.name for m in metrics]
    print(f"{track_name}: {len(refs)} file(s), {sr} Hz, {evaluator.nchan} channel(s), "
          f"{evaluator.nwin} frame(s) of {args.win:g} s (hop {args.hop:g} s), "
          f"{'BSS Eval ' + args.mode if names == ['bssv4'] else ', '.join(names)}; median over frames"
          f"{'' if all(m.framewise for m in metrics) else ' (whole-file metrics: the value)'}:")
    if names == ["bssv4"]:
        print(repr(scores), end="")
    else:
        from ..aggregation import metric_order, track_values
        from ..bsseval.museval_io import format_medians
        from ..constants import MUSEVAL_TARGET_ORDER

        values = track_values(scores.df)
        order = [t for t in MUSEVAL_TARGET_ORDER if t in refs] + [t for t in refs if t not in MUSEVAL_TARGET_ORDER]
        print(format_medians(values, targets=order, metrics=metric_order(list(dict.fromkeys(values["metric"])))))
    for out in outputs:
        scores.save(out)
        print(f"scores written to {out}")
    return 0
