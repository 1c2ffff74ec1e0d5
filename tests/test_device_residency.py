"""With the torch backend, estimates stay on their device from transform to scoring.

There is no GPU on the project's machines, so this counts, on torch CPU tensors, every call that would
copy a signal-sized tensor to the host (``.numpy()``, ``.cpu()``, ``.to("cpu")``, ``np.asarray``):
with ``--backend torch --device cuda`` each such call would be a device -> host copy.  Issue 7: zero
per estimate (only what is written to disk may be copied).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")


def test_no_signal_sized_host_copies_per_estimate(tmp_path, monkeypatch):
    import soundfile as sf

    from mssoracle.datasets import open_dataset
    from mssoracle.experiment import Experiment
    from mssoracle.experiment import runner

    sr, n = 8000, 8000 * 3
    rng = np.random.default_rng(0)
    folder = tmp_path / "musdb" / "test" / "T"
    folder.mkdir(parents=True)
    stems = {s: rng.standard_normal((n, 2)) * 0.1 for s in ("drums", "bass", "other", "vocals")}
    for s, x in stems.items():
        sf.write(str(folder / f"{s}.wav"), x, sr, subtype="FLOAT")
    sf.write(str(folder / "mixture.wav"), sum(stems.values()), sr, subtype="FLOAT")
    exp = Experiment(dataset=open_dataset(tmp_path / "musdb"), transforms=["stft:512", "slicq:bark:40:60"],
                     oracles=["irm1", "mpi", "mwf"], out=tmp_path / "out", backend="torch")

    def signal(t):  # a signal, a stack of signals or a view of one: the track length is one of its axes
        return n in tuple(t.shape)
    copies = []
    orig_numpy, orig_cpu, orig_to = torch.Tensor.numpy, torch.Tensor.cpu, torch.Tensor.to

    def numpy(self, *a, **k):
        if signal(self):
            copies.append(("numpy", tuple(self.shape)))
        return orig_numpy(self, *a, **k)

    def cpu(self, *a, **k):
        if signal(self):
            copies.append(("cpu", tuple(self.shape)))
        return orig_cpu(self, *a, **k)

    def to(self, *a, **k):
        dev = k.get("device", a[0] if a and isinstance(a[0], (str, torch.device)) else None)
        # on CUDA, .to(the tensor's own device) is free; only an explicit move to the host is a copy.
        # (The runner's one upload of the decoded track per track is host -> device, not counted.)
        if signal(self) and dev is not None and torch.device(dev).type == "cpu" and self.device.type != "cpu":
            copies.append(("to", tuple(self.shape)))
        return orig_to(self, *a, **k)

    def array(self, *a, **k):
        if signal(self):
            copies.append(("__array__", tuple(self.shape)))
        return orig_numpy(self.detach())

    # CPU tensors normally take the NSGT's numpy core zero-copy (faster on CPU); CUDA tensors take the
    # torch kernels, which this switch selects here too
    import mssoracle.transforms.nsgt as nsgt_module

    monkeypatch.setattr(nsgt_module, "TORCH_NATIVE_CPU", True)
    monkeypatch.setattr(torch.Tensor, "numpy", numpy)
    monkeypatch.setattr(torch.Tensor, "cpu", cpu)
    monkeypatch.setattr(torch.Tensor, "to", to)
    monkeypatch.setattr(torch.Tensor, "__array__", array)
    jobs = exp.jobs()
    frames, _ = runner.run_track(exp, 0, jobs)
    assert len(frames) == len(jobs) == 6
    assert copies == [], f"signal-sized host copies: {copies}"
