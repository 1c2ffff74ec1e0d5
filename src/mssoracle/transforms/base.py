"""The transform interface shared by the STFT and the NSGT/sliCQT, its streams, and the registry of kinds.

A transform maps real signals ``(..., channels, time)`` to *coefficients*: a
list with one complex array per group of frequency bins that share a time
resolution, each shaped ``(..., channels, bins_g, frames_g)``.  An STFT has a
single group; a ragged NSGT has several.  Oracles work group by group and
never assume a single group.

Streams
-------
:meth:`Transform.stream` processes a track in blocks of time, so that no more
than one block's coefficients exist at once::

    st = transform.stream(length)
    out = zeros((..., channels, length), real dtype of the coefficients)
    for block in st.blocks:
        coefs = st.forward(x, block)          # list of groups, frames of this block only
        st.inverse_add(mask(coefs), block, out)
    st.finish(out)                            # == transform.inverse(masked whole coefficients, length)

Concatenating ``st.forward(x, b)`` over the blocks along the last axis gives
``transform.forward(x)``; after all blocks, ``finish(out)`` gives
``transform.inverse(Y, length)`` for any coefficients ``Y`` (to rounding).
Blocks are planned from the sizes alone (about :data:`BLOCK_SAMPLES` input
samples each), never from the thread budget.

Registry
--------
A transform *kind* (the spec prefix: ``stft``, ``nsgt``, ``slicq``) is a
factory ``f(spec_text, *, sample_rate) -> Transform`` registered with
:func:`register_transform`; :func:`mssoracle.transforms.from_spec` looks kinds
up in :data:`TRANSFORMS`.
"""

import abc
import collections

from ..registry import Registry
from .. import validators
from ..errors import AudioError, ParameterError

__all__ = ["Transform", "Stream", "WholeStream", "Block", "BLOCK_SAMPLES", "TRANSFORMS", "register_transform"]


def check_finite(x, name):
    """Raise :class:`~mssoracle.errors.AudioError` when the signal ``x`` (numpy or torch) holds NaN or inf.

    Called by every whole-signal ``Transform.forward``, not by :meth:`Stream.forward` (which would scan the
    whole signal once per block; the runner's audio is checked when it is decoded).
    """
    from ..backend import namespace

    xp = namespace(x)
    if not bool(xp.all(xp.isfinite(x))):
        raise AudioError(f"{name}: the signal holds NaN or inf samples; transforms need finite audio")


#: input samples per stream block (about): a (5, 2, T) float32 input gives tens of MB of coefficients per block
BLOCK_SAMPLES = 1 << 18

#: transform kinds (spec prefixes) -> factory ``f(spec_text, *, sample_rate) -> Transform``
TRANSFORMS = Registry("transform")


def register_transform(kind, factory=None, *, description="", example="", from_name=None, version=1,
                       replace=False):
    """Register a transform kind: ``factory(spec_text, *, sample_rate) -> Transform``.

    Use as a decorator::

        @register_transform("stft", description="short-time Fourier transform", example="stft:4096:1024",
                            from_name=parse_name)
        def from_spec(spec, *, sample_rate=44100): ...

    Parameters
    ----------
    kind : str
        The spec prefix, and the first ``-``-separated word of its transforms' names.
    factory : callable
        ``factory(spec_text, *, sample_rate) -> Transform``; ``spec_text`` is the whole spec, prefix
        included (``"stft:4096:1024"``).
    description, example : str
        One line, and an example spec (``mssoracle transforms``).
    from_name : callable, optional
        ``from_name(name, *, sample_rate) -> Transform``, the inverse of :attr:`Transform.name`
        (used by :func:`mssoracle.transforms.from_name`, and so by method names); raises
        :class:`ParameterError` on a malformed name.  A kind without one cannot be read back from
        result folders.
    version : int
        Algorithm version (>= 1, default 1): bump it whenever the kind's coefficients or inverse change
        (``tests/test_versions.py``); read with ``TRANSFORMS.info(kind)["version"]``.
    """
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ParameterError(f"transform {kind!r}: version must be an integer >= 1 (bump it when its numbers "
                             f"change), got {version!r}")
    if from_name is not None and not callable(from_name):
        raise ParameterError(f"transform {kind!r}: from_name must be a function name -> Transform")
    return TRANSFORMS.register(kind, factory, description=description, example=example, from_name=from_name,
                               version=version, replace=replace)


#: one block of a stream: ``start``/``stop`` in the stream's unit (STFT frames, sliCQT slices; 0/1 for
#: a whole-signal block), ``index`` its position in :attr:`Stream.blocks`
Block = collections.namedtuple("Block", "index start stop")


class Stream(abc.ABC):
    """A transform applied to one signal length in blocks of time (see the module docstring).

    Attributes
    ----------
    transform : Transform
    length : int
        Samples of the signals it is used on.
    blocks : list of :data:`Block`
        In time order.
    frames : list of int
        Total frames of every group for this length.
    """

    def __init__(self, transform, length):
        self.transform = transform
        self.length = validators.length(length, "length", minimum=1)

    @abc.abstractmethod
    def forward(self, x, block):
        """Coefficients of ``block`` of the whole signal ``x (..., channels, length)``: list of groups
        ``(..., channels, bins_g, frames_g_in_block)``."""

    @abc.abstractmethod
    def inverse_add(self, coefficients, block, out):
        """Add the synthesis of ``block``'s coefficients into ``out (..., channels, length)`` in place."""

    def finish(self, out):
        """In place, after all blocks: the normalisation of the synthesis (nothing by default)."""
        return out

    def _check_out(self, out):
        if tuple(out.shape[-1:]) != (self.length,):
            raise ParameterError(
                f"{self.transform.name}: stream output must be (..., channels, {self.length}), "
                f"got shape {tuple(out.shape)}")


class WholeStream(Stream):
    """One block, the whole signal: for transforms that cannot be cut in time (the non-sliced NSGT).

    Its coefficients stay proportional to the track length."""

    def __init__(self, transform, length, frames):
        super().__init__(transform, length)
        self.blocks = [Block(0, 0, 1)]
        self.frames = list(frames)

    def forward(self, x, block):
        if tuple(x.shape[-1:]) != (self.length,):
            raise ParameterError(
                f"{self.transform.name}: stream input must be (..., channels, {self.length}), got shape {tuple(x.shape)}")
        return self.transform.forward(x)

    def inverse_add(self, coefficients, block, out):
        self._check_out(out)
        out += self.transform.inverse(coefficients, self.length)


class Transform(abc.ABC):
    """Abstract time-frequency transform.

    Subclasses set :attr:`name` (a canonical, stable spec string, e.g.
    ``"stft-2048-512"``; used in method names and result files), store
    :attr:`sample_rate`, and implement :meth:`forward` and :meth:`inverse`.
    Both accept numpy arrays and torch tensors (dispatching on the input type).
    float32 input gives complex64 coefficients, float64 input complex128, and
    the inverse of complex64 coefficients is float32.
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

    def frames(self, length):
        """Frames of every group for a signal of ``length`` samples (list of int)."""
        import numpy as np

        return [int(c.shape[-1]) for c in self.forward(np.zeros((1, int(length)), dtype=np.float32))]

    def stream(self, length):
        """A :class:`Stream` over signals of ``length`` samples.

        The default is one whole-signal block (:class:`WholeStream`); the STFT
        and the sliCQT cut the signal into blocks of frames or slices."""
        return WholeStream(self, length, self.frames(length))

    def at_rate(self, sample_rate):
        """This transform for signals at ``sample_rate`` Hz: ``self`` when the rate is the same, else an
        equal spec rebuilt at that rate (rate-dependent defaults resolved again)."""
        sr = validators.sample_rate(sample_rate)
        if sr == self.sample_rate:
            return self
        return self._rebuild(sr)

    def _rebuild(self, sample_rate):
        return TRANSFORMS.get(self.spec.split(":", 1)[0])(self.spec, sample_rate=sample_rate)

    def __repr__(self):
        return f"<{type(self).__name__} {self.spec}>"
