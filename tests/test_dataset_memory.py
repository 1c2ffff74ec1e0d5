"""Track.load allocates the result and a block, nothing of the size of the track (tracemalloc: deterministic).

A whole copy of one stream of the tracks below is several MiB; the bounds allow a few blocks.
"""

import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from mssoracle import datasets as D
from mssoracle.constants import MUSDB_STEMS

MiB = 2 ** 20


def _peak_above_result(load):
    tracemalloc.start()
    try:
        audio = load()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return audio, peak - audio.signals.nbytes


@pytest.fixture(scope="module")
def long_hq(tmp_path_factory):
    """A 20 s stereo MUSDB18-HQ track of float32 WAVs (one stream: 6.7 MiB in float32)."""
    root = tmp_path_factory.mktemp("memhq")
    folder = root / "test" / "Long - Track"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    n = 20 * 44100
    for name in ("mixture",) + MUSDB_STEMS:
        sf.write(str(folder / f"{name}.wav"), (0.1 * rng.standard_normal((n, 2))).astype(np.float32), 44100,
                 subtype="FLOAT")
    return root


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_wav_track_load_peak_is_one_block(long_hq, dtype):
    track = D.open_dataset(long_hq)[0]
    audio, extra = _peak_above_result(lambda: track.load(dtype=dtype))
    stream = audio.signals[0].nbytes
    assert audio.signals.shape == (5, 2, 20 * 44100) and audio.signals.dtype == dtype
    assert extra < 4 * MiB < stream / 1.5, (extra / MiB, stream / MiB)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stem_file_load_peak_is_small(dtype):
    track = D.open_dataset(D.default_sample_path(), quiet=True)[0]
    track.load()  # warm up PyAV
    audio, extra = _peak_above_result(lambda: track.load(dtype=dtype))
    stream = audio.signals[0].nbytes  # 2.0 MiB in float32
    assert audio.signals.shape == (5, 2, 268288)
    assert extra < 1.5 * MiB < stream / 1.3, (extra / MiB, stream / MiB)
