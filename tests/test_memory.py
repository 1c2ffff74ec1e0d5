"""Memory regression: peak RSS of `mssoracle eval` on a 60-second stereo track stays flat.

Memory is deterministic enough for a generous bound (never a timing in a test).  Before the block
pipeline of issue 7 this command peaked at 4.87 GiB; the bound is 1.5 GiB.
"""

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

GIB = 1 << 30


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc to sample RSS")
def test_eval_peak_memory_on_a_minute_of_audio(tmp_path):
    from bench_eval import make_tree
    from bench_memory import eval_cmd, measure

    make_tree(tmp_path / "data", 60.0)
    peak, _, _, out = measure(eval_cmd(tmp_path / "data", tmp_path / "out", "default"))
    assert "median SDR" in out
    assert peak < 1.5 * GIB, f"peak RSS {peak / GIB:.2f} GiB on 60 s (bound 1.5 GiB)"
