"""The index being served, and live reloads when ``current`` (or a Milvus alias) moves.

Every request takes one reference to the loaded index and uses only it, so a reload can
never mix two indexes in one answer. A new version is loaded and verified in full before
it replaces the old one; one that fails verification is refused, logged and reported
(``error``), while the old index keeps serving — or, if a version built after the old one
loads (``fallbacks``), that one: a worker forked later, from a master that loaded an older
version, then serves what the other workers serve, not the older one. Checking is one
readlink (or one alias lookup), at most once per ``interval`` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from .errors import IndexUnavailable
from .index.layout import current_version

log = logging.getLogger(__name__)


class IndexHolder:
    def __init__(self, index_dir: str, load: Callable[[str | None], Any], *, interval: float,
                 on_reload: Callable[[], None] | None = None, pointer: Callable[[], str | None] | None = None,
                 fallbacks: Callable[[str | None, Any], list[str]] | None = None):
        """``pointer``: what names the version to serve (default: the ``current`` symlink of
        ``index_dir``; for Milvus, the collection behind the alias). ``load`` is given the
        version the holder read, so that what it records is what was loaded. ``fallbacks``:
        given the refused version and the index held, the versions to try instead, best first
        (newer ones only: never a step back)."""
        self.index_dir = index_dir
        self._pointer_of = pointer or (lambda: current_version(index_dir))
        self.interval = interval
        self.error: str | None = None  # why the last version was refused, if it was
        self.reloads = 0
        self._load = load
        self._on_reload = on_reload
        self._fallbacks = fallbacks or (lambda refused, held: [])
        self._refusal: str | None = None  # why the version ``_pointer`` names was refused, if it was
        # why the last look at the pointer failed (a store down), and that error's code: one tuple, so
        # that a request reads a message and its code from the same failure
        self.failure: tuple[str, str] | None = None
        self._index: Any = None  # a LoadedIndex, or a MilvusIndex
        self._pointer: str | None = None  # the version ``current`` named when we last looked
        self._checked_at = float("-inf")
        self._lock = threading.Lock()

    @property
    def index(self) -> Any:
        """The loaded index, or None when no usable one has been loaded yet."""
        return self._index

    def require(self) -> Any:
        index = self._index
        if index is None:
            raise IndexUnavailable(self.error or f"no usable index in {self.index_dir}")
        return index

    @property
    def unreachable(self) -> str | None:
        """Why the last look at the pointer failed, if it did."""
        failure = self.failure
        return failure[0] if failure is not None else None

    def refresh(self, force: bool = False, *, strict: bool = False) -> bool:
        """Load the version ``current`` names if it moved since the last look (or when
        forced). True when a new index was swapped in. ``strict``: a refused version
        raises IndexUnavailable instead of being logged and recorded (the CLI)."""
        now = time.monotonic()
        if not force and now - self._checked_at < self.interval:
            return False
        self._checked_at = now
        try:
            pointer = self._pointer_of()
        except IndexUnavailable as exc:  # the store is unreachable: keep what we have, say why
            # until the next look: requests meanwhile fail at once, not after a timeout, with the code the
            # request itself would have had ("milvus_unavailable")
            self.failure = (exc.message, exc.code)
            if self._index is None:  # else health() asks the index itself, and an old reason would linger
                self.error = exc.message
            return False
        self.failure = None
        if pointer is None and self._index is not None and not force:
            # deleted by hand: keep serving from memory, but say that a restart would find nothing
            self.error = (f"the index {self.index_dir or 'alias'} names no version any more; serving "
                          f"{self._index.version} from memory until a build makes one")
            return False
        if not force and pointer == self._pointer:
            if self._index is not None:  # unchanged (or back after a deletion): what its last load said
                self.error = self._refusal
            return False
        with self._lock:
            if not force and pointer == self._pointer:
                return False  # another thread loaded it meanwhile
            self._pointer = pointer
            return self._swap_in(pointer, strict)

    def _swap_in(self, pointer: str | None, strict: bool) -> bool:
        try:
            index = self._load(pointer)
        except IndexUnavailable as exc:
            if strict:
                raise
            log.error("index refused: %s", exc.message)
            installed = False
            for version in self._fallbacks(pointer, self._index):
                try:
                    fallback = self._load(version)
                except IndexUnavailable:
                    continue
                log.warning("serving %s, the newest version that loads, instead", version)
                self._install(fallback)
                installed = True
                break
            self.error = self._refusal = exc.message  # still said: `current` names a version that is refused
            return installed
        self._install(index)
        self.error = self._refusal = None
        return True

    def _install(self, index: Any) -> None:
        first = self._index is None and self.reloads == 0 and self.error is None
        self._index = index
        log.info("index %s loaded: %d passages", index.version, index.summary()["passages"])
        if not first:
            self.reloads += 1
            if self._on_reload is not None:
                self._on_reload()
