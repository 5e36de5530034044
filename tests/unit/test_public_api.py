"""The public façade: what ``import ragtel`` offers is exactly what ``__all__`` says."""

from __future__ import annotations

import ragtel
import ragtel.langchain
import ragtel.llamaindex
import ragtel.monitor


def test_all_is_sorted_and_complete() -> None:
    for module in (ragtel, ragtel.langchain, ragtel.llamaindex, ragtel.monitor):
        names = module.__all__
        assert list(names) == sorted(names), module.__name__
        for name in names:
            assert hasattr(module, name), f"{module.__name__}.{name}"
    public = {n for n in dir(ragtel) if not n.startswith("_") and callable(getattr(ragtel, n))}
    assert public <= set(ragtel.__all__)
