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


def add_excerpt_options(parser):
    """``--start SECONDS --duration SECONDS``: score an excerpt of every track (musdb's chunk_start/chunk_duration)."""
    g = parser.add_argument_group("excerpt")
    g.add_argument("--start", type=float, default=None, metavar="SECONDS",
                   help="score the excerpt that starts here (default 0), as musdb's chunk_start: from sample "
                        "int(start * rate); part of the method name (+start=...)")
    g.add_argument("--duration", type=float, default=None, metavar="SECONDS",
                   help="score int(duration * rate) samples from --start (default: to the end), as musdb's "
                        "chunk_duration; part of the method name (+duration=...)")
    return g


def check_excerpt_args(start, duration):
    """The checked ``(start, duration)`` seconds of ``--start``/``--duration`` (one line per bad value)."""
    import math

    from ..errors import ParameterError

    if start is not None and not (math.isfinite(start) and start >= 0):
        raise ParameterError(f"--start {start:g}: must be a number of seconds >= 0 (and inside every track)")
    if duration is not None and not (math.isfinite(duration) and duration > 0):
        raise ParameterError(f"--duration {duration:g}: must be a number of seconds > 0 (and fit in every track)")
    return (0.0 if start is None else float(start)), (None if duration is None else float(duration))


def check_excerpt_tracks(dataset, start, duration):
    """Check, from the headers and before any work, that the excerpt lies inside every selected track.

    One line (:class:`ParameterError`, exit 2) naming the value, the track and the valid range.  A stem file's
    header gives only an upper bound of its length: what surely lies outside is refused here, the rest when it
    is decoded.
    """
    from ..datasets import check_excerpt, excerpt_samples

    if not start and duration is None:
        return
    for track in dataset:
        length, exact = track.header_length()
        if length is None:
            continue
        sr = track.sample_rate
        offset, frames = excerpt_samples(start, duration, sr)
        check_excerpt(offset, frames, length, track, sr, start=start, duration=duration, exact=exact)


def open_dataset_from_args(args):
    from ..datasets import open_dataset

    subset = args.subset
    if subset is None:
        subset = "train" if args.split else "test"
    return open_dataset(args.root, subset=subset, split=args.split, n_tracks=args.tracks, seed=args.seed,
                        track_names=args.track)


# --------------------------------------------------------------------------------------------
# Pre-flight checks: every user error before any work
# --------------------------------------------------------------------------------------------

#: what to do about an output location that cannot be written
_WRITABLE_HINT = "choose a writable location"


def _strerror(exc):
    return exc.strerror or str(exc) or type(exc).__name__


def _inside(path, root):
    """True when ``path`` is ``root`` or lies under it (both resolved)."""
    return path == root or root in path.parents


def check_output_dir(out, *, data_roots=(), option="--out", create=True):
    """Prove that ``out`` can hold results, before any work is done; return it as a :class:`~pathlib.Path`.

    Refuses a path inside (or equal to) any data root (both resolved, symlinks followed: results
    written into a dataset break the next scan of it) and an existing path that is not a folder.
    Creates the folder (and missing parents), then writes and deletes a hidden probe file in it.
    When a check fails, the folders this call created are removed again: nothing is left behind.

    Parameters
    ----------
    out : str or Path
        The output folder the user gave.
    data_roots : iterable of str or Path or None
        Dataset roots of the command (None entries, e.g. the default sample, are skipped).
    option : str
        The option that gave ``out``, for messages (``--out``, ``-o``).
    create : bool
        Create the folder now (default).  With False nothing is created: the probe file goes
        into the nearest existing folder on the way to ``out`` (the writer creates the rest).

    Returns
    -------
    Path
        ``out`` as given (not resolved).

    Raises
    ------
    ParameterError
        ``out`` lies inside a data root.
    OutputError
        ``out`` exists and is not a folder, or it cannot be created or written.
    """
    from pathlib import Path

    from ..errors import OutputError, ParameterError

    out = Path(out).expanduser()
    if str(out) == "":
        raise ParameterError(f"{option} is empty; give an output folder")
    resolved = out.resolve()
    for root in data_roots:
        if root is None or str(root) == "":
            continue
        rroot = Path(root).expanduser().resolve()
        if _inside(resolved, rroot):
            raise ParameterError(f"{option} {out}: inside the data root {root}; results written there would be "
                                 f"read as part of the dataset: choose an output folder outside {root}")
    if out.exists() and not out.is_dir():
        raise OutputError(f"{option} {out}: exists and is not a folder; give a folder (or a new path)")

    if not create:
        _probe_nearest_folder(out, option, out)
        return out

    created = []  # the folders made here, deepest last
    stage = "cannot create the folder"
    try:
        missing = [p for p in [out, *out.parents] if not p.exists()]
        for p in reversed(missing):
            p.mkdir()
            created.append(p)
        stage = "cannot write in the folder"
        _probe_folder(out)
    except OSError as exc:
        for p in reversed(created):
            try:
                p.rmdir()
            except OSError:
                pass
        where = exc.filename
        where = "" if not where or Path(where) == out or Path(where).parent == out else f"{where}: "
        raise OutputError(f"{option} {out}: {stage} ({where}{_strerror(exc)}); {_WRITABLE_HINT}") from None
    return out


def _probe_folder(folder):
    """Write and delete a hidden probe file in ``folder``; the OSError of a failure propagates."""
    import os
    import secrets

    probe = folder / f".mssoracle-probe-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        with open(probe, "xb") as f:
            f.write(b"probe")
    finally:
        try:
            os.unlink(probe)
        except OSError:
            pass


def check_output_file(path, *, option="--json", data_roots=()):
    """Prove that the file ``path`` can be written, creating nothing; return it as a :class:`~pathlib.Path`.

    Refuses an existing folder (a file is written there), a path inside a data root, and a
    location whose nearest existing folder cannot be written (probed with a hidden file, deleted
    at once).  Missing parent folders are not created here (the writer creates them), so a command
    that fails later leaves nothing behind.

    Raises
    ------
    ParameterError
        ``path`` lies inside a data root.
    OutputError
        ``path`` is a folder, or its folder cannot be written; one line naming ``option`` and ``path``.
    """
    from pathlib import Path

    from ..errors import OutputError, ParameterError

    path = Path(path).expanduser()
    if str(path) in ("", "."):
        raise ParameterError(f"{option} is empty; give a file name")
    if path.is_dir():
        raise OutputError(f"{option} {path}: is a folder; give a file name (e.g. {path / 'scores.json'})")
    resolved = path.resolve()
    for root in data_roots:
        if root is None or str(root) == "":
            continue
        if _inside(resolved, Path(root).expanduser().resolve()):
            raise ParameterError(f"{option} {path}: inside the data root {root}; choose a location outside it")
    _probe_nearest_folder(path.parent, option, path)
    return path


def _probe_nearest_folder(start, option, given):
    """Probe-write the nearest existing folder at or above ``start``, creating nothing; OutputError naming ``given``."""
    from ..errors import OutputError

    folder = start
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"{option} {given}: {folder} is not a folder; choose another location")
    try:
        _probe_folder(folder)
    except OSError as exc:
        where = "the folder" if folder == given else str(folder)
        raise OutputError(f"{option} {given}: cannot write in {where} ({_strerror(exc)}); "
                          f"{_WRITABLE_HINT}") from None


#: device types ``--device`` accepts, and how to tell whether this machine has one
_DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu")


def check_device(backend, device):
    """Check ``--backend``/``--device`` before any data is loaded; return the device as a string (or None).

    ``--device`` needs ``--backend torch``; with torch, the device string must parse
    (:class:`torch.device`), be a CPU, CUDA, MPS or XPU device, and exist on this machine
    (``--device cuda`` without CUDA, ``cuda:3`` on a machine with two GPUs, ``mps`` without
    Metal).  torch is imported only for ``backend == "torch"``.

    Raises
    ------
    ParameterError
        One line naming ``--device`` (or ``--backend``), what is wrong and what to do.
    """
    from ..errors import ParameterError

    if backend != "torch":
        if device is not None:
            raise ParameterError(f"--device {device} needs --backend torch")
        return None
    try:
        import torch
    except ImportError:
        raise ParameterError("--backend torch needs PyTorch: pip install 'mssoracle[torch]'") from None
    if device is None:
        return None
    try:
        dev = torch.device(str(device).strip())
    except (RuntimeError, ValueError, TypeError) as exc:
        msg = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
        why = f" ({msg})" if msg and len(msg) <= 80 else ""
        raise ParameterError(f"--device {device!r} is not a torch device{why}; "
                             "use cpu, cuda, cuda:N or mps") from None
    if dev.type not in _DEVICE_TYPES:
        raise ParameterError(f"--device {device}: device type {dev.type!r} is not supported; "
                             f"use one of {', '.join(_DEVICE_TYPES)} (cuda:N for a given GPU)")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            why = ("this PyTorch is built without CUDA" if torch.version.cuda is None
                   else "no CUDA GPU is visible")
            raise ParameterError(f"--device {device}: CUDA is not available ({why}, torch {torch.__version__}); "
                                 "use --device cpu, or install a CUDA build of PyTorch on a machine with a GPU")
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise ParameterError(f"--device {device}: this machine has {count} CUDA device(s) "
                                 f"(cuda:0..cuda:{count - 1}); choose one of them")
    elif dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ParameterError(f"--device {device}: MPS (Apple Metal) is not available on this machine; "
                                 "use --device cpu")
    elif dev.type == "xpu":
        xpu = getattr(torch, "xpu", None)
        if xpu is None or not xpu.is_available():
            raise ParameterError(f"--device {device}: no Intel XPU is available on this machine; use --device cpu")
    return str(device)


def add_metric_options(parser, *, aggregate=True, group=None):
    """``--metrics`` and, with ``aggregate``, ``--aggregate`` and ``--headline-targets``."""
    g = group if group is not None else parser.add_argument_group("metrics and aggregation")
    g.add_argument("--metrics", action="append", metavar="LIST",
                   help="comma-separated metrics (default bssv4), e.g. bssv4,usdr,sisdr,usdri,sisdri,snr; "
                        "see `mssoracle metrics`")
    if aggregate:
        g.add_argument("--aggregate", metavar="{sisec,mdx}",
                       help="sisec (default, SiSEC 2018): per track the median over frames, then the median over "
                            "tracks; mdx (MDX 2021/2023, demucs): the same per-track values, then the mean over "
                            "tracks")
        g.add_argument("--headline-targets", metavar="LIST",
                       help="targets of the headline line (median SDR, and its uSDR/SI-SDR twins); default "
                            "drums,bass,other,vocals (the seed's and MDX's); e.g. "
                            "drums,bass,other,vocals,accompaniment")
    return g


def parse_metric_list(values, *, option="--metrics"):
    """The :class:`~mssoracle.metrics.Metric` s of a repeatable ``--metrics LIST`` (default ``bssv4``)."""
    from ..errors import ParameterError
    from ..metrics import METRICS, parse_metrics

    if values is None:
        return parse_metrics(["bssv4"])
    names = [m.strip() for v in values for m in str(v).split(",") if m.strip()]
    if not names:
        raise ParameterError(f"{option} is empty; give at least one metric: {', '.join(METRICS.names())}")
    return parse_metrics(names)


def parse_aggregation_options(args, *, valid_targets=None):
    """``(convention name, headline targets)`` of ``--aggregate`` and ``--headline-targets``.

    ``valid_targets``: the target names the data has (an unknown headline target is then an error).
    """
    from ..aggregation import DEFAULT_CONVENTION, HEADLINE_TARGETS, get_convention
    from ..errors import ParameterError

    convention = get_convention(args.aggregate or DEFAULT_CONVENTION).name
    headline = HEADLINE_TARGETS
    if getattr(args, "headline_targets", None) is not None:
        headline = tuple(dict.fromkeys(t.strip() for t in args.headline_targets.split(",") if t.strip()))
        if not headline:
            raise ParameterError("--headline-targets is empty; give target names, e.g. "
                                 "--headline-targets drums,bass,other,vocals")
        if valid_targets is not None:
            unknown = [t for t in headline if t not in valid_targets]
            if unknown:
                raise ParameterError(f"--headline-targets: unknown target(s) {', '.join(unknown)}; valid: "
                                     f"{', '.join(valid_targets)}")
    return convention, headline


def check_mixture_metrics(metrics, *, available, what):
    """Refuse, before any work, a metric that needs a mixture where there is none.

    ``what``: how to provide one (e.g. ``"give --mixture FILE, the mixture the estimates were separated from"``).
    """
    from ..errors import ParameterError

    need = [m.name for m in metrics if m.needs_mixture]
    if need and not available:
        raise ParameterError(f"--metrics {','.join(need)}: {'this metric needs' if len(need) == 1 else 'these need'} "
                             f"the mixture (scored as the estimate of every target) and there is none; {what}")


def fit_length(x, length):
    """A ``(channels, time)`` signal at ``length`` samples: zero padded or cut (museval's ``pad_or_truncate``;
    a view when cut or already that long)."""
    import numpy as np

    if x.shape[-1] >= length:
        return x[..., :length]
    return np.pad(x, ((0, 0), (0, length - x.shape[-1])))
