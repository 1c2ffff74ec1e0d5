"""Time and peak memory of the metric kernels against their peers, on a 4-minute tile of a real preview.

A real MUSDB18 preview (``../shared/data/musdb18hq-sample``; else the stempeg
preview, as :func:`bench_eval.load_preview`) is tiled to ``--seconds`` (240)
and stored as float32 ``(channels, time)`` arrays, the runner's precision; the
estimates are each stem plus leakage of the others and a little noise.  Every
case runs in its own subprocess (load the arrays, then ``--repeat`` calls);
:func:`bench_memory.measure` samples the RSS of that process from ``/proc``
every 10 ms.  Reported: the median call time and the peak RSS above the
process's RSS once its inputs are loaded (the kernel's working memory), and the
ratios peer / ours.

Pairs (ours, then the peer, in the same run):

* ``usdr`` (float64, and ``dtype="float32"``) against the MDX 2021/2023 evaluator's and demucs'
  ``new_sdr`` formula in plain numpy on the whole arrays (a transcription of the published formula,
  written here: ``10 log10((sum s^2 + 1e-7) / (sum (s - s_hat)^2 + 1e-7))``), one stereo stem;
* ``si_sdr`` against torchmetrics' ``scale_invariant_signal_distortion_ratio`` (float32 tensors
  sharing the numpy memory; skipped when torchmetrics is not installed), one stereo stem;
* ``snr_framewise`` against our BSS Eval v4 (``mssoracle.bsseval.evaluate``, whose SDR it equals),
  the four stems in one call, 1 s frames.

Usage::

    python benchmarks/bench_metrics.py [--seconds 240] [--repeat 3] [--skip-bsseval]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_eval import load_preview  # noqa: E402  (the preview bench_eval and bench_memory tile)
from bench_memory import MIB, measure, tree_rss  # noqa: E402  (the /proc sampling)

STEMS = ("drums", "bass", "other", "vocals")
#: case -> (group, label)
CASES = {
    "usdr": ("usdr", "ours usdr (float64)"),
    "usdr32": ("usdr", "ours usdr (dtype=float32)"),
    "mdx": ("usdr", "MDX/demucs formula, numpy"),
    "sisdr": ("sisdr", "ours si_sdr"),
    "torchmetrics": ("sisdr", "torchmetrics si_sdr"),
    "snr": ("snr", "ours snr_framewise"),
    "bsseval": ("snr", "ours BSS Eval v4 (SDR..SAR)"),
}
PAIRS = (("usdr", "mdx"), ("usdr32", "mdx"), ("sisdr", "torchmetrics"), ("snr", "bsseval"))


def mdx_sdr(references, estimates):
    """The MDX 2021/2023 evaluator's / demucs' ``new_sdr`` formula, transcribed in plain numpy (whole arrays)."""
    delta = 1e-7
    num = np.sum(np.square(references), axis=(-2, -1))
    den = np.sum(np.square(references - estimates), axis=(-2, -1))
    num += delta
    den += delta
    return 10 * np.log10(num / den)


def make_data(folder, seconds):
    stems, sr, name = load_preview()
    n = int(seconds * sr)
    rs = np.random.RandomState(0)
    refs = np.empty((4, 2, n), dtype=np.float32)
    for j, s in enumerate(STEMS):
        x = stems[s].T
        reps = -(-n // x.shape[1])
        refs[j] = np.tile(x, (1, reps))[:, :n]
    est = np.empty_like(refs)
    for j in range(4):
        leak = sum(0.2 * refs[k] for k in range(4) if k != j)
        est[j] = refs[j] + leak + 0.01 * rs.standard_normal((2, n)).astype(np.float32)
    np.save(folder / "refs.npy", refs)
    np.save(folder / "est.npy", est)
    return name, sr, n


def child(case, folder, repeat):
    import mssoracle.metrics as metrics

    if CASES[case][0] == "sisdr":
        import torch  # noqa: F401  (both sides of the pair pay the same imports)
        try:
            import torchmetrics.functional.audio as tma
        except ImportError:
            tma = None
    refs = np.load(folder / "refs.npy")
    est = np.load(folder / "est.npy")
    r, e = refs[3], est[3]  # vocals (channels, time)
    if case == "usdr":
        fn = lambda: metrics.usdr(r, e)  # noqa: E731
    elif case == "usdr32":
        fn = lambda: metrics.usdr(r, e, dtype="float32")  # noqa: E731
    elif case == "mdx":
        fn = lambda: mdx_sdr(r, e)  # noqa: E731
    elif case == "sisdr":
        fn = lambda: metrics.si_sdr(r, e)  # noqa: E731
    elif case == "torchmetrics":
        tr, te = torch.from_numpy(r), torch.from_numpy(e)
        fn = lambda: tma.scale_invariant_signal_distortion_ratio(te, tr).double().mean(-1).numpy()  # noqa: E731
    elif case == "snr":
        fn = lambda: metrics.snr_framewise(refs, est, win=44100, hop=44100)  # noqa: E731
    elif case == "bsseval":
        from mssoracle.bsseval import evaluate

        fn = lambda: evaluate(refs.transpose(0, 2, 1), est.transpose(0, 2, 1), win=44100, hop=44100)[0]  # noqa: E731
    base = tree_rss(os.getpid())
    times, value = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    value = np.asarray(value, dtype=np.float64)
    print(json.dumps({"base": base, "times": times, "value": float(np.nanmedian(value))}))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=240.0)
    ap.add_argument("--repeat", type=int, default=3, help="calls per case (median time; default 3)")
    ap.add_argument("--skip-bsseval", action="store_true", help="leave out BSS Eval (the slowest case)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args.child, args.data, args.repeat)
    try:
        import torchmetrics  # noqa: F401
        have_tm = True
    except ImportError:
        have_tm = False
    cases = [c for c in CASES
             if not (c == "torchmetrics" and not have_tm) and not (c == "bsseval" and args.skip_bsseval)]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        name, sr, n = make_data(folder, args.seconds)
        print(f"input: {name} tiled to {n / sr:.0f} s, stereo float32 at {sr} Hz "
              f"({n * 2 * 4 / MIB:.0f} MiB per signal); {args.repeat} call(s) per case")
        for case in cases:
            repeat = 1 if case == "bsseval" else args.repeat
            cmd = [sys.executable, __file__, "--child", case, "--data", str(folder), "--repeat", str(repeat)]
            peak, _, _, out = measure(cmd)
            info = json.loads(out.strip().splitlines()[-1])
            t = statistics.median(info["times"])
            extra = max(0, peak - info["base"])
            results[case] = (t, extra, info["value"])
            print(f"{CASES[case][1]:32s} {t:8.3f} s   peak above inputs {extra / MIB:8.1f} MiB   "
                  f"(process peak {peak / MIB:.0f} MiB; value {info['value']:.4f})", flush=True)
    print()
    for ours, peer in PAIRS:
        if ours in results and peer in results:
            (t0, m0, _), (t1, m1, _) = results[ours], results[peer]
            print(f"{CASES[peer][1]} / {CASES[ours][1]}: time {t1 / t0:.2f}x, "
                  f"peak memory {m1 / max(m0, 1):.1f}x ({m1 / MIB:.1f} / {m0 / MIB:.1f} MiB)")
    if "usdr" in results and "mdx" in results:
        print(f"|ours - MDX formula| = {abs(results['usdr'][2] - results['mdx'][2]):.2e} dB (float32 formula "
              "vs float64 ours)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
