"""What the two NSGT/sliCQT designs (:mod:`.nsgt`, ours; :mod:`.nsgt_compat`, the nsgt package's) share at
their edges: the input and coefficient checks, the torch CPU fast path, the complex dtype of coefficients,
the number format of names and specs, and the sliced transforms' whole-slice interface and stream
(:class:`Sliced`, :class:`SliceStream`)."""

import numpy as np

from .. import backend, validators
from ..errors import ParameterError
from .base import Block, Stream, check_finite

__all__ = ["format_number", "via_numpy", "to_numpy", "check_signal", "complex_dtype", "check_coefficients", "Sliced",
           "SliceStream"]


def format_number(v):
    """A number of a name or spec: ``262``, ``32.9``, ``1e-05``; exact (shortest round-trip text), so that a
    name parses back to the very same numbers."""
    v = float(v)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v).replace("+", "")


def via_numpy(t, *, native=False):
    """Whether the torch tensor ``t`` goes through the numpy core (zero-copy in and out): CPU tensors without
    autograd, unless ``native`` (the module's ``TORCH_NATIVE_CPU``) asks for torch's own ops."""
    return t.device.type == "cpu" and not native and not t.requires_grad


def to_numpy(t):
    """The numpy view of a CPU tensor (other real/complex dtypes as float64)."""
    import torch

    if t.dtype not in (torch.float32, torch.float64, torch.complex64, torch.complex128):
        t = t.double()
    return t.detach().resolve_conj().numpy()


def check_signal(x):
    """A real float32/float64 signal ``(..., time)`` (numpy: no copy when already one); ParameterError for a
    complex one, a scalar or an empty time axis."""
    if backend.is_torch(x):
        import torch

        if x.is_complex():
            raise ParameterError("the NSGT takes real signals; got a complex tensor")
        if x.dtype not in (torch.float32, torch.float64):
            x = x.to(torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else torch.float64)
    else:
        x = np.asarray(x)
        if np.iscomplexobj(x):
            raise ParameterError("the NSGT takes real signals; got a complex array")
        if x.dtype != np.float32:
            x = x.astype(np.float64, copy=False)
    if x.ndim < 1:
        raise ParameterError("signal must have a time axis, got a scalar")
    validators.length(x.shape[-1], "length", minimum=1)
    return x


def complex_dtype(c, torch_in):
    """complex64 for complex64/float32 coefficients, else complex128 (torch or numpy)."""
    if torch_in:
        import torch

        return torch.complex64 if c.dtype in (torch.complex64, torch.float32) else torch.complex128
    return np.complex64 if np.asarray(c).dtype in (np.complex64, np.float32) else np.complex128


def check_coefficients(coefficients, groups, length, slices, name):
    """Checked coefficient groups as ``(B, bands_g, slices, M_g)`` arrays, the leading shape and the complex
    dtype.

    ``groups``: the plan's groups (``.bands``, ``.M``) for ``length`` samples; ``slices``: slices per group
    (1 for a whole-signal NSGT); ``name``: the transform's, for the messages.  ParameterError on a wrong
    number of groups or a group of the wrong shape.
    """
    if not isinstance(coefficients, (list, tuple)) or not coefficients:
        raise ParameterError("coefficients must be a non-empty list of arrays (one per group)")
    if len(coefficients) != len(groups):
        raise ParameterError(f"{name}: expected {len(groups)} coefficient groups for length {length}, "
                             f"got {len(coefficients)}")
    torch_in = backend.is_torch(coefficients[0])
    lead = tuple(coefficients[0].shape[:-2])
    B = int(np.prod(lead)) if lead else 1
    cdt = complex_dtype(coefficients[0], torch_in)
    xp = backend.namespace(coefficients[0])
    cs = []
    for C, g in zip(coefficients, groups):
        want = lead + (len(g.bands), slices * g.M)
        if tuple(C.shape) != want:
            raise ParameterError(f"{name}: coefficient group of shape {tuple(C.shape)} does not match "
                                 f"length {length} (expected {want})")
        C = C.to(cdt) if torch_in else np.asarray(C, dtype=cdt)
        cs.append(xp.reshape(C, (B, len(g.bands), slices, g.M)))
    return cs, lead, cdt


class Sliced:
    """The whole-slice interface of a sliced transform (a mixin, before its :class:`~.base.Transform` base).

    The class provides ``hop`` (samples between slices), ``slices_per_block`` (slices of a stream block), ``offset`` (samples of the first slice before the
    signal), ``n_slices(length)``, ``_analyse(x, s0, s1)`` (coefficients of slices ``s0 .. s1-1`` of a
    checked signal), ``_synthesise(cs, cdt)`` (``(B, (s1 - s0 + 1) * hop)`` from checked coefficients),
    ``_coefficients(coefficients, length, slices)`` and ``_via_numpy(t)`` (its module's torch CPU rule);
    this gives it ``forward``, ``inverse`` and a :class:`SliceStream` of whole slices.
    """

    def stream(self, length):
        return SliceStream(self, length)

    def forward(self, x):
        """Analyse ``x`` ``(..., channels, time)``; returns a list of ``(..., channels, bands_g, slices * M_g)``."""
        check_finite(check_signal(x), self.name)
        return self._forward_slices(x, 0, None)

    def _forward_slices(self, x, s0, s1):
        if backend.is_torch(x) and self._via_numpy(x):
            import torch

            check_signal(x)
            return [torch.from_numpy(c) for c in self._forward_slices(to_numpy(x), s0, s1)]
        x = check_signal(x)
        if s1 is None:
            s1 = self.n_slices(x.shape[-1])
        return self._analyse(x, s0, s1)

    def inverse(self, coefficients, length):
        """Synthesise ``(..., channels, length)`` from coefficients shaped as :meth:`forward` returns: the
        per-slice inverse, overlap-added, cropped to the signal."""
        length = validators.length(length, "length", minimum=1)
        y, lead = self._inverse_slices(coefficients, length, 0, self.n_slices(length))
        a = self.offset
        return y[:, a:a + length].reshape(lead + (length,))

    def _inverse_slices(self, coefficients, length, s0, s1):
        """``(B, (s1 - s0 + 1) * hop)`` synthesis of slices ``s0 .. s1-1`` and the leading shape."""
        if isinstance(coefficients, (list, tuple)) and coefficients and backend.is_torch(coefficients[0]) \
                and self._via_numpy(coefficients[0]):
            import torch

            y, lead = self._inverse_slices([to_numpy(c) for c in coefficients], length, s0, s1)
            return torch.from_numpy(y), lead
        cs, lead, cdt = self._coefficients(coefficients, length, s1 - s0)
        return self._synthesise(cs, cdt), lead


class SliceStream(Stream):
    """A :class:`Sliced` transform over signals of one length, in blocks of whole slices.

    ``blocks[i]`` is slices ``start .. stop-1`` (``slices_per_block`` each); the blocks' syntheses are added
    into the output where they overlap (ours: the slice windows' squares sum to one; nsgt's: its analysis
    windows sum to one and synthesis has none), so :meth:`finish` has nothing to do."""

    def __init__(self, transform, length):
        super().__init__(transform, length)
        S = transform.n_slices(self.length)
        per = transform.slices_per_block
        self.frames = transform.frames(self.length)
        self.blocks = [Block(i, s0, min(S, s0 + per)) for i, s0 in enumerate(range(0, S, per))]

    def forward(self, x, block):
        if tuple(x.shape[-1:]) != (self.length,):
            raise ParameterError(f"{self.transform.name}: stream input must be (..., channels, {self.length}), "
                                 f"got shape {tuple(x.shape)}")
        return self.transform._forward_slices(x, block.start, block.stop)

    def inverse_add(self, coefficients, block, out):
        self._check_out(out)
        t = self.transform
        y, lead = t._inverse_slices(coefficients, self.length, block.start, block.stop)
        y = y.reshape(lead + (y.shape[-1],))
        s = block.start * t.hop - t.offset
        a, b = max(s, 0), min(s + y.shape[-1], self.length)
        if b > a:
            out[..., a:b] += y[..., a - s:b - s]
        return out
