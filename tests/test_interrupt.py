"""Stop at any moment (issue 8): SIGKILL at random moments then resume gives the uninterrupted run to the bit;
SIGINT and SIGTERM stop cleanly with 130 / 143 and a rebuilt results.csv."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_experiment import _write_track

ARGS = ["--oracle", "irm1,mpi", "--transform", "stft:256,stft:512", "--no-progress", "--subset", "test"]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("killdata") / "data"
    for k in range(4):
        _write_track(root / "test" / f"Track {k}", seed=10 + k, seconds=2.0)
    return root


def _cmd(root, out):
    return [sys.executable, "-m", "mssoracle", "eval", "--root", str(root), "--out", str(out), *ARGS]


def _env():
    env = dict(os.environ)
    env["MSSORACLE_THREADS"] = "1"
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _run(root, out):
    return subprocess.run(_cmd(root, out), env=_env(), capture_output=True, text=True, timeout=300)


def _snapshot(out):
    """Every result file's bytes (scores and the table), keyed by its path under out."""
    files = sorted(p for p in (out / "scores").rglob("*") if p.is_file())
    snap = {p.relative_to(out).as_posix(): p.read_bytes() for p in files}
    snap["results.csv"] = (out / "results.csv").read_bytes()
    return snap


@pytest.fixture(scope="module")
def reference(root, tmp_path_factory):
    out = tmp_path_factory.mktemp("reference") / "out"
    t0 = time.monotonic()
    proc = _run(root, out)
    elapsed = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr
    return _snapshot(out), elapsed


def test_sigkill_at_random_moments_then_resume_equals_an_uninterrupted_run(root, reference, tmp_path):
    expected, elapsed = reference
    rng = random.Random(8)
    moments = sorted(rng.uniform(0.2, 0.95) * elapsed for _ in range(5))
    for k, moment in enumerate(moments):
        out = tmp_path / f"out{k}"
        proc = subprocess.Popen(_cmd(root, out), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(moment)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        resumed = _run(root, out)
        assert resumed.returncode == 0, resumed.stderr
        assert not [p for p in out.rglob("*") if ".tmp-" in p.name], f"temporary files left (kill at {moment:.2f} s)"
        got = _snapshot(out)
        assert sorted(got) == sorted(expected), f"kill at {moment:.2f} s: other files"
        for name in expected:
            assert got[name] == expected[name], f"kill at {moment:.2f} s: {name} differs"


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_sigint_and_sigterm_stop_cleanly(root, reference, tmp_path, signum, status):
    import pandas as pd

    out = tmp_path / "out"
    proc = subprocess.Popen(_cmd(root, out), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((out / "scores").rglob("*.json")):
        time.sleep(0.02)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == status, err
    assert "Traceback" not in err and "interrupted" in err
    table = pd.read_csv(out / "results.csv")  # rebuilt from what was written before the signal
    written = list((out / "scores").rglob("*.json"))
    assert len(table.groupby(["method", "track"])) == len(written) > 0
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]
    resumed = _run(root, out)
    assert resumed.returncode == 0, resumed.stderr
    assert _snapshot(out) == reference[0]
