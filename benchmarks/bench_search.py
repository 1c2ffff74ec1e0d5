"""Benchmark `mssoracle search`: one Bark-262 sliCQT MPI trial on a 4-minute track, trials per minute, the estimate
for the seed's setting (100 trials x 14 MUSDB18 validation tracks), peak memory.

A real 7-second MUSDB18 preview (``../shared/data/musdb18hq-sample``, else the stempeg preview) is tiled to
``--seconds`` (default 240) and written as a MUSDB18-HQ tree (``bench_eval.make_tree``), then decoded once into
the search's float32 track cache (:mod:`mssoracle.search.trackcache`).

* **one trial**, ``slicq:bark:262:32.9`` with ``mpi``, SDR objective: the search's own path
  (:class:`mssoracle.search.Scorer`, the framewise-SNR form of BSS Eval v4's SDR), median of ``--runs``; beside
  it the same trial scored with ``eval``'s full BSS Eval v4 engine (``--full-runs``), and their ratio; and the
  phases of one trial timed on their own (load: the mapped track read into memory; transform: the sliCQT of the
  mixture and the four stems; oracle: MPI's masks; inverse: synthesis and overlap-add; scoring: the ``snr``
  metric of the five targets), median of ``--runs``; this process keeps glibc's freed blocks for reuse, as a
  search worker does (:func:`mssoracle.search.study.keep_freed_memory`), for all three;
* **trials per minute** with 1 and 2 local workers: ``mssoracle search --family slicq --scales bark --bins
  200:300 --fmin 20:60 --sampler random --trials K`` on the same track as a subprocess (``--jobs 1`` and
  ``--jobs 2``), from the first trial's start to the last trial's end in the study, and the printed estimate
  for 100 trials over the 14 validation tracks (taken as 14 tracks of 4 minutes, MUSDB18's average: about 10 h
  over 150 tracks; ``--valid-minutes`` changes it; a trial's cost grows linearly with the audio's length);
* **peak memory**: the resident set of the search process and its workers (sampled from /proc every 10 ms,
  ``bench_memory.measure``).

Usage::

    python benchmarks/bench_search.py [--seconds 240] [--runs 3] [--full-runs 1] [--trials 4]
                                      [--backend torch --device cuda]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

SPEC = "slicq:bark:262:32.9"
#: MUSDB18's validation split: 14 tracks (the seed's search setting), taken as 4 minutes each (the dataset's average)
VALID_TRACKS = 14
VALID_MINUTES = 14 * 4.0


def phases(cached, spec, oracle_spec, backend="numpy", device=None):
    """Seconds of each phase of one trial on the first cached track (the runner's steps, timed one by one)."""
    from mssoracle.constants import derived_targets
    from mssoracle.metrics import METRICS, MetricContext
    from mssoracle.oracles import finite_inputs, get_oracle
    from mssoracle.transforms import from_spec

    times = dict.fromkeys(("load", "transform", "oracle", "inverse", "scoring"), 0.0)
    track = cached[0]
    t0 = time.perf_counter()
    signals = np.array(track.load().signals)  # the mapped file read into memory
    if backend == "torch":
        import torch

        signals = torch.from_numpy(signals).to(device or "cpu")
    mixture, stems = signals[0], signals[1:]
    times["load"] = time.perf_counter() - t0
    transform = from_spec(spec).at_rate(track.sample_rate)
    oracle = get_oracle(oracle_spec)
    stream = transform.stream(int(stems.shape[-1]))
    state = oracle.start()
    out = stems * 0
    for block in stream.blocks:
        t0 = time.perf_counter()
        X = stream.forward(mixture, block)
        S = stream.forward(stems, block)
        t1 = time.perf_counter()
        with np.errstate(divide="ignore", invalid="ignore"), finite_inputs():
            Y = oracle.apply(state, X, S)
        t2 = time.perf_counter()
        stream.inverse_add(Y, block, out)
        t3 = time.perf_counter()
        times["transform"] += t1 - t0
        times["oracle"] += t2 - t1
        times["inverse"] += t3 - t2
        del X, S, Y
    t0 = time.perf_counter()
    stream.finish(out)
    times["inverse"] += time.perf_counter() - t0
    t0 = time.perf_counter()
    names = list(track.stem_names)
    sr = track.sample_rate
    ctx = MetricContext(track=track.name, sample_rate=sr, win=sr, hop=sr,
                        references={n: stems[i] for i, n in enumerate(names)},
                        estimates={n: out[i] for i, n in enumerate(names)}, derived=derived_targets(names),
                        mixture=mixture)
    METRICS.get("snr").compute(ctx)
    times["scoring"] = time.perf_counter() - t0
    return times


def search_cmd(root, out, trials, jobs, extra=()):
    return [sys.executable, "-m", "mssoracle", "search", "--root", str(root), "--subset", "train", "--family",
            "slicq", "--scales", "bark", "--bins", "200:300", "--fmin", "20:60", "--sampler", "random",
            "--trials", str(trials), "--jobs", str(jobs), "--out", str(out), "--no-final-eval", "--quiet", *extra]


def trial_span(out):
    """(completed trials, seconds from the first trial's start to the last trial's end) of a search folder."""
    import optuna

    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(out / "study.journal")))
    trials = [t for t in optuna.load_study(study_name="search", storage=storage).trials if t.state.name == "COMPLETE"]
    start = min(t.datetime_start for t in trials)
    end = max(t.datetime_complete for t in trials)
    return len(trials), (end - start).total_seconds(), [t.duration.total_seconds() for t in trials]


def main(argv=None):
    from bench_eval import make_tree
    from bench_memory import measure

    from mssoracle.datasets import open_dataset
    from mssoracle.search import Scorer, build_cache, resolve_objective
    from mssoracle.search.study import keep_freed_memory

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=240.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--full-runs", type=int, default=1)
    ap.add_argument("--trials", type=int, default=4, help="trials of each trials-per-minute run")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--backend", default="numpy")
    ap.add_argument("--device")
    ap.add_argument("--valid-minutes", type=float, default=VALID_MINUTES,
                    help=f"minutes of audio of the {VALID_TRACKS} validation tracks (default {VALID_MINUTES:g})")
    a = ap.parse_args(argv)
    valid_seconds = 60.0 * a.valid_minutes

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        name, sr, n = make_tree(tmp / "data", a.seconds)
        print(f"track: {name} tiled to {n / sr:.0f} s ({n} samples, stereo, {sr} Hz); machine: {os.cpu_count()} "
              f"cores; load average before: {os.getloadavg()[0]:.2f}")
        ds = open_dataset(str(tmp / "data"), subset="train")
        t0 = time.perf_counter()
        cached = build_cache(ds, tmp / "cache")
        print(f"decode into the track cache (once per track): {time.perf_counter() - t0:.2f} s")
        print(f"glibc keeps freed blocks (as a search worker does): {keep_freed_memory()}")
        extra = {"backend": a.backend, "device": a.device}
        fast = Scorer(cached, "mpi", resolve_objective("SDR"), tmp / "out", **extra)
        full = Scorer(cached, "mpi", resolve_objective("SDR", fast=False), tmp / "out", **extra)
        fast.evaluate(SPEC)  # warm-up: the sliCQT plan, imports
        ours, value = [], None
        for _ in range(a.runs):
            t0 = time.perf_counter()
            value, _ = fast.evaluate(SPEC)
            ours.append(time.perf_counter() - t0)
        peer, pvalue = [], None
        for _ in range(a.full_runs):
            t0 = time.perf_counter()
            pvalue, _ = full.evaluate(SPEC)
            peer.append(time.perf_counter() - t0)
        split = [phases(cached, SPEC, "mpi", a.backend, a.device) for _ in range(a.runs)]
        med = {k: statistics.median(s[k] for s in split) for k in split[0]}
        t_ours, t_peer = statistics.median(ours), statistics.median(peer)
        print(f"\none {SPEC} mpi trial, SDR objective ({a.backend}{'' if not a.device else ' ' + a.device}):")
        print(f"  search (framewise SNR = BSSv4 SDR): {t_ours:.2f} s (median of {a.runs}: "
              f"{', '.join(f'{x:.2f}' for x in ours)}), median SDR {value:.5f}")
        print(f"  eval's full BSS Eval v4 path:       {t_peer:.2f} s (median of {a.full_runs}), median SDR "
              f"{pvalue:.5f}; ratio {t_peer / t_ours:.1f}x (difference {abs(value - pvalue):.1e} dB)")
        print("  phases (median of {}): ".format(a.runs) + ", ".join(f"{k} {v:.2f} s" for k, v in med.items())
              + f"; sum {sum(med.values()):.2f} s")

        rates = {}
        for jobs in [int(j) for j in a.workers.split(",")]:
            out = tmp / f"search-{jobs}"
            backend = ["--backend", a.backend] + (["--device", a.device] if a.device else [])
            cmd = search_cmd(tmp / "data", out, a.trials, jobs, ["--cache", str(tmp / "cache"), *backend])
            peak, maxrss, dt, _ = measure(cmd)
            k, span, durations = trial_span(out)
            rates[jobs] = k / span * 60
            print(f"\n{jobs} worker(s): {k} trials in {span:.1f} s of trials ({dt:.1f} s with start-up): "
                  f"{rates[jobs]:.1f} trials/min; per trial {statistics.median(durations):.2f} s (median); peak RSS "
                  f"{peak / 2**30:.2f} GiB (process and workers)")
        scale = valid_seconds / (n / sr)  # trial cost grows linearly with the audio's length
        for jobs, rate in rates.items():
            minutes = 100 * scale / rate
            print(f"estimate, 100 trials x {VALID_TRACKS} validation tracks ({a.valid_minutes:g} min of audio), "
                  f"{jobs} worker(s): {minutes:.0f} min ({minutes / 60:.1f} h)")
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    sys.exit(main())
