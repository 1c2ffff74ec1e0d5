"""Cost of rebuilding ``OUT/results.csv`` from the score files, beside museval's reader of the same files.

A study folder is made of real-sized score files (4-minute tracks: 240 frames x 5 targets x 4 metrics,
museval's JSON plus mssoracle's config), METHODS x TRACKS of them.  Then, in the same run:

- museval's ``MethodStore.add_eval_dir`` (museval 0.4.1, loaded from its own file with a stub package so
  that no ffmpeg is needed) reads each method folder into its DataFrame (no CSV written);
- ours: ``mssoracle.results.collect_results`` (the same reading into a DataFrame) and ``write_results``
  (what ``mssoracle eval`` does once per command: the atomic ``results.csv``), from scratch and with
  the per-file row cache of an earlier rebuild (the case of a command adding results to a study).

Prints rows/s, the ratio to museval, and the time a full MUSDB18 study (~17 million rows) would take.

    python benchmarks/bench_results.py --methods 8 --tracks 25 --runs 3
"""

import argparse
import importlib
import shutil
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

FRAMES, TARGETS, METRICS = 240, ("drums", "bass", "other", "vocals", "accompaniment"), 4
STUDY_ROWS = 17_000_000


def make_study(out, methods, tracks):
    from mssoracle.bsseval import TrackScores

    rng = np.random.default_rng(0)
    for m in range(methods):
        method = f"irm1-stft-{512 * (m + 1)}-{128 * (m + 1)}"
        for t in range(tracks):
            s = TrackScores(f"Track {t:03d}", config={"method": method, "track": f"Track {t:03d}"})
            for target in TARGETS:
                s.add_target(target, {k: rng.normal(5, 3, FRAMES) for k in ("SDR", "SIR", "ISR", "SAR")})
            s.add_evaluation(TARGETS[:4], TARGETS[:3], 1e6)
            s.add_evaluation(("vocals", "accompaniment"), ("vocals", "accompaniment"), 1e5)
            s.save(out / "scores" / "musdb18hq" / method / "test" / f"Track {t:03d}.json")
    return methods * tracks * FRAMES * len(TARGETS) * METRICS


def load_museval_aggregate():
    """museval.aggregate without museval/__init__ (which imports musdb -> stempeg -> ffmpeg)."""
    import importlib.util

    spec = importlib.util.find_spec("museval")
    if spec is None:
        return None
    stub = types.ModuleType("museval")
    stub.__path__ = list(spec.submodule_search_locations)
    sys.modules.setdefault("museval", stub)
    return importlib.import_module("museval.aggregate")


def timed(fn, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--methods", type=int, default=8)
    p.add_argument("--tracks", type=int, default=25)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args(argv)

    from mssoracle.results import CACHE, collect_results, write_results

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        rows = make_study(out, args.methods, args.tracks)
        print(f"{args.methods} methods x {args.tracks} tracks of {FRAMES} frames: {rows} rows")
        agg = load_museval_aggregate()
        results = {}
        if agg is not None:
            def museval_read():
                store = agg.MethodStore()
                for folder in sorted((out / "scores" / "musdb18hq").iterdir()):
                    store.add_eval_dir(folder)
                assert len(store.df) == rows, len(store.df)
            results["museval MethodStore.add_eval_dir"] = timed(museval_read, args.runs)
        else:
            print("museval not installed: its reader is skipped")
        results["ours collect_results"] = timed(lambda: collect_results(out), args.runs)

        def cold():
            shutil.rmtree(out / CACHE, ignore_errors=True)
            write_results(out)
        results["ours write_results, no row cache"] = timed(cold, args.runs)
        write_results(out)
        results["ours write_results, cached rows"] = timed(lambda: write_results(out), args.runs)
        rebuilt = [(out / name).read_bytes() for name in ("results.csv", "summary.csv")]
        shutil.rmtree(out / CACHE)
        write_results(out)
        assert [(out / name).read_bytes() for name in ("results.csv", "summary.csv")] == rebuilt, \
            "cached and fresh tables differ"
        base = results.get("museval MethodStore.add_eval_dir")
        for name, t in results.items():
            ratio = f"  {base / t:5.2f}x museval's speed" if base else ""
            print(f"{name:36s} {t:7.2f} s  {rows / t / 1e6:6.2f} M rows/s  full study ~{STUDY_ROWS / (rows / t):6.0f} s"
                  f"{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
