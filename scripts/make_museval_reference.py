#!/usr/bin/env python
"""Regenerate ``tests/data/museval/reference.npz`` with live museval 0.4.1.

The inputs of every case are rebuilt from seeds (synthetic sources) or from the
shared MUSDB excerpts (``../shared/data``), see ``tests/museval_ref.py``; only
museval's outputs (SDR, ISR, SIR, SAR, perm, and the reference Gram condition
estimate of mssoracle for information) are stored.

Usage: python scripts/make_museval_reference.py [--shared ../shared/data] [CASE ...]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import museval_ref  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases", nargs="*", help="cases to (re)compute (default: all)")
    ap.add_argument("--shared", default=str(ROOT.parent / "shared" / "data"))
    args = ap.parse_args(argv)
    metrics = museval_ref.museval_metrics()
    if metrics is None:
        sys.exit("museval is not installed (pip install museval==0.4.1)")
    stored = museval_ref.load_reference()
    cases = args.cases or list(museval_ref.CASES)
    for case in cases:
        if museval_ref.is_real(case) and not Path(args.shared).is_dir():
            print(f"skip {case}: shared data not found at {args.shared}")
            continue
        ref, est = museval_ref.make_inputs(case, args.shared)
        t = time.perf_counter()
        out = museval_ref.run_museval(metrics, case, ref, est)
        print(f"{case}: {ref.shape}, museval {time.perf_counter() - t:.1f} s")
        stored[case] = out
    museval_ref.REFERENCE_FILE.parent.mkdir(parents=True, exist_ok=True)
    flat = {f"{c}/{m}": np.asarray(v) for c, d in stored.items() for m, v in d.items()}
    np.savez_compressed(museval_ref.REFERENCE_FILE, **flat)
    print(f"wrote {museval_ref.REFERENCE_FILE} ({museval_ref.REFERENCE_FILE.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
