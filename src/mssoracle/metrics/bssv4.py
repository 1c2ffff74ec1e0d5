"""BSS Eval v4 (museval 0.4.1's images variant) as a registered metric.

Framewise (museval's 1 s frames), aggregated as SiSEC 2018: median over frames
per track, then median over tracks.  Computed by
:class:`mssoracle.bsseval.TrackEvaluator` (which the runner builds once per
track and shares between methods), hence no ``compute`` function here.
"""

from .registry import METRICS, Metric

#: algorithm version of the metric's own part (which scores are kept, how the targets are grouped); the
#: scorer's numbers carry :data:`mssoracle.bsseval.ALGORITHM_VERSION`
VERSION = 1

BSSV4 = Metric(name="bssv4", outputs=("SDR", "SIR", "ISR", "SAR"), framewise=True,
               description="BSS Eval v4 images (museval 0.4.1): SDR, SIR, ISR, SAR per frame",
               version=VERSION, reported_by="SiSEC 2018 (museval), as cSDR in MDX 2021/2023 and demucs")
METRICS.register("bssv4", BSSV4, aliases=("bss", "bsseval", "museval"), description=BSSV4.description,
                 version=VERSION)
