"""Frequency scales of the NSGT: centre frequencies, bandwidths and Q against closed forms."""

import math

import numpy as np
import pytest

from mssoracle.errors import ParameterError
from mssoracle.transforms.scales import SCALES, Scale, bark_to_hz, hz_to_bark, hz_to_mel, mel_to_hz

SR = 44100
NYQ = SR / 2


def test_mel_centres_closed_form():
    s = Scale("mel", 40, 50.0, 8000.0, sample_rate=SR)
    m = np.linspace(2595 * math.log10(1 + 50 / 700), 2595 * math.log10(1 + 8000 / 700), 40)
    np.testing.assert_allclose(s.frequencies, 700 * (10 ** (m / 2595) - 1), rtol=1e-12)
    np.testing.assert_allclose(mel_to_hz(hz_to_mel([0, 1000, 4000])), [0, 1000, 4000], atol=1e-9)
    assert abs(hz_to_mel(1000) - 1000) < 0.05  # HTK mel of 1 kHz is ~1000


def test_bark_centres_closed_form():
    s = Scale("bark", 262, 32.9, sample_rate=SR)
    b = np.linspace(6 * math.asinh(32.9 / 600), 6 * math.asinh(NYQ / 600), 262)
    np.testing.assert_allclose(s.frequencies, 600 * np.sinh(b / 6), rtol=1e-12)
    np.testing.assert_allclose(bark_to_hz(hz_to_bark([10.0, 500.0, 9000.0])), [10, 500, 9000], rtol=1e-12)


def test_log_centres_and_constant_q():
    s = Scale("log", 100, 40.0, 16000.0, sample_rate=SR)
    r = (16000 / 40) ** (1 / 99)
    np.testing.assert_allclose(s.frequencies, 40 * r ** np.arange(100), rtol=1e-12)
    np.testing.assert_allclose(s.bandwidths, s.frequencies * (r - 1 / r), rtol=1e-10)
    np.testing.assert_allclose(s.q, 1 / (r - 1 / r), rtol=1e-10)  # constant Q, end bins included
    assert Scale("cqlog", 100, 40.0, 16000.0, sample_rate=SR).kind == "log"


def test_oct_bins_per_octave():
    s = Scale("oct", 12, 55.0, 7040.0, sample_rate=SR)  # 7 octaves exactly
    assert s.bins == 12 * 7 + 1
    np.testing.assert_allclose(s.frequencies, 55 * 2 ** (np.arange(85) / 12), rtol=1e-12)
    np.testing.assert_allclose(s.q, 1 / (2 ** (1 / 12) - 2 ** (-1 / 12)), rtol=1e-10)
    s = Scale("oct", 12, 55.0, 7000.0, sample_rate=SR)  # stops at the last centre <= fmax
    assert s.frequencies[-1] <= 7000 and s.bins == 12 * 6 + int(12 * math.log2(7000 / 3520)) + 1


def test_lin_centres_and_bandwidth():
    s = Scale("lin", 11, 1000.0, 2000.0, sample_rate=SR)
    np.testing.assert_allclose(s.frequencies, np.linspace(1000, 2000, 11), rtol=1e-12)
    np.testing.assert_allclose(s.bandwidths, 200.0, rtol=1e-10)  # neighbour to neighbour


def test_vqlog_equals_log_at_gamma_zero_and_widens():
    log = Scale("log", 60, 30.0, 12000.0, sample_rate=SR)
    vq0 = Scale("vqlog", 60, 30.0, 12000.0, sample_rate=SR, gamma=0)
    np.testing.assert_array_equal(vq0.frequencies, log.frequencies)
    np.testing.assert_array_equal(vq0.band_lower_width, log.band_lower_width)
    np.testing.assert_array_equal(vq0.band_upper_width, log.band_upper_width)
    vq = Scale("vqlog", 60, 30.0, 12000.0, sample_rate=SR, gamma=20)
    alpha = log.bandwidths / log.frequencies
    np.testing.assert_allclose(vq.bandwidths, alpha * vq.frequencies + 20, rtol=1e-10)  # B = alpha f + gamma
    assert np.all(np.diff(vq.q) > 0)  # Q grows towards high frequencies


def test_dc_and_nyquist_bands():
    s = Scale("bark", 50, 40.0, sample_rate=SR)  # fmax = Nyquist: the last centre is the Nyquist band
    assert s.bands == 51
    assert s.band_frequencies[0] == 0 and s.band_frequencies[-1] == NYQ
    assert s.self_mirrored[0] and s.self_mirrored[-1] and not s.self_mirrored[1:-1].any()
    assert s.band_lower_width[-1] == s.band_upper_width[-1] == NYQ - s.frequencies[-2]
    s = Scale("bark", 50, 40.0, 20000.0, sample_rate=SR)  # both bands added
    assert s.bands == 52 and s.band_frequencies[-1] == NYQ and s.band_frequencies[-2] == 20000
    s = Scale("lin", 50, 0.0, sample_rate=SR)  # centres on DC and on Nyquist: no band added
    assert s.bands == 50 and s.band_frequencies[0] == 0 and s.self_mirrored[0]


@pytest.mark.parametrize("kind,bins,fmin,fmax", [
    ("log", 48, 50.0, None), ("log", 48, 50.0, 15000.0), ("oct", 6, 30.0, None), ("lin", 40, 0.0, None),
    ("lin", 40, 300.0, 21000.0), ("mel", 64, 20.0, None), ("bark", 262, 32.9, None), ("vqlog", 48, 50.0, None),
])
def test_windows_partition_of_unity(kind, bins, fmin, fmax):
    s = Scale(kind, bins, fmin, fmax, sample_rate=SR)
    f = np.linspace(0, NYQ, 20011)
    total = sum(s.window(b, f) for b in range(s.bands))
    np.testing.assert_allclose(total, 1.0, atol=1e-12)
    squares = sum(s.window(b, f) ** 2 for b in range(s.bands))
    assert squares.min() >= 0.5 - 1e-12 and squares.max() <= 1 + 1e-12


def test_window_shapes():
    s = Scale("log", 24, 100.0, 10000.0, sample_rate=SR)
    k = 5  # band 5 = scale centre 4 (band 0 is DC)
    c, lo, hi = s.frequencies[4], s.frequencies[3], s.frequencies[5]
    assert s.window(k, c) == pytest.approx(1.0)
    assert s.window(k, lo) == 0 and s.window(k, hi) == 0
    assert s.window(k, (c + lo) / 2) == pytest.approx(0.5)  # Hann halves: half height mid-way
    assert s.window(k, (c + hi) / 2) == pytest.approx(0.5)


def test_seed_slice_length():
    s = Scale("bark", 262, 32.9, sample_rate=SR)
    assert s.suggested_sllen_trlen() == (18060, 4516)  # the seed's numbers
    raw = max(8 * q * SR / f for q, f in zip(s.q, s.frequencies))
    sllen = math.ceil(raw)
    assert s.suggested_sllen_trlen()[0] == sllen + (-sllen % 4)


@pytest.mark.parametrize("args,kw,match", [
    (("bark", 10, 5000.0, 4000.0), {}, "below fmax"),
    (("bark", 10, 50.0, 30000.0), {}, "above Nyquist"),
    (("bark", 0, 50.0), {}, "bins must be an integer >= 1"),
    (("bark", 2.5, 50.0), {}, "bins must be an integer"),
    (("erb", 10, 50.0), {}, "unknown scale"),
    (("log", 10, 0.0), {}, "fmin must be > 0"),
    (("mel", 10, -1.0), {}, "fmin must be >= 0"),
    (("log", 10, 50.0), {"gamma": 3}, "vqlog"),
    (("vqlog", 10, 50.0), {"gamma": -3}, "gamma must be a finite number >= 0"),
    (("log", 10, float("nan")), {}, "finite"),
])
def test_scale_errors(args, kw, match):
    with pytest.raises(ParameterError, match=match) as exc:
        Scale(*args, sample_rate=SR, **kw)
    assert "\n" not in str(exc.value)


def test_scale_names_documented():
    assert set(SCALES) == {"oct", "log", "lin", "mel", "bark", "vqlog"}
