"""Peak memory of `mssoracle eval` on long tracks (a real preview tiled), and its growth with length.

A real MUSDB18 preview (``../shared/data/musdb18hq-sample``; else the stempeg
preview) is tiled to each ``--seconds`` length and written as a MUSDB18-HQ tree;
``mssoracle eval`` runs on it as a subprocess, and this script samples the
resident set size (RSS) of that process *and all its descendants* every 10 ms
from ``/proc`` (the peak of the sum is reported; ``ru_maxrss`` of the largest
single process is printed beside it as a cross-check).

Cases:

* ``default``: ``mssoracle eval`` with its default oracles and transforms;
* ``many``: ``--oracle irm1,irm2,ibm1,ibm2,mpi,mwf,mix,wiener1
  --transform stft:2048:512,stft:4096:1024,slicq:bark:262:32.9``;
* ``metrics``: the default oracles and transforms with every metric,
  ``--metrics bssv4,usdr,sisdr,usdri,sisdri,snr`` (issue 9).

Targets (issue 7): at most 2.5 GiB for both on a 4-minute track, and a growth of
peak RSS per second of audio between the 1-minute and the 4-minute track of at
most 8 MiB/s.

``--baseline REV`` also runs a git revision (e.g. the previous main) from a
worktree, with the same interpreter and dependencies, in the same run.

Usage::

    python benchmarks/bench_memory.py [--seconds 60,240] [--cases default,many] [--baseline REV]
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_eval import baseline_src, env_for, make_tree  # noqa: E402  (the same tiled input as bench_eval)

CASES = {
    "default": [],
    "many": ["--oracle", "irm1,irm2,ibm1,ibm2,mpi,mwf,mix,wiener1",
             "--transform", "stft:2048:512,stft:4096:1024,slicq:bark:262:32.9"],
    "metrics": ["--metrics", "bssv4,usdr,sisdr,usdri,sisdri,snr"],
}
GIB = 1 << 30
MIB = 1 << 20


def _children(pid):
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out.extend(int(c) for c in fh.read().split())
    except OSError:
        pass
    return out


def _rss(pid):
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss(pid):
    """RSS in bytes of ``pid`` and all its descendants."""
    total, stack, seen = 0, [pid], set()
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        total += _rss(p)
        stack.extend(_children(p))
    return total


def measure(cmd, env=None):
    """Run ``cmd``; return (peak tree RSS bytes, ru_maxrss bytes of the largest child, seconds, result)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = [0]
    done = threading.Event()

    def poll():
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss(proc.pid))
            time.sleep(0.01)

    th = threading.Thread(target=poll, daemon=True)
    th.start()
    out, err = proc.communicate()
    done.set()
    th.join()
    dt = time.perf_counter() - t0
    maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    if proc.returncode:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{err}")
    return peak[0], (maxrss if maxrss > before * 1024 else None), dt, out


def eval_cmd(root, out, case):
    return [sys.executable, "-m", "mssoracle", "eval", "--root", str(root), "--subset", "train", "--out", str(out),
            "--no-progress", *CASES[case]]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", default="60,240", help="comma-separated track lengths (default 60,240)")
    ap.add_argument("--cases", default="default,many", help=f"comma-separated, of {', '.join(CASES)}")
    ap.add_argument("--baseline", metavar="REV", help="also run this git revision (e.g. the previous main)")
    ap.add_argument("--extra", default="", help="extra eval options, space-separated (e.g. '--precision float64')")
    args = ap.parse_args(argv)
    lengths = [float(s) for s in args.seconds.split(",") if s.strip()]
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    pythons = [("ours", None)]
    if args.baseline:
        src, sha = baseline_src(args.baseline)
        print(f"baseline: {args.baseline} = {sha[:12]}")
        pythons.append(("base", env_for(src)))
    extra = args.extra.split()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seconds in lengths:
            root = Path(tmp) / f"data{int(seconds)}"
            name, sr, n = make_tree(root, seconds)
            for case in cases:
                for label, env in pythons:
                    out = Path(tmp) / f"out-{label}-{case}-{int(seconds)}"
                    cmd = eval_cmd(root, out, case) + (extra if label == "ours" else [])
                    peak, maxrss, dt, _ = measure(cmd, env)
                    results[(label, case, seconds)] = peak
                    mr = f", largest process {maxrss / GIB:.2f} GiB" if maxrss else ""
                    print(f"{label:5s} {case:8s} {seconds:6.0f} s ({name}): peak RSS {peak / GIB:.2f} GiB{mr}; "
                          f"{dt:.1f} s", flush=True)
    print()
    for case in cases:
        for label, _ in pythons:
            peaks = [(s, results[(label, case, s)]) for s in lengths]
            line = f"{label:5s} {case:8s} " + ", ".join(f"{s:.0f} s: {p / GIB:.2f} GiB" for s, p in peaks)
            if len(peaks) >= 2:
                (s0, p0), (s1, p1) = peaks[0], peaks[-1]
                line += f"; growth {(p1 - p0) / MIB / (s1 - s0):.1f} MiB per second of audio (target <= 8)"
            if 240.0 in lengths:
                ok = results[(label, case, 240.0)] <= 2.5 * GIB
                line += f"; 4-minute peak {'within' if ok else 'ABOVE'} 2.5 GiB"
            print(line)
        if len(pythons) == 2 and lengths:
            s = lengths[-1]
            print(f"      {case:8s} {s:.0f} s: baseline / ours = "
                  f"{results[('base', case, s)] / results[('ours', case, s)]:.2f}x")


if __name__ == "__main__":
    main()
