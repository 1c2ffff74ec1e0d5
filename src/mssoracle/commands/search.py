"""``mssoracle search``: the best NSGT/sliCQT (or STFT) per target for an oracle, with Optuna, against the STFT
control; one process, several, Dask workers or machines sharing one study (see :mod:`mssoracle.search`)."""

import re
import sys
from pathlib import Path

from ..errors import MssOracleError, ParameterError

DEFAULTS = {"scales": "bark,mel,log,vqlog,oct,lin", "bins": "10:300", "fmin": "10:130", "gamma": "0:100",
            "max_sllen": 44100, "windows": "256:16384"}
DEFAULT_CONTROL = "stft:2048:512,stft:4096:1024"
DEFAULT_OUT = "mssoracle-search"
VALIDATE_CHOICES = ("test", "train", "valid")


def add_parser(subparsers, name):
    from ._common import add_data_options, add_excerpt_options

    p = subparsers.add_parser(
        name, help="search NSGT/sliCQT/STFT parameters for an oracle with Optuna (best per target, STFT control)",
        description="Search transform parameters that maximise an oracle's score (default: the median SDR that "
                    "`mssoracle eval` prints, from the same code) with Optuna; trials are shared through a study "
                    "storage (default OUT/study.journal) by any number of processes, Dask workers or machines. "
                    "Writes OUT/trials.csv, OUT/best.txt and, at the end, eval's results of the best "
                    "configurations and of the STFT control.")
    g = p.add_argument_group("search space")
    g.add_argument("--family", choices=["slicq", "nsgt", "stft"], default="slicq",
                   help="transform family searched (default slicq)")
    g.add_argument("--scales", help=f"comma-separated frequency scales (default {DEFAULTS['scales']})")
    g.add_argument("--bins", metavar="LOW:HIGH", help=f"bins (default {DEFAULTS['bins']}; one value fixes it)")
    g.add_argument("--fmin", metavar="LOW:HIGH", help=f"lowest frequency in Hz, step 0.1 (default {DEFAULTS['fmin']})")
    g.add_argument("--gamma", metavar="LOW:HIGH",
                   help=f"vqlog's bandwidth offset in Hz, step 0.1, vqlog only (default {DEFAULTS['gamma']})")
    g.add_argument("--max-sllen", type=int, metavar="SAMPLES",
                   help=f"prune sliCQT candidates whose slice length exceeds it (default {DEFAULTS['max_sllen']})")
    g.add_argument("--windows", metavar="LOW:HIGH|LIST",
                   help=f"STFT windows: the powers of two of a range (default {DEFAULTS['windows']}: 7 windows) or "
                        "a list; hop n_fft/4 (--preset seed: 3W/4)")
    g.add_argument("--compat", choices=["nsgt"], help="search the nsgt-compatible transform (compat=nsgt specs)")
    g.add_argument("--memory-budget", default="4GiB", metavar="SIZE",
                   help="prune candidates whose coefficients (one block of the mixture and stems) exceed it "
                        "(default 4GiB)")
    g.add_argument("--enqueue", action="append", metavar="SPEC",
                   help="start from this transform spec (repeatable), e.g. slicq:bark:262:32.9")
    g = p.add_argument_group("objective")
    g.add_argument("--oracle", default="mpi", help="the oracle (default mpi); see `mssoracle oracles`")
    g.add_argument("--objective", default="SDR",
                   help="the metric maximised (default SDR: BSS Eval v4, as eval prints); any output of the metrics "
                        "registry: SDR, SIR, ISR, SAR, uSDR, SI-SDR, SNR, ... (see `mssoracle metrics`)")
    g.add_argument("--target", default="median",
                   help="median (over drums, bass, other, vocals; default) or one target: vocals, drums, bass, "
                        "other, accompaniment")
    g.add_argument("--full-scoring", action="store_true",
                   help="score SDR trials with the full BSS Eval v4 engine instead of its exact per-frame SNR form")
    g.add_argument("--preset", choices=["seed"],
                   help="seed: the seed project's STFT hop 3W/4 (searched windows and the control), its oracle "
                        "(irm1 or mpi with its eps, mpi: the phase of the sum of the stems), float32")
    g.add_argument("--precision", choices=["float32", "float64"], help="as eval (default float32)")
    g.add_argument("--mixture", choices=["file", "sum"], default="file", help="as eval (default file)")
    g.add_argument("--win", type=float, default=1.0, help="BSS Eval window in seconds (default 1.0)")
    g.add_argument("--hop", type=float, default=1.0, help="BSS Eval hop in seconds (default 1.0)")
    g.add_argument("--backend", choices=["numpy", "torch"], default="numpy", help="as eval")
    g.add_argument("--device", help="torch device for --backend torch (e.g. cuda)")
    g = p.add_argument_group("study")
    g.add_argument("--trials", type=int, default=20, metavar="N",
                   help="completed trials the study should hold (default 20); a larger N continues a study; "
                        "pruned and failed trials do not count, attempts stop at 10 N")
    g.add_argument("--sampler", choices=["tpe", "random", "grid"], default="tpe",
                   help="tpe (default; constant liar for parallel workers), random, or grid (every configuration "
                        "of the space, as an explicit list of canonical specs)")
    g.add_argument("--storage", metavar="URL",
                   help="Optuna storage: journal:///ABS/PATH (default OUT/study.journal), sqlite:///PATH or "
                        "another database URL (postgresql+psycopg2://USER:PASSWORD@HOST/DB)")
    g.add_argument("--study", default="search", metavar="NAME", help="study name (default search)")
    g.add_argument("--trial-timeout", type=float, metavar="SECONDS", help="fail a trial that runs longer")
    g.add_argument("--lease", type=float, default=3600.0, metavar="SECONDS",
                   help="a running trial of another host without a heartbeat (one per track) for this long is "
                        "failed and retried (default 3600)")
    g.add_argument("--worker-index", type=int, default=0, metavar="K",
                   help="index of this command's first worker in the sampler seed (give each command that "
                        "shares a study its own: 0, 1, ...)")
    g.add_argument("--cache", metavar="DIR", help="track cache folder (default OUT/cache)")
    g = p.add_argument_group("outputs")
    g.add_argument("--out", default=DEFAULT_OUT, help=f"output folder (default ./{DEFAULT_OUT})")
    g.add_argument("--control", metavar="LIST",
                   help=f"the STFT control scored in the final eval (default {DEFAULT_CONTROL}; --preset seed: "
                        "stft:2048:1536,stft:4096:3072)")
    g.add_argument("--validate-on", choices=VALIDATE_CHOICES, metavar="SUBSET_OR_SPLIT",
                   help="final eval on other tracks of --root: test (subset), train or valid (the official "
                        "split of the train subset)")
    g.add_argument("--no-final-eval", action="store_true",
                   help="skip the final eval of the best configurations and the control")
    g.add_argument("--quiet", action="store_true", help="no line per trial")
    add_data_options(p)
    add_excerpt_options(p)
    g = p.add_argument_group("execution")
    g.add_argument("--executor", choices=["serial", "processes", "dask"],
                   help="where the search workers run: serial (default: this process), processes (--jobs), dask")
    g.add_argument("--jobs", type=int, default=1, metavar="N", help="search workers (default 1)")
    g.add_argument("--scheduler", metavar="local|tcp://HOST:PORT", help="with --executor dask, as eval")
    g.add_argument("--memory-limit", metavar="SIZE", help="with --executor dask --scheduler local, as eval")
    p.set_defaults(run=run)
    return p


def _size(text):
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([KMGT]?i?B?)\s*", str(text), re.IGNORECASE)
    if not m:
        raise ParameterError(f"--memory-budget must be a size such as 4GiB or 1500MB, got {text!r}")
    unit = m.group(2).upper().replace("B", "").replace("I", "")
    factor = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[unit]
    n = int(float(m.group(1)) * factor)
    if n <= 0:
        raise ParameterError(f"--memory-budget must be positive, got {text!r}")
    return n


def _given(value, key):
    return DEFAULTS[key] if value is None else value


def build_space(args):
    """The :class:`~mssoracle.search.space.SearchSpace` of the options (impossible combinations refused)."""
    from ..search.space import (GAMMA_STEP, SearchSpace, parse_float_range, parse_int_range, parse_scales,
                                parse_windows)

    fam = args.family
    if fam == "stft":
        given = [o for o, v in (("--scales", args.scales), ("--bins", args.bins), ("--fmin", args.fmin),
                                ("--gamma", args.gamma), ("--max-sllen", args.max_sllen),
                                ("--compat", args.compat)) if v is not None]
        if given:
            raise ParameterError(f"{given[0]} does not apply to --family stft (its parameter is --windows)")
        return SearchSpace("stft", windows=parse_windows(_given(args.windows, "windows")), preset=args.preset)
    if args.windows is not None:
        raise ParameterError(f"--windows applies to --family stft, not {fam} (use --bins/--fmin/--scales)")
    if fam == "nsgt" and args.max_sllen is not None:
        raise ParameterError("--max-sllen applies to --family slicq (the non-sliced NSGT has no slice length)")
    scales = parse_scales(_given(args.scales, "scales"))
    if args.gamma is not None and "vqlog" not in scales:
        raise ParameterError(f"--gamma applies to the vqlog scale only, and --scales {','.join(scales)} has none")
    bins = parse_int_range(_given(args.bins, "bins"), "--bins")
    fmin = parse_float_range(_given(args.fmin, "fmin"), "--fmin", minimum=0.0, strict=True)
    gamma = parse_float_range(_given(args.gamma, "gamma"), "--gamma", step=GAMMA_STEP)
    max_sllen = None
    if fam == "slicq":
        max_sllen = DEFAULTS["max_sllen"] if args.max_sllen is None else args.max_sllen
        if max_sllen < 4:
            raise ParameterError(f"--max-sllen {max_sllen}: must be at least 4 samples")
    if fmin.high >= 22050:
        raise ParameterError(f"--fmin {fmin.text()}: must stay below the Nyquist frequency (22050 Hz at 44.1 kHz)")
    return SearchSpace(fam, scales=scales, bins=bins, fmin=fmin, gamma=gamma, max_sllen=max_sllen,
                       compat=args.compat)


def _oracle(args):
    from ..oracles import get_oracle
    from .eval import SEED_EPS

    spec = args.oracle.strip()
    if args.preset == "seed":
        base = spec.split("[", 1)[0].lower()
        seed = {"irm1": f"irm1[eps={SEED_EPS!r}]", "mpi": f"mpi[phase=sum,eps={SEED_EPS!r}]"}
        if base not in seed or "[" in spec:
            raise ParameterError(f"--preset seed has the seed's oracles irm1 and mpi only, got --oracle {spec}")
        spec = seed[base]
    try:
        return get_oracle(spec).name
    except ParameterError as exc:
        raise ParameterError(f"--oracle {spec}: {exc}") from None


def _controls(args):
    from ..transforms import from_spec
    from ._common import split_transform_specs
    from .eval import seed_stft_spec

    if args.control is None:
        specs = ([seed_stft_spec(2048), seed_stft_spec(4096)] if args.preset == "seed"
                 else split_transform_specs([DEFAULT_CONTROL]))
    else:
        specs = split_transform_specs([args.control])
        if not specs:
            raise ParameterError("--control is empty; give STFT specs, e.g. --control stft:4096:1024")
    out = []
    for s in specs:
        try:
            out.append(from_spec(s).spec)
        except ParameterError as exc:
            raise ParameterError(f"--control {s}: {exc}") from None
    return list(dict.fromkeys(out))


def _validation_dataset(args):
    from ..datasets import open_dataset

    if args.validate_on is None:
        return None
    subset, split = ("test", None) if args.validate_on == "test" else ("train", args.validate_on)
    ds = open_dataset(args.root, subset=subset, split=split)
    if len(ds) == 0:
        raise ParameterError(f"--validate-on {args.validate_on}: no track there")
    return ds


def _settings(space, dataset, fingerprints, oracle, objective, args, precision, start, duration):
    from .. import __version__

    return {"space": space.as_dict(), "tracks": [t.name for t in dataset], "fingerprints": list(fingerprints),
            "oracle": oracle, "objective": {"output": objective.output, "metric": objective.metric},
            "target": objective.target, "scoring": {"win": args.win, "hop": args.hop, "mode": "v4"},
            "excerpt": {"start": start, "duration": duration}, "mixture": args.mixture, "precision": precision,
            "version": __version__}


def _enqueue_params(space, specs):
    from ..transforms import from_spec

    out = []
    for spec in specs or []:
        try:
            t = from_spec(spec)
        except ParameterError as exc:
            raise ParameterError(f"--enqueue {spec}: {exc}") from None
        params = space.params_of(t)
        mine = from_spec(space.spec(params)).spec
        if mine != t.spec:
            raise ParameterError(f"--enqueue {spec}: the search builds {mine} from these parameters, not {t.spec} "
                                 "(the sliCQT's slice length is the scale's suggested one)")
        out.append((t.spec, params))
    return out


def _log(args, msg):
    if not args.quiet:
        print(f"mssoracle search: {msg}", file=sys.stderr, flush=True)


def run(args):
    try:
        import optuna
    except ImportError:
        raise ParameterError("mssoracle search needs Optuna: pip install 'mssoracle[search]'") from None

    from ..experiment import get_executor
    from ..experiment.fingerprint import CACHE_NAME, FingerprintCache
    from ..search.objective import TARGET_MEDIAN, Scorer, resolve_objective
    from ..search.study import (ATTEMPTS_PER_TRIAL, SETTINGS_KEY, WorkerConfig, check_settings, find_study,
                                open_storage, run_worker, storage_url)
    from ..search.trackcache import build_cache
    from ..transforms import from_spec
    from ._common import (check_device, check_excerpt_args, check_excerpt_tracks, check_output_dir,
                          open_dataset_from_args)

    # ---- every option, before any data or storage is touched
    space = build_space(args)
    if args.trials < 1:
        raise ParameterError(f"--trials must be at least 1, got {args.trials}")
    if args.jobs < 1:
        raise ParameterError(f"--jobs must be at least 1, got {args.jobs}")
    if args.worker_index < 0:
        raise ParameterError(f"--worker-index must be >= 0, got {args.worker_index}")
    if args.lease <= 0:
        raise ParameterError(f"--lease must be positive seconds, got {args.lease:g}")
    if args.trial_timeout is not None and not args.trial_timeout > 0:
        raise ParameterError(f"--trial-timeout must be positive seconds, got {args.trial_timeout:g}")
    if not (args.win > 0 and args.hop > 0):
        raise ParameterError(f"--win and --hop must be positive seconds, got {args.win:g} and {args.hop:g}")
    precision = args.precision or "float32"
    if args.preset == "seed":
        if precision != "float32":
            raise ParameterError("--preset seed computes in float32; drop --precision float64")
        if args.mixture != "file":
            raise ParameterError("--preset seed gives the oracles the mixture file; drop --mixture sum")
    memory_budget = _size(args.memory_budget)
    executor_name = args.executor or ("processes" if args.jobs > 1 else "serial")
    if executor_name == "serial" and args.jobs > 1:
        raise ParameterError("--jobs N > 1 needs --executor processes or dask")
    if (args.scheduler or args.memory_limit) and executor_name != "dask":
        raise ParameterError("--scheduler and --memory-limit need --executor dask")
    check_device(args.backend, args.device)
    start, duration = check_excerpt_args(args.start, args.duration)
    oracle = _oracle(args)
    target = str(args.target).strip().lower()
    objective = resolve_objective(args.objective, target=target, fast=not args.full_scoring)
    controls = _controls(args)
    enqueued = _enqueue_params(space, args.enqueue)
    grid = None
    if args.sampler == "grid":
        grid = []
        for s in space.grid():
            try:
                grid.append(from_spec(s).spec)
            except ParameterError:
                grid.append(s)  # cannot be built: its trial is pruned with the reason
        grid = list(dict.fromkeys(grid))
        size = len(grid)
    else:
        size = space.size()
    if grid is not None:
        for spec, _ in enqueued:
            if spec not in grid:
                raise ParameterError(f"--enqueue {spec}: not in the grid")
    if args.trials > size:
        raise ParameterError(f"--trials {args.trials}: the search space has only {size} configuration(s); "
                             f"give --trials {size} or less, or widen the ranges")
    dataset = open_dataset_from_args(args)
    if len(dataset) == 0:
        raise ParameterError("no track to search on: the dataset selection is empty")
    check_excerpt_tracks(dataset, start, duration)
    stems = tuple(dataset[0].stem_names)
    valid = stems + (("accompaniment",) if "vocals" in stems and len(stems) > 1 else ())
    if target != TARGET_MEDIAN and target not in valid:
        raise ParameterError(f"--target {args.target}: unknown target; valid: median, {', '.join(valid)}")
    validation = _validation_dataset(args)
    out = Path(args.out)
    roots = [r for r in (dataset.root, getattr(validation, "root", None)) if r is not None]
    check_output_dir(out, data_roots=roots, create=False)
    fps = FingerprintCache(out if out.is_dir() else None)
    fingerprints = [fps.track(t) for t in dataset]
    settings = _settings(space, dataset, fingerprints, oracle, objective, args, precision, start, duration)
    url = storage_url(args.storage, out)
    journal = url.startswith("journal:///")
    exists = not journal or Path("/" + url[len("journal:///"):]).is_file()
    study = None
    if exists:  # a mismatched study is refused before anything is written
        storage = open_storage(url, create=False)
        study = find_study(storage, args.study)
        if study is not None:
            check_settings(study, settings)

    # ---- work starts: the folder, the study, the cache
    check_output_dir(out, data_roots=roots)
    if fps.path is None:  # the digests computed above go to the new folder's cache
        fps.path = out / CACHE_NAME
    fps.save()
    storage = open_storage(url)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    created = False
    if study is None:
        study = optuna.create_study(storage=storage, study_name=args.study, direction="maximize",
                                    load_if_exists=True)
        if SETTINGS_KEY not in study.user_attrs:
            study.set_user_attr(SETTINGS_KEY, settings)
            created = True
        else:
            check_settings(study, settings)
    from ..search.outputs import best_trials, format_best, write_best, write_search_json, write_trials_csv

    write_search_json(out, storage=url, study=args.study, family=space.family, objective=objective.output,
                      target=target)
    present = {t.user_attrs.get("spec") for t in study.get_trials(deepcopy=False)}
    waiting = [t.params for t in study.get_trials(deepcopy=False) if t.state.name == "WAITING"]
    for spec, params in enqueued:
        p = {"spec": spec} if grid is not None else params
        if spec not in present and p not in waiting:
            study.enqueue_trial(p, user_attrs={"enqueued": spec})
    cache = Path(args.cache) if args.cache else out / "cache"
    cached = build_cache(dataset, cache, fingerprints=fingerprints, log=lambda m: _log(args, m))
    from ..datasets import excerpt_samples

    shapes = []
    for t in cached:  # views of the mapped files: nothing is read
        offset, frames = excerpt_samples(start, duration, t.sample_rate)
        shape = t.load(offset=offset, frames=frames).signals.shape
        shapes.append((shape[-1], shape[1], shape[0]))
    scorer = Scorer(cached, oracle, objective, out, mixture=args.mixture, precision=precision, win=args.win,
                    hop=args.hop, start=start, duration=duration, backend=args.backend, device=args.device)
    n_before = sum(t.state.name == "COMPLETE" for t in study.get_trials(deepcopy=False))
    _log(args, f"study {args.study!r} in {url}: {n_before} completed trial(s){' (new)' if created else ''}; "
               f"running until {args.trials} ({objective.describe()}, oracle {oracle}, {len(dataset)} track(s), "
               f"{args.jobs} worker(s))")
    configs = [WorkerConfig(storage=url, study=args.study, space=space, scorer=scorer, n_trials=args.trials,
                            sampler=args.sampler, seed=args.seed, worker=args.worker_index + i, grid=grid,
                            max_sllen=space.max_sllen, memory_budget=memory_budget, shapes=shapes,
                            trial_timeout=args.trial_timeout, lease=args.lease, quiet=args.quiet)
               for i in range(args.jobs)]
    if executor_name == "serial":
        run_worker(configs[0])
    else:
        executor = get_executor(executor_name, jobs=args.jobs, scheduler=args.scheduler,
                                memory_limit=args.memory_limit)
        errors = []
        with executor:
            for outcome in executor.run(run_worker, configs):
                if outcome.error is not None:
                    errors.append(outcome.error)
                    _log(args, f"error: worker {outcome.item.worker}: {outcome.error}")
        if errors:
            raise MssOracleError(f"{len(errors)} search worker(s) failed (first: {errors[0]}); the study keeps "
                                 "their completed trials: rerun the same command to continue")

    # ---- outputs
    study = optuna.load_study(study_name=args.study, storage=storage)
    targets = list(valid)
    write_trials_csv(out, study, space.parameter_names() if grid is None else ["spec"], targets)
    best = best_trials(study, targets, target)
    best_specs = write_best(out, best, objective, targets)
    counts = {}
    for t in study.get_trials(deepcopy=False):
        counts[t.state.name.lower()] = counts.get(t.state.name.lower(), 0) + 1
    n_done = counts.get("complete", 0)
    print(f"study {args.study!r}: {len(study.get_trials(deepcopy=False))} trial(s): "
          + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    print(format_best(best, objective, targets))
    print(f"\ntrials: {out / 'trials.csv'}  best: {out / 'best.txt'}  study: {url} ({args.study})")
    if n_done < args.trials:
        cap = ATTEMPTS_PER_TRIAL * args.trials
        raise MssOracleError(f"the study holds {n_done} completed trial(s), fewer than --trials {args.trials}, "
                             f"after {len(study.get_trials(deepcopy=False))} attempt(s) (cap {cap}); see the prune "
                             f"and fail reasons in {out / 'trials.csv'}")
    if args.no_final_eval or not best_specs:
        return 0
    return _final_eval(args, out, best_specs, controls, oracle, objective, precision, start, duration,
                       validation if validation is not None else dataset, executor_name)


def _final_eval(args, out, specs, controls, oracle, objective, precision, start, duration, dataset, executor_name):
    """``eval`` of the best specs and the control under OUT (eval's layout, the experiment runner's code)."""
    from ..aggregation import format_report
    from ..experiment import Experiment, get_executor, run_experiment

    metrics = ["bssv4"] + ([objective.metric] if objective.metric != "bssv4" else [])
    transforms = list(dict.fromkeys(list(specs) + list(controls)))
    experiment = Experiment(dataset=dataset, transforms=transforms, oracles=[oracle], out=out, mixture=args.mixture,
                            win=args.win, hop=args.hop, backend=args.backend, device=args.device,
                            precision=precision, metrics=metrics, start=start, duration=duration)
    executor = get_executor(executor_name, jobs=args.jobs, scheduler=args.scheduler, memory_limit=args.memory_limit)
    print(f"\nfinal eval: the best configuration(s) and the control ({', '.join(controls)}) on {len(dataset)} "
          f"track(s), every BSS Eval v4 metric")
    table = run_experiment(experiment, executor=executor, progress=False)
    print(format_report(table))
    print(f"\nscores: {out / 'scores'}  tables: {out / 'results.csv'}, {out / 'summary.csv'}")
    return 0
