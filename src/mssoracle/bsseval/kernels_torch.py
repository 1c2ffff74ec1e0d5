"""Former torch twin of the correlation kernels; they are one code path now (:mod:`.kernels`).

Only these names remain, for :func:`mssoracle.bsseval.evaluator.get_ops`; import them from
:mod:`mssoracle.bsseval.kernels` instead (this module goes once nothing imports it).
"""

from .kernels import TorchOps, torch_device

__all__ = ["TorchOps", "torch_device"]
