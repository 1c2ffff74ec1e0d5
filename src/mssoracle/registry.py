"""One small registry class behind every extension point (oracles, scales, transforms, metrics, executors).

Each domain module owns one :class:`Registry` and exposes a public
``register_*`` decorator built on :meth:`Registry.register`; adding an oracle,
a scale, a transform kind, a metric or an executor is one function (or class)
plus that decorator, in any module, inside the package or outside it::

    from mssoracle.oracles import register_oracle

    @register_oracle("half", description="half the mixture for every source")
    def half(X, S):
        ...
"""

from .errors import ParameterError

__all__ = ["Registry"]


class Registry:
    """Named entries of one kind, in registration order.

    Parameters
    ----------
    kind : str
        What the entries are (``"oracle"``, ``"scale"``, ...), used in error messages.
    """

    def __init__(self, kind):
        self.kind = kind
        self._entries = {}
        self._aliases = {}

    def register(self, name, obj=None, *, aliases=(), replace=False, **info):
        """Register ``obj`` under ``name`` (lower-case); as a decorator when ``obj`` is omitted.

        ``info`` (e.g. ``description=...``) is kept beside the object and
        returned by :meth:`info`.  Registering a taken name raises
        :class:`ParameterError` unless ``replace=True``.
        """
        if obj is None:
            return lambda o: self.register(name, o, aliases=aliases, replace=replace, **info) or o
        key = self._key(name)
        if not key:
            raise ParameterError(f"{self.kind} name must be a non-empty string, got {name!r}")
        if not replace and (key in self._entries or key in self._aliases):
            raise ParameterError(f"{self.kind} {key!r} is already registered")
        self._entries[key] = (obj, dict(info))
        for a in aliases:
            self._aliases[self._key(a)] = key
        return obj

    def unregister(self, name):
        key = self.canonical(name)
        self._entries.pop(key, None)
        for a in [a for a, k in self._aliases.items() if k == key]:
            del self._aliases[a]

    @staticmethod
    def _key(name):
        return str(name).strip().lower() if isinstance(name, str) else ""

    def canonical(self, name):
        key = self._key(name)
        return self._aliases.get(key, key)

    def __contains__(self, name):
        return self.canonical(name) in self._entries

    def get(self, name):
        """The object registered as ``name`` (or one of its aliases); one-line error listing the valid names."""
        key = self.canonical(name)
        if key not in self._entries:
            raise ParameterError(f"unknown {self.kind} {name!r}; valid: {', '.join(self.names()) or 'none'}")
        return self._entries[key][0]

    def info(self, name):
        return dict(self._entries[self.canonical(name)][1])

    def names(self):
        return list(self._entries)

    def aliases(self, name):
        """The aliases of ``name``, in the order they were registered."""
        key = self.canonical(name)
        return [a for a, k in self._aliases.items() if k == key]

    def items(self):
        return [(k, v[0]) for k, v in self._entries.items()]

    def __iter__(self):
        return iter(self._entries)

    def __len__(self):
        return len(self._entries)

    def __repr__(self):
        return f"<Registry of {self.kind}s: {', '.join(self._entries)}>"
