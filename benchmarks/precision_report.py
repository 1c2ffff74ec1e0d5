"""Scores in float32 against float64, for every oracle, on the shared MUSDB previews.

Runs ``mssoracle eval`` twice on ``../shared/data/musdb18hq-sample`` (subset
train: "Music Delta - 80s Rock" and "The Easton Ellises - Falcon 69"), with
``--precision float32`` and ``--precision float64``, every listed oracle and the
default STFTs (plus a sliCQT with ``--slicq``), and prints per oracle the largest
absolute difference of the per-track median (over frames) of each metric, and
of the frame values of SDR.  The README quotes this table.

Usage::

    python benchmarks/precision_report.py [--oracles LIST] [--transforms LIST] [--slicq]
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("MSSORACLE_SHARED", HERE.parents[1] / "shared" / "data"))
ORACLES = "irm1,irm2,ibm1,ibm2,mpi,mwf,mix,psm,cirm,wiener1,gt"


def run(root, out, precision, oracles, transforms):
    cmd = [sys.executable, "-m", "mssoracle", "eval", "--root", str(root), "--subset", "train", "--out", str(out),
           "--oracle", oracles, "--transform", transforms, "--precision", precision, "--no-progress"]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode:
        sys.exit(f"eval failed:\n{res.stderr}")
    return pd.read_csv(Path(out) / "results.csv")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--oracles", default=ORACLES)
    ap.add_argument("--transforms", default="stft:2048,stft:4096")
    ap.add_argument("--slicq", action="store_true", help="add slicq:bark:262:32.9")
    args = ap.parse_args(argv)
    root = SHARED / "musdb18hq-sample"
    if not root.is_dir():
        sys.exit(f"shared previews not found at {root}")
    transforms = args.transforms + (",slicq:bark:262:32.9" if args.slicq else "")
    with tempfile.TemporaryDirectory() as tmp:
        a = run(root, Path(tmp) / "f32", "float32", args.oracles, transforms)
        b = run(root, Path(tmp) / "f64", "float64", args.oracles, transforms)
    key = ["method", "track", "target", "metric", "time"]
    m = a.merge(b, on=key, suffixes=("_32", "_64"))
    m["oracle"] = m["method"].str.split("-").str[0]
    med = m.groupby(["oracle", "method", "track", "target", "metric"])[["score_32", "score_64"]].median()
    med["diff"] = (med["score_32"] - med["score_64"]).abs()
    frames = m[m["metric"] == "SDR"].assign(diff=lambda d: (d["score_32"] - d["score_64"]).abs())
    print(f"float32 vs float64 on {root} (2 tracks), transforms {transforms}")
    print("largest |difference| in dB of per-track medians (SDR, SIR, ISR, SAR) and of SDR frame values")
    print(f"{'oracle':10s} {'SDR':>9s} {'SIR':>9s} {'ISR':>9s} {'SAR':>9s} {'SDR frames':>11s}")
    for oracle in dict.fromkeys(m["oracle"]):
        d = med.loc[oracle]["diff"].groupby(level="metric").max()
        f = frames[frames["oracle"] == oracle]["diff"].max()
        cells = " ".join(f"{d.get(k, np.nan):9.2e}" for k in ("SDR", "SIR", "ISR", "SAR"))
        print(f"{oracle:10s} {cells} {f:11.2e}")


if __name__ == "__main__":
    main()
