"""How far SIR, ISR and SAR of ill-conditioned (AAC) references are from museval's, and SDR's too.

On MUSDB18's AAC-decoded stems the reference Gram matrix of BSS Eval is nearly
singular (condition 1e15-1e17): SIR, ISR and SAR are then rounding noise in any
exact implementation, SDR is not.  This script scores the same estimates of the
"Music Delta - 80s Rock" preview (decoded from AAC) with museval 0.4.1 and with
mssoracle's engine, in the same run, and prints the largest per-frame difference
of each metric, the condition number, and the same for the lossless
"The Easton Ellises - Falcon 69" preview as the control.

Estimates: each stem plus white noise at -10 dB, and the SiSEC IRM1 oracle of
the STFT 2048/512 (seeded, reproducible).  museval is imported without ffmpeg
(tests/museval_live.py).

Usage::

    python benchmarks/bench_illconditioned.py [--data ../shared/data/musdb18hq-sample]
"""

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from museval_live import import_museval  # noqa: E402

TRACKS = ("Music Delta - 80s Rock", "The Easton Ellises - Falcon 69")
STEMS = ("vocals", "drums", "bass", "other")


def estimates_of(stems, mixture, kind, rng):
    if kind == "noise":
        return {s: x + 10 ** (-10 / 20) * np.std(x) * rng.standard_normal(x.shape) for s, x in stems.items()}
    from mssoracle.experiment.pipeline import compute_estimates
    from mssoracle.oracles import get_oracle
    from mssoracle.transforms import from_spec

    names = list(stems)
    st = np.stack([stems[s].T for s in names]).astype(np.float64)
    est = next(e for _, e in compute_estimates(from_spec("stft:2048:512").at_rate(44100), [get_oracle("irm1")],
                                              mixture.T.astype(np.float64), st))
    return {s: est[i].T for i, s in enumerate(names)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data" / "musdb18hq-sample"))
    args = ap.parse_args(argv)
    import soundfile as sf

    from mssoracle.bsseval import evaluate, Evaluator

    warnings.simplefilter("ignore")  # the ill-conditioning warnings are the point here: the table says it
    root = Path(args.data) / "train"
    if not root.is_dir():
        sys.exit(f"{root}: no MUSDB18-HQ sample here; give --data")
    rng = np.random.default_rng(0)
    with import_museval() as museval:
        if museval is None:
            sys.exit("museval is not installed (pip install museval==0.4.1)")
        print(f"{'track':32s} {'estimates':9s} {'cond':>9s}  max |ours - museval| over frames and sources (dB)")
        for track in TRACKS:
            stems = {s: sf.read(str(root / track / f"{s}.wav"), dtype="float64")[0] for s in STEMS}
            mixture = sf.read(str(root / track / "mixture.wav"), dtype="float64")[0]
            refs = np.stack([stems[s] for s in STEMS])
            for kind in ("noise", "irm1"):
                est = estimates_of(stems, mixture, kind, rng)
                ests = np.stack([est[s] for s in STEMS])
                theirs = museval.evaluate(refs, ests, win=44100, hop=44100)
                ours = evaluate(refs, ests, win=44100, hop=44100)
                cond = Evaluator(refs, sample_rate=44100).cond
                diffs = []
                for name, a, b in zip(("SDR", "ISR", "SIR", "SAR"), ours, theirs):
                    d = np.abs(np.asarray(a, float) - np.asarray(b, float))
                    diffs.append(f"{name} {np.nanmax(d):9.2e}")
                print(f"{track[:32]:32s} {kind:9s} {cond:9.1e}  " + "  ".join(diffs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
