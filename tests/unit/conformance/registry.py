"""The OpenTelemetry GenAI registry, read from the YAML model files in tests/data/semconv-genai.

Weaver's live check (the conventions project's own tool) validates names, types and enum members
but not what each span type requires; this module reads both from the same model files so that a
test can check every span ragtel writes against them without a network or a Weaver binary.

Two file formats occur: the GenAI model's ``definition/2`` (top-level ``attributes`` with ``key``,
``attribute_groups``, ``spans``, ``events``) and the core model's ``groups`` (attributes with
``id``). Both are read into the same :class:`Attribute` records.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).resolve().parents[2] / "data" / "semconv-genai"

REQUIRED = "required"
CONDITIONALLY_REQUIRED = "conditionally_required"
RECOMMENDED = "recommended"
OPT_IN = "opt_in"

# Attributes whose value is a JSON document with a published schema (schemas/*.json).
SCHEMA_FILES = {
    "gen_ai.input.messages": "gen-ai-input-messages.json",
    "gen_ai.output.messages": "gen-ai-output-messages.json",
    "gen_ai.retrieval.documents": "gen-ai-retrieval-documents.json",
    "gen_ai.system_instructions": "gen-ai-system-instructions.json",
    "gen_ai.tool.definitions": "gen-ai-tool-definitions.json",
}


@dataclass(frozen=True)
class Attribute:
    key: str
    type: str  # "string", "int", "double", "boolean", "string[]", ..., "any", "enum"
    members: frozenset[str] = frozenset()  # enum values (open enums: members are the known ones)
    template: bool = False  # ``template[...]``: the key is a prefix, ``key.<name>``
    deprecated: bool = False


@dataclass(frozen=True)
class Requirement:
    level: str  # REQUIRED, CONDITIONALLY_REQUIRED, RECOMMENDED, OPT_IN
    condition: str = ""  # the registry's words for a conditional level


@dataclass(frozen=True)
class SpanType:
    type: str
    kind: str  # "client" | "internal"
    name_pattern: str  # e.g. "{gen_ai.operation.name} {gen_ai.request.model}"
    attributes: dict[str, Requirement] = field(default_factory=dict)


@dataclass(frozen=True)
class EventType:
    name: str
    attributes: dict[str, Requirement] = field(default_factory=dict)


@dataclass(frozen=True)
class Registry:
    attributes: dict[str, Attribute]
    spans: dict[str, SpanType]
    events: dict[str, EventType]
    schemas: dict[str, dict[str, Any]]

    def attribute(self, key: str) -> Attribute | None:
        """The registry entry of ``key``, a template's entry for ``template.<name>`` keys."""
        found = self.attributes.get(key)
        if found is not None:
            return found
        head = key
        while "." in head:
            head = head.rsplit(".", 1)[0]
            candidate = self.attributes.get(head)
            if candidate is not None and candidate.template:
                return candidate
        return None


def _attribute(raw: dict[str, Any]) -> Attribute:
    key = raw.get("key") or raw["id"]
    kind = raw.get("type")
    members: frozenset[str] = frozenset()
    template = False
    if isinstance(kind, dict):
        members = frozenset(
            str(m["value"]) for m in kind.get("members") or () if not m.get("deprecated")
        )
        kind = "enum"
    elif isinstance(kind, str) and kind.startswith("template["):
        template = True
        kind = kind[len("template[") : -1]
    return Attribute(key, str(kind), members, template, bool(raw.get("deprecated")))


def _requirement(raw: Any) -> Requirement:
    if raw is None:
        return Requirement(RECOMMENDED)
    if isinstance(raw, str):
        return Requirement(raw)
    (level, condition), *_ = raw.items()
    return Requirement(level, str(condition))


_PATTERN = re.compile(r"SHOULD be `([^`]+)`")


def _name_pattern(spec: dict[str, Any]) -> str:
    note = ((spec.get("name") or {}).get("note") or "") + (spec.get("note") or "")
    found = _PATTERN.search(note)
    return found.group(1) if found else ""


def _resolve(
    entries: list[dict[str, Any]], groups: dict[str, list[dict[str, Any]]]
) -> dict[str, Requirement]:
    """Attribute refs of a span/event/group, groups expanded in order; later refs win, and a
    ref that only adds ``sampling_relevant`` keeps the level it already had."""
    out: dict[str, Requirement] = {}
    for entry in entries:
        if "ref_group" in entry:
            out.update(_resolve(groups[entry["ref_group"]], groups))
        elif "ref" in entry:
            key = entry["ref"]
            if "requirement_level" in entry or key not in out:
                out[key] = _requirement(entry.get("requirement_level"))
    return out


def _yaml_files(root: Path) -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text("utf-8")) for p in sorted(root.rglob("*.yaml"))]


@cache
def load(data: Path = DATA) -> Registry:
    attributes: dict[str, Attribute] = {}
    groups: dict[str, list[dict[str, Any]]] = {}
    span_specs: list[dict[str, Any]] = []
    event_specs: list[dict[str, Any]] = []
    for doc in _yaml_files(data / "core") + _yaml_files(data / "model"):
        for raw in doc.get("attributes") or ():
            attributes[raw["key"]] = _attribute(raw)
        for group in doc.get("groups") or ():  # core format
            for raw in group.get("attributes") or ():
                if "id" in raw:
                    attributes[raw["id"]] = _attribute(raw)
        for group in doc.get("attribute_groups") or ():
            groups[group["id"]] = group.get("attributes") or []
        span_specs.extend(doc.get("spans") or ())
        event_specs.extend(doc.get("events") or ())
    groups_for_refs = {**groups, **{f"span.{s['type']}": s["attributes"] for s in span_specs}}

    additions = yaml.safe_load((data / "additions.yaml").read_text("utf-8"))
    for raw in additions.get("attributes") or ():
        if raw["key"] in attributes:
            raise ValueError(f"additions.yaml: {raw['key']} is in the registry now; remove it")
        attributes[raw["key"]] = _attribute(raw)

    spans = {}
    for spec in span_specs:
        refs = _resolve(spec.get("attributes") or [], groups_for_refs)
        refs.update(_resolve((additions.get("span_additions") or {}).get(spec["type"], []), {}))
        spans[spec["type"]] = SpanType(spec["type"], spec["kind"], _name_pattern(spec), refs)
    events = {
        spec["name"]: EventType(
            spec["name"], _resolve(spec.get("attributes") or [], groups_for_refs)
        )
        for spec in event_specs
    }
    schemas = {
        key: json.loads((data / "schemas" / name).read_text("utf-8"))
        for key, name in SCHEMA_FILES.items()
    }
    return Registry(attributes, spans, events, schemas)
