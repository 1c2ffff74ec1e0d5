"""The transform interface shared by the STFT and the NSGT/sliCQT.

A transform maps real signals ``(..., channels, time)`` to *coefficients*: a
list with one complex array per group of frequency bins that share a time
resolution, each shaped ``(..., channels, bins_g, frames_g)``.  An STFT has a
single group; a ragged NSGT has several.  Oracles work group by group and
never assume a single group.
"""

import abc

__all__ = ["Transform"]


class Transform(abc.ABC):
    """Abstract time-frequency transform.

    Subclasses set :attr:`name` (a canonical, stable spec string, e.g.
    ``"stft-2048-512"``; used in method names and result files), store
    :attr:`sample_rate`, and implement :meth:`forward` and :meth:`inverse`.
    Both accept numpy arrays and, where the subclass supports torch, torch
    tensors (dispatching on the input type).
    """

    #: canonical name, e.g. ``"stft-2048-512"``
    name: str
    #: canonical spec string that :func:`mssoracle.transforms.from_spec` parses back
    spec: str
    sample_rate: int

    @abc.abstractmethod
    def forward(self, x):
        """Analyse a real signal.

        Parameters
        ----------
        x : array, shape ``(..., channels, time)``

        Returns
        -------
        list of complex arrays, each ``(..., channels, bins_g, frames_g)``
        """

    @abc.abstractmethod
    def inverse(self, coefficients, length):
        """Synthesise a real signal of ``length`` samples.

        Parameters
        ----------
        coefficients : list of complex arrays ``(..., channels, bins_g, frames_g)``
        length : int

        Returns
        -------
        array, shape ``(..., channels, length)``
        """

    def __repr__(self):
        return f"<{type(self).__name__} {self.spec}>"
