"""What Weaver's live check reported, grouped: its statistics, then each violation by whose name
it is about (OpenInference's, ragtel's own ``ragtel.*``, or anything else: a GenAI problem).

    python scripts/conformance/summarize.py REPORT.json
    python scripts/conformance/summarize.py --additions additions.yaml   # Weaver-readable copy
"""

from __future__ import annotations

import collections
import json
import sys
from typing import Any

import yaml
from openinference.semconv import trace as oi

_OI_PREFIXES = tuple(
    f"{name}."
    for name in (
        oi.SpanAttributes.RETRIEVAL_DOCUMENTS,
        oi.SpanAttributes.EMBEDDING_EMBEDDINGS,
        oi.SpanAttributes.LLM_INPUT_MESSAGES,
        oi.SpanAttributes.LLM_OUTPUT_MESSAGES,
        oi.SpanAttributes.LLM_TOOLS,
    )
)


def _openinference_names() -> set[str]:
    names = {"openinference.project.name"}  # OpenInference's resource attribute
    for holder in (oi.SpanAttributes, oi.ToolAttributes, oi.RerankerAttributes):
        names.update(v for k, v in vars(holder).items() if k.isupper() and isinstance(v, str))
    return names


def _advices(node: Any, found: list[dict[str, Any]]) -> None:
    if isinstance(node, dict):
        result = node.get("live_check_result")
        if result:
            found.extend(result.get("all_advice") or ())
        for value in node.values():
            _advices(value, found)
    elif isinstance(node, list):
        for value in node:
            _advices(value, found)


def summarize(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        report = json.load(f)
    stats = report["statistics"]
    for key in ("total_entities_by_type", "advice_level_counts", "advice_type_counts"):
        print(f"{key}: {json.dumps(stats[key], sort_keys=True)}")
    advices: list[dict[str, Any]] = []
    _advices(report["samples"], advices)
    openinference = _openinference_names()
    whose: collections.Counter[str] = collections.Counter()
    genai: collections.Counter[str] = collections.Counter()
    for advice in advices:
        if advice["level"] != "violation":
            continue
        key = (advice.get("context") or {}).get("attribute_key", "")
        if key.startswith("ragtel."):
            whose["ragtel.*"] += 1
        elif key in openinference or key.startswith(_OI_PREFIXES):
            whose["OpenInference"] += 1
        else:
            whose["GenAI or core"] += 1
            genai[f"{advice['id']}: {advice['message']}"] += 1
    print(f"violations by whose name: {json.dumps(dict(whose), sort_keys=True)}")
    for message, count in genai.most_common():
        print(f"  {count} x {message}")
    others = collections.Counter(
        f"{a['level']} {a['id']}: {a['message']}"
        for a in advices
        if a["level"] != "violation" and a["id"] != "not_stable"
    )
    for message, count in others.most_common():
        print(f"  {count} x {message}")


def additions(path: str) -> None:
    """The attributes of ragtel's additions.yaml (its span_additions are ragtel's own format)."""
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    print(yaml.safe_dump({"file_format": "definition/2", "attributes": data["attributes"]}))


if __name__ == "__main__":
    if sys.argv[1] == "--additions":
        additions(sys.argv[2])
    else:
        summarize(sys.argv[1])
