"""Separation metrics behind one registry: BSS Eval v4, uSDR, SI-SDR, SNR, more by :func:`register_metric`.

A metric declares its name, the tidy-table metric names it produces, whether
it is *framewise* (one value per BSS Eval frame, museval's framing) or one
value per track; how values are aggregated is the convention's (``--aggregate``,
:mod:`mssoracle.aggregation`), not the metric's.  ``mssoracle eval --metrics NAME,...`` selects
registered metrics (default ``bssv4``).

The kernels behind the registered metrics are public: :func:`usdr` (the MDX
challenges' uSDR, demucs' ``new_sdr``), :func:`si_sdr` (Le Roux et al. 2019,
torchmetrics' conventions) and :func:`snr_framewise` (per museval frame, museval's
silent-frame rule).  They take numpy arrays or torch tensors ``(..., channels,
time)`` (or lists of ``(channels, time)`` arrays) and read them block by block.

A metric other than ``bssv4`` is a function ``compute(context) -> {target:
{output: values}}`` (``values`` an array over frames when framewise, else a
float); ``context`` is a :class:`MetricContext`.
"""

from .registry import METRICS, Metric, MetricContext, get_metric, parse_metrics, register_metric
from . import bssv4  # noqa: F401  (registers bssv4)
from .usdr import usdr  # registers usdr, usdri
from .sisdr import si_sdr  # registers sisdr, sisdri
from .snr import snr_framewise  # registers snr

__all__ = ["METRICS", "Metric", "MetricContext", "get_metric", "parse_metrics", "register_metric", "usdr", "si_sdr",
           "snr_framewise"]
