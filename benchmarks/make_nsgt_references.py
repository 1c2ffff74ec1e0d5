"""Regenerate ``tests/data/nsgt_compat/``: stored outputs of the nsgt package for ``compat=nsgt``.

The package (nsgt 0.19; Artistic 2.0 / a stray CC BY-NC-SA header, a reference only, never a
dependency) is built in its own virtualenv, ``benchmarks/.cache/nsgt-venv`` (numpy 1.23.5,
``--no-build-isolation``, as ``bench_nsgt.py`` does), and run there in a subprocess.  The seed's
fork (``sevagh/nsgt``, branch ``torch``: ``benchmarks/.cache/seed-nsgt`` or ``--fork DIR``, e.g.
a ``git clone https://github.com/sevagh/nsgt -b torch``) gives the Bark and VQLog scales: its
``fscale.py`` (plain numpy) is loaded on its own and its scale objects are fed to 0.19's
transforms.  Nothing of either package is copied into the repository: only the numbers they
compute.

Written (``--out``, default ``tests/data/nsgt_compat``):

* ``cases.json`` and ``case_<name>.npz``: for every case (scale, sliced or not, ragged/matrix,
  reducedform, min_win/qvar) the input ``x (channels, L)``, the package's coefficients
  (``c<band>`` per computed band: ``(channels, slices, M)``), the package's ``backward`` of a
  fixed modified coefficient set (``y_mod``; band ``i`` times the real gain
  ``1 + 0.75 cos(0.7 n + 0.3 i)``, ``n`` the flat index of the band's array: :func:`modified`)
  and the package's round-trip error (``rt_err``), and the package's own scale (``scale_f``,
  ``scale_q``; ``suggested_sllen`` for the fork's scales).
* ``fork_<case>.npz`` for the Bark/VQLog sliced cases: the seed's fork's own transform (float32,
  complex64; run with this interpreter, which has torch), ragged (``M<m>``: ``(slices, channels,
  bands with that M, M)``) or matrix (``matrix``: ``(slices, channels, bands, M)``).
* ``oracle_scores.json`` (``--oracles``, needs ``/work/shared/data/musdb18hq-sample``): per track
  of the shared previews and per target, the median SDR (mssoracle's BSS Eval, its default
  1 s windows) of IRM1 and MPI estimates computed from the *package's* coefficients
  (sliCQT Bark 262 from 32.9 Hz, the fork's suggested sllen 18060 / trlen 4516, ragged), with
  the masks mssoracle's ``irm1`` and ``mpi`` oracles compute, synthesised by the package's
  ``backward``.  ``tests/test_nsgt_compat.py`` compares ``mssoracle eval --transform
  slicq:scale=bark,bins=262,fmin=32.9,compat=nsgt`` with them (within 1e-3 dB) without the package.

Usage::

    python benchmarks/make_nsgt_references.py                # cases + oracle scores
    python benchmarks/make_nsgt_references.py --no-oracles   # cases only (seconds)
"""

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_nsgt import ensure_venv  # noqa: E402

FORK = ROOT / "benchmarks" / ".cache" / "seed-nsgt"
OUT = ROOT / "tests" / "data" / "nsgt_compat"
PREVIEWS = Path("/work/shared/data/musdb18hq-sample")
SR = 44100

#: the reference cases: short signals, small files
CASES = [
    # name, kind, scale, bins, fmin, fmax, extra (gamma, sllen, trlen, matrix, reduced, min_win, qvar), L, channels
    dict(name="slicq_log", sliced=True, scale="log", bins=48, fmin=60.0, sllen=2048, trlen=512, L=3000, ch=2),
    dict(name="slicq_log_matrix", sliced=True, scale="log", bins=24, fmin=60.0, sllen=1024, trlen=256, L=1500,
         matrix=True),
    dict(name="slicq_oct", sliced=True, scale="oct", bins=6, fmin=80.0, fmax=16000.0, sllen=2048, trlen=256, L=2500),
    dict(name="slicq_lin", sliced=True, scale="lin", bins=40, fmin=100.0, fmax=20000.0, sllen=2048, trlen=512,
         L=2500),
    dict(name="slicq_mel", sliced=True, scale="mel", bins=40, fmin=40.0, sllen=2048, trlen=512, L=2500),
    dict(name="slicq_bark", sliced=True, scale="bark", bins=40, fmin=40.0, sllen=2048, trlen=512, L=2500),
    dict(name="slicq_bark_matrix", sliced=True, scale="bark", bins=40, fmin=40.0, sllen=1024, trlen=256, L=1500,
         matrix=True),
    dict(name="slicq_vqlog", sliced=True, scale="vqlog", bins=40, fmin=60.0, gamma=30.0, sllen=2048, trlen=512,
         L=2500),
    dict(name="slicq_mel_reduced1", sliced=True, scale="mel", bins=40, fmin=40.0, sllen=2048, trlen=512, L=2500,
         reduced=1),
    dict(name="slicq_log_reduced2_matrix", sliced=True, scale="log", bins=24, fmin=60.0, sllen=1024, trlen=256,
         L=1500, reduced=2, matrix=True),
    dict(name="slicq_log_minwin_qvar", sliced=True, scale="log", bins=40, fmin=60.0, sllen=2048, trlen=512,
         L=2500, min_win=32, qvar=1.5),
    dict(name="nsgt_log", sliced=False, scale="log", bins=48, fmin=60.0, L=3001, ch=2),
    dict(name="nsgt_oct_matrix", sliced=False, scale="oct", bins=6, fmin=80.0, fmax=16000.0, L=1200, matrix=True),
    dict(name="nsgt_lin", sliced=False, scale="lin", bins=40, fmin=100.0, fmax=20000.0, L=2500),
    dict(name="nsgt_mel", sliced=False, scale="mel", bins=40, fmin=40.0, L=2500),
    dict(name="nsgt_bark_reduced1", sliced=False, scale="bark", bins=40, fmin=40.0, L=2500, reduced=1),
    dict(name="nsgt_vqlog_matrix", sliced=False, scale="vqlog", bins=40, fmin=60.0, gamma=30.0, L=1500,
         matrix=True),
]


def modified(bands):
    """The fixed modification of a coefficient set (list of per-band arrays) whose ``backward`` is stored."""
    return [b * (1.0 + 0.75 * np.cos(0.7 * np.arange(b.size).reshape(b.shape) + 0.3 * i)) for i, b in enumerate(bands)]


def spec_of(case):
    """The mssoracle spec of a case."""
    items = [f"scale={case['scale']}", f"bins={case['bins']}", f"fmin={case['fmin']:g}"]
    if case.get("fmax"):
        items.append(f"fmax={case['fmax']:g}")
    if case["sliced"]:
        items += [f"sllen={case['sllen']}", f"trlen={case['trlen']}"]
    if case.get("gamma"):
        items.append(f"gamma={case['gamma']:g}")
    if case.get("matrix"):
        items.append("form=matrix")
    items.append("compat=nsgt")
    if case.get("min_win"):
        items.append(f"min_win={case['min_win']}")
    if case.get("qvar"):
        items.append(f"qvar={case['qvar']:g}")
    if case.get("reduced"):
        items.append(f"reducedform={case['reduced']}")
    return ("slicq:" if case["sliced"] else "nsgt:") + ",".join(items)


# the program run in the package's virtualenv: reads a job file, writes an npz per job
PEER = textwrap.dedent(r'''
    import importlib.util, json, sys
    import numpy as np
    import nsgt

    job = json.loads(open(sys.argv[1]).read())
    spec = importlib.util.spec_from_file_location("fork_fscale", job["fork_fscale"])
    fork = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fork)

    def scale_of(c):
        if c["scale"] == "oct":
            return nsgt.OctScale(c["fmin"], c["fmax"], c["bins"])
        if c["scale"] == "log":
            return nsgt.LogScale(c["fmin"], c["fmax"], c["bins"])
        if c["scale"] == "lin":
            return nsgt.LinScale(c["fmin"], c["fmax"], c["bins"])
        if c["scale"] == "mel":
            return nsgt.MelScale(c["fmin"], c["fmax"], c["bins"])
        if c["scale"] == "bark":
            return fork.BarkScale(c["fmin"], c["fmax"], c["bins"])
        if c["scale"] == "vqlog":
            return fork.VQLogScale(c["fmin"], c["fmax"], c["bins"], gamma=c.get("gamma", 0.0))
        raise SystemExit("unknown scale " + c["scale"])

    def build(c, L):
        sc = scale_of(c)
        if c["sliced"]:
            return nsgt.NSGT_sliced(sc, c["sllen"], c["trlen"], c["sr"], min_win=c.get("min_win") or 16,
                                    Qvar=c.get("qvar") or 1, real=True, matrixform=bool(c.get("matrix")),
                                    reducedform=c.get("reduced", 0), multichannel=True)
        return nsgt.NSGT(sc, c["sr"], L, real=True, matrixform=bool(c.get("matrix")),
                         reducedform=c.get("reduced", 0), multichannel=True)

    def fwd(tr, c, x):
        if c["sliced"]:
            sl = list(tr.forward((x,)))  # slices of channels of bands
            nb = len(sl[0][0])
            return [np.stack([np.stack([np.asarray(s[ch][b]) for s in sl]) for ch in range(len(x))])
                    for b in range(nb)]  # per band (channels, slices, M)
        co = tr.forward(tuple(x))
        return [np.stack([np.asarray(co[ch][b]) for ch in range(len(x))])[:, None, :] for b in range(len(co[0]))]

    def bwd(tr, c, bands, L):
        ch = bands[0].shape[0]
        if c["sliced"]:
            S = bands[0].shape[1]
            seq = [[[bands[b][k, s] for b in range(len(bands))] for k in range(ch)] for s in range(S)]
            y = np.concatenate(list(tr.backward(seq)), axis=-1)
            return np.asarray(y)[:, :L]
        seq = [[bands[b][k, 0] for b in range(len(bands))] for k in range(ch)]
        return np.asarray(tr.backward(seq))[:, :L]

    for j in job["jobs"]:
        c = j["case"]
        data = np.load(j["input"])
        out = {}
        if j["what"] == "case":
            x = data["x"]
            L = x.shape[-1]
            tr = build(c, L)
            bands = fwd(tr, c, x)
            mod = [b * (1.0 + 0.75 * np.cos(0.7 * np.arange(b.size).reshape(b.shape) + 0.3 * i))
                   for i, b in enumerate(bands)]
            out = {f"c{i}": b for i, b in enumerate(bands)}
            out["x"] = x
            out["rt_err"] = np.array(np.abs(bwd(tr, c, bands, L) - x).max())
            out["y_mod"] = bwd(tr, c, mod, L)
            f, q = sc_fq = scale_of(c)()
            out["scale_f"], out["scale_q"] = f, q
            if hasattr(scale_of(c), "suggested_sllen"):
                out["suggested_sllen"] = np.array(scale_of(c).suggested_sllen(c["sr"]))
        elif j["what"] == "forward":  # coefficients of several signals, (n, channels, L)
            sig = data["x"]
            L = sig.shape[-1]
            tr = build(c, L)
            for i in range(sig.shape[0]):
                for b, arr in enumerate(fwd(tr, c, sig[i])):
                    out[f"s{i}_c{b}"] = arr
        elif j["what"] == "backward":  # band coefficients of several estimates -> signals
            L = int(data["L"])
            tr = build(c, L)
            n = int(data["n"])
            nb = int(data["nb"])
            for i in range(n):
                out[f"y{i}"] = bwd(tr, c, [data[f"e{i}_c{b}"] for b in range(nb)], L)
        np.savez(j["output"], **out)
    print("ok")
''')


def run_peer(py, jobs, tmp):
    job = Path(tmp) / "job.json"
    job.write_text(json.dumps({"fork_fscale": str(FORK / "nsgt" / "fscale.py"), "jobs": jobs}))
    script = Path(tmp) / "peer.py"
    script.write_text(PEER)
    r = subprocess.run([str(py), str(script), str(job)], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"the package's run failed:\n{r.stderr[-3000:]}")


def make_cases(py, out):
    rng = np.random.default_rng(20261202)
    meta = {}
    with tempfile.TemporaryDirectory() as tmp:
        jobs = []
        for case in CASES:
            c = dict(case, sr=SR, fmax=case.get("fmax") or SR / 2)
            x = rng.standard_normal((case.get("ch", 1), case["L"]))
            inp = Path(tmp) / f"{case['name']}_in.npz"
            np.savez(inp, x=x)
            jobs.append(dict(what="case", case=c, input=str(inp), output=str(Path(tmp) / f"{case['name']}.npz")))
        run_peer(py, jobs, tmp)
        for case, j in zip(CASES, jobs):
            d = dict(np.load(j["output"]))
            np.savez_compressed(out / f"case_{case['name']}.npz", **d)
            meta[case["name"]] = {"spec": spec_of(case), "bands": sum(1 for k in d if k.startswith("c"))}
    (out / "cases.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    print(f"{len(CASES)} cases -> {out}")


# the fork's own (float32, torch) transform, run with this interpreter (it needs torch): numpy >= 1.24 refuses
# the fork's float clip into an integer array (nsgfwin_sl.py), so that one call is shimmed (same result)
FORK_PEER = textwrap.dedent(r'''
    import json, sys
    import numpy as np
    _clip = np.clip

    def clip(a, lo, hi, out=None, **kw):
        if out is not None and np.issubdtype(out.dtype, np.integer) and np.isinf(hi):
            return np.maximum(a, lo, out=out)
        return _clip(a, lo, hi, out=out, **kw)
    np.clip = clip
    job = json.loads(open(sys.argv[1]).read())
    sys.path.insert(0, job["fork"])
    import torch
    import nsgt
    for j in job["jobs"]:
        c = j["case"]
        x = np.load(j["input"])["x"]
        if c["scale"] == "bark":
            sc = nsgt.BarkScale(c["fmin"], c["fmax"], c["bins"])
        else:
            sc = nsgt.VQLogScale(c["fmin"], c["fmax"], c["bins"], gamma=c.get("gamma", 0.0))
        tr = nsgt.NSGT_sliced(sc, c["sllen"], c["trlen"], c["sr"], real=True, matrixform=bool(c.get("matrix")),
                              multichannel=True, device="cpu")
        co = tr.forward((torch.from_numpy(x.astype(np.float32)),))
        if isinstance(co, dict):  # ragged: {M: (slices, channels, bands with that M, M)}
            out = {f"M{int(M)}": v.numpy() for M, v in co.items()}
        else:
            out = {"matrix": co.numpy()}  # (slices, channels, bands, M)
        np.savez_compressed(j["output"], **out)
    print("ok")
''')
FORK_CASES = ("slicq_bark", "slicq_bark_matrix", "slicq_vqlog")


def make_fork_outputs(out):
    """The fork's own float32 coefficients of the Bark/VQLog cases (``fork_<case>.npz``, complex64)."""
    with tempfile.TemporaryDirectory() as tmp:
        jobs = []
        for case in CASES:
            if case["name"] not in FORK_CASES:
                continue
            c = dict(case, sr=SR, fmax=case.get("fmax") or SR / 2)
            inp = Path(tmp) / f"{case['name']}.npz"
            np.savez(inp, x=np.load(out / f"case_{case['name']}.npz")["x"])
            jobs.append(dict(case=c, input=str(inp), output=str(out / f"fork_{case['name']}.npz")))
        job = Path(tmp) / "job.json"
        job.write_text(json.dumps({"fork": str(FORK), "jobs": jobs}))
        script = Path(tmp) / "fork_peer.py"
        script.write_text(FORK_PEER)
        r = subprocess.run([sys.executable, str(script), str(job)], capture_output=True, text=True)
        if r.returncode:
            raise SystemExit(f"the fork's run failed:\n{r.stderr[-3000:]}")
    print(f"fork outputs of {', '.join(FORK_CASES)} -> {out}")


ORACLE_SPEC = "slicq:scale=bark,bins=262,fmin=32.9,compat=nsgt"
ORACLE_CASE = dict(sliced=True, scale="bark", bins=262, fmin=32.9, fmax=SR / 2, sllen=18060, trlen=4516, sr=SR)


def make_oracle_scores(py, out, root):
    """IRM1/MPI from the package's coefficients, masks by mssoracle's oracles, synthesis by the package's
    ``backward``, scored with mssoracle's BSS Eval (1 s windows and hop, median over frames)."""
    sys.path.insert(0, str(ROOT / "src"))
    import soundfile as sf
    from mssoracle import transforms
    from mssoracle.bsseval.evaluator import evaluate
    from mssoracle.oracles import get_oracle

    ours = transforms.from_spec(ORACLE_SPEC)
    targets = ["vocals", "drums", "bass", "other"]
    result = {"spec": ours.spec, "name": ours.name, "metric": "SDR median over 1 s frames (BSS Eval v4)",
              "tracks": {}}
    for track in sorted((root / "train").iterdir()):
        srcs = {t: sf.read(str(track / f"{t}.wav"), dtype="float64", always_2d=True)[0].T for t in targets}
        mix = sf.read(str(track / "mixture.wav"), dtype="float64", always_2d=True)[0].T
        L = mix.shape[-1]
        groups = ours.layout(L)
        result["tracks"][track.name] = {}
        with tempfile.TemporaryDirectory() as tmp:
            inp = Path(tmp) / "sig.npz"
            np.savez(inp, x=np.stack([mix] + [srcs[t] for t in targets]))
            run_peer(py, [dict(what="forward", case=ORACLE_CASE, input=str(inp), output=str(Path(tmp) / "c.npz"))],
                     tmp)
            d = np.load(Path(tmp) / "c.npz")
            nb = sum(1 for k in d.files if k.startswith("s0_"))
            # into mssoracle's layout: per group (channels, bands_g, slices * M_g)
            coefs = [[np.stack([d[f"s{i}_c{int(b)}"] for b in g["bands"]], axis=1).reshape(
                mix.shape[0], len(g["bands"]), -1) for g in groups] for i in range(len(targets) + 1)]
            X = coefs[0]
            S = [np.stack([coefs[k + 1][gi] for k in range(len(targets))]) for gi in range(len(groups))]
            for oname in ("irm1", "mpi"):
                Y = get_oracle(oname)(X, S)
                est_in = {"L": L, "n": len(targets), "nb": nb}
                for gi, g in enumerate(groups):
                    C = np.asarray(Y[gi])
                    C = C.reshape(C.shape[:3] + (-1, g["M"]))  # (nsrc, ch, bands_g, S, M)
                    for r, b in enumerate(g["bands"]):
                        for k in range(len(targets)):
                            est_in[f"e{k}_c{int(b)}"] = C[k, :, r]
                ein = Path(tmp) / f"{oname}_est.npz"
                np.savez(ein, **est_in)
                run_peer(py, [dict(what="backward", case=ORACLE_CASE, input=str(ein),
                                   output=str(Path(tmp) / f"{oname}_y.npz"))], tmp)
                yd = np.load(Path(tmp) / f"{oname}_y.npz")
                refs = np.stack([srcs[t].T for t in targets])
                ests = np.stack([yd[f"y{k}"].T for k in range(len(targets))])
                sdr = evaluate(refs, ests, win=SR, hop=SR)[0]
                scores = {t: float(np.nanmedian(sdr[k])) for k, t in enumerate(targets)}
                result["tracks"][track.name][oname] = scores
                print(track.name, oname, {t: round(v, 4) for t, v in scores.items()}, flush=True)
    (out / "oracle_scores.json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--fork", type=Path, default=None, help="checkout of sevagh/nsgt (branch torch)")
    ap.add_argument("--no-oracles", action="store_true", help="skip the oracle scores on the shared previews")
    ap.add_argument("--only-oracles", action="store_true")
    ap.add_argument("--root", type=Path, default=PREVIEWS)
    args = ap.parse_args(argv)
    global FORK
    FORK = args.fork or FORK
    args.out.mkdir(parents=True, exist_ok=True)
    py = ensure_venv()
    if not args.only_oracles:
        make_cases(py, args.out)
        make_fork_outputs(args.out)
    if not args.no_oracles:
        make_oracle_scores(py, args.out, args.root)


if __name__ == "__main__":
    main()
