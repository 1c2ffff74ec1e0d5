"""``mssoracle transforms [SPEC...]``: the registered kinds and scales, or the size and resolution of
transforms before running them."""

import sys

from .. import validators
from ..errors import ParameterError
from ..transforms import SCALE_KINDS, TRANSFORMS, from_spec
from ..transforms.nsgt_compat import CompatNSGT

STFT_REFERENCE = "stft:4096:1024"


def add_parser(subparsers, name):
    p = subparsers.add_parser(
        name, help="list transform kinds and scales, or describe transforms: bins, groups, slice length, "
                   "coefficients per second, memory",
        description="Without a spec, list the registered transform kinds and frequency scales. "
                    "For each transform spec print its bins, groups, slice length, complex coefficients per "
                    f"second of stereo audio (and the ratio to {STFT_REFERENCE}), the longest window, and the "
                    "memory of its coefficients for a track; warn when the matrix form would need more than "
                    "--max-memory.",
    )
    p.add_argument("specs", nargs="*", metavar="SPEC",
                   help="transform specs, e.g. slicq:bark:262:32.9 nsgt:scale=log,bins=262,fmin=32.9 stft:4096:1024")
    p.add_argument("--sample-rate", type=int, default=44100, help="sampling rate in Hz (default 44100)")
    p.add_argument("--duration", type=float, default=240.0,
                   help="track length in seconds for the memory estimate (default 240, a 4-minute track)")
    p.add_argument("--max-memory", type=float, default=4.0, metavar="GB",
                   help="warn when the matrix form of a track's coefficients needs more (default 4 GB)")
    p.set_defaults(run=run)
    return p


def _rate(t, sample_rate, seconds=60):
    """Complex coefficients per second of stereo audio, counted on ``seconds`` of silence."""
    import numpy as np

    coefs = t.forward(np.zeros((2, seconds * sample_rate), dtype=np.float32))
    return sum(int(np.prod(c.shape)) for c in coefs) / seconds, coefs


def _stft_rate(sample_rate):
    """Complex coefficients per second of stereo audio of the reference STFT."""
    try:
        return _rate(from_spec(STFT_REFERENCE, sample_rate=sample_rate), sample_rate)[0]
    except (ImportError, ParameterError):  # no stft module: its formula
        n_fft, hop = 4096, 1024
        return (n_fft // 2 + 1) * sample_rate / hop * 2


def _gb(n_complex, itemsize=8):
    """GB of ``n_complex`` coefficients in complex64 (the default precision; twice that in float64)."""
    return n_complex * itemsize / 1e9


def describe(spec, *, sample_rate, duration, stft_rate):
    """Lines describing one spec, warnings, and the matrix form's GB (None for an STFT)."""
    t = from_spec(spec, sample_rate=sample_rate)
    length = max(1, int(round(duration * sample_rate)))
    lines, warnings = [f"{t.spec}  ({t.name})"], []
    if isinstance(t, CompatNSGT):
        return describe_compat(t, lines, sample_rate=sample_rate, length=length, duration=duration,
                               stft_rate=stft_rate)
    if not hasattr(t, "scale"):  # an STFT or another transform without a frequency scale
        per_sec, coefs = _rate(t, sample_rate)
        lines.append(f"  bins {coefs[0].shape[-2]}, groups {len(coefs)}")
        lines.append(f"  complex coefficients per second of stereo: {per_sec:,.0f} "
                     f"(x{per_sec / stft_rate:.2f} {STFT_REFERENCE})")
        lines.append(f"  memory for {duration:g} s of stereo (complex64, whole signal): {_gb(per_sec * duration):.2f} GB")
        return lines, warnings, None
    s = t.scale
    sliced = getattr(t, "sliced", False)
    plan = t.plan(length)
    layout = t.layout(length)
    extra = s.bands - s.bins
    lines.append(f"  bins {s.bins} ({'+' + str(extra) if extra else 'no'} DC/Nyquist band{'s' if extra != 1 else ''}"
                 f" = {s.bands} bands), groups {len(layout)} ({t.form})")
    if sliced:
        slices_per_sec = sample_rate / t.hop
        per_sec = plan.K * slices_per_sec * 2
        lines.append(f"  slice length {t.sllen} ({t.sllen / sample_rate * 1000:.0f} ms), transition {t.trlen}, "
                     f"hop {t.hop}, FFT length {plan.N}")
        n_slices = t.n_slices(length)
        matrix = s.bands * int(plan.M.max()) * n_slices * 2
        ragged = plan.K * n_slices * 2
    else:
        per_sec = plan.K / (length / sample_rate) * 2
        lines.append(f"  slice length: none (one NSGT over the whole signal; FFT length {plan.N} "
                     f"for {duration:g} s)")
        matrix = s.bands * int(plan.M.max()) * 2
        ragged = plan.K * 2
    lines.append(f"  complex coefficients per second of stereo: {per_sec:,.0f} (x{per_sec / stft_rate:.2f} "
                 f"{STFT_REFERENCE})")
    lw = s.longest_window()
    lines.append(f"  longest window: {lw} samples ({lw / sample_rate * 1000:.1f} ms, lowest bandwidth "
                 f"{sample_rate / lw:.2f} Hz); time samples per band {int(plan.M.min())}..{int(plan.M.max())}"
                 f"{' per slice' if sliced else ''}; frame bounds [{plan.frame_bounds[0]:.3f}, "
                 f"{plan.frame_bounds[1]:.3f}]")
    if t.form == "matrix":
        lines.append(f"  memory for {duration:g} s of stereo (complex64, whole signal): matrix {_gb(matrix):.2f} GB")
    else:
        lines.append(f"  memory for {duration:g} s of stereo (complex64, whole signal): ragged {_gb(ragged):.2f} GB, "
                     f"matrix form {_gb(matrix):.2f} GB")
    return lines, warnings, _gb(matrix)


def describe_compat(t, lines, *, sample_rate, length, duration, stft_rate):
    """:func:`describe` for a ``compat=nsgt`` transform (nsgt 0.19's layout: its computed bands, window
    lengths in FFT bins, the diagonal of its frame operator)."""
    sliced = t.sliced
    plan = t.plan(t.sllen if sliced else length)
    groups = plan.groups
    nb = len(plan.bands)
    kept = plan.K
    dropped = f", {t.bins - kept} at/above Nyquist dropped as the package does" if kept < t.bins else ""
    what = {0: f"DC + {kept} + Nyquist", 1: "reducedform=1: no DC/Nyquist",
            2: "reducedform=2: no DC/Nyquist nor the end bands"}[t.reducedform]
    lines.append(f"  bins {t.bins} ({kept} below Nyquist{dropped}; {nb} computed bands: {what}), "
                 f"groups {len(groups)} ({t.form})")
    per_slice = sum(len(g.bands) * g.M for g in groups)
    Ms = [g.M for g in groups]
    if sliced:
        per_sec = per_slice * sample_rate / t.hop * 2
        lines.append(f"  slice length {t.sllen} ({t.sllen / sample_rate * 1000:.0f} ms), transition {t.trlen}, "
                     f"hop {t.hop}, FFT length {plan.nn}")
        n_slices = t.n_slices(length)
        matrix = nb * max(int(m) for m in plan.M[plan.bands]) * n_slices * 2
        ragged = per_slice * n_slices * 2
    else:
        per_sec = per_slice / (length / sample_rate) * 2
        lines.append(f"  slice length: none (one NSGT over the whole signal; FFT length {plan.nn} "
                     f"for {duration:g} s)")
        matrix = nb * max(int(m) for m in plan.M[plan.bands]) * 2
        ragged = per_slice * 2
    lines.append(f"  complex coefficients per second of stereo: {per_sec:,.0f} (x{per_sec / stft_rate:.2f} "
                 f"{STFT_REFERENCE})")
    lens = plan.lengths[plan.bands]
    lo, hi = t.frame_bounds(t.sllen if sliced else length)
    lines.append(f"  window lengths {int(lens.min())}..{int(lens.max())} FFT bins (of {plan.nn}); time samples per "
                 f"band {min(Ms)}..{max(Ms)}{' per slice' if sliced else ''}; frame bounds (the package's "
                 f"normalisation) [{lo:.3f}, {hi:.3f}]")
    if t.form == "matrix":
        lines.append(f"  memory for {duration:g} s of stereo (complex64, whole signal): matrix {_gb(matrix):.2f} GB")
    else:
        lines.append(f"  memory for {duration:g} s of stereo (complex64, whole signal): ragged {_gb(ragged):.2f} GB, "
                     f"matrix form {_gb(matrix):.2f} GB")
    return lines, [], _gb(matrix)


def list_registered():
    """Lines listing the registered transform kinds and frequency scales."""
    lines = ["transform kinds:"]
    for kind in TRANSFORMS:
        info = TRANSFORMS.info(kind)
        example = f"  (e.g. {info['example']})" if info.get("example") else ""
        lines.append(f"  {kind:<8} {info.get('description', '')}{example}")
    lines.append("frequency scales (nsgt, slicq):")
    for name in SCALE_KINDS:
        kind = SCALE_KINDS.get(name)
        lines.append(f"  {name:<8} {kind.description} (default bins {kind.default_bins})")
    return lines


def run(args):
    validators.sample_rate(args.sample_rate, "--sample-rate")
    if not args.specs:
        print("\n".join(list_registered()))
        return 0
    validators.seconds(args.duration, "--duration")
    validators.number(args.max_memory, "--max-memory (GB)", minimum=0, strict=True)
    # validate every spec first, so that a bad one fails before any output
    for spec in args.specs:
        from_spec(spec, sample_rate=args.sample_rate)
    stft_rate = _stft_rate(args.sample_rate)
    for i, spec in enumerate(args.specs):
        lines, warnings, matrix_gb = describe(spec, sample_rate=args.sample_rate, duration=args.duration,
                                              stft_rate=stft_rate)
        if matrix_gb is not None and matrix_gb > args.max_memory:
            t = from_spec(spec, sample_rate=args.sample_rate)
            what = "its matrix form" if t.form == "matrix" else "form=matrix"
            warnings.append(f"warning: {t.spec}: {what} would need {matrix_gb:.1f} GB for {args.duration:g} s of "
                            f"stereo (complex128), more than --max-memory {args.max_memory:g} GB")
        if i:
            print()
        print("\n".join(lines))
        for w in warnings:
            print(w, file=sys.stderr)
    return 0
