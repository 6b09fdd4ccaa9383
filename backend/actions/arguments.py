"""A widget action's tool arguments, read the way the tool's input schema says.

Form values arrive as the browser has them: strings (a number field, a date picker, a cleared
field). Each argument is coerced to what its schema asks for where that is unambiguous, an empty
optional field the schema would refuse counts as not given, and the whole set is then validated
against the schema, so a bad value is refused before any tool is called.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match

from shared_widgets import ActionRefused

FORMATS = FormatChecker()
TRUE, FALSE = frozenset({"true", "on", "yes", "1"}), frozenset({"false", "off", "no", "0"})
MAX_MESSAGE_CHARS = 300
MAX_VALIDATORS = 512


def _variants(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The alternatives a property schema allows, `$ref`s to `#/$defs/...` followed."""
    reference = schema.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/$defs/"):
        target = root.get("$defs", {}).get(reference.removeprefix("#/$defs/"))
        if isinstance(target, Mapping):
            yield from _variants(target, root)
        return
    choices = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(choices, list):
        for choice in choices:
            if isinstance(choice, Mapping):
                yield from _variants(choice, root)
        return
    yield schema


def coerce(value: Any, schema: Mapping[str, Any], root: Mapping[str, Any]) -> Any:
    """A form's string value as the type its schema asks for, when it reads as one."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    for variant in _variants(schema, root):
        kind = variant.get("type")
        if kind == "string":
            return picked_date(text) if variant.get("format") == "date" else value
        if kind == "integer" and re.fullmatch(r"[+-]?\d{1,18}", text):
            return int(text)
        if kind == "number":
            try:
                return float(text)
            except ValueError:
                continue
        if kind == "boolean" and text.lower() in TRUE | FALSE:
            return text.lower() in TRUE
    return value


def picked_date(text: str) -> str:
    """A date picker's value as a `YYYY-MM-DD` date. The ChatKit picker speaks ISO datetimes: one
    without an offset is a local date as written; one in UTC (`...T23:00:00.000Z`) is the local
    midnight of the day picked, so the nearest UTC midnight is that day (for any UTC offset under
    12 hours). Anything else is left for the schema to judge."""
    if len(text) == 10 or "T" not in text:
        return text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC) + timedelta(hours=12)
    return moment.date().isoformat()


def _accepts(schema: Mapping[str, Any], root: Mapping[str, Any], value: Any) -> bool:
    subschema = {**schema, "$defs": root.get("$defs", {})} if "$defs" in root else dict(schema)
    return Draft202012Validator(subschema, format_checker=FORMATS).is_valid(value)


class ArgumentChecker:
    """Validators for tool input schemas, built once per schema."""

    def __init__(self) -> None:
        self._validators: dict[int, tuple[Mapping[str, Any], Draft202012Validator]] = {}

    def _validator(self, schema: Mapping[str, Any]) -> Draft202012Validator:
        known = self._validators.get(id(schema))
        if known is None or known[0] is not schema:
            if len(self._validators) > MAX_VALIDATORS:  # schemas of connections since replaced
                self._validators.clear()
            known = (schema, Draft202012Validator(schema, format_checker=FORMATS))
            self._validators[id(schema)] = known
        return known[1]

    def check(self, tool: str, arguments: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
        """`arguments` coerced by `schema`, or `ActionRefused` saying what is wrong."""
        properties = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        checked: dict[str, Any] = {}
        for name, value in arguments.items():
            prop = properties.get(name)
            if isinstance(prop, Mapping):
                value = coerce(value, prop, schema)
                empty = isinstance(value, str) and not value.strip() and name not in required
                if empty and not _accepts(prop, schema, value):
                    continue  # a field left empty: not given
            checked[name] = value
        error = best_match(self._validator(schema).iter_errors(checked))
        if error is not None:
            where = ".".join(str(part) for part in error.absolute_path)
            message = f"{where}: {error.message}" if where else error.message
            if len(message) > MAX_MESSAGE_CHARS:
                message = message[: MAX_MESSAGE_CHARS - 1] + "…"
            raise ActionRefused(f"Invalid input for {tool}: {message}")
        return checked
