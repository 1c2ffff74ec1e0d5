#!/usr/bin/env python
"""BSS Eval v4 of the five MUSDB targets of a 4-minute stereo track: mssoracle vs museval 0.4.1.

The 80s Rock preview of ``../shared/data/musdb18hq-sample`` is tiled to
``--seconds`` (default 240 s).  As ``museval.eval_mus_track`` does, the five
targets are scored by two calls: drums/bass/other/vocals (4 sources) and
vocals/accompaniment (2 sources), win = hop = 1 s, v4.  Estimates are the
references with 10 % leakage of the other stems and white noise at -25 dB,
accompaniment estimate = sum of the drums, bass and other estimates.

Each side runs in a fresh subprocess that loads the inputs first; time is the
median of ``--runs`` (``--museval-runs``) runs; memory is the peak RSS above the
RSS after loading (the peak is reset after loading through /proc/self/clear_refs).
museval's ``evaluate`` is reproduced from its source (np.array, pad_or_truncate,
metrics.bss_eval) with ``metrics.py`` loaded on its own, because ``import
museval`` needs ffmpeg.  The ``Evaluator`` line gives the cost of scoring one more
method (another estimate set) against references already prepared.

The ``TrackEvaluator`` lines score the five targets as the ``eval`` runner does: references and
estimates are float32 ``(channels, time)`` rows handed over as transposed views ``x.T``; the
accompaniment estimate is the sum of the drums, bass and other estimates (passed as
``derived=("accompaniment",)`` when the engine supports it, else summed and passed explicitly, as the
previous main needed).  It reports the time of the first method (reference work included), the median
time of each additional method, and the peak RSS above the loaded inputs over all methods.  Run it on
an older checkout with ``PYTHONPATH=/path/to/old/src`` to compare.

``--kernels numpy,torch,prev-numpy,prev-torch --baseline REV`` times only the correlation pass of
one additional method (the 4-source call, references x estimates, float32 views) for each named
kernel implementation in one process, in interleaved rounds whose order alternates (``prev-*``
are the kernels of git revision REV, loaded with ``git show``): medians, the median per-round
ratio to the first implementation (robust to load that varies between rounds) and CPU times.

Usage: python benchmarks/bench_bsseval.py [--museval-runs 1] [--backend torch --device cuda] [--skip-museval]
       python benchmarks/bench_bsseval.py --track-only [--methods 4]
       python benchmarks/bench_bsseval.py --kernels numpy,prev-numpy --baseline 69b8ab1 [--runs 10]
"""

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TRACK = ROOT.parent / "shared" / "data" / "musdb18hq-sample" / "train" / "Music Delta - 80s Rock"
STEMS = ("drums", "bass", "other", "vocals")
SR = 44100


# ---------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------


def load_inputs(seconds, seed=0):
    import soundfile as sf

    n = int(seconds * SR)
    refs = {}
    for k in STEMS:
        x, sr = sf.read(str(TRACK / f"{k}.wav"), dtype="float64", always_2d=True)
        assert sr == SR
        reps = -(-n // len(x))
        refs[k] = np.tile(x, (reps, 1))[:n]
    refs["accompaniment"] = refs["drums"] + refs["bass"] + refs["other"]
    rng = np.random.default_rng(seed)
    ests = {}
    for k in STEMS:
        others = sum(refs[o] for o in STEMS if o != k)
        noise = rng.standard_normal(refs[k].shape) * (np.std(refs[k]) * 10 ** (-25 / 20))
        ests[k] = 0.9 * refs[k] + 0.1 * others + noise
    ests["accompaniment"] = ests["drums"] + ests["bass"] + ests["other"]
    return refs, ests


def other_method(ests, seed=1):
    """A second estimate set (another 'method'): different leakage and noise."""
    rng = np.random.default_rng(seed)
    out = {k: 0.95 * v + 0.02 * rng.standard_normal(v.shape) for k, v in ests.items() if k != "accompaniment"}
    out["accompaniment"] = out["drums"] + out["bass"] + out["other"]
    return out


def calls(refs, ests):
    """The two evaluations of museval.eval_mus_track: (names, references, estimates), stacked
    ``(nsrc, nsampl, nchan)`` arrays as museval's ``evaluate`` builds them (built here, before timing)."""
    four = ["drums", "bass", "other", "vocals"]
    two = ["vocals", "accompaniment"]
    return [(n, np.stack([refs[k] for k in n]), np.stack([ests[k] for k in n])) for n in (four, two)]


# ---------------------------------------------------------------------------
# memory helpers
# ---------------------------------------------------------------------------


def _status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


# ---------------------------------------------------------------------------
# workers (run in fresh subprocesses)
# ---------------------------------------------------------------------------


def museval_evaluate(metrics, references, estimates, win, hop):
    """museval.evaluate (0.4.1) body: np.array, pad_or_truncate, bss_eval."""
    estimates = np.array(estimates)
    references = np.array(references)
    if estimates.shape[1] != references.shape[1]:
        if estimates.shape[1] >= references.shape[1]:
            estimates = estimates[:, : references.shape[1], :]
        else:
            estimates = np.pad(estimates, [(0, 0), (0, references.shape[1] - estimates.shape[1]), (0, 0)])
    sdr, isr, sir, sar, _ = metrics.bss_eval(
        references, estimates, compute_permutation=False, window=win, hop=hop,
        framewise_filters=False, bsseval_sources_version=False,
    )
    return sdr, isr, sir, sar


def worker(args):
    import warnings

    refs, ests = load_inputs(args.seconds)
    jobs = calls(refs, ests)
    jobs2 = calls(refs, other_method(ests)) if args.worker == "ours" else None
    del refs, ests
    rss0 = _status_kb("VmRSS")
    peak_reset = reset_peak()
    times, extra = [], []
    out = {}
    if args.worker == "museval":
        spec = importlib.util.find_spec("museval")
        path = Path(list(spec.submodule_search_locations)[0]) / "metrics.py"
        mspec = importlib.util.spec_from_file_location("museval_metrics", path)
        metrics = importlib.util.module_from_spec(mspec)
        mspec.loader.exec_module(metrics)
        for _ in range(args.runs):
            t = time.perf_counter()
            for names, r, e in jobs:
                res = museval_evaluate(metrics, r, e, SR, SR)
                for i, k in enumerate(names):
                    out[f"{len(names)}/{k}"] = res[0][i]
            times.append(time.perf_counter() - t)
    else:
        from mssoracle.bsseval import Evaluator, evaluate

        warnings.simplefilter("ignore")
        for _ in range(args.runs):
            t = time.perf_counter()
            for names, r, e in jobs:
                res = evaluate(r, e, SR, SR, backend=args.backend, device=args.device)
                for i, k in enumerate(names):
                    out[f"{len(names)}/{k}"] = res[0][i]
                del res
            times.append(time.perf_counter() - t)
    peak = _status_kb("VmHWM")
    if args.worker == "ours":
        # one more method against prepared references
        evs = [(Evaluator(r, win=1.0, hop=1.0, backend=args.backend, device=args.device), e2)
               for (_, r, _), (_, _, e2) in zip(jobs, jobs2)]
        for ev, e2 in evs:  # warm-up / first method
            ev.evaluate(e2)
        for _ in range(args.runs):
            t = time.perf_counter()
            for ev, e2 in evs:
                ev.evaluate(e2)
            extra.append(time.perf_counter() - t)
    np.savez(args.out, **out)
    print(json.dumps(dict(times=times, extra=extra, rss_after_load_kb=rss0, peak_kb=peak, peak_reset=peak_reset)))


def track_worker(args):
    """TrackEvaluator as the runner uses it: float32 (C, T) rows as transposed views, derived accompaniment."""
    import inspect
    import warnings

    refs, ests = load_inputs(args.seconds)
    stems = np.stack([refs[k].T for k in STEMS]).astype(np.float32)  # (nsrc, C, T), as the runner holds them
    methods = [np.stack([ests[k].T for k in STEMS]).astype(np.float32)]
    for i in range(1, args.methods):
        o = other_method(ests, seed=i)
        methods.append(np.stack([o[k].T for k in STEMS]).astype(np.float32))
    del refs, ests
    from mssoracle.bsseval import TrackEvaluator

    warnings.simplefilter("ignore")
    has_derived = "derived" in inspect.signature(TrackEvaluator.evaluate).parameters
    rss0 = _status_kb("VmRSS")
    peak_reset = reset_peak()
    if args.tracemalloc:  # numpy's allocations are traced: the live peak, without allocator retention
        import tracemalloc

        tracemalloc.start()
    t = time.perf_counter()
    ev = TrackEvaluator({k: stems[i].T for i, k in enumerate(STEMS)}, sample_rate=SR, track_name="bench",
                        backend=args.backend, device=args.device)
    times = []
    sdr = {}
    for m, est in enumerate(methods):
        t = time.perf_counter() if m else t
        estimates = {k: est[i].T for i, k in enumerate(STEMS)}
        if has_derived:
            scores = ev.evaluate(estimates, derived=("accompaniment",))
        else:  # previous main: the accompaniment estimate is summed and passed explicitly
            estimates["accompaniment"] = est[0].T + est[1].T + est[2].T
            scores = ev.evaluate(estimates)
            del estimates["accompaniment"]
        times.append(time.perf_counter() - t)
        if m == 0:
            sdr = {k: scores.values(k)["SDR"] for k in scores.targets}
    peak = _status_kb("VmHWM")
    traced = None
    if args.tracemalloc:
        traced = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    np.savez(args.out, **sdr)
    print(json.dumps(dict(times=times, rss_after_load_kb=rss0, peak_kb=peak, peak_reset=peak_reset,
                          derived=has_derived, traced_mib=traced)))


def kernels_worker(args):
    """The correlation pass of one additional method (4-source call, references x estimates, v4,
    1 s frames, 512 lags) for each kernel implementation, in interleaved rounds in one process."""
    import warnings

    from mssoracle.bsseval import kernels
    from mssoracle.bsseval.signals import Signals
    from mssoracle.bsseval.validation import framing

    warnings.simplefilter("ignore")
    refs, ests = load_inputs(args.seconds)
    stems = np.stack([refs[k].T for k in STEMS]).astype(np.float32)  # (nsrc, C, T), as the runner holds them
    est = np.stack([other_method(ests)[k].T for k in STEMS]).astype(np.float32)
    del refs, ests
    nsampl = stems.shape[-1]
    starts, stops = framing(nsampl, SR, SR)
    impls = {}
    for name in args.kernels.split(","):
        impls[name] = kernel_impl(name, args.baseline)
    tensors = {}
    for name, (ops, on_torch) in impls.items():
        if on_torch and "t" not in tensors:
            import torch

            tensors["t"] = (torch.from_numpy(stems), torch.from_numpy(est))
    times = {name: [] for name in impls}
    cpu = {name: [] for name in impls}
    diffs = {}
    first = None
    for rnd in range(args.runs + 1):  # round 0: warm-up; the order alternates between rounds
        for name, (ops, on_torch) in (list(impls.items()) if rnd % 2 == 0 else list(impls.items())[::-1]):
            r, e = tensors["t"] if on_torch else (stems, est)
            xs = Signals([r[i].T for i in range(len(STEMS))])
            ys = Signals([e[i].T for i in range(len(STEMS))])
            t, c = time.perf_counter(), time.process_time()
            fr, gl = kernels.correlations(ops, xs, [ys], starts, stops, nsampl, 512, True)
            dt, dc = time.perf_counter() - t, time.process_time() - c
            if rnd:
                times[name].append(dt)
                cpu[name].append(dc)
            if first is None:
                first = (fr[0], gl[0])
            elif rnd == 0 and name != next(iter(impls)):
                d = max(float(np.abs(fr[0] - first[0]).max()), float(np.abs(gl[0] - first[1]).max()))
                diffs[name] = d
    print(json.dumps(dict(times=times, cpu=cpu, diffs=diffs, load=os.getloadavg())))


def kernel_impl(name, baseline=None):
    """(ops, on_torch) for a --kernels name: ``numpy``, ``torch`` (this checkout, torch on the CPU),
    ``prev-numpy``, ``prev-torch`` (the kernels of git revision ``--baseline``, loaded from
    ``git show``; its torch twin imports the plan helpers from this checkout's kernels)."""
    from mssoracle.bsseval import kernels

    if name == "numpy":
        return kernels.NumpyOps(), False
    if name == "torch":
        return kernels.TorchOps("cpu"), True
    if name in ("prev-numpy", "prev-torch"):
        if not baseline:
            raise SystemExit(f"--kernels {name} needs --baseline REV")
        if name == "prev-numpy":
            return _prev_module(baseline, "kernels").NumpyOps(), False
        return _prev_module(baseline, "kernels_torch").TorchOps("cpu"), True
    raise SystemExit(f"unknown kernel implementation {name!r}")


def _prev_module(rev, stem):
    """``src/mssoracle/bsseval/{stem}.py`` of git revision ``rev``, imported inside the package."""
    import importlib.util

    import mssoracle.bsseval as pkg

    name = f"mssoracle.bsseval._prev_{stem}"
    if name in sys.modules:
        return sys.modules[name]
    text = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:src/mssoracle/bsseval/{stem}.py"],
                          capture_output=True, text=True, check=True).stdout
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"_prev_{stem}.py"
        path.write_text(text)
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        mod.__package__ = pkg.__name__
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return mod


def run_worker(kind, runs, args, outfile):
    cmd = [sys.executable, __file__, "--worker", kind, "--runs", str(runs), "--seconds", str(args.seconds),
           "--out", outfile, "--backend", args.backend, "--methods", str(args.methods)]
    if args.tracemalloc:
        cmd.append("--tracemalloc")
    if args.kernels:
        cmd += ["--kernels", args.kernels]
    if args.baseline:
        cmd += ["--baseline", args.baseline]
    if args.device:
        cmd += ["--device", args.device]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.stderr.write(res.stderr)
        raise SystemExit(f"{kind} worker failed")
    return json.loads(res.stdout.strip().splitlines()[-1])


def _budget():
    from mssoracle import threads

    return threads.budget()


def main(argv=None):
    ap = argparse.ArgumentParser(description="mssoracle BSS Eval vs museval on a tiled 4-minute track")
    ap.add_argument("--runs", type=int, default=3, help="runs of mssoracle (median reported)")
    ap.add_argument("--museval-runs", type=int, default=3, help="runs of museval (about 3 min each)")
    ap.add_argument("--seconds", type=float, default=240.0)
    ap.add_argument("--backend", default="numpy", choices=["numpy", "torch"])
    ap.add_argument("--device", default=None)
    ap.add_argument("--skip-museval", action="store_true")
    ap.add_argument("--track-only", action="store_true", help="only the TrackEvaluator measurement")
    ap.add_argument("--methods", type=int, default=3, help="estimate sets scored by the TrackEvaluator worker")
    ap.add_argument("--tracemalloc", action="store_true",
                    help="also report the TrackEvaluator's traced (tracemalloc) peak; timings are then slower")
    ap.add_argument("--kernels", default=None,
                    help="time only the correlation pass of one additional method (4-source call) for these "
                         "comma-separated kernel implementations, interleaved, median of --runs")
    ap.add_argument("--baseline", default=None,
                    help="git revision whose kernels --kernels prev-numpy,prev-torch time (same process)")
    ap.add_argument("--worker", choices=["museval", "ours", "track", "kernels"], help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker == "track":
        return track_worker(args)
    if args.worker == "kernels":
        return kernels_worker(args)
    if args.worker:
        return worker(args)
    if not TRACK.is_dir():
        raise SystemExit(f"benchmark data not found: {TRACK}")
    has_museval = importlib.util.find_spec("museval") is not None
    if not has_museval and not args.skip_museval:
        print("museval is not installed: measuring mssoracle only (--skip-museval)")
        args.skip_museval = True
    device_name = "CPU"
    if args.backend == "torch" and args.device and str(args.device).startswith("cuda"):
        import torch

        device_name = torch.cuda.get_device_name(torch.device(args.device))
    if args.kernels:
        with tempfile.TemporaryDirectory() as tmp:
            res = run_worker("kernels", args.runs, args, os.path.join(tmp, "k.npz"))
        lines = ["", "=== BSS Eval correlation pass of one additional method (4-source call, v4, 1 s frames) ===",
                 f"track: 80s Rock preview tiled to {args.seconds:.0f} s, stereo 44.1 kHz, float32 x.T views",
                 f"machine: {os.cpu_count()} CPU cores, thread budget {_budget()}; load average after: "
                 + " ".join("%.2f" % x for x in res["load"])]
        first = None
        for name, ts in res["times"].items():
            med = statistics.median(ts)
            first = ts if first is None else first
            # paired by round (the rounds interleave the implementations): robust to load that varies
            ratio = statistics.median(t / f for t, f in zip(ts, first))
            lines.append(f"{name:>12}: median {med:.2f} s of {len(ts)} {['%.2f' % t for t in ts]}"
                         f"; median ratio to the first per round {ratio:.3f}"
                         f"; CPU time median {statistics.median(res['cpu'][name]):.2f} s"
                         + (f"; max |difference| {res['diffs'][name]:.2g}" if name in res["diffs"] else ""))
        print("\n".join(lines))
        return
    with tempfile.TemporaryDirectory() as tmp:
        track = run_worker("track", 1, args, os.path.join(tmp, "track.npz"))
        track_lines = [
            f"TrackEvaluator (float32 x.T views, {'derived' if track['derived'] else 'explicit'} accompaniment): "
            f"first method {track['times'][0]:.2f} s; each additional method median "
            f"{statistics.median(track['times'][1:]) if len(track['times']) > 1 else float('nan'):.2f} s "
            f"{['%.2f' % t for t in track['times'][1:]]}",
            f"TrackEvaluator peak RSS above loaded inputs over {len(track['times'])} methods: "
            f"{(track['peak_kb'] - track['rss_after_load_kb']) / 1024:.0f} MiB"
            + (f"; traced (tracemalloc) peak {track['traced_mib']:.0f} MiB" if track.get("traced_mib") else ""),
        ]
        if args.track_only:
            print("\n".join(["", "=== BSS Eval benchmark summary (TrackEvaluator) ===",
                             f"track: 80s Rock preview tiled to {args.seconds:.0f} s, stereo 44.1 kHz",
                             f"machine: {os.cpu_count()} CPU cores; backend {args.backend}"] + track_lines))
            return
        ours = run_worker("ours", args.runs, args, os.path.join(tmp, "ours.npz"))
        theirs = None
        if not args.skip_museval:
            theirs = run_worker("museval", args.museval_runs, args, os.path.join(tmp, "museval.npz"))
        a = dict(np.load(os.path.join(tmp, "ours.npz")))
        b = dict(np.load(os.path.join(tmp, "museval.npz"))) if theirs else None
    t_ours = statistics.median(ours["times"])
    t_extra = statistics.median(ours["extra"])
    mem_ours = (ours["peak_kb"] - ours["rss_after_load_kb"]) / 1024
    lines = [
        f"track: 80s Rock preview tiled to {args.seconds:.0f} s, stereo 44.1 kHz; 5 targets (4-source + vocals/accompaniment calls), v4, 1 s frames",
        f"machine: {os.cpu_count()} CPU cores; backend {args.backend}" + (f" on {device_name}" if args.backend == "torch" else ""),
        f"mssoracle evaluate: median {t_ours:.2f} s of {len(ours['times'])} runs {['%.2f' % t for t in ours['times']]}",
        f"mssoracle peak RSS above loaded inputs: {mem_ours:.0f} MiB" + ("" if ours["peak_reset"] else " (peak not resettable: includes loading)"),
        f"mssoracle Evaluator, one more method (both calls, references prepared): median {t_extra:.2f} s",
    ] + track_lines
    if theirs:
        t_mus = statistics.median(theirs["times"])
        mem_mus = (theirs["peak_kb"] - theirs["rss_after_load_kb"]) / 1024
        maxdiff = max(float(np.nanmax(np.abs(a[k] - b[k]))) for k in a)
        nan_same = all(np.array_equal(np.isnan(a[k]), np.isnan(b[k])) for k in a)
        lines += [
            f"museval 0.4.1: median {t_mus:.1f} s of {len(theirs['times'])} runs {['%.1f' % t for t in theirs['times']]}",
            f"museval peak RSS above loaded inputs: {mem_mus:.0f} MiB",
            f"speed-up: {t_mus / t_ours:.1f}x; one more method with Evaluator: {t_mus / t_extra:.1f}x",
            f"max |SDR difference| over all targets and frames: {maxdiff:.2e} dB; same NaN pattern: {nan_same}",
        ]
    print("\n".join(["", "=== BSS Eval benchmark summary ==="] + lines))


if __name__ == "__main__":
    main()
