"""What the two NSGT/sliCQT designs (:mod:`.nsgt`, ours; :mod:`.nsgt_compat`, the nsgt package's) share at
their edges: the input check, the torch CPU fast path, the complex dtype of coefficients and the number
format of names and specs."""

import numpy as np

from .. import backend, validators
from ..errors import ParameterError

__all__ = ["format_number", "via_numpy", "to_numpy", "check_signal", "complex_dtype", "check_coefficients"]


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
