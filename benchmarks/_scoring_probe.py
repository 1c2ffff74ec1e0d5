"""Time the scoring of several estimate sets of one 4-minute track, as `mssoracle eval` feeds its scorer.

Run by bench_eval.py with PYTHONPATH pointing at either checkout (this one or a baseline worktree);
prints one JSON line: {"first": s, "additional": [s, ...], "api": "derived" | "explicit"}.
Usage: python _scoring_probe.py TRACK_DIR N_METHODS
"""

import inspect
import json
import sys
import time

import numpy as np
import soundfile as sf


def main():
    folder, n = sys.argv[1], int(sys.argv[2])
    from mssoracle.bsseval import TrackEvaluator

    derived_api = "derived" in inspect.signature(TrackEvaluator.evaluate).parameters
    names = ("drums", "bass", "other", "vocals")
    # what each version's eval feeds: float32 (C, T) rows as transposed views (new), float64 (T, C) (old)
    dtype = "float32" if derived_api else "float64"
    refs = {s: sf.read(f"{folder}/{s}.wav", dtype=dtype, always_2d=True)[0] for s in names}
    if derived_api:
        refs = {s: np.ascontiguousarray(v.T).T for s, v in refs.items()}
    sr = 44100
    ev = TrackEvaluator(refs, sample_rate=sr, track_name="probe", on_silent="nan")
    rng = np.random.default_rng(0)
    times = []
    for k in range(n):
        est = {s: (v + 0.05 * (k + 1) * rng.standard_normal(v.shape)).astype(v.dtype) for s, v in refs.items()}
        t0 = time.perf_counter()
        if derived_api:
            ev.evaluate(est, derived=("accompaniment",), emit_warnings=False)
        else:
            est["accompaniment"] = est["drums"] + est["bass"] + est["other"]
            ev.evaluate(est)
        times.append(time.perf_counter() - t0)
        del est
    print(json.dumps({"first": times[0], "additional": times[1:], "api": "derived" if derived_api else "explicit"}))


if __name__ == "__main__":
    main()
