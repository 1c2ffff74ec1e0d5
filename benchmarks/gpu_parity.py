"""numpy vs torch (CUDA when present) parity and timing of every torch path: BSS Eval, STFT, NSGT/sliCQT, oracles.

Prints the largest differences between the numpy and the torch results on the same input, and
the torch time per call (after a warm-up, synchronised). Run where a GPU is: `python benchmarks/gpu_parity.py`.
"""

import time

import numpy as np


def _sync(torch):
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(torch, fn, runs=3):
    fn()
    _sync(torch)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        _sync(torch)
        times.append(time.perf_counter() - t0)
    return out, float(np.median(times))


def main():
    import torch

    from mssoracle.bsseval import evaluate
    from mssoracle.oracles import get_oracle
    from mssoracle.transforms import from_spec

    device = "cuda" if torch.cuda.is_available() else "cpu"
    name = torch.cuda.get_device_name(0) if device == "cuda" else "CPU"
    print(f"torch {torch.__version__} on {device} ({name})")
    rng = np.random.default_rng(0)
    sr = 44100
    # BSS Eval: 4 broadband stereo sources, 20 s, estimates with leakage and noise
    n = 20 * sr
    refs = rng.standard_normal((4, n, 2))
    ests = 0.8 * refs + 0.2 * refs[::-1] + 0.05 * rng.standard_normal(refs.shape)
    a = evaluate(refs, ests)
    b, dt = timed(torch, lambda: evaluate(refs, ests, backend="torch", device=device))
    diff = max(float(np.nanmax(np.abs(x - y))) for x, y in zip(a, b))
    print(f"bsseval v4, 4 sources, 20 s stereo: max |numpy - torch| = {diff:.2e} dB, torch {dt:.3f} s")
    # transforms and oracles: 30 s stereo, 4 sources
    x = rng.standard_normal((4, 2, 30 * sr))
    for spec in ["stft:4096:1024", "nsgt:log:262:32.9", "slicq:bark:262:32.9"]:
        t = from_spec(spec, sample_rate=sr)
        cn = t.forward(x)
        xt = torch.from_numpy(x).to(device)
        ct, dt_f = timed(torch, lambda: t.forward(xt))
        err = max(float(np.max(np.abs(c - g.cpu().numpy()))) / float(np.max(np.abs(c))) for c, g in zip(cn, ct))
        y, dt_i = timed(torch, lambda: t.inverse(ct, x.shape[-1]))
        rec = float(torch.max(torch.abs(y - xt)) / torch.max(torch.abs(xt)))
        print(f"{spec}: forward rel. diff numpy/torch {err:.1e}, round trip {rec:.1e}; "
              f"torch forward {dt_f:.3f} s, inverse {dt_i:.3f} s (4 sources x 30 s stereo)")
        X = [c.sum(0) for c in cn]
        Xt = [g.sum(0) for g in ct]
        for o in ["irm2", "mpi", "mwf", "wiener1"]:
            oracle = get_oracle(o)
            yn = oracle(X, cn)
            yt, dt_o = timed(torch, lambda: oracle(Xt, ct), runs=1)
            e = max(float(np.max(np.abs(p - q.cpu().numpy()))) / max(float(np.max(np.abs(p))), 1e-30)
                    for p, q in zip(yn, yt))
            print(f"  oracle {o}: rel. diff {e:.1e}, torch {dt_o:.3f} s")


if __name__ == "__main__":
    main()
