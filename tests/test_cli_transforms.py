"""``mssoracle transforms``: description of transform specs, memory warnings, bad specs."""

import re

from mssoracle import cli


def test_transforms_describes_specs(capsys):
    rc = cli.main(["transforms", "slicq:bark:262:32.9", "nsgt:scale=log,bins=48,fmin=50", "stft:4096:1024",
                   "--duration", "10"])
    out = capsys.readouterr()
    assert rc == 0
    blocks = out.out.strip().split("\n\n")
    assert len(blocks) == 3
    slicq = blocks[0]
    assert "slicq-bark-262-32.9-sllen18060-trlen4516" in slicq
    assert "bins 262 (+1 DC/Nyquist band = 263 bands), groups 48 (ragged)" in slicq
    assert "slice length 18060" in slicq and "transition 4516" in slicq and "FFT length 18432" in slicq
    rate = float(re.search(r"per second of stereo: ([\d,]+)", slicq).group(1).replace(",", ""))
    ratio = float(re.search(r"\(x([\d.]+) stft:4096:1024\)", slicq).group(1))
    stft_rate = float(re.search(r"per second of stereo: ([\d,]+)", blocks[2]).group(1).replace(",", ""))
    assert abs(rate / stft_rate - ratio) < 0.01
    assert 170_000 < stft_rate < 180_000  # 2049 bins x 43.07 frames/s x 2 channels, plus edge frames
    assert "longest window: 2258 samples" in slicq
    assert "x1.00 stft:4096:1024" in blocks[2]
    assert "slice length: none" in blocks[1]
    assert out.err == ""


def test_transforms_memory_warning(capsys):
    rc = cli.main(["transforms", "slicq:scale=bark,bins=262,fmin=32.9,form=matrix", "--max-memory", "0.5"])
    out = capsys.readouterr()
    assert rc == 0
    assert "warning:" in out.err and "more than --max-memory 0.5 GB" in out.err
    assert "for 240 s of stereo" in out.err  # default: a 4-minute track
    rc = cli.main(["transforms", "slicq:bark:262:32.9", "--max-memory", "100"])
    assert rc == 0 and capsys.readouterr().err == ""


def test_transforms_bad_spec_exit_2(capsys):
    for argv in (["transforms", "slicq:bark:0"], ["transforms", "nsgt:erb:10:50"],
                 ["transforms", "slicq:scale=bark,sllen=100"], ["transforms", "slicq:bark", "--duration", "-1"]):
        rc = cli.main(argv)
        err = capsys.readouterr().err
        assert rc == 2
        assert err.startswith("mssoracle transforms: error:") and err.count("\n") == 1


def test_transforms_describes_compat_specs(capsys):
    # compat=nsgt: the package's bands (the band at Nyquist dropped), sllen/trlen, groups, frame bounds
    rc = cli.main(["transforms", "slicq:scale=bark,bins=262,fmin=32.9,compat=nsgt",
                   "slicq:scale=log,bins=262,fmin=32.9,sllen=32768,trlen=8192,form=matrix,compat=nsgt,reducedform=1",
                   "nsgt:scale=mel,bins=100,fmin=20,compat=nsgt", "--duration", "10"])
    out = capsys.readouterr()
    assert rc == 0 and out.err == ""
    bark, log, mel = out.out.strip().split("\n\n")
    assert "slicq-bark-262-32.9-sllen18060-trlen4516-compatnsgt" in bark
    assert ("bins 262 (261 below Nyquist, 1 at/above Nyquist dropped as the package does; 263 computed bands: "
            "DC + 261 + Nyquist), groups 69 (ragged)") in bark
    assert "slice length 18060" in bark and "transition 4516" in bark and "FFT length 18060" in bark
    assert "window lengths 16..292 FFT bins" in bark
    lo, hi = (float(v) for v in re.search(r"frame bounds \(the package's normalisation\) \[([\d.]+), ([\d.]+)\]",
                                          bark).groups())
    assert 0 < lo < hi
    assert "261 computed bands: reducedform=1" in log and "groups 1 (matrix)" in log
    assert "time samples per band 796..796 per slice" in log and "memory for 10 s of stereo" in log
    assert "101 computed bands: DC + 99 + Nyquist" in mel and "slice length: none" in mel
    for block in (bark, log, mel):
        assert re.search(r"per second of stereo: [\d,]+ \(x[\d.]+ stft:4096:1024\)", block)
