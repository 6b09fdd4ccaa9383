"""Does a template's data schema accept what a tool says it returns? (Checked when widgets load.)

A template fits a tool's output schema when every value the output schema allows is one the
template's schema describes: each property the template requires is one the tool always returns,
with a type (and, for enums, values) the template takes, recursively through objects, arrays,
`anyOf` branches and local `$ref`s. Where either side says nothing (no `type`), nothing is checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_DEPTH = 32
_NUMBERS = frozenset({"integer", "number"})


def _resolver(root: Mapping[str, Any]) -> Any:
    def resolve(schema: Any) -> Mapping[str, Any]:
        seen = 0
        while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str) and seen < MAX_DEPTH:
            node: Any = root
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node.get(part) if isinstance(node, Mapping) else None
            extra = {key: value for key, value in schema.items() if key != "$ref"}
            schema = {**node, **extra} if isinstance(node, Mapping) else extra
            seen += 1
        return schema if isinstance(schema, Mapping) else {}

    return resolve


def _branches(schema: Mapping[str, Any]) -> list[Any] | None:
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            return list(schema[key])
    return None


def _types(schema: Mapping[str, Any]) -> set[str] | None:
    declared = schema.get("type")
    if isinstance(declared, str):
        declared = [declared]
    if not isinstance(declared, list):
        if "enum" in schema:
            return {_json_type(value) for value in schema["enum"]}
        if "const" in schema:
            return {_json_type(schema["const"])}
        return None
    return {str(name) for name in declared}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _accepts(template_types: set[str], output_type: str) -> bool:
    return output_type in template_types or (output_type == "integer" and "number" in template_types)


class _Fit:
    def __init__(self, template_root: Mapping[str, Any], output_root: Mapping[str, Any]) -> None:
        self.template = _resolver(template_root)
        self.output = _resolver(output_root)

    def problems(self, template: Any, output: Any, path: str, depth: int = 0) -> list[str]:
        if depth > MAX_DEPTH:
            return []
        template, output = self.template(template), self.output(output)
        output_branches = _branches(output)
        if output_branches is not None:  # the tool may return any branch: each must fit
            return [
                problem
                for branch in output_branches
                for problem in self.problems(template, branch, path, depth + 1)
            ]
        template_branches = _branches(template)
        if template_branches is not None:  # the template takes one branch: the closest decides
            tried = [self.problems(branch, output, path, depth + 1) for branch in template_branches]
            return min(tried, key=len) if tried else []
        return self._node(template, output, path, depth)

    def _node(
        self, template: Mapping[str, Any], output: Mapping[str, Any], path: str, depth: int
    ) -> list[str]:
        wanted, given = _types(template), _types(output)
        if wanted is not None and given is not None:
            refused = sorted(kind for kind in given if not _accepts(wanted, kind))
            if refused:
                takes = " or ".join(sorted(wanted))
                return [f"{path or 'the result'} may be {' or '.join(refused)}, the template takes {takes}"]
        if isinstance(template.get("enum"), list) and isinstance(output.get("enum"), list):
            unknown = [value for value in output["enum"] if value not in template["enum"]]
            if unknown:
                values = ", ".join(map(repr, unknown))
                return [f"{path or 'the result'} may be {values}, which the template does not list"]
        problems: list[str] = []
        if (wanted or {"object"}) & {"object"} and isinstance(template.get("properties"), Mapping):
            problems.extend(self._object(template, output, path, depth))
        if isinstance(template.get("items"), Mapping) and isinstance(output.get("items"), Mapping):
            problems.extend(self.problems(template["items"], output["items"], f"{path}[]", depth + 1))
        return problems

    def _object(
        self, template: Mapping[str, Any], output: Mapping[str, Any], path: str, depth: int
    ) -> list[str]:
        given = output.get("properties")
        if not isinstance(given, Mapping):
            return []  # an open object: nothing to compare
        always = set(output.get("required") or ())
        problems = []
        for name in template.get("required") or ():
            where = f"{path}.{name}" if path else name
            if name not in given:
                problems.append(f"the template needs `{where}`, which the tool does not return")
            elif name not in always:
                problems.append(f"the template needs `{where}`, which the tool may leave out")
        for name, schema in template["properties"].items():
            if name in given:
                where = f"{path}.{name}" if path else name
                problems.extend(self.problems(schema, given[name], where, depth + 1))
        return problems


def misfits(template_schema: Mapping[str, Any], output_schema: Mapping[str, Any]) -> list[str]:
    """Why a template would not take every result the output schema allows (empty: it fits)."""
    if not template_schema or not output_schema:
        return []
    return _Fit(template_schema, output_schema).problems(template_schema, output_schema, "")
