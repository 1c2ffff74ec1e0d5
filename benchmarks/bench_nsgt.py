"""Benchmark mssoracle's NSGT/sliCQT against the nsgt package 0.19, in one run.

The nsgt package (CC BY-NC-SA, so a reference only, never a dependency) needs
numpy < 1.24 and ``--no-build-isolation``; this script builds a separate
virtualenv for it (``benchmarks/.cache/nsgt-venv``: setuptools, wheel,
numpy==1.23.5, then nsgt==0.19, no pyfftw), saves the input signal as
``.npy`` and runs the package in a subprocess on it, then runs ours in this
process on the same signal.

Measured (median of ``--runs``), float64, windows built inside the timing on
both sides (our caches are cleared before every run):

* ``nonsliced``: log scale, 262 bins from 32.9 Hz, NSGT over 60 s of stereo,
  ragged (package ``matrixform=False``) and matrix (``matrixform=True``);
* ``sliced``: the same scale, sliCQT sllen 32768, trlen 8192 on 20 s of stereo;
* ``compat``: in the same cases, ours with ``compat=nsgt`` (the package's own coefficients, see
  ``tests/test_nsgt_compat.py``) against the package: the speed-up of computing the very same numbers;
* ``anchor``: ours only: Bark 262 bins from 32.9 Hz sliCQT (default sllen
  18060, trlen 4516) round trip of a 3:54 stereo signal in float32, ragged,
  windows built beforehand, on ``--threads`` cores (default 2), numpy and
  torch CPU.

Also printed: reconstruction error of both, coefficients per channel of both
(the window designs differ, so coefficients are compared through their energy
per band on a sinusoid, not value by value).

Usage::

    python benchmarks/bench_nsgt.py                 # everything
    python benchmarks/bench_nsgt.py --only anchor --threads 2
    python benchmarks/bench_nsgt.py --only anchor --torch-native   # torch CPU through torch's ops
    python benchmarks/bench_nsgt.py --backend torch --device cuda --skip-peer
    python benchmarks/bench_nsgt.py --only stream --threads 2   # STFT 2048/512 and Bark-262 sliCQT streams
    python benchmarks/bench_nsgt.py --only eval                 # eval irm1,mpi: compat=nsgt vs ours, 1 and 4 min

``eval``: ``mssoracle eval --oracle irm1,mpi`` on a tiled real preview of 60 s and 240 s with
``slicq:scale=bark,bins=262,fmin=32.9,compat=nsgt``, our ``slicq:bark:262:32.9``, and the non-sliced
``nsgt:...`` of both (whole-signal), each in its own process: wall time, peak RSS, growth per second.

``stream``: ``Transform.stream`` forward + inverse, block after block, of a
``(5, 2, 240 s)`` float32 signal for ``stft:2048:512`` and
``slicq:bark:262:32.9`` (each in a fresh subprocess), with the peak memory
above the input and output arrays.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / ".cache"
VENV = CACHE / "nsgt-venv"
SR = 44100

PEER = textwrap.dedent(r'''
    import json, resource, sys, time
    import numpy as np

    def cpu():
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime
    import nsgt
    cfg = json.loads(sys.argv[1])

    def nsize(o):  # coefficients in nested lists of arrays
        return int(np.size(o)) if isinstance(o, np.ndarray) else sum(nsize(i) for i in o)
    x = np.load(cfg["input"])
    L = x.shape[-1]
    times, cpus, err, ncoef, energies = [], [], None, None, None
    for run in range(cfg["runs"]):
        t0, c0 = time.perf_counter(), cpu()
        scale = nsgt.LogScale(cfg["fmin"], cfg["fmax"], cfg["bins"])
        if cfg["sliced"]:
            tr = nsgt.NSGT_sliced(scale, cfg["sllen"], cfg["trlen"], cfg["sr"], real=True,
                                  matrixform=cfg["matrix"], multichannel=True)
            c = list(tr.forward((x,)))
            y = np.concatenate(list(tr.backward(c)), axis=-1)[:, :L]
        else:
            tr = nsgt.NSGT(scale, cfg["sr"], L, real=True, matrixform=cfg["matrix"], reducedform=0,
                           multichannel=True)
            c = tr.forward(x)
            y = np.asarray(tr.backward(c))[:, :L]
        times.append(time.perf_counter() - t0)
        cpus.append(cpu() - c0)
        err = float(np.linalg.norm(y - x) / np.linalg.norm(x))
        ncoef = nsize(c) // x.shape[0]
    out = {"times": times, "cpu": cpus, "err": err, "ncoef": ncoef}
    if cfg.get("profile") and not cfg["sliced"]:  # mean energy per band (DC .. Nyquist)
        out["band_energy"] = [[float(np.mean(np.abs(np.asarray(b)) ** 2)) for b in ch] for ch in c]
        out["band_freqs"] = [float(f) for f in scale()[0]]
    print(json.dumps(out))
''')


def ensure_venv():
    py = VENV / "bin" / "python"
    if py.exists():
        ok = subprocess.run([str(py), "-c", "import nsgt, numpy; print(numpy.__version__)"],
                            capture_output=True, text=True)
        if ok.returncode == 0:
            return py
    print(f"creating {VENV} (numpy 1.23.5 + nsgt 0.19) ...", flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(py), "-m", "pip", "install", "-q"]
    subprocess.run(pip + ["setuptools", "wheel", "numpy==1.23.5"], check=True)
    subprocess.run(pip + ["--no-build-isolation", "nsgt==0.19"], check=True)
    return py


def run_peer(py, x, cfg):
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        import numpy as np

        path = Path(tmp) / "input.npy"
        np.save(path, x)
        cfg = dict(cfg, input=str(path))
        script = Path(tmp) / "peer.py"
        script.write_text(PEER)
        out = subprocess.run([str(py), str(script), json.dumps(cfg)], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"nsgt package failed: {out.stderr.strip().splitlines()[-1:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])


def run_ours(x, spec, runs, backend="numpy", device="cpu", prebuilt=False, dtype=None):
    import numpy as np

    from mssoracle.transforms import from_spec, nsgt_compat, nsgt_plan

    L = x.shape[-1]
    if backend == "torch":
        import torch

        xin = torch.as_tensor(x, device=device)
        if dtype is not None:
            xin = xin.to(getattr(torch, dtype))
    else:
        xin = x if dtype is None else x.astype(dtype)
    import resource

    def cpu():
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    times, cpus = [], []
    y = c = None
    if prebuilt:
        t = from_spec(spec, sample_rate=SR)
        _sync(t.inverse(t.forward(xin), L), backend)
    for _ in range(runs):
        if not prebuilt:
            nsgt_plan.PLANS.cache_clear()
            nsgt_plan.slice_window.cache_clear()
            nsgt_compat.clear_plans()
        del y, c
        t0, c0 = time.perf_counter(), cpu()
        t = from_spec(spec, sample_rate=SR)
        c = t.forward(xin)
        y = t.inverse(c, L)
        _sync(y, backend)
        times.append(time.perf_counter() - t0)
        cpus.append(cpu() - c0)
    if backend == "torch":
        y = y.cpu().numpy()
        ncoef = sum(int(g[0].numel()) for g in c)
    else:
        ncoef = sum(int(g[0].size) for g in c)
    err = float(np.linalg.norm(y.astype(np.float64) - x) / np.linalg.norm(x))
    return {"times": times, "cpu": cpus, "err": err, "ncoef": ncoef, "groups": len(c)}


def _sync(y, backend):
    if backend == "torch":
        import torch

        if y.is_cuda:
            torch.cuda.synchronize()


def med(v):
    return statistics.median(v)


def compare(args, py):
    import numpy as np

    rng = np.random.default_rng(0)
    cases = []
    if args.only in ("all", "nonsliced"):
        x = rng.standard_normal((2, int(60 * SR)))
        for form in ("ragged", "matrix"):
            cases.append((f"non-sliced 60 s stereo, {form}", x,
                          f"nsgt:scale=log,bins=262,fmin=32.9,form={form}",
                          dict(sliced=False, matrix=form == "matrix")))
    if args.only in ("all", "sliced"):
        x = rng.standard_normal((2, int(20 * SR)))
        for form in ("ragged", "matrix"):
            cases.append((f"sliced 20 s stereo, sllen 32768 trlen 8192, {form}", x,
                          f"slicq:scale=log,bins=262,fmin=32.9,sllen=32768,trlen=8192,form={form}",
                          dict(sliced=True, matrix=form == "matrix", sllen=32768, trlen=8192)))
    rows = []
    for title, x, spec, cfg in cases:
        cfg = dict(cfg, fmin=32.9, fmax=SR / 2, bins=262, sr=SR, runs=args.runs)
        mine = run_ours(x, spec, args.runs, backend=args.backend, device=args.device)
        line = (f"{title}: ours {med(mine['times']):.3f} s, cpu {med(mine['cpu']):.3f} s (err {mine['err']:.1e}, "
                f"{mine['ncoef'] / x.shape[-1]:.2f} coefs/sample/channel, {mine['groups']} groups)")
        compat = run_ours(x, spec + ",compat=nsgt", args.runs, backend=args.backend, device=args.device)
        line += (f"; ours compat=nsgt {med(compat['times']):.3f} s, cpu {med(compat['cpu']):.3f} s "
                 f"(err {compat['err']:.1e}, {compat['ncoef'] / x.shape[-1]:.2f} coefs/sample/channel)")
        if py is not None:
            peer = run_peer(py, x, cfg)
            line += (f"; nsgt 0.19 {med(peer['times']):.3f} s, cpu {med(peer['cpu']):.3f} s (err {peer['err']:.1e}, "
                     f"{peer['ncoef'] / x.shape[-1]:.2f} coefs/sample/channel); "
                     f"speed-up x{med(peer['times']) / med(mine['times']):.1f} (wall), "
                     f"x{med(peer['cpu']) / med(mine['cpu']):.1f} (cpu time); compat=nsgt vs nsgt 0.19 (the same "
                     f"coefficients): x{med(peer['times']) / med(compat['times']):.1f} (wall), "
                     f"x{med(peer['cpu']) / med(compat['cpu']):.1f} (cpu time)")
        print(line, flush=True)
        rows.append(line)
    return rows


def sanity(args, py):
    """Both transforms on tones + noise: same reconstruction, energy in the same bands."""
    import numpy as np

    from mssoracle.transforms import from_spec

    n = 5 * SR
    t = np.arange(n) / SR
    rng = np.random.default_rng(2)
    # channel 0: two tones; channel 1: white noise, whose band energies cancel per-band scale factors
    x = np.stack([np.cos(2 * np.pi * 440 * t) + 0.5 * np.cos(2 * np.pi * 5000 * t), rng.standard_normal(n)])
    ours = from_spec("nsgt:scale=log,bins=262,fmin=32.9", sample_rate=SR)
    c = ours.forward(x)
    e = np.zeros((2, len(ours.frequencies)))
    for g, lay in zip(c, ours.layout(n)):
        e[:, lay["bands"]] = np.mean(np.abs(g) ** 2, axis=-1)
    peer = run_peer(py, x, dict(sliced=False, matrix=False, fmin=32.9, fmax=SR / 2, bins=262, sr=SR, runs=1,
                                  profile=True))
    pe = np.asarray(peer["band_energy"])
    k = np.arange(1, 262)  # scale bins 1..261 are the same centre frequencies in both
    same = np.allclose(np.asarray(peer["band_freqs"])[:261], ours.frequencies[1:262], rtol=1e-9)
    ours_snr, peer_snr = e[0, k] / e[1, k], pe[0, k] / pe[1, k]
    def share(r):  # fraction of the tones' (noise-normalised) energy in the peak bands and their neighbours
        top = np.argsort(r)[-2:]
        near = np.unique(np.clip(np.concatenate([top - 1, top, top + 1]), 0, len(r) - 1))
        return r[near].sum() / r.sum()
    e, pe = ours_snr, peer_snr
    k = np.arange(261)
    peaks = sorted(int(i) for i in np.argsort(e)[-2:] + 1), sorted(int(i) for i in np.argsort(pe)[-2:] + 1)
    print(f"sanity (log 262 bins from 32.9 Hz, 5 s, tones 440 + 5000 Hz): same centre frequencies {same}; "
          f"share of the tones' energy (normalised by white noise per band) in the two peak bands +-1: ours {share(ours_snr):.4f}, nsgt 0.19 {share(peer_snr):.4f}; two strongest bands ours {peaks[0]} "
          f"({ours.frequencies[peaks[0]].round(1).tolist()} Hz), nsgt {peaks[1]}; reconstruction errors: ours "
          f"{np.linalg.norm(ours.inverse(c, n) - x) / np.linalg.norm(x):.1e}, nsgt {peer['err']:.1e}",
          flush=True)


def anchor(args):
    import numpy as np

    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, int(234 * SR))).astype(np.float32)
    spec = "slicq:bark:262:32.9"
    from mssoracle import threads

    threads.set_budget(args.threads)  # numpy core and FFT workers: this many threads
    if args.torch_native:
        from mssoracle.transforms import nsgt

        nsgt.TORCH_NATIVE_CPU = True
    res = {}
    for backend in ("numpy", "torch"):
        if backend == "torch":
            try:
                import torch

                torch.set_num_threads(args.threads)
            except ImportError:
                print("anchor torch: torch not installed")
                continue
        r = run_ours(x.astype(np.float64), spec, args.runs, backend=backend,
                     device=args.device if backend == "torch" else "cpu", prebuilt=True, dtype="float32")
        res[backend] = r
        how = backend if backend == "numpy" else ("torch native" if args.torch_native else "torch via numpy")
        print(f"anchor {spec} 3:54 stereo float32 ragged round trip, {how} on {args.threads} threads: "
              f"{med(r['times']):.3f} s (min {min(r['times']):.3f}, cpu {med(r['cpu']):.3f} s; err {r['err']:.1e}, "
              f"{r['groups']} groups)",
              flush=True)
    return res


STREAM_SPECS = ("stft:2048:512", "slicq:bark:262:32.9")


def stream_case(spec, seconds, nsrc):
    """One stream forward + inverse (every block, in order) of a (nsrc, 2, seconds * SR) float32 signal, in
    this process: time, and peak memory above the input and the output (RSS high-water mark and
    tracemalloc's peak of numpy's allocations)."""
    import resource
    import tracemalloc

    import numpy as np

    from mssoracle.transforms import from_spec

    t = from_spec(spec, sample_rate=SR)
    L = int(seconds * SR)
    x = np.random.default_rng(0).standard_normal((nsrc, 2, L), dtype=np.float32)
    out = np.zeros_like(x)
    st = t.stream(L)
    b0 = st.blocks[0]  # build plans and windows outside the measurement
    st.inverse_add(st.forward(x[:1, :1], b0), b0, np.zeros((1, 1, L), dtype=np.float32))
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def run():
        out[...] = 0
        t0 = time.perf_counter()
        for b in st.blocks:
            st.inverse_add(st.forward(x, b), b, out)
        st.finish(out)
        return time.perf_counter() - t0

    elapsed = run()  # timed without tracemalloc (it slows every allocation down)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base_rss
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    err = float(np.max(np.abs(out - x)))
    print(json.dumps({"spec": spec, "blocks": len(st.blocks), "seconds": elapsed, "traced_peak_mb": peak / 1e6,
                      "rss_growth_mb": rss / 1e6, "input_mb": x.nbytes / 1e6, "max_abs_err": err}))


def stream(args):
    """``--only stream``: each spec in a fresh subprocess (so that its RSS high-water mark is its own)."""
    for spec in STREAM_SPECS:
        cmd = [sys.executable, __file__, "--stream-case", spec, "--seconds", str(args.seconds),
               "--nsrc", str(args.nsrc), "--threads", str(args.threads)]
        res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        print(f"stream {spec}, ({args.nsrc}, 2, {args.seconds:g} s) float32, {res['blocks']} blocks, "
              f"{args.threads} threads: forward + inverse {res['seconds']:.2f} s; peak above input and output: "
              f"numpy allocations {res['traced_peak_mb']:.0f} MB (tracemalloc), RSS +{res['rss_growth_mb']:.0f} MB "
              f"(input {res['input_mb']:.0f} MB); max |error| {res['max_abs_err']:.1e}", flush=True)


EVAL_SPECS = ("slicq:scale=bark,bins=262,fmin=32.9,compat=nsgt", "slicq:bark:262:32.9",
              "nsgt:scale=bark,bins=262,fmin=32.9,compat=nsgt", "nsgt:bark:262:32.9")


def eval_cost(args):
    """``--only eval``: ``mssoracle eval --oracle irm1,mpi`` with compat=nsgt and our own design on a tiled
    real preview (``bench_eval.make_tree``), wall time and peak RSS of the process tree
    (``bench_memory.measure``), at each ``--eval-seconds`` length, and the growth per second of audio."""
    from bench_eval import make_tree
    from bench_memory import GIB, MIB, measure

    lengths = [float(v) for v in args.eval_seconds.split(",")]
    res = {}
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        for seconds in lengths:
            root = Path(tmp) / f"data{int(seconds)}"
            name, sr, n = make_tree(root, seconds)
            for spec in EVAL_SPECS:
                if spec.startswith("nsgt:") and seconds > args.nsgt_max_seconds:
                    continue
                out = Path(tmp) / f"out-{len(res)}"
                cmd = [sys.executable, "-m", "mssoracle", "eval", "--root", str(root), "--subset", "train",
                       "--out", str(out), "--no-progress", "--oracle", "irm1,mpi", "--transform", spec]
                peak, _, dt, _ = measure(cmd)
                res[(spec, seconds)] = (peak, dt)
                print(f"eval irm1,mpi {spec} on {seconds:.0f} s ({name}): {dt:.1f} s, peak RSS {peak / GIB:.2f} GiB",
                      flush=True)
    for spec in EVAL_SPECS:
        got = [(s, *res[(spec, s)]) for s in lengths if (spec, s) in res]
        if len(got) >= 2:
            (s0, p0, t0), (s1, p1, t1) = got[0], got[-1]
            print(f"growth {spec}: {(t1 - t0) / (s1 - s0):.3f} s and {(p1 - p0) / MIB / (s1 - s0):.1f} MiB of peak "
                  f"RSS per second of audio ({s0:.0f} -> {s1:.0f} s)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", choices=("all", "sanity", "nonsliced", "sliced", "anchor", "stream", "eval"),
                    default="all")
    ap.add_argument("--eval-seconds", default="60,240", help="track lengths of --only eval (default 60,240)")
    ap.add_argument("--nsgt-max-seconds", type=float, default=240.0,
                    help="longest track for the non-sliced NSGTs of --only eval (whole-signal: memory grows)")
    ap.add_argument("--seconds", type=float, default=240.0, help="signal length of --only stream (default 240)")
    ap.add_argument("--nsrc", type=int, default=5, help="leading signals of --only stream (default 5)")
    ap.add_argument("--stream-case", metavar="SPEC", help=argparse.SUPPRESS)
    ap.add_argument("--backend", choices=("numpy", "torch"), default="numpy")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--skip-peer", action="store_true", help="do not build/run the nsgt package")
    ap.add_argument("--threads", type=int, default=2, help="cores for the anchor (2 = the issue's target)")
    ap.add_argument("--torch-native", action="store_true",
                    help="torch CPU tensors through torch's own ops (nsgt.TORCH_NATIVE_CPU), not the numpy core")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    if args.stream_case:
        from mssoracle import threads

        threads.set_budget(args.threads)
        return stream_case(args.stream_case, args.seconds, args.nsrc)
    if args.only == "stream":
        return stream(args)
    if args.only == "eval":
        sys.path.insert(0, str(ROOT / "benchmarks"))
        return eval_cost(args)
    import platform

    print(f"machine: {platform.machine()} {os.cpu_count()} cores, python {platform.python_version()}")
    if args.only in ("all", "anchor"):
        # restrict threads before numpy/scipy/torch start their pools
        os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    py = None
    if not args.skip_peer and args.only != "anchor":
        try:
            py = ensure_venv()
        except (subprocess.CalledProcessError, OSError) as exc:
            print(f"nsgt package unavailable ({exc}); timing ours only")
    if py is not None and args.only in ("all", "sanity"):
        sanity(args, py)
    if args.only in ("all", "nonsliced", "sliced"):
        compare(args, py)
    if args.only in ("all", "anchor"):
        anchor(args)


if __name__ == "__main__":
    main()
