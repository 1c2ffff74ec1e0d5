"""Benchmark `mssoracle eval` end to end on a 4-minute track, and museval as the scorer of the same work.

A real 7-second MUSDB18 preview is tiled to 4 minutes and written as a
MUSDB18-HQ tree in a temporary folder; then

* ours: ``mssoracle eval --oracle irm1,mpi --transform stft:2048,stft:4096``
  (data loading, 2 STFTs, 4 oracle estimates, 4 x 5 targets scored with BSS
  Eval v4, JSON + CSV written), wall time, median of ``--runs``;
* peer: museval 0.4.1 (its ``metrics.py``, loaded without ffmpeg) scoring the
  same five targets of one method as ``museval.eval_mus_track`` does (a
  four-source call and a vocals/accompaniment call).  The same work with
  museval as the scorer costs 4 such scorings plus our transform/mask time;
  museval is run once per ``--museval-runs`` (about 3 minutes each here).

Usage::

    python benchmarks/bench_eval.py [--runs 3] [--museval-runs 1] [--skip-museval]
"""

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("MSSORACLE_SHARED", HERE.parents[1] / "shared" / "data"))
PREVIEW = SHARED / "musdb18hq-sample" / "train" / "Music Delta - 80s Rock"
STEMS = ("mixture", "drums", "bass", "other", "vocals")


def load_preview():
    """Stems of a real preview as ``{name: (time, channels)}`` float64 and the rate."""
    if PREVIEW.is_dir():
        out = {}
        for s in STEMS:
            out[s], sr = sf.read(str(PREVIEW / f"{s}.wav"), dtype="float64", always_2d=True)
        return out, sr, PREVIEW.name
    from mssoracle.datasets import default_sample_path, read_stem_file

    audio, sr = read_stem_file(default_sample_path())
    return {s: audio[i].T for i, s in enumerate(STEMS)}, sr, "Falcon 69 (stempeg preview)"


def make_tree(root, seconds):
    stems, sr, name = load_preview()
    n = int(seconds * sr)
    track = Path(root) / "train" / "bench-track"
    track.mkdir(parents=True)
    for s, x in stems.items():
        reps = -(-n // x.shape[0])
        sf.write(str(track / f"{s}.wav"), np.tile(x, (reps, 1))[:n], sr, subtype="FLOAT")
    return name, sr, n


def run_ours(root, out, extra):
    cmd = [sys.executable, "-m", "mssoracle", "eval", "--root", str(root), "--subset", "train",
           "--oracle", "irm1,mpi", "--transform", "stft:2048,stft:4096", "--out", str(out), "--no-progress", *extra]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if res.returncode:
        sys.exit(f"mssoracle eval failed:\n{res.stderr}")
    return dt, res.stdout


def load_museval_metrics():
    spec = importlib.util.find_spec("museval")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "metrics.py"
    mspec = importlib.util.spec_from_file_location("museval_metrics_bench", path)
    mod = importlib.util.module_from_spec(mspec)
    mspec.loader.exec_module(mod)
    return mod


def time_museval_scoring(root, sr):
    """museval scoring of one method's five targets, as eval_mus_track does: 4-source + 2-source calls."""
    metrics = load_museval_metrics()
    if metrics is None:
        return None
    track = Path(root) / "train" / "bench-track"
    refs = {s: sf.read(str(track / f"{s}.wav"), dtype="float64", always_2d=True)[0] for s in STEMS[1:]}
    rng = np.random.default_rng(0)
    ests = {s: refs[s] + 0.1 * rng.standard_normal(refs[s].shape) for s in refs}
    refs["accompaniment"] = refs["drums"] + refs["bass"] + refs["other"]
    ests["accompaniment"] = ests["drums"] + ests["bass"] + ests["other"]

    def call(names):
        r = np.stack([refs[k] for k in names])
        e = np.stack([ests[k] for k in names])
        return metrics.bss_eval(r, e, window=sr, hop=sr, framewise_filters=False, bsseval_sources_version=False)

    t0 = time.perf_counter()
    call(["vocals", "drums", "bass", "other"])
    call(["vocals", "accompaniment"])
    return time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=240.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--museval-runs", type=int, default=1)
    ap.add_argument("--skip-museval", action="store_true")
    ap.add_argument("--backend", default="numpy")
    ap.add_argument("--device")
    args = ap.parse_args(argv)
    extra = ["--backend", args.backend] + (["--device", args.device] if args.device else [])
    with tempfile.TemporaryDirectory() as tmp:
        name, sr, n = make_tree(Path(tmp) / "data", args.seconds)
        print(f"input: {name} tiled to {n / sr:.0f} s, stereo, {sr} Hz; 2 oracles x 2 STFTs = 4 methods x 5 targets")
        times = []
        for i in range(args.runs):
            out = Path(tmp) / f"out{i}"
            dt, stdout = run_ours(Path(tmp) / "data", out, extra)
            times.append(dt)
            print(f"  mssoracle eval run {i + 1}: {dt:.1f} s")
        ours = statistics.median(times)
        print(stdout.strip())
        # a resumed run: everything skipped
        dt_resume, _ = run_ours(Path(tmp) / "data", Path(tmp) / "out0", extra)
        print(f"  resumed run (all jobs done): {dt_resume:.1f} s")
        print(f"\nmssoracle eval, median of {args.runs}: {ours:.1f} s  (target: <= 60 s on the 2-core machine)")
        if not args.skip_museval:
            mt = [time_museval_scoring(Path(tmp) / "data", sr) for _ in range(args.museval_runs)]
            if mt[0] is None:
                print("museval not installed: peer skipped")
            else:
                one = statistics.median(mt)
                total = 4 * one
                print(f"museval scoring of one method (5 targets): {one:.1f} s (median of {len(mt)}); "
                      f"4 methods: {total:.0f} s of scoring alone")
                print(f"ratio, same work with museval as scorer vs mssoracle eval: >= {total / ours:.1f}x")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
