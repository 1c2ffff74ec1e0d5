"""Oracle source estimates computed from the true sources, on transform coefficients.

Every oracle takes

* ``X``: mixture coefficients, a list over groups of complex arrays
  ``(channels, bins_g, frames_g)``;
* ``S``: source coefficients, a list over the same groups of
  ``(nsrc, channels, bins_g, frames_g)``;

and returns ``Y``, estimates, a list over groups of ``(nsrc, channels, bins_g, frames_g)``
in ``X``'s complex dtype.  Oracles work group by group (an STFT has one group, a
ragged NSGT several), accept numpy arrays or torch tensors (CPU or CUDA) and run
in the input's precision (complex64 or complex128); statistics (sums over
frames, per bin) accumulate in double precision.

Build one from a spec with :func:`get_oracle` (``irm1``, ``ibm2``,
``mpi[phase=sum]``, ``wiener3``, ``irm[alpha=1.5]``, ...); an :class:`Oracle`
is called on whole arrays, ``oracle(X, S)``, or run over blocks of time with
its pass protocol (``passes``, ``start``, ``accumulate``, ``end_pass``,
``apply``).  :func:`available_oracles` lists them; :func:`register_oracle` adds one.

Modules: :mod:`.masks` (pointwise: irm, ibm, mpi, mix, psm, cirm, gt),
:mod:`.wiener` (mwf, wiener EM), :mod:`.registry` (Oracle, registry, spec
grammar), :mod:`._backend` (the array API layer and its small shim).

References
----------
.. [SiSEC18] F.-R. Stöter, A. Liutkus, N. Ito, "The 2018 Signal Separation
   Evaluation Campaign", LVA/ICA 2018; oracle code: github.com/sigsep/sigsep-mus-oracle.
.. [Erdogan15] H. Erdogan, J. R. Hershey, S. Watanabe, J. Le Roux,
   "Phase-sensitive and recognition-boosted speech separation using deep
   recurrent neural networks", ICASSP 2015.
.. [Williamson16] D. S. Williamson, Y. Wang, D. Wang, "Complex ratio masking
   for monaural speech separation", IEEE/ACM TASLP 24(3), 2016.
.. [Nugraha16] A. A. Nugraha, A. Liutkus, E. Vincent, "Multichannel audio
   source separation with deep neural networks", IEEE/ACM TASLP 24(9), 2016;
   EM scheme as in norbert (github.com/sigsep/norbert, ``expectation_maximization``).
.. [Duong10] N. Q. K. Duong, E. Vincent, R. Gribonval, "Under-determined
   reverberant audio source separation using a full-rank spatial covariance
   model", IEEE TASLP 18(7), 2010.
"""

from ..constants import SISEC18_ORACLES
from ._backend import EPS, finite_inputs
from .registry import (ORACLE_REGISTRY, Oracle, Option, at_least, available_oracles, get_oracle, oracle_grammar,
                       register_oracle)
from .masks import cirm, gt, ibm, irm, mix, mpi, psm  # noqa: E402  (registers the pointwise oracles)
from .wiener import mwf, wiener  # noqa: E402  (registers the Wiener family)

__all__ = [
    "irm", "ibm", "mpi", "mwf", "mix", "psm", "cirm", "wiener", "gt",
    "Oracle", "Option", "ORACLES", "ORACLE_REGISTRY", "get_oracle", "available_oracles", "register_oracle",
    "oracle_grammar", "at_least", "SISEC18_ORACLES", "EPS", "finite_inputs",
]


class _OracleFunctions(dict):
    """``ORACLES``: base name -> the registered function or pass class, read live from the registry."""

    def _live(self):
        return {name: entry.obj for name, entry in ORACLE_REGISTRY.items()}

    def __getitem__(self, key):
        return self._live()[key]

    def __iter__(self):
        return iter(self._live())

    def __len__(self):
        return len(self._live())

    def __contains__(self, key):
        return key in self._live()

    def keys(self):
        return self._live().keys()

    def items(self):
        return self._live().items()

    def values(self):
        return self._live().values()

    def get(self, key, default=None):
        return self._live().get(key, default)

    def __repr__(self):
        return repr(self._live())


#: base oracle name -> function ``f(X, S, **options)`` (pointwise) or pass class (mwf, wiener)
ORACLES = _OracleFunctions()
