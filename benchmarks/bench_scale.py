"""The same 8-job `mssoracle eval` serial, on worker processes and on a local Dask cluster, side by side.

Input: the two MUSDB18-HQ previews of ``../shared/data/musdb18hq-sample`` (80s
Rock, Falcon 69; else the stempeg preview twice), each tiled to ``--seconds`` and
written as a MUSDB18-HQ tree.  The evaluation is ``mssoracle eval`` with its
default oracles and transforms (``irm1,mpi`` x ``stft:2048,stft:4096``): 2
tracks x 2 transforms x 2 oracles = 8 (track, transform, oracle) results, in 4
units of work (one per track and transform).  Each executor runs it as a
subprocess into a fresh ``--out``:

* ``serial``;
* ``--executor processes --jobs J``;
* ``--executor dask --scheduler local --jobs J``.

Printed: the median wall time of ``--runs`` runs of each (runs interleaved, so
that the load of the machine weighs on all alike) and its ratio to serial;
whether every executor wrote the same ``results.csv``; the per-job overhead of
each executor (start and close of its workers, and the round trip of a trivial
job through a started executor, median of 20); and the peak resident memory of
each Dask worker (and of the client) on two tracks tiled to
``--memory-seconds`` (default 240 s, a 4-minute track), sampled every 10 ms from
``/proc`` as ``bench_memory.py`` does.  The bound (issue 7): at most 2.5 GiB for
`mssoracle eval` on a 4-minute track; ``mssoracle.experiment.executors.DEFAULT_MEMORY_LIMIT``
is 4 GiB per worker.

Usage::

    python benchmarks/bench_scale.py [--seconds 60] [--runs 3] [--jobs 2] [--memory-seconds 240]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_memory import _children, _rss  # noqa: E402  (the same /proc sampling as bench_memory)

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("MSSORACLE_SHARED", HERE.parents[1] / "shared" / "data"))
PREVIEWS = SHARED / "musdb18hq-sample" / "train"
STEMS = ("mixture", "drums", "bass", "other", "vocals")
GIB = 1 << 30
MIB = 1 << 20


# --- input --------------------------------------------------------------------------------------------------


def previews():
    """``[(name, {stem: (time, channels)}, rate)]``: the shared previews, else the stempeg preview twice."""
    out = []
    if PREVIEWS.is_dir():
        for folder in sorted(p for p in PREVIEWS.iterdir() if p.is_dir())[:2]:
            stems = {}
            for s in STEMS:
                stems[s], sr = sf.read(str(folder / f"{s}.wav"), dtype="float32", always_2d=True)
            out.append((folder.name, stems, sr))
    if len(out) < 2:
        from mssoracle.stemfile import default_sample_path, read_stem_file

        audio, sr = read_stem_file(default_sample_path())
        stems = {s: audio[i].T for i, s in enumerate(STEMS)}
        out = [("Falcon 69 (stempeg preview) A", stems, sr), ("Falcon 69 (stempeg preview) B", stems, sr)]
    return out


def make_tree(root, seconds):
    """Two tracks, each a preview tiled to ``seconds``, as ``root/train/<name>/<stem>.wav``; their names."""
    names = []
    for name, stems, sr in previews():
        n = int(seconds * sr)
        track = Path(root) / "train" / name
        track.mkdir(parents=True)
        for s, x in stems.items():
            reps = -(-n // x.shape[0])
            sf.write(str(track / f"{s}.wav"), np.tile(x, (reps, 1))[:n], sr, subtype="FLOAT")
        names.append(name)
    return names


# --- measuring a process tree -------------------------------------------------------------------------------


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _tree(pid):
    pids, stack = [], [pid]
    while stack:
        p = stack.pop()
        if p not in pids:
            pids.append(p)
            stack.extend(_children(p))
    return pids


def measure(cmd):
    """Run ``cmd``; return (seconds, {pid: peak RSS bytes}, {pid: command line}, stdout)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peaks, cmdlines = {}, {}
    done = threading.Event()

    def poll():
        while not done.is_set():
            for p in _tree(proc.pid):
                r = _rss(p)
                if r > peaks.get(p, 0):
                    peaks[p] = r
                if p not in cmdlines:
                    cmdlines[p] = _cmdline(p)
            time.sleep(0.01)

    th = threading.Thread(target=poll, daemon=True)
    th.start()
    out, err = proc.communicate()
    dt = time.perf_counter() - t0
    done.set()
    th.join()
    if proc.returncode:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{err}")
    return dt, peaks, cmdlines, out, proc.pid


def worker_peaks(peaks, cmdlines, client_pid):
    """Peak RSS of each worker process (spawned children running multiprocessing's spawn_main)."""
    return sorted((peaks[p] for p, c in cmdlines.items()
                   if p != client_pid and "spawn_main" in c and "resource_tracker" not in c and p in peaks),
                  reverse=True)


# --- the runs -------------------------------------------------------------------------------------------------

EXECUTORS = {
    "serial": lambda jobs: [],
    "processes": lambda jobs: ["--executor", "processes", "--jobs", str(jobs)],
    "dask": lambda jobs: ["--executor", "dask", "--scheduler", "local", "--jobs", str(jobs)],
}


def eval_cmd(root, out, options):
    return [sys.executable, "-m", "mssoracle", "eval", "--root", str(root), "--subset", "train", "--out", str(out),
            "--no-progress", *options]


def count_results(out):
    return sum(1 for _ in (Path(out) / "scores").rglob("*.json"))


def overheads(jobs, n=20):
    """Per executor: (seconds to start it until a first job came back from every worker, and to close it;
    median round trip of one trivial job through the started executor)."""
    from mssoracle.experiment.executors import get_executor

    res = {}
    for name in EXECUTORS:
        kw = {} if name == "serial" else {"jobs": jobs}
        t0 = time.perf_counter()
        ex = get_executor(name, **kw)
        ex.start()
        list(ex.run(abs, range(ex.jobs)))  # one first job per worker: the workers are up and have imported
        t1 = time.perf_counter()
        trips = []
        for i in range(n):
            t = time.perf_counter()
            outs = list(ex.run(abs, [-i]))
            trips.append(time.perf_counter() - t)
            assert outs[0].value == i
        t2 = time.perf_counter()
        ex.close()
        t3 = time.perf_counter()
        res[name] = ((t1 - t0) + (t3 - t2), statistics.median(trips))
    return res


def machine():
    model = ""
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    from mssoracle import threads

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB
    return f"{threads.usable_cores()} usable cores ({model}), {mem:.0f} GiB"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="length of each track of the timed runs (default 60)")
    ap.add_argument("--runs", type=int, default=3, help="runs of each executor (default 3)")
    ap.add_argument("--jobs", type=int, default=2, help="workers of processes and dask (default 2)")
    ap.add_argument("--memory-seconds", type=float, default=240.0,
                    help="length of each track of the Dask memory run (default 240; 0 skips it)")
    args = ap.parse_args(argv)
    print(f"machine: {machine()}; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        names = make_tree(root, args.seconds)
        print(f"input: {', '.join(names)}, each tiled to {args.seconds:.0f} s (stereo, 44.1 kHz); "
              "irm1,mpi x stft:2048,stft:4096 = 8 results in 4 units")
        times = {name: [] for name in EXECUTORS}
        tables = {}
        wpeak = {name: 0 for name in EXECUTORS}
        for r in range(args.runs):
            for name, opts in EXECUTORS.items():
                out = Path(tmp) / f"out-{name}-{r}"
                dt, peaks, cmdlines, _, pid = measure(eval_cmd(root, out, opts(args.jobs)))
                n = count_results(out)
                if n != 8:
                    sys.exit(f"{name}: {n} result files under {out}, expected 8")
                times[name].append(dt)
                wp = worker_peaks(peaks, cmdlines, pid) or [peaks.get(pid, 0)]
                wpeak[name] = max(wpeak[name], wp[0])
                tables.setdefault(name, (out / "results.csv").read_bytes())
                print(f"run {r + 1}: {name:9s} {dt:6.1f} s", flush=True)
        serial = statistics.median(times["serial"])
        print()
        print(f"| executor | median of {args.runs} | runs | vs serial | peak RSS per worker |")
        print("|---|---|---|---|---|")
        for name, opts in EXECUTORS.items():
            med = statistics.median(times[name])
            label = "serial" if name == "serial" else " ".join(opts(args.jobs))
            runs = ", ".join(f"{t:.1f}" for t in times[name])
            print(f"| `{label}` | {med:.1f} s | {runs} | {serial / med:.2f}x | {wpeak[name] / GIB:.2f} GiB |")
        same = len(set(tables.values())) == 1
        print(f"\nresults.csv identical across executors: {'yes' if same else 'NO'}")

        print("\nper-job overhead (this process; a trivial job, abs(x)):")
        print("| executor | start (first jobs back) + close | one trivial job (median of 20) |")
        print("|---|---|---|")
        for name, (startup, trip) in overheads(args.jobs).items():
            print(f"| {name} | {startup:.2f} s | {trip * 1e3:.2f} ms |")

        if args.memory_seconds > 0:
            mroot = Path(tmp) / "data-memory"
            make_tree(mroot, args.memory_seconds)
            out = Path(tmp) / "out-memory"
            dt, peaks, cmdlines, _, pid = measure(eval_cmd(mroot, out, EXECUTORS["dask"](args.jobs)))
            wp = worker_peaks(peaks, cmdlines, pid)
            print(f"\nDask workers on two {args.memory_seconds:.0f}-s tracks (--jobs {args.jobs}, {dt:.1f} s): "
                  f"peak RSS per worker {', '.join(f'{p / GIB:.2f}' for p in wp)} GiB; client "
                  f"{peaks.get(pid, 0) / GIB:.2f} GiB (bound: 2.5 GiB per 4-minute track; default "
                  f"--memory-limit 4 GiB, the nanny restarts a worker at 3.8 GiB)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
