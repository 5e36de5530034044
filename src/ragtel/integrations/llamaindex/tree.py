"""The live dispatcher spans ragtel tracks (``_Node``) and the steps it opened for them (``_Open``).

A dispatcher span with nothing of its own maps to its parent's node, so a child finds its ragtel
parent in one lookup; ``owner`` is the nearest open step above.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from ragtel.recording import Step

if TYPE_CHECKING:
    import weakref

    from ragtel.integrations.llamaindex.streams import _Lazy


class _Open:
    """A ragtel step opened for a LlamaIndex call, and what ending it depends on."""

    __slots__ = (
        "deferred",
        "finalizer",
        "instance",
        "kind",
        "last",
        "node",
        "output",
        "parent",
        "pending",
        "result",
        "step",
    )

    def __init__(self, step: Step, parent: _Open | None, kind: str, instance: Any) -> None:
        self.step = step
        self.parent = parent
        self.kind = kind
        self.instance = instance
        self.pending = 0  # generations still streaming somewhere below this step
        self.deferred = False  # the call returned; the step ends when ``pending`` reaches 0
        self.result: Any = None
        self.last: Any = None  # the latest streamed response (a generation's partial output)
        self.output: str | None = None  # the text of the latest generation that ended below
        self.finalizer: weakref.finalize[..., Any] | None = None
        self.node: _Node | None = None


class _Node:
    """A live dispatcher span with something of its own (a step, a model call, a prompt)."""

    __slots__ = (
        "arguments",
        "embed_count",
        "embeds",
        "id",
        "instance",
        "kind",
        "lazy",
        "open",
        "owner",
        "parent",
        "prompt",
        "tokens",
    )

    def __init__(
        self,
        id_: str,
        parent: _Node | None,
        kind: str,
        instance: Any,
        arguments: Mapping[str, Any],
    ) -> None:
        self.id = id_
        self.parent = parent
        self.owner: _Open | None = parent.owner if parent is not None else None
        self.kind = kind
        self.instance = instance
        self.arguments = arguments
        self.open: _Open | None = None
        self.prompt: Step | None = None
        self.embeds: deque[Step] | None = None
        self.embed_count = 0
        self.lazy: _Lazy | None = None
        self.tokens: list[tuple[object, _Open | Step]] = []


_ROOT: Final = _Node("", None, None, None, {})  # type: ignore[arg-type]
"""Stands for an ignored top-level call, so its children skip the search for a running stream."""
