"""One way to register things by name: :class:`Registry`.

Methods, datasets, recipes, preprocessors, architectures, decision rules, training
protocols, studies, solvers, metrics and certification ops each live in a
``Registry`` owned by the layer that owns the concept; papers and plugins add
entries with :meth:`Registry.register`. An unknown name raises the registry's
error class with a close-match hint and the known names, so every "unknown X"
message reads the same.

Papers' wings. A registry made with ``discover=PART`` (recipes and preprocessor types:
``"data"``, training protocols: ``"protocol"``, studies: ``"study"``, certification's
metric weight presets: ``"weights"``) runs
:func:`discover` before it is first read: that imports :data:`WINGS` (``fairnn.papers``)
and calls its ``load(PART)``, which imports ``fairnn.papers.<paper>.<PART>`` for every
paper, and those modules register their entries. This is the one place where the core
reaches the papers; it does so by module name at run time, so ``import fairnn`` stays
light and no core module imports a paper (``.importlinter`` checks that).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar, overload

from fairnn.errors import ConfigError, FairnnError

T = TypeVar("T")

__all__ = ["WINGS", "Registry", "discover"]

#: the package of papers' wings that registries with ``discover=`` load on first read
WINGS = "fairnn.papers"


def discover(part: str) -> None:
    """Import ``fairnn.papers.<paper>.<part>`` of every paper (each registers its entries)."""
    importlib.import_module(WINGS).load(part)


class Registry(Generic[T]):
    """Entries of one kind by name, with aliases.

    ``kind`` names the entries in messages (``"unknown method 'x'"``); ``error`` is the
    :class:`~fairnn.errors.FairnnError` subclass raised for unknown names; ``normalize``
    maps a requested name to a key (e.g. ``str.lower``); ``advice`` ends the message of
    an unknown name (what to do instead); ``discover`` names the part of the papers'
    wings (:func:`discover`) that registers entries here, loaded before the first read.
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
        discover: str | None = None,
    ) -> None:
        self.kind = kind
        self.plural = plural or f"{kind}s"
        self.error = error
        self.advice = advice
        self.cutoff = cutoff
        self._normalize = normalize or (lambda s: s)
        self._entries: dict[str, T] = {}
        self._aliases: dict[str, str] = {}
        self._discover = discover

    def _load(self) -> None:
        """Let the papers' wings register their entries, once (before the first read)."""
        part, self._discover = self._discover, None
        if part is not None:
            try:
                discover(part)
            except BaseException:
                self._discover = part  # a failed import is retried (and raises) on the next read
                raise

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
        self._load()
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
        self._load()
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
        self._load()
        return sorted(self._entries)

    def aliases(self, name: str) -> list[str]:
        """The aliases of ``name``."""
        key = self.canonical(name)
        return sorted(a for a, k in self._aliases.items() if k == key)

    def items(self) -> list[tuple[str, T]]:
        return [(k, self._entries[k]) for k in self.names()]

    def __contains__(self, name: object) -> bool:
        self._load()
        key = self._normalize(str(name))
        return key in self._entries or key in self._aliases

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        self._load()
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"
