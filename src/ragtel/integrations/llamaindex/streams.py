"""Streams keep their callers' steps open: generators a step returned, generations that outlive
their call, and the reaper that ends streams nobody consumes."""

from __future__ import annotations

import heapq
import sys
import threading
import time
import types
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from ragtel._guard import call_quietly
from ragtel.integrations.llamaindex.tree import _Open

if TYPE_CHECKING:
    pass

DEFAULT_STREAM_TIMEOUT: Final = 600.0
"""Seconds a stream may stay unconsumed before its spans are ended as timed out."""

_GENERATORS: Final = frozenset({types.GeneratorType, types.AsyncGeneratorType})
_UNSET: Final = object()


class StreamTimeout(TimeoutError):
    """A streamed generation was neither consumed nor closed within ``stream_timeout``."""

    def __init__(self) -> None:
        super().__init__("stream neither consumed nor closed within the stream timeout")


class _Lazy:
    """A generator a step returned, whose body runs later, in the consumer's context.

    A streaming synthesizer returns one: the model is only called when the caller iterates it,
    outside any LlamaIndex span. Calls made while its frame is on the stack belong to ``owner``,
    and ``owner`` (with the steps above it) stays open until the first of them returns, the
    generator is garbage collected, or the stream timeout passes.
    """

    __slots__ = ("finalizer", "key", "owner", "ref", "released")

    def __init__(self, owner: _Open, generator: Any, key: int) -> None:
        self.owner = owner
        self.ref = weakref.ref(generator)
        self.key = key
        self.released = False
        self.finalizer: weakref.finalize[..., Any] | None = None

    def running_frame(self) -> Any:
        generator = self.ref()
        return _frame_of(generator) if generator is not None else None


def _frame_of(generator: Any) -> Any:
    frame = getattr(generator, "gi_frame", _UNSET)
    return frame if frame is not _UNSET else getattr(generator, "ag_frame", None)


class _Streams:
    """The stream half of the tracker (mixed into ``_Tracker``)."""

    generations: dict[str, _Open]
    lazies: dict[int, _Lazy]
    _lock: threading.RLock
    _reaper: _Reaper | None

    if TYPE_CHECKING:

        def _end_generation(
            self,
            op: _Open,
            response: Any,
            error: BaseException | None = None,
            abandoned: str | None = None,
        ) -> None: ...

        def _finish(
            self,
            op: _Open,
            outcome: Any,
            output: str | None = None,
            error: BaseException | None = None,
        ) -> None: ...

    def _outlived(self, id_: str, op: _Open, result: Any) -> None:
        """The call that started a generation returned before the generation ended."""
        if type(result) in _GENERATORS:
            try:  # also called at interpreter exit, before the provider flushes
                op.finalizer = weakref.finalize(result, self._collected, id_)
            except TypeError:
                op.finalizer = None
            if self._reaper is not None:
                self._reaper.watch(id_)
            return
        # A model that reported no end event: its result is the response.
        if self.generations.pop(id_, None) is op:
            self._end_generation(op, result if hasattr(result, "raw") else op.last)

    def _collected(self, id_: str) -> None:
        op = self.generations.pop(id_, None)
        if op is not None:
            op.finalizer = None
            self._end_generation(op, op.last, abandoned="collected")

    def _waiting(self, item: Any) -> bool:
        if isinstance(item, _Lazy):
            return not item.released
        return item in self.generations

    def _expire(self, item: Any) -> None:
        if isinstance(item, _Lazy):
            self._lazy_done(item, StreamTimeout())
            return
        op = self.generations.pop(item, None)
        if op is not None:
            self._end_generation(op, None, StreamTimeout())

    # -- streams keep their callers' steps open ----------------------------------------------------

    def _watch_lazy(self, generator: Any, owner: _Open, *, hold: bool = True) -> None:
        """Calls made from inside ``generator`` belong to ``owner``; with ``hold``, ``owner``
        stays open until the first of them returns (or the generator goes away)."""
        frame = _frame_of(generator)
        if frame is None:
            return
        known = self.lazies.get(id(frame))
        if known is not None and known.running_frame() is frame:
            return  # returned again by an enclosing call
        lazy = _Lazy(owner, generator, id(frame))
        if hold:
            self._hold(owner)
        else:
            lazy.released = True
        self.lazies[lazy.key] = lazy
        lazy.finalizer = weakref.finalize(generator, self._lazy_collected, lazy)
        if hold and self._reaper is not None:
            self._reaper.watch(lazy)

    def _running_lazy(self, owner: _Open | None) -> _Lazy | None:
        """The watched generator running in this thread whose step is below ``owner``, if any.

        A generator's body runs wherever it is consumed: in the caller's context (no parent), or
        in a task or thread the framework started for it (the parent is then the call that
        started the task, an ancestor of the step that returned the generator).
        """
        lazies = self.lazies
        frame: types.FrameType | None = sys._getframe(2)
        while frame is not None:
            lazy = lazies.get(id(frame))
            if lazy is not None and lazy.running_frame() is frame:
                if owner is None:
                    return lazy
                step: _Open | None = lazy.owner
                while step is not None:
                    if step is owner:
                        return lazy
                    step = step.parent
                return None
            frame = frame.f_back
        return None

    def _lazy_done(self, lazy: _Lazy, error: BaseException | None = None) -> None:
        with self._lock:
            if lazy.released:
                return
            lazy.released = True
        self._release(lazy.owner, None, error)

    def _lazy_collected(self, lazy: _Lazy) -> None:
        if self.lazies.get(lazy.key) is lazy:
            del self.lazies[lazy.key]
        self._lazy_done(lazy)

    def _hold(self, first: _Open | None) -> None:
        """``first`` and every step above it wait for one more stream."""
        with self._lock:
            while first is not None:
                first.pending += 1
                first = first.parent

    def _release(
        self, first: _Open | None, output: str | None, error: BaseException | None
    ) -> None:
        ready: list[_Open] = []
        with self._lock:
            while first is not None:
                first.pending -= 1
                if output is not None:
                    first.output = output
                if first.deferred and first.pending <= 0:
                    first.deferred = False
                    ready.append(first)
                first = first.parent
        for waiting in ready:  # innermost first
            self._finish(waiting, waiting.result, waiting.output, error)
            waiting.result = None


class _Reaper:
    """Ends streams nobody consumes: one daemon thread, woken at the earliest deadline."""

    _PRUNE_AT: Final = 1024

    def __init__(
        self, expire: Callable[[Any], None], timeout: float, alive: Callable[[Any], bool]
    ) -> None:
        self._expire = expire
        self._alive = alive
        self._timeout = timeout
        self._heap: list[tuple[float, int, Any]] = []
        self._seq = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def watch(self, item: Any) -> None:
        with self._cond:
            self._seq += 1
            if len(self._heap) >= self._PRUNE_AT:  # most streams end long before their deadline
                self._heap = [entry for entry in self._heap if self._alive(entry[2])]
                heapq.heapify(self._heap)
            heapq.heappush(self._heap, (time.monotonic() + self._timeout, self._seq, item))
            if self._thread is None:
                self._stopped = False
                self._thread = threading.Thread(
                    target=self._run, name="ragtel-llamaindex-streams", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify()
            thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=1.0)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        break
                    self._cond.wait(self._heap[0][0] - now if self._heap else None)
                if self._stopped:
                    return
                expired = []
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    expired.append(heapq.heappop(self._heap)[2])
            for key in expired:
                call_quietly(self._expire, key)
