"""Separation metrics behind one registry: BSS Eval v4 today, more by :func:`register_metric`.

A metric declares its name, the tidy-table metric names it produces, whether
it is *framewise* (one value per BSS Eval frame, museval's framing) or one
value per track, and how it is aggregated (``frames``: over frames per track;
``tracks``: over tracks).  ``mssoracle eval --metrics NAME,...`` selects
registered metrics (default ``bssv4``).

A metric other than ``bssv4`` is a function ``compute(context) -> {target:
{output: values}}`` (``values`` an array over frames when framewise, else a
float); ``context`` is a :class:`MetricContext`.
"""

from .registry import METRICS, Metric, MetricContext, get_metric, parse_metrics, register_metric
from . import bssv4  # noqa: F401  (registers bssv4)

__all__ = ["METRICS", "Metric", "MetricContext", "get_metric", "parse_metrics", "register_metric"]
