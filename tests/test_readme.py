"""The README's Python example runs as written (pedalboard's practice: README examples are tested)."""

import re
from pathlib import Path

import pandas as pd

README = Path(__file__).resolve().parents[1] / "README.md"


def _section_code(title):
    text = README.read_text()
    start = text.index(f"## {title}")
    end = text.index("\n## ", start + 1)
    blocks = re.findall(r"```python\n(.*?)```", text[start:end], re.S)
    assert blocks, f"no python block under '## {title}'"
    return blocks[0]


def test_extending_example_runs(tmp_path, monkeypatch):
    from mssoracle.metrics import METRICS
    from mssoracle.oracles.registry import ORACLE_REGISTRY
    from mssoracle.transforms import SCALE_KINDS

    monkeypatch.chdir(tmp_path)
    try:
        exec(compile(_section_code("Extending mssoracle"), str(README), "exec"), {})
    finally:
        ORACLE_REGISTRY.unregister("halfgt")
        SCALE_KINDS.unregister("sqrtf")
        METRICS.unregister("energy")
    table = pd.read_csv(tmp_path / "mssoracle-extend" / "results.csv")
    assert {"halfgt-stft-2048-512", "irm1-stft-2048-512"} <= set(table["method"])
    assert table["method"].str.startswith("halfgt-slicq-sqrtf-60-40").any()
    energy = table[(table["metric"] == "ENERGY") & (table["method"] == "halfgt-stft-2048-512")]
    assert len(energy) == 5 and ((energy["score"] - 0.25).abs() < 1e-3).all()
