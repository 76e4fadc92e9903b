"""One way to register things by name: :class:`Registry`.

Methods, datasets, recipes, preprocessors, architectures, decision rules, training
protocols, studies, solvers, metrics and certification ops each live in a
``Registry`` owned by the layer that owns the concept; papers and plugins add
entries with :meth:`Registry.register`. An unknown name raises the registry's
error class with a close-match hint and the known names, so every "unknown X"
message reads the same.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar, overload

from fairnn.errors import ConfigError, FairnnError

T = TypeVar("T")

__all__ = ["Registry"]


class Registry(Generic[T]):
    """Entries of one kind by name, with aliases.

    ``kind`` names the entries in messages (``"unknown method 'x'"``); ``error`` is the
    :class:`~fairnn.errors.FairnnError` subclass raised for unknown names; ``normalize``
    maps a requested name to a key (e.g. ``str.lower``); ``advice`` ends the message of
    an unknown name (what to do instead).
    """

    def __init__(
        self,
        kind: str,
        *,
        plural: str | None = None,
        error: type[FairnnError] = ConfigError,
        normalize: Callable[[str], str] | None = None,
        advice: str = "",
        cutoff: float = 0.6,
    ) -> None:
        self.kind = kind
        self.plural = plural or f"{kind}s"
        self.error = error
        self.advice = advice
        self.cutoff = cutoff
        self._normalize = normalize or (lambda s: s)
        self._entries: dict[str, T] = {}
        self._aliases: dict[str, str] = {}

    # -- adding ---------------------------------------------------------------------
    @overload
    def register(
        self, name: str, entry: None = None, *, aliases: tuple[str, ...] = (), replace: bool = False
    ) -> Callable[[T], T]: ...
    @overload
    def register(
        self, name: str, entry: T, *, aliases: tuple[str, ...] = (), replace: bool = False
    ) -> T: ...
    def register(
        self,
        name: str,
        entry: T | None = None,
        *,
        aliases: tuple[str, ...] = (),
        replace: bool = False,
    ) -> T | Callable[[T], T]:
        """Add ``entry`` as ``name`` (and ``aliases``); without ``entry``, a decorator."""

        def add(obj: T) -> T:
            key = self._normalize(name)
            keys = [key, *(self._normalize(a) for a in aliases)]
            if not replace:
                taken = [k for k in keys if k in self._entries or k in self._aliases]
                if taken:
                    raise self.error(f"{self.kind} {taken[0]!r} is already registered")
            else:
                self._drop(key)
            self._entries[key] = obj
            for alias in keys[1:]:
                self._aliases[alias] = key
            return obj

        return add if entry is None else add(entry)

    def _drop(self, key: str) -> None:
        self._entries.pop(key, None)
        for alias in [a for a, k in self._aliases.items() if k == key]:
            del self._aliases[alias]

    # -- reading --------------------------------------------------------------------
    def canonical(self, name: str) -> str:
        """The registered name behind ``name`` (an alias or the name itself)."""
        key = self._normalize(str(name))
        key = self._aliases.get(key, key)
        if key not in self._entries:
            raise self.unknown(name)
        return key

    def get(self, name: str) -> T:
        """The entry registered as ``name``; an unknown name raises :meth:`unknown`."""
        return self._entries[self.canonical(name)]

    def unknown(self, name: object) -> FairnnError:
        """The error for an unknown ``name``: a close match and the known names."""
        known = [*self._entries, *self._aliases]
        close = difflib.get_close_matches(
            self._normalize(str(name)), known, n=1, cutoff=self.cutoff
        )
        hint = f" Did you mean {close[0]!r}?" if close else ""
        advice = f" {self.advice}" if self.advice else ""
        return self.error(
            f"unknown {self.kind} {name!r}.{hint} Known {self.plural}: "
            f"{', '.join(self.names())}.{advice}"
        )

    def names(self) -> list[str]:
        """Registered names (not aliases), sorted."""
        return sorted(self._entries)

    def aliases(self, name: str) -> list[str]:
        """The aliases of ``name``."""
        key = self.canonical(name)
        return sorted(a for a, k in self._aliases.items() if k == key)

    def items(self) -> list[tuple[str, T]]:
        return [(k, self._entries[k]) for k in self.names()]

    def __contains__(self, name: object) -> bool:
        key = self._normalize(str(name))
        return key in self._entries or key in self._aliases

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"
