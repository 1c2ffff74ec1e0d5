"""``mssoracle eval``: oracle estimates for every track x transform x oracle, scored with BSS Eval v4."""

import os
import shutil
from pathlib import Path

from ..errors import MssOracleError, ParameterError
from ._common import (add_data_options, add_excerpt_options, add_metric_options, check_excerpt_args,
                      check_excerpt_tracks, open_dataset_from_args, parse_aggregation_options, parse_metric_list,
                      split_oracle_specs, split_transform_specs)

from ..constants import PRECISIONS, SISEC18_STFT_SPEC

DEFAULT_ORACLES = "irm1,mpi"
DEFAULT_TRANSFORMS = "stft:2048,stft:4096"
#: the oracles of --preset sisec18, in the order they are printed
SISEC18_PRESET_ORACLES = "irm1,irm2,ibm1,ibm2,mwf,mix"
#: the seed project's epsilon (``np.finfo(np.float32).eps``), added to its IRM's denominator and to the sum of
#: stems whose phase its MPI takes (``librosa.magphase(eps + sum_k S_k)``)
SEED_EPS = 1.1920928955078125e-07
#: the oracles of --preset seed: its IRM1 and its MPI (the phase of eps + the sum of the stems)
SEED_PRESET_ORACLES = f"irm1[eps={SEED_EPS!r}],mpi[phase=sum,eps={SEED_EPS!r}]"
#: the seed's windows (its config's stft_configs.window_sizes)
SEED_PRESET_WINDOWS = (2048, 4096)


def seed_stft_spec(window):
    """The seed's STFT of ``window`` samples: ``scipy.signal.stft(nperseg=W, noverlap=W // 4)``, periodic Hann,
    hop ``W - W // 4`` (3W/4): ``stft:W:3W/4``."""
    window = int(window)
    return f"stft:{window}:{window - window // 4}"


def _seed_transforms(transforms):
    """--preset seed's transforms: the seed's STFT at each window (default 2048, 4096); a --transform must be one."""
    from ..transforms import from_spec

    if not transforms:
        return [seed_stft_spec(w) for w in SEED_PRESET_WINDOWS]
    for spec in transforms:
        t = from_spec(spec)
        n = getattr(t, "n_fft", None)
        if n is None or t.spec != from_spec(seed_stft_spec(n)).spec:
            raise ParameterError(f"--preset seed takes only the seed's STFT (scipy, periodic Hann, noverlap W//4: "
                                 f"hop 3W/4, e.g. {seed_stft_spec(8192)}), got --transform {spec}")
    return transforms


def add_parser(subparsers, name):
    p = subparsers.add_parser(
        name, help="oracle separation scores (BSS Eval v4) for transforms x oracles",
        description="Build the oracle estimate of every target for each transform x oracle, score it with "
                    "BSS Eval v4 (museval-exact) and print the median scores over frames and tracks.",
    )
    add_data_options(p)
    add_excerpt_options(p)
    p.add_argument("--oracle", action="append", metavar="LIST",
                   help=f"comma-separated oracles (default {DEFAULT_ORACLES}; with --preset sisec18: "
                        f"{SISEC18_PRESET_ORACLES}); see `mssoracle oracles`")
    p.add_argument("--transform", action="append", metavar="LIST",
                   help=f"comma-separated transform specs (default {DEFAULT_TRANSFORMS}), e.g. stft:4096:1024, "
                        "stft:n_fft=4096,hop=1024,window=hann, nsgt:bark:262:32.9, slicq:log:262:32.9")
    p.add_argument("--preset", choices=["sisec18", "seed"],
                   help="sisec18: sigsep-mus-oracle's STFT (scipy, 2048 Hann, 50%% overlap) and the "
                        "SiSEC 2018 oracles, in float64, for `mssoracle compare-sisec18`; seed: the seed project's "
                        "(sevagh/mss-oracle-experiments) STFT (scipy noverlap=W//4: stft:W:3W/4, windows 2048 and "
                        "4096 unless --transform names others of that form), its IRM1 and MPI (phase of the sum of "
                        "the stems) with its eps (float32's, 1.19e-7), in float32")
    p.add_argument("--precision", metavar="{float32,float64}",
                   help="precision of signals, coefficients and estimates (default float32; float64 with "
                        "--preset sisec18); BSS Eval accumulates in float64 either way")
    p.add_argument("--mixture", choices=["file", "sum"], default="file",
                   help="mixture given to the oracles: the mixture file (default, as SiSEC) or the sum of stems")
    p.add_argument("--targets", help="comma-separated targets to print (every target is always computed and "
                                     "stored)")
    add_metric_options(p)
    p.add_argument("--out", default="mssoracle-out", help="output folder (default ./mssoracle-out)")
    p.add_argument("--save-estimates", action="store_true",
                   help="also write the estimates of every target as WAV files")
    g = p.add_argument_group("execution and resume")
    g.add_argument("--executor", choices=["serial", "processes", "dask"],
                   help="where the jobs (one track x transform each) run: serial (default), processes "
                        "(--jobs worker processes), dask (a Dask cluster, see --scheduler)")
    g.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="workers: processes, or Dask workers of --scheduler local (default 1; N > 1 without "
                        "--executor means processes)")
    g.add_argument("--scheduler", metavar="local|tcp://HOST:PORT",
                   help="with --executor dask: local (default) starts a LocalCluster of --jobs workers, one thread "
                        "each; tcp://HOST:8786 uses a running cluster")
    g.add_argument("--memory-limit", metavar="SIZE",
                   help="memory limit of each Dask worker of --scheduler local (e.g. 4GiB; Dask restarts a worker "
                        "at 95%% of it)")
    g.add_argument("--fail-fast", action="store_true",
                   help="stop at the first failed job (default: report it at once, finish the others, exit 2)")
    g.add_argument("--dry-run", action="store_true",
                   help="list the jobs this command would run and skip, and why; compute and write nothing")
    g.add_argument("--force", action="store_true", help="recompute every job, whatever is stored")
    p.add_argument("--win", type=float, default=1.0, help="BSS Eval window in seconds (default 1.0)")
    p.add_argument("--hop", type=float, default=1.0, help="BSS Eval hop in seconds (default 1.0)")
    p.add_argument("--backend", choices=["numpy", "torch"], default="numpy",
                   help="numpy (default), or torch: transforms, oracles and BSS Eval on torch tensors")
    p.add_argument("--device", help="torch device for --backend torch, e.g. cuda (default cpu)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)
    return p


def _listed(values, option, split):
    """The specs of a repeatable LIST option; an option given but empty is an error."""
    if values is None:
        return []
    specs = split(values)
    if not specs:
        raise ParameterError(f"{option} is empty; give at least one name (see `mssoracle {option.lstrip('-')}s`)"
                             if option != "--transform" else
                             "--transform is empty; give at least one spec, e.g. stft:2048")
    return specs


def run(args):
    from ..experiment import Experiment, JobsFailed, get_executor, run_experiment
    from ._common import check_device, check_output_dir

    transforms = _listed(args.transform, "--transform", split_transform_specs)
    oracles = _listed(args.oracle, "--oracle", split_oracle_specs)
    precision = args.precision
    if precision is not None and precision not in PRECISIONS:
        raise ParameterError(f"--precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if args.preset == "sisec18":
        if transforms:
            raise ParameterError("--preset sisec18 fixes the transform; drop --transform")
        if precision == "float32":
            raise ParameterError("--preset sisec18 computes in float64 (bit-comparable with sigsep-mus-oracle); "
                                 "drop --precision float32")
        transforms = [SISEC18_STFT_SPEC]
        oracles = oracles or split_oracle_specs([SISEC18_PRESET_ORACLES])
        precision = "float64"
    elif args.preset == "seed":
        if oracles:
            raise ParameterError(f"--preset seed fixes the oracles ({SEED_PRESET_ORACLES}); drop --oracle")
        if precision == "float64":
            raise ParameterError("--preset seed computes in float32 (the seed's complex64 coefficients); "
                                 "drop --precision float64")
        if args.mixture != "file":
            raise ParameterError("--preset seed gives the oracles the mixture file (the seed's track.audio); "
                                 "drop --mixture sum")
        transforms = _seed_transforms(transforms)
        oracles = split_oracle_specs([SEED_PRESET_ORACLES])
        precision = "float32"
    precision = precision or "float32"
    start, duration = check_excerpt_args(args.start, args.duration)
    metrics = [m.name for m in parse_metric_list(args.metrics)]  # every oracle has a mixture: no metric refused
    parse_aggregation_options(args)  # --aggregate now; --headline-targets again once the targets are known
    transforms = transforms or split_transform_specs([DEFAULT_TRANSFORMS])
    oracles = oracles or split_oracle_specs([DEFAULT_ORACLES])
    check_device(args.backend, args.device)
    if args.jobs < 1:
        raise ParameterError(f"--jobs must be at least 1, got {args.jobs}")
    executor_name = args.executor or ("processes" if args.jobs > 1 else "serial")
    if executor_name == "serial" and args.jobs > 1:
        raise ParameterError("--jobs N > 1 needs --executor processes or dask (serial runs one job at a time)")
    if (args.scheduler or args.memory_limit) and executor_name != "dask":
        raise ParameterError("--scheduler and --memory-limit need --executor dask")
    targets = None
    if args.targets is not None:
        targets = [t.strip() for t in args.targets.split(",") if t.strip()]
        if not targets:
            raise ParameterError("--targets is empty; give target names, e.g. --targets vocals,accompaniment")
    if args.force and args.dry_run:
        raise ParameterError("--dry-run lists what would run; drop --force (or --dry-run)")
    dataset = open_dataset_from_args(args)
    check_excerpt_tracks(dataset, start, duration)  # from the headers, before any work
    out = Path(args.out)
    experiment = Experiment(
        dataset=dataset, transforms=transforms, oracles=oracles, out=out, mixture=args.mixture,
        targets=targets, win=args.win, hop=args.hop, save_estimates=args.save_estimates,
        backend=args.backend, device=args.device, precision=precision, metrics=metrics,
        start=start, duration=duration,
    )
    stems = tuple(dataset[0].stem_names)
    valid = stems + (("accompaniment",) if "vocals" in stems and len(stems) > 1 else ())
    if targets:
        unknown = [t for t in targets if t not in valid]
        if unknown:
            raise ParameterError(f"--targets: unknown target(s) {', '.join(unknown)}; valid: {', '.join(valid)}")
    convention, headline = parse_aggregation_options(args, valid_targets=valid)
    report = {"convention": convention, "headline_targets": headline, "targets": targets}
    executor = get_executor(executor_name, jobs=args.jobs, scheduler=args.scheduler,
                            memory_limit=args.memory_limit)
    roots = [dataset.root] if dataset.root is not None else []
    created = False
    if args.dry_run:  # the same checks, nothing created
        check_output_dir(out, data_roots=roots, create=False)
    else:  # last check before any work: nothing is created when an earlier one fails
        created = not out.exists()
        check_output_dir(out, data_roots=roots)
    try:
        table = run_experiment(experiment, executor=executor, progress=not args.no_progress, force=args.force,
                               dry_run=args.dry_run, fail_fast=args.fail_fast)
    except JobsFailed as exc:  # the completed jobs are printed, then the one-line error (exit 2)
        _print(exc.table, report, out)
        raise
    except MssOracleError:  # e.g. an unreachable cluster: leave no folder this command made for nothing
        if created and not list(out.glob("scores/*/*/*/*.json")):
            shutil.rmtree(out, ignore_errors=True)
        raise
    if table is not None:  # None: a dry run
        _print(table, report, out)
    return 0


def _print(table, report, out):
    from ..aggregation import format_report

    if table is None or not len(table):
        return
    print(format_report(table, **report))
    print(f"\nscores: {out / 'scores'}{os.sep}  tables (every result under {out}): {out / 'results.csv'}, "
          f"{out / 'summary.csv'}")
