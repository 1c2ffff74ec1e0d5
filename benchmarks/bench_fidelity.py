"""The seed project's own oracle code against ``mssoracle eval --preset seed``, per track (issue 10).

What it does
------------
For every track of ``--root`` (default: the shared MUSDB18-HQ previews, ``train``) and every window
(default 2048 and 4096), it runs the seed's own functions ``ideal_mask(track, tf, alpha=1,
binary_mask=False)`` (IRM1) and ``ideal_mixphase(track, tf)`` (MPI, the phase of ``eps + sum of the
stems``) with the seed's ``TFTransform(44100, "stft", window=W)`` (``scipy.signal.stft(nperseg=W,
noverlap=W//4)``, complex64), scores their estimates with mssoracle's BSS Eval (museval's framing:
1 s windows and hop, v4), and prints, per track, the median SDR over drums, bass, other and vocals (each
the median over frames) of the seed's code beside that of ``mssoracle eval --preset seed`` (run here,
in the same process, on the same files), and the difference.  Target: within 1e-3 dB.

How the seed's code is obtained and run (nothing of it is copied into this repository)
---------------------------------------------------------------------------------------
* The seed is the public repository ``sevagh/mss-oracle-experiments`` (the revision used for the
  README: ``991357f``, "Per-coefficient scores and archival warning").  Get a copy of it, e.g.
  ``git clone`` it, or a bare mirror; pass its path with ``--seed-repo``.  A bare git directory is
  exported at run time (``git archive HEAD oracle_eval``) into ``benchmarks/.cache/seed-src`` (ignored
  by git).
* Its modules ``oracle_eval/oracle.py`` and ``oracle_eval/shared.py`` import, at the top, the seed's
  fork of nsgt (``from nsgt import NSGT_sliced, MelScale, LogScale, BarkScale, VQLogScale``; the STFT
  path never calls it), librosa (``librosa.magphase`` is the MPI's phase), scikit-learn, torch,
  museval and scipy.  torch, museval and scipy come from the project's virtualenv; the nsgt fork is
  the public repository ``sevagh/nsgt`` (branch ``torch``), given with ``--nsgt-repo`` and exported
  the same way; librosa and scikit-learn are installed from PyPI into a folder of their own, given
  with ``--libs`` (made with ``python -m pip install --target benchmarks/.cache/seed-libs --no-deps
  librosa lazy_loader audioread soxr decorator joblib msgpack pooch platformdirs numba llvmlite
  scikit-learn threadpoolctl narwhals packaging requests typing_extensions``), prepended to ``sys.path``.
* The seed reads tracks through musdb (``track.audio``: the mixture file; ``track.sources[name].audio``;
  float64 ``(samples, channels)``).  Here the same arrays are read with soundfile (16-bit PCM as
  float64 is exactly what musdb gives) and handed to the seed's functions in an object with musdb's
  attributes, because musdb's WAV reading needs an ffmpeg executable that this machine lacks.
* ``import museval`` (the seed's first import) imports musdb, whose stempeg refuses to load without
  ffmpeg: an empty stand-in ``musdb`` module is put in ``sys.modules`` then (museval needs musdb only
  for its folder evaluation, which is not called); likewise for ``matplotlib.pyplot``, which the nsgt
  fork's ``nsgtf.py`` imports at the top and the STFT path never uses.
* The seed's functions call ``museval`` unless ``fast_eval=True``; they are called with
  ``fast_eval=True``, and its quick whole-track SDR (``shared.fast_sdr``, which fails on the STFT path:
  its estimates are longer than the references) is replaced by a function that returns None; their
  estimates are scored with mssoracle's BSS Eval, as are mssoracle's: the comparison is of the
  estimates alone.  The seed's
  ``istft`` output is longer than the track (scipy's padding); it is cut to the track's length, as
  museval's ``pad_or_truncate`` does.
* The seed's main script (``oracle_eval/ideal_mask.py``) scores MPI on the excerpt ``start=46.5``,
  ``dur=7.4``; the previews last 6.8 and 10 s, so whole tracks are compared here (``--start`` and
  ``--duration`` set an excerpt for both sides, as ``mssoracle eval --start/--duration`` does).

Run::

    .venv/bin/python benchmarks/bench_fidelity.py --seed-repo /path/to/mss-oracle-experiments \\
        --nsgt-repo /path/to/nsgt --libs benchmarks/.cache/seed-libs
"""

import argparse
import contextlib
import io
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
DEFAULT_ROOT = HERE.parent.parent / "shared" / "data" / "musdb18hq-sample"
STEMS = ("drums", "bass", "other", "vocals")


def export(repo, paths, dest):
    """A work tree of ``repo`` (a checkout, used as it is, or a bare git directory, exported at HEAD)."""
    repo = Path(repo)
    if all((repo / p).exists() for p in paths):
        return repo
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "--git-dir", str(repo), "archive", "HEAD", *paths], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    rev = subprocess.run(["git", "--git-dir", str(repo), "rev-parse", "--short", "HEAD"], check=True,
                         capture_output=True, text=True).stdout.strip()
    (dest / "REVISION").write_text(rev + "\n")
    return dest


class _Source:
    def __init__(self, audio):
        self.audio = audio


class MusdbLikeTrack:
    """What the seed's functions read of a musdb ``Track``: ``audio``, ``rate``, ``sources``, ``chunk_*``."""

    def __init__(self, folder, start=None, duration=None):
        import soundfile as sf

        def read(name):
            x, sr = sf.read(str(folder / f"{name}.wav"), dtype="float64", always_2d=True)
            a = int(start * sr) if start else 0
            b = a + int(duration * sr) if duration else len(x)
            return x[a:b], sr

        self.name = folder.name
        self.audio, self.rate = read("mixture")
        self.sources = {k: _Source(read(k)[0]) for k in STEMS}
        self.chunk_start, self.chunk_duration = start or 0, duration


def seed_estimates(oracle_mod, shared_mod, track, window):
    """The seed's IRM1 and MPI estimates of ``track`` (its own functions), cut to the track's length."""
    # the seed's quick score (shared.fast_sdr) assumes estimates of the track's length, which its STFT path does
    # not give (scipy's istft pads): its scoring is replaced by nothing here; the estimates are scored below
    oracle_mod.fast_sdr = lambda track, estimates: None
    tf = shared_mod.TFTransform(44100, transform_type="stft", window=window)
    n = track.audio.shape[0]
    out = {}
    with contextlib.redirect_stdout(io.StringIO()):  # the seed prints a line per source
        irm, _ = oracle_mod.ideal_mask(track, tf, alpha=1, binary_mask=False, fast_eval=True)
        mpi, _ = oracle_mod.ideal_mixphase(track, tf, fast_eval=True)
    for key, est in (("irm1", irm), ("mpi", mpi)):
        out[key] = {k: np.asarray(est[k], dtype=np.float64)[:n] for k in STEMS}
    return out


def per_target(references, estimates, rate):
    """Each target's median SDR over frames (mssoracle's BSS Eval), ``{target: dB}``."""
    from mssoracle.bsseval import eval_track

    scores = eval_track(references, estimates, sample_rate=rate, on_silent="nan", emit_warnings=False)
    return {k: float(np.nanmedian(scores.values(k)["SDR"])) for k in STEMS}


def headline(references, estimates, rate):
    """Median over drums, bass, other, vocals of each target's median SDR over frames (mssoracle's BSS Eval)."""
    return float(np.median(list(per_target(references, estimates, rate).values())))


def mssoracle_preset_seed(root, subset, windows, start, duration, out):
    """``mssoracle eval --preset seed``: per (oracle, window, track) the same headline, from its results.csv."""
    import pandas as pd

    from mssoracle import cli
    from mssoracle.commands.eval import seed_stft_spec

    args = ["eval", "--preset", "seed", "--root", str(root), "--subset", subset, "--out", str(out),
            "--no-progress", "--transform", ",".join(seed_stft_spec(w) for w in windows)]
    if start:
        args += ["--start", str(start)]
    if duration:
        args += ["--duration", str(duration)]
    with contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(args)
    if code != 0:
        raise SystemExit(f"mssoracle eval --preset seed failed (exit {code})")
    df = pd.read_csv(Path(out) / "results.csv")
    df = df[(df.metric == "SDR") & df.target.isin(STEMS)]
    per_target = df.groupby(["method", "track", "target"])["score"].median().reset_index()
    per_track = per_target.groupby(["method", "track"])["score"].median()
    result = {}
    for (method, track), v in per_track.items():
        oracle = "irm1" if method.startswith("irm1") else "mpi"
        window = int(method.split("-stft-")[1].split("-")[0])
        result[(oracle, window, track)] = float(v)
    return result


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed-repo", required=True, help="sevagh/mss-oracle-experiments: a checkout or a bare git dir")
    p.add_argument("--nsgt-repo", required=True, help="sevagh/nsgt (branch torch): a checkout or a bare git dir")
    p.add_argument("--libs", default=str(CACHE / "seed-libs"),
                   help="folder with librosa and scikit-learn (pip install --target; see the docstring)")
    p.add_argument("--root", default=str(DEFAULT_ROOT), help="MUSDB18-HQ folders (default: the shared previews)")
    p.add_argument("--subset", default="train")
    p.add_argument("--windows", default="2048,4096")
    p.add_argument("--start", type=float, default=None)
    p.add_argument("--duration", type=float, default=None)
    p.add_argument("--write-reference", metavar="FILE", default=None,
                   help="also store the seed code's per-target median SDR as JSON (the stored reference of "
                        "tests/test_preset_seed.py: tests/data/seed/preset-seed-previews.json)")
    args = p.parse_args(argv)
    windows = [int(w) for w in args.windows.split(",")]

    seed_src = export(args.seed_repo, ["oracle_eval"], CACHE / "seed-src")
    nsgt_src = export(args.nsgt_repo, ["nsgt"], CACHE / "seed-nsgt")
    for path in (args.libs, str(nsgt_src), str(Path(seed_src) / "oracle_eval")):
        sys.path.insert(0, path)
    try:  # museval imports musdb, whose stempeg refuses to load without ffmpeg: a stand-in (never called here)
        import musdb  # noqa: F401
    except Exception:
        sys.modules["musdb"] = types.ModuleType("musdb")
    try:  # the nsgt fork's nsgtf.py imports matplotlib.pyplot at the top (plots nothing on this path)
        import matplotlib.pyplot  # noqa: F401
    except Exception:
        sys.modules["matplotlib"] = types.ModuleType("matplotlib")
        sys.modules["matplotlib.pyplot"] = types.ModuleType("matplotlib.pyplot")
    import oracle as oracle_mod  # the seed's oracle_eval/oracle.py
    import shared as shared_mod  # the seed's oracle_eval/shared.py

    rev = (Path(seed_src) / "REVISION").read_text().strip() if (Path(seed_src) / "REVISION").exists() else "?"
    print(f"seed: {args.seed_repo} @ {rev} ({oracle_mod.__file__}); eps = {oracle_mod.eps!r}")
    tracks = sorted(d for d in (Path(args.root) / args.subset).iterdir() if (d / "mixture.wav").is_file())
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        ours = mssoracle_preset_seed(args.root, args.subset, windows, args.start, args.duration, Path(tmp) / "out")
    t_ours = time.perf_counter() - t0
    rows, t_seed, stored = [], 0.0, []
    for folder in tracks:
        track = MusdbLikeTrack(folder, args.start, args.duration)
        refs = {k: s.audio for k, s in track.sources.items()}
        for w in windows:
            t1 = time.perf_counter()
            est = seed_estimates(oracle_mod, shared_mod, track, w)
            t_seed += time.perf_counter() - t1
            for oracle in ("irm1", "mpi"):
                targets = per_target(refs, est[oracle], track.rate)
                seed = float(np.median(list(targets.values())))
                rows.append((track.name, oracle, w, seed, ours[(oracle, w, track.name)]))
                stored += [{"track": track.name, "oracle": oracle, "window": w, "target": k, "SDR": round(v, 6)}
                           for k, v in targets.items()]
    if args.write_reference:
        import json

        ref = {"what": "the seed's own ideal_mask(alpha=1) (irm1) and ideal_mixphase (mpi) with its "
                       "TFTransform(44100, 'stft', window=W), per track and target: the median SDR over 1 s "
                       "frames (mssoracle's BSS Eval v4, museval's framing)",
               "seed_revision": rev, "root": "../shared/data/musdb18hq-sample", "subset": args.subset,
               "start": args.start, "duration": args.duration,
               "command": "python benchmarks/bench_fidelity.py --seed-repo SEED --nsgt-repo NSGT "
                          f"--write-reference {args.write_reference}",
               "rows": stored}
        Path(args.write_reference).parent.mkdir(parents=True, exist_ok=True)
        Path(args.write_reference).write_text(json.dumps(ref, indent=1) + "\n")
        print(f"stored reference: {args.write_reference} ({len(stored)} rows)")
    print("\nper-track median SDR over drums, bass, other, vocals (each the median over 1 s frames), dB; "
          "both scored by mssoracle's BSS Eval\n")
    print(f"{'track':32s} {'oracle':6s} {'window':>6s} {'seed code':>10s} {'--preset seed':>13s} {'diff':>10s}")
    worst = 0.0
    for name, oracle, w, seed, mine in rows:
        worst = max(worst, abs(mine - seed))
        print(f"{name:32s} {oracle:6s} {w:6d} {seed:10.4f} {mine:13.4f} {mine - seed:+10.2e}")
    print(f"\nlargest |difference|: {worst:.2e} dB (target 1e-3): {'OK' if worst <= 1e-3 else 'ABOVE TARGET'}")
    print(f"time: seed's oracles {t_seed:.1f} s (estimates only), mssoracle eval --preset seed {t_ours:.1f} s "
          f"(estimates and scores)")
    return 0 if worst <= 1e-3 else 1


if __name__ == "__main__":
    sys.exit(main())
