"""Every example of README.md runs as written, so the README cannot drift from the code.

Each fenced block tagged ``python``, ``sh``, ``bash`` or ``console`` is extracted and executed, one
test per block, named after its section and its place in it (``quick-start-1``):

- ``python``: ``exec`` in a fresh namespace, in a temporary working directory; every
  ``mssoracle.cli.main`` call must return 0; whatever the block registers is unregistered after.
- ``sh``/``bash``: ``bash -euo pipefail`` in a temporary working directory holding ``.venv`` (a link
  to this checkout's virtualenv, as after ``make demo``), the virtualenv's ``bin`` first on ``PATH``
  and ``MUSDB_PATH`` unset, so ``mssoracle eval`` runs on the embedded preview.
- ``console``: the lines starting with ``$ `` are the commands (run as a ``sh`` block); the other
  lines are their output and are not compared.

Markers, on the line right above a block (HTML comments: visible in the source, not rendered):

- ``<!-- not run in tests: REASON -->``: the block is skipped, and the test reports REASON
  (a cluster, SLURM, a user's ``/data`` path, ``make demo``, which builds a virtualenv).
- ``<!-- run in tests with MUSDB_PATH=PATH -->``: ``MUSDB_PATH`` is set to PATH (relative to the
  repository, e.g. ``../shared/data/musdb18hq-sample``); skipped with a reason when PATH is absent.

Blocks of output and grammars use a tag the runner ignores (``text``); an untagged block fails
:func:`test_every_block_is_tagged`, so that nothing is left unrun by accident.
"""

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
RUN = ("python", "sh", "bash", "console")
SKIP = re.compile(r"^<!--\s*not run in tests:\s*(.+?)\s*-->$")
DATA = re.compile(r"^<!--\s*run in tests with MUSDB_PATH=(\S+)\s*-->$")
FENCE = re.compile(r"^(```+|~~~+)\s*([\w+-]*)")
SHELL_TIMEOUT = 600


@dataclasses.dataclass
class Block:
    id: str
    lang: str
    code: str
    line: int
    skip: str = None
    musdb_path: str = None


def _slug(title):
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def readme_blocks(text=None):
    """Every fenced block of the README as :class:`Block`, ``lang`` "" when untagged."""
    lines = (README.read_text() if text is None else text).splitlines()
    blocks, section, count, i = [], "top", {}, 0
    while i < len(lines):
        line = lines[i]
        heading = re.match(r"^#{1,6}\s+(.*)", line)
        if heading:
            section = _slug(heading.group(1))
        fence = FENCE.match(line)
        if not fence:
            i += 1
            continue
        start, lang = i, fence.group(2).lower()
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith(fence.group(1))), len(lines))
        above = next((lines[j].strip() for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        count[section] = count.get(section, 0) + (lang in RUN)
        skip, data = SKIP.match(above), DATA.match(above)
        blocks.append(Block(id=f"{section}-{count[section]}" if lang in RUN else f"{section}-text",
                            lang=lang, code="\n".join(lines[start + 1:end]) + "\n", line=start + 1,
                            skip=skip.group(1) if skip else None, musdb_path=data.group(1) if data else None))
        i = end + 1
    return blocks


BLOCKS = [b for b in readme_blocks() if b.lang in RUN]
#: blocks with a test of their own below (it runs the block and checks what it produced)
OWN_TESTS = {"extending-mssoracle-1"}


def _registries():
    """Every module-level :class:`~mssoracle.registry.Registry` of the loaded mssoracle modules."""
    from mssoracle.registry import Registry

    found = {id(v): v for name, mod in list(sys.modules.items()) if name.split(".")[0] == "mssoracle"
             for v in list(vars(mod).values()) if isinstance(v, Registry)}
    return list(found.values())


def run_python(block, tmp_path, monkeypatch):
    """``exec`` a python block in ``tmp_path``; ``cli.main`` must return 0; registrations are undone."""
    import mssoracle.cli

    import mssoracle.aggregation  # noqa: F401  (every registry exists before the snapshot)
    import mssoracle.experiment  # noqa: F401
    import mssoracle.metrics  # noqa: F401
    import mssoracle.oracles  # noqa: F401
    import mssoracle.transforms  # noqa: F401

    real_main = mssoracle.cli.main

    def main(argv=None):
        status = real_main(argv)
        assert status == 0, f"README line {block.line}: mssoracle {' '.join(map(str, argv or []))} exited {status}"
        return status

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MUSDB_PATH", raising=False)
    monkeypatch.setattr(mssoracle.cli, "main", main)
    before = {id(r): set(r.names()) for r in _registries()}
    try:
        exec(compile(block.code, f"{README}:{block.line}", "exec"), {"__name__": "__readme__"})
    finally:
        for r in _registries():
            for name in set(r.names()) - before.get(id(r), set()):
                r.unregister(name)


def _shell_code(block):
    if block.lang != "console":
        return block.code
    return "".join(line[2:] + "\n" for line in block.code.splitlines() if line.startswith("$ "))


def run_shell(block, tmp_path):
    """Run a shell block with ``bash -euo pipefail`` in ``tmp_path`` (the virtualenv's bin first on PATH)."""
    venv = Path(sys.prefix)
    (tmp_path / ".venv").symlink_to(venv, target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if k not in ("MUSDB_PATH", "VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    if block.musdb_path:
        env["MUSDB_PATH"] = str((REPO / block.musdb_path).resolve())
    script = tmp_path / ".readme-block.sh"
    script.write_text(_shell_code(block))
    proc = subprocess.run(["bash", "-euo", "pipefail", str(script)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=SHELL_TIMEOUT)
    assert proc.returncode == 0, (
        f"README line {block.line} ({block.id}) exited {proc.returncode}:\n{block.code}\n"
        f"--- stdout (end) ---\n{proc.stdout[-3000:]}\n--- stderr (end) ---\n{proc.stderr[-3000:]}")
    return proc


def run_block(block, tmp_path, monkeypatch):
    if block.skip:
        pytest.skip(f"README line {block.line}: {block.skip}")
    if block.musdb_path and not (REPO / block.musdb_path).exists():
        pytest.skip(f"README line {block.line}: needs {block.musdb_path} (absent here)")
    if block.lang == "python":
        return run_python(block, tmp_path, monkeypatch)
    return run_shell(block, tmp_path)


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.id not in OWN_TESTS], ids=lambda b: b.id)
def test_readme_block(block, tmp_path, monkeypatch):
    run_block(block, tmp_path, monkeypatch)


def test_every_block_is_tagged():
    """Output and grammar blocks say ``text``; every block to run says its language; ids are unique."""
    untagged = [b.line for b in readme_blocks() if not b.lang]
    assert not untagged, f"README.md lines {untagged}: tag each block (```text for output, ```sh for commands)"
    ids = [b.id for b in BLOCKS]
    assert len(ids) == len(set(ids)) and set(OWN_TESTS) <= set(ids), ids
    assert sum(b.lang == "python" and not b.skip for b in BLOCKS) >= 2


def test_markers_are_read():
    text = ("## A b\n\n```sh\necho 1\n```\n<!-- not run in tests: needs a Dask cluster -->\n```bash\nx\n```\n"
            "### C\n<!-- run in tests with MUSDB_PATH=../d -->\n\n```console\n$ echo 2\n2\n```\n```text\nout\n```\n")
    a, b, c, d = readme_blocks(text)
    assert (a.id, a.skip, b.id, b.skip) == ("a-b-1", None, "a-b-2", "needs a Dask cluster")
    assert (c.id, c.musdb_path, _shell_code(c), d.lang, d.id) == ("c-1", "../d", "echo 2\n", "text", "c-text")


def test_extending_example_runs(tmp_path, monkeypatch):
    run_block(next(b for b in BLOCKS if b.id == "extending-mssoracle-1"), tmp_path, monkeypatch)
    table = pd.read_csv(tmp_path / "mssoracle-extend" / "results.csv")
    assert {"halfgt-stft-2048-512", "irm1-stft-2048-512"} <= set(table["method"])
    assert table["method"].str.startswith("halfgt-slicq-sqrtf-60-40").any()
    energy = table[(table["metric"] == "ENERGY") & (table["method"] == "halfgt-stft-2048-512")]
    assert len(energy) == 5 and ((energy["score"] - 0.25).abs() < 1e-3).all()
    from mssoracle.oracles.registry import ORACLE_REGISTRY

    assert "halfgt" not in ORACLE_REGISTRY
