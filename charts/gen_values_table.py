#!/usr/bin/env python3
"""Keep the chart's documentation in sync with values.yaml.

Every value in charts/dplint/values.yaml carries a `# -- description` comment (helm-docs style).
This script writes them into:

- the values table of charts/dplint/README.md, between `<!-- values-table:start -->` and
  `<!-- values-table:end -->`;
- the `description` of each value in charts/dplint/values.schema.json (shown by editors).

    charts/.venv/bin/python charts/gen_values_table.py          # rewrite both
    charts/.venv/bin/python charts/gen_values_table.py --check  # exit 1 if either is out of date (the tests do this)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

CHART = Path(__file__).resolve().parent / "dplint"
START = "<!-- values-table:start -->"
END = "<!-- values-table:end -->"
KEY_RE = re.compile(r"^(\s*)([A-Za-z0-9_.-]+):(\s|$)")


def parse_docs(text: str) -> dict[str, str]:
    """Dotted value path -> description, from `# --` comments right above a key."""
    docs: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    pending: list[str] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# --"):
            pending = [stripped[4:].strip()]
            continue
        if stripped.startswith("#"):
            if pending is not None:
                pending.append(stripped[1:].strip())
            continue
        if not stripped:
            pending = None
            continue
        match = KEY_RE.match(line)
        if not match or stripped.startswith("- "):
            pending = None
            continue
        indent, key = len(match.group(1)), match.group(2)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = ".".join([k for _, k in stack] + [key])
        if pending is not None:
            docs[path] = " ".join(p for p in pending if p)
        pending = None
        stack.append((indent, key))
    return docs


def leaves(values: object, prefix: str = "") -> list[str]:
    """Paths of all values that are not non-empty mappings."""
    if isinstance(values, dict) and values:
        out: list[str] = []
        for key, value in values.items():
            out.extend(leaves(value, f"{prefix}.{key}" if prefix else key))
        return out
    return [prefix]


def lookup(values: object, path: str) -> object:
    for part in path.split("."):
        assert isinstance(values, dict)
        values = values[part]
    return values


def schema_node(schema: dict, path: str) -> dict | None:
    node = schema
    for part in path.split("."):
        props = node.get("properties") or {}
        if part not in props:
            return None
        node = props[part]
    return node


def type_of(schema: dict, path: str, value: object) -> str:
    node = schema_node(schema, path) or {}
    kind = node.get("type")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind:
        return kind
    if "oneOf" in node:
        return " or ".join(alt.get("type", "?") for alt in node["oneOf"])
    return type(value).__name__


def table(values: dict, docs: dict[str, str], schema: dict) -> str:
    rows = ["| Key | Type | Default | Description |", "|---|---|---|---|"]
    for path, doc in docs.items():
        default = json.dumps(lookup(values, path), ensure_ascii=False)
        default = default.replace("|", "\\|")
        text = doc.replace("|", "\\|")
        rows.append(f"| `{path}` | {type_of(schema, path, lookup(values, path))} | `{default}` | {text} |")
    return "\n".join(rows)


def render_readme(readme: str, values: dict, docs: dict[str, str], schema: dict) -> str:
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table(values, docs, schema)}\n{END}{tail}"


def described_schema(schema: dict, docs: dict[str, str]) -> dict:
    schema = json.loads(json.dumps(schema))
    for path, doc in docs.items():
        node = schema_node(schema, path)
        if node is not None:
            node["description"] = doc
    return schema


def main() -> int:
    check = "--check" in sys.argv[1:]
    values_text = (CHART / "values.yaml").read_text()
    values = yaml.safe_load(values_text)
    docs = parse_docs(values_text)
    schema_path, readme_path = CHART / "values.schema.json", CHART / "README.md"
    schema = json.loads(schema_path.read_text())
    new_schema = json.dumps(described_schema(schema, docs), indent=2, ensure_ascii=False) + "\n"
    new_readme = render_readme(readme_path.read_text(), values, docs, schema)
    stale = [p for p, new in ((schema_path, new_schema), (readme_path, new_readme)) if p.read_text() != new]
    if check:
        for path in stale:
            print(f"{path} is out of date: run charts/.venv/bin/python charts/gen_values_table.py", file=sys.stderr)
        return 1 if stale else 0
    schema_path.write_text(new_schema)
    readme_path.write_text(new_readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
