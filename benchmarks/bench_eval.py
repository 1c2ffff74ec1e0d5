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

With ``--baseline REV`` the same default command and the same scoring are
also run from a git worktree of revision ``REV`` (e.g. the previous main), with
the same interpreter and dependencies (``PYTHONPATH`` = the worktree's ``src``),
alternating with ours in the same run; the script prints the ratios:

* end to end, the default command on the 4-minute track (median of ``--runs``);
* scoring cost per additional method: one track's references prepared once,
  then ``--methods`` estimate sets scored the way each version's ``eval`` does
  (museval's 4-source call plus the vocals/accompaniment call; the baseline
  with an explicit accompaniment signal in float64, ours with float32 views and
  the accompaniment call derived by linearity); the median of the 2nd..last.

Usage::

    python benchmarks/bench_eval.py [--runs 3] [--museval-runs 1] [--skip-museval] [--baseline REV]
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


def baseline_src(rev):
    """A git worktree of ``rev`` under benchmarks/.cache; returns its ``src`` folder."""
    repo = HERE.parent
    sha = subprocess.run(["git", "-C", str(repo), "rev-parse", rev], capture_output=True, text=True,
                         check=True).stdout.strip()
    dest = HERE / ".cache" / f"baseline-{sha[:12]}"
    if not dest.is_dir():
        dest.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "-C", str(repo), "worktree", "add", "--detach", str(dest), sha],
                       capture_output=True, check=True)
    return dest / "src", sha


def env_for(src):
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return env


def scoring_probe(src, root, methods):
    import json

    track = Path(root) / "train" / "bench-track"
    res = subprocess.run([sys.executable, str(HERE / "_scoring_probe.py"), str(track), str(methods)],
                         capture_output=True, text=True, env=env_for(src))
    if res.returncode:
        sys.exit(f"scoring probe failed:\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def run_ours(root, out, extra, env=None):
    cmd = [sys.executable, "-m", "mssoracle", "eval", "--root", str(root), "--subset", "train",
           "--oracle", "irm1,mpi", "--transform", "stft:2048,stft:4096", "--out", str(out), "--no-progress", *extra]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
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
    ap.add_argument("--baseline", metavar="REV", help="also run a git revision (e.g. the previous main) in the same run")
    ap.add_argument("--methods", type=int, default=4, help="estimate sets scored by the scoring probe (default 4)")
    args = ap.parse_args(argv)
    extra = ["--backend", args.backend] + (["--device", args.device] if args.device else [])
    with tempfile.TemporaryDirectory() as tmp:
        name, sr, n = make_tree(Path(tmp) / "data", args.seconds)
        print(f"input: {name} tiled to {n / sr:.0f} s, stereo, {sr} Hz; 2 oracles x 2 STFTs = 4 methods x 5 targets")
        base_src = None
        if args.baseline:
            base_src, sha = baseline_src(args.baseline)
            print(f"baseline: {args.baseline} = {sha[:12]}, run from {base_src.parent}")
        times, btimes = [], []
        for i in range(args.runs):
            out = Path(tmp) / f"out{i}"
            dt, stdout = run_ours(Path(tmp) / "data", out, extra)
            times.append(dt)
            print(f"  mssoracle eval run {i + 1}: {dt:.1f} s", flush=True)
            if base_src is not None:
                bextra = [e for e in extra if e not in ("--backend", "numpy")] if args.backend == "numpy" else extra
                bdt, _ = run_ours(Path(tmp) / "data", Path(tmp) / f"base{i}", bextra, env_for(base_src))
                btimes.append(bdt)
                print(f"  baseline eval run {i + 1}: {bdt:.1f} s", flush=True)
        ours = statistics.median(times)
        if btimes:
            base = statistics.median(btimes)
            print(f"\ndefault command, median of {args.runs}: ours {ours:.1f} s, baseline {base:.1f} s; "
                  f"baseline / ours = {base / ours:.2f}x (target >= 1: no slower)")
            po = scoring_probe(None, Path(tmp) / "data", args.methods)
            pb = scoring_probe(base_src, Path(tmp) / "data", args.methods)
            so, sb = statistics.median(po["additional"]), statistics.median(pb["additional"])
            print(f"scoring, first method (references prepared): ours {po['first']:.2f} s, baseline "
                  f"{pb['first']:.2f} s")
            print(f"scoring cost per additional method (median of {args.methods - 1}): ours {so:.2f} s "
                  f"({po['api']}), baseline {sb:.2f} s ({pb['api']}); {100 * (1 - so / sb):.0f}% below the "
                  "baseline (target >= 20%)")
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
