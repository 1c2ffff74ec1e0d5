"""``mssoracle report`` (issue 12): one self-contained HTML file holding every figure and table, no external URL,
SiSEC 2018's numbers beside the runs made in its configuration, ``--tables md|latex``, nothing written on bad
input, and the file renders in a real headless Chromium (``tests/ensure_browser.sh`` installs the Debian
package where it can; the test skips with the reason where there is none)."""

import json
import os
import re
import shutil

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("scikit_posthocs")

from mssoracle import cli  # noqa: E402
from mssoracle.sisec18 import load_published  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SISEC_RUN = "irm1-stft-2048-1024+precision=float64"


def _folder(root):
    """An eval-like folder: SiSEC 2018's IRM1 configuration on 4 MUSDB18-HQ test tracks (frames = the published
    per-track medians + 0.1), and a second method; plus a museval folder of the user's model."""
    pub = load_published(["IRM1"])
    tracks = sorted(pub["track"].unique())[:4]
    rows = []
    for method, offset in ((SISEC_RUN, 0.1), ("mpi-stft-4096-1024", -1.0)):
        for r in pub[pub["track"].isin(tracks) & pub["target"].isin(["vocals", "drums"])].itertuples():
            for i in range(3):
                rows.append({"dataset": "musdb18hq", "method": method, "subset": "test", "track": r.track,
                             "target": r.target, "metric": r.metric, "time": float(i),
                             "score": r.score + offset + (i - 1) * 0.2, "cond": 1.0})
    out = root / "out"
    out.mkdir()
    pd.DataFrame(rows).to_csv(out / "results.csv", index=False)
    mine = root / "mine" / "test"
    mine.mkdir(parents=True)
    for k, track in enumerate(tracks):
        doc = {"targets": [{"name": t, "frames": [{"time": float(i), "duration": 1.0,
                                                   "metrics": {m: 2.0 + k + i for m in ("SDR", "SIR", "ISR", "SAR")}}
                                                  for i in range(3)]} for t in ("vocals", "drums")],
               "museval_version": "0.4.1"}
        (mine / f"{track}.json").write_text(json.dumps(doc))
    return out, root / "mine", tracks


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    out, mine, tracks = _folder(root)
    html_path = root / "r" / "report.html"
    code = cli.main(["report", str(out), str(mine), "--name", "my model", "--sisec18", "TAK2,UHL3,IRM1",
                     "--out", str(html_path), "--tables", "md"])
    assert code == 0
    return root, html_path, tracks


def test_report_holds_every_figure_and_table(report):
    root, path, tracks = report
    text = path.read_text(encoding="utf-8")
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    captions = [a for a, _ in images]
    assert captions[0].startswith("Boxplot grid")
    assert [c for c in captions if c.startswith("Heatmap")] == [
        f"Heatmap: {t} SDR per method and track" for t in ("drums", "bass", "other", "vocals", "accompaniment")]
    assert any(c.startswith("Significance") for c in captions)  # 4 shared tracks: drawn
    assert sum(c.startswith("Per-frame") for c in captions) == 3  # MAX_FRAME_TRACKS of the 4 tracks
    assert "Median table" in text and "aggregation: sisec (SiSEC 2018)" in text
    for label in (SISEC_RUN, "mpi-stft-4096-1024", "my model", "TAK2", "UHL3", "IRM1"):
        assert f"<td>{label}</td>" in text
    # SiSEC 2018 beside the matching run, labelled by its dataset
    assert "SiSEC 2018 beside your runs" in text and "<td>MUSDB18-HQ</td>" in text
    assert "compared, flagged: MUSDB18-HQ" in text
    # configurations and versions
    assert "Configurations and versions" in text and "matplotlib" in text and "scikit-posthocs" in text
    md = path.with_suffix(".md").read_text(encoding="utf-8")
    assert md.count("| method | target | tracks | SDR |") == 1 and "| run | data | sisec18 |" in md
    assert "| my model | vocals | 4 |" in md


def test_diff_equals_offset(report):
    _, path, _ = report
    md = path.with_suffix(".md").read_text(encoding="utf-8")
    rows = [ln for ln in md.splitlines() if ln.startswith(f"| {SISEC_RUN} | MUSDB18-HQ | IRM1 |")]
    assert rows and all(abs(float(ln.split("|")[8]) - 0.1) < 1e-3 for ln in rows), rows


def test_no_external_url(report):
    _, path, _ = report
    text = path.read_text(encoding="utf-8")
    refs = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', text)
    assert refs and all(r.startswith("data:") for r in refs)
    assert not re.search(r"https?://|url\(|@import|<script|<link", text, re.I)


def test_tables_latex_and_bad_input(report, tmp_path, capsys):
    root, _, _ = report
    out = tmp_path / "x.html"
    assert cli.main(["report", str(root / "out"), "--out", str(out), "--tables", "latex"]) == 0
    tex = out.with_suffix(".tex").read_text(encoding="utf-8")
    assert r"\begin{tabular}" in tex and r"irm1-stft-2048-1024+precision=float64" in tex
    capsys.readouterr()
    empty = tmp_path / "empty"
    empty.mkdir()
    bad = tmp_path / "bad.html"
    cases = [([str(empty)], "no results"),
             ([str(root / "out"), "--targets", "piano"], "--targets: unknown target(s) piano"),
             ([str(root / "out"), "--storage", f"sqlite:///{tmp_path / 'no.db'}", "--study", "s"], "no such file"),
             ([str(root / "out"), "--aggregate", "mean"], "unknown aggregation")]
    for argv, expect in cases:
        assert cli.main(["report", *argv, "--out", str(bad), "--tables", "md"]) == 2, argv
        err = capsys.readouterr().err.strip()
        assert expect in err and len(err.splitlines()) == 1, err
        assert not bad.exists() and not bad.with_suffix(".md").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "x.html", "x.tex"]


def _browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright)")
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        pytest.skip(f"no Chromium at {CHROMIUM}: run tests/ensure_browser.sh (Debian package chromium, needs root)")
    return sync_playwright


def test_report_renders_in_headless_chromium(report):
    _, path, _ = report
    sync_playwright = _browser()
    errors, requests = [], []
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=CHROMIUM if os.path.exists(CHROMIUM)
                                         else shutil.which("chromium"), args=CHROMIUM_ARGS)
        except Exception as exc:  # a browser that cannot start here: say why
            pytest.skip(f"Chromium does not start here: {str(exc).splitlines()[0]}")
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(path.resolve().as_uri(), wait_until="load")
            widths = page.evaluate("Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)")
            shot = page.screenshot(full_page=False)
        finally:
            browser.close()
    assert errors == []
    assert widths and all(w > 0 for w in widths), widths
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
    import io

    import matplotlib.image as mpimg

    pixels = mpimg.imread(io.BytesIO(shot))
    assert pixels.shape[0] > 100 and float(np.std(pixels[..., :3])) > 0.01  # not blank
