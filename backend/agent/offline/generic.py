"""Any offered tool, third-party ones included, called from plain words.

Choosing: each of the message's words (stemmed, stopwords left out, a few synonyms added) scores
the best weight it has in a tool: 3 in its name (split on `_` and camelCase) or title, 2 as one of
an input property's enum values, 1.5 in a property name, 1 in its description, 0.5 in a property's
description; common verbs ("get", "show", "add", ...) score at most 0.5; a request whose words
are of the kind of action the tool's name starts with ("what are my notes" and `list_notes`,
"remember to ..." and `add_note`) scores 1 more. The tool with the highest sum wins when it
reaches `THRESHOLD` (ties: the one whose required arguments the message gives, then the first
offered).

Filling its arguments from the message, in this order: `key=value` / `key: value` pairs naming a
property; enum values said; booleans whose property words are said ("with hourly" → true, "no
hourly" → false); numbers next to their property's words ("3 days", "limit 5"), then the numbers
left for the required numeric properties; strings after their property's words ("city Paris"),
in quotes, after a preposition ("in Paris", "for Oslo"), else the words left over. A required
property still missing is asked for in one short question; the next message answers it.
"""

from __future__ import annotations

import re
from typing import Any

from backend.agent.offline.plans import Ask, Call, Direct, Plan
from backend.agent.offline.toolbox import OfferedTool, Param
from backend.agent.offline.words import (
    STOPWORDS,
    content_stems,
    number_in,
    plain_words,
    spaced,
    stem,
    tidy,
    words_of,
)

THRESHOLD = 3.0
VERBS = frozenset(
    stem(word)
    for word in spaced(
        "get show list find add create make set delete remove update check tell give fetch look search run "
        "do call open read put change edit"
    )
)
SYNONYMS = {
    "weather": ("forecast", "temperature"),
    "forecast": ("weather",),
    "temperature": ("weather",),
    "remember": ("note", "remind"),
    "remind": ("note", "reminder"),
    "note": ("memo",),
    "memo": ("note",),
    "convert": ("conversion", "converter", "unit"),
    "translate": ("translation",),
    "delete": ("remove",),
    "remove": ("delete",),
    "find": ("search", "lookup"),
    "search": ("find",),
    "email": ("mail", "message"),
    "message": ("email", "send"),
}
# Kinds of action: the words a tool's name or title starts with, and the words of a request for it.
FAMILIES = {
    "add": (
        {"add", "create", "new", "make", "save", "insert", "post", "log", "record", "write"},
        {
            "add",
            "create",
            "new",
            "make",
            "save",
            "remember",
            "remind",
            "note",
            "jot",
            "write",
            "record",
            "log",
        },
    ),
    "list": (
        {"list", "get", "search", "find", "show", "read", "fetch", "lookup", "query", "browse", "view"},
        {
            "list",
            "show",
            "what",
            "what's",
            "which",
            "see",
            "view",
            "any",
            "find",
            "search",
            "get",
            "read",
            "look",
        },
    ),
    "delete": (
        {"delete", "remove", "drop", "clear", "erase", "purge"},
        {"delete", "remove", "drop", "forget", "erase", "discard", "trash", "clear"},
    ),
    "update": (
        {"update", "edit", "set", "change", "modify", "rename", "move"},
        {"update", "change", "edit", "rename", "set", "modify", "move"},
    ),
}
FAMILY_BONUS = 1.0
STOP = r"(?:in|for|at|on|with|and|to|from|by|please|using|as|into|of)"
VALUE = rf"(?P<value>\"[^\"]+\"|'[^']+'|[^\s,;?!]+(?:\s+(?!{STOP}\b)[^\s,;?!]+)*)"
NUMBER = r"-?\d+(?:\.\d+)?"
KEY_VALUE = re.compile(r"(?P<key>[A-Za-z_][\w-]*)\s*[=:]\s*(?P<value>\"[^\"]*\"|'[^']*'|[^\s,;]+)")
PREPOSITION = re.compile(rf"\b(?:in|for|at|of|about|from|called|named|titled|to|near|on)\s+{VALUE}", re.I)
QUOTED = re.compile(r"\"([^\"]+)\"|“([^”]+)”")
ANSWER_LEAD = re.compile(
    r"^(?:it'?s|it is|that'?s|that is|the \w+(?: \w+)? is|use|in|for|to|at|make it)\s+", re.I
)
YES = {"yes", "y", "true", "on", "yep", "yeah", "sure", "ok", "please do"}
NO = {"no", "n", "false", "off", "nope", "don't", "do not"}


def vocabulary(tool: OfferedTool) -> dict[str, float]:
    """Each stem of a tool's name, title, description and input schema, with its weight."""
    weights: dict[str, float] = {}

    def add(text: str, weight: float) -> None:
        for word in words_of(text):
            if word in STOPWORDS:
                continue
            key = stem(word)
            weights[key] = max(weights.get(key, 0.0), weight)

    add(tool.description, 1.0)
    for param in tool.params:
        add(param.description, 0.5)
        add(param.name, 1.5)
        for value in param.enum:
            add(value, 2.0)
    add(tool.name, 3.0)
    add(tool.title, 3.0)
    return weights


def _family(tool: OfferedTool) -> str | None:
    """What kind of action a tool's name or title begins with (add, list, delete, update)."""
    for word in [*words_of(tool.name)[:1], *words_of(tool.title)[:1]]:
        for family, (starts, _) in FAMILIES.items():
            if word in starts:
                return family
    return None


def score(tool: OfferedTool, text: str) -> float:
    """How well the words of `text` fit `tool` (see the module docstring)."""
    weights = vocabulary(tool)
    total = 0.0
    for word in content_stems(text):
        candidates = [word, *(stem(synonym) for synonym in SYNONYMS.get(word, ()))]
        best = max(weights.get(candidate, 0.0) for candidate in candidates)
        total += min(best, 0.5) if word in VERBS else best
    family = _family(tool)
    if family is not None and set(plain_words(text)) & FAMILIES[family][1]:
        total += FAMILY_BONUS
    return total


def best_tool(text: str, tools: list[OfferedTool]) -> OfferedTool | None:
    """The tool the words fit best, when it fits well enough; of tools that fit as well, the one
    whose required arguments the message gives, then a read-only one, then the first offered."""
    scored = [
        (points, not fill(tool, text)[1], tool.read_only, -index, tool)
        for index, tool in enumerate(tools)
        if (points := score(tool, text)) >= THRESHOLD
    ]
    return max(scored, key=lambda entry: entry[:4])[4] if scored else None


def _label_pattern(param: Param) -> str:
    words = words_of(param.name)
    return (
        r"[\s_-]*".join(rf"{re.escape(word)}(?:s|es|ged with|ged as|ged)?" for word in words)
        if words
        else re.escape(param.name)
    )


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) > 1 and value[0] == value[-1] and value[0] in "'\"" else value


def coerce(param: Param, text: str) -> Any:
    """`text` as a value of `param`, or None when it is not one."""
    value = _unquote(text.strip()).strip()
    if param.enum:
        lowered = value.lower()
        for option in param.enum:
            if lowered == option.lower():
                return option
        starting = [option for option in param.enum if option.lower().startswith(lowered)] if lowered else []
        if len(starting) == 1:
            return starting[0]
        said = [o for o in param.enum if re.search(rf"(?<!\w){re.escape(o)}(?!\w)", value, re.I)]
        return said[0] if len(said) == 1 else None
    if param.kind in ("integer", "number"):
        found = re.search(NUMBER, value)
        number = float(found[0]) if found else number_in(value)
        if number is None:
            return None
        return int(number) if param.kind == "integer" or number.is_integer() else number
    if param.kind == "boolean":
        lowered = value.lower()
        return True if lowered in YES else False if lowered in NO else None
    if param.kind == "array":
        parts = [part.strip() for part in re.split(r",|\band\b", value) if part.strip()]
        return parts or None
    return value or None


def _remove(text: str, match: re.Match[str]) -> str:
    return (text[: match.start()] + " " + text[match.end() :]).strip()


def _option(option: str) -> str:
    return re.escape(option).replace("_", "[_ ]")


def _key_values(tool: OfferedTool, text: str, arguments: dict[str, Any]) -> str:
    by_words = {" ".join(words_of(param.name)): param for param in tool.params}
    rest = text
    for match in list(KEY_VALUE.finditer(text)):
        param = by_words.get(" ".join(words_of(match["key"])))
        value = coerce(param, match["value"]) if param is not None else None
        if param is not None and value is not None:
            arguments[param.name] = value
            rest = rest.replace(match[0], " ")
    return rest


def _enums(tool: OfferedTool, rest: str, arguments: dict[str, Any]) -> str:
    enums = [param for param in tool.params if param.enum and param.name not in arguments]
    for param in enums:  # "to km", "unit celsius": an option right after the property's words
        options = "|".join(_option(option) for option in sorted(param.enum, key=len, reverse=True))
        said = re.search(rf"\b{_label_pattern(param)}\s*[:=]?\s+(?P<option>{options})(?![\w-])", rest, re.I)
        if said:
            arguments[param.name] = coerce(param, said["option"])
            rest = _remove(rest, said)
    for param in enums:  # else the option said first
        if param.name in arguments:
            continue
        found = [
            (said.start(), -len(option), option, said)
            for option in param.enum
            if (said := re.search(rf"(?<![\w-]){_option(option)}(?![\w-])", rest, re.I))
        ]
        if found:
            _, _, option, said = min(found, key=lambda entry: entry[:3])
            arguments[param.name] = option
            rest = _remove(rest, said)
    return rest


def _booleans(tool: OfferedTool, rest: str, arguments: dict[str, Any]) -> str:
    for param in tool.params:
        if param.kind == "boolean" and param.name not in arguments:
            said = re.search(rf"\b(?P<no>no|not|without|don't|dont)?\s*{_label_pattern(param)}\b", rest, re.I)
            if said:
                arguments[param.name] = said["no"] is None
                rest = _remove(rest, said)
    return rest


def _numbers(tool: OfferedTool, rest: str, arguments: dict[str, Any]) -> str:
    numeric = [param for param in tool.params if param.kind in ("integer", "number") and not param.enum]
    for param in numeric:  # "3 days", "limit 5"
        label = _label_pattern(param)
        said = re.search(
            rf"\b{label}\s*(?:of|is|=|:)?\s*(?P<n>{NUMBER})\b|(?P<m>{NUMBER})\s*{label}\b", rest, re.I
        )
        if said and param.name not in arguments:
            arguments[param.name] = coerce(param, said["n"] or said["m"])
            rest = _remove(rest, said)
    for param in numeric:  # the numbers left, for the required ones
        if param.required and param.name not in arguments:
            said = re.search(rf"(?<![\w.]){NUMBER}(?![\w.])", rest)
            if said:
                arguments[param.name] = coerce(param, said[0])
                rest = _remove(rest, said)
    return rest


def _meaningful(words: list[str], vocabulary_words: set[str]) -> bool:
    """Whether some word is neither a stopword, a verb, nor a word of the tool itself."""
    return any(not (w in STOPWORDS or stem(w) in vocabulary_words or stem(w) in VERBS) for w in words)


def _strings(tool: OfferedTool, rest: str, arguments: dict[str, Any]) -> str:
    strings = [param for param in tool.params if param.kind in ("string", "") and not param.enum]
    for param in strings:  # "city Paris", "title: buy milk"
        said = re.search(
            rf"\b{_label_pattern(param)}(?:\s+(?:is|of|named|called))?\s*[:=]?\s+{VALUE}", rest, re.I
        )
        if said and param.name not in arguments:
            arguments[param.name] = _unquote(said["value"])
            rest = _remove(rest, said)
    missing = [param for param in strings if param.required and param.name not in arguments]
    quoted = QUOTED.search(rest) if missing else None
    if quoted:
        arguments[missing.pop(0).name] = quoted[1] or quoted[2]
        rest = _remove(rest, quoted)
    vocabulary_words = {word for word, weight in vocabulary(tool).items() if weight >= 1.0}
    for said in PREPOSITION.finditer(rest) if missing else ():  # "in Paris", "for Oslo"
        value = _unquote(said["value"])
        if _meaningful(plain_words(value), vocabulary_words):
            arguments[missing.pop(0).name] = value
            rest = _remove(rest, said)
            break
    if missing:  # the words left over
        left = [
            token
            for token in re.findall(r"[^\s,;?!]+", rest)
            if (words := plain_words(token)) and _meaningful(words, vocabulary_words)
        ]
        if left:
            arguments[missing.pop(0).name] = " ".join(left).strip(" .'\"")
    return rest


def fill(tool: OfferedTool, text: str) -> tuple[dict[str, Any], list[Param]]:
    """The arguments the message gives for `tool`, and the required properties it does not."""
    arguments: dict[str, Any] = {}
    rest = _key_values(tool, text, arguments)
    for step in (_enums, _booleans, _numbers, _strings):
        rest = step(tool, rest, arguments)
    for param in tool.required:  # required, yet with a default (the MCP SDK marks them so): the default
        if param.name not in arguments and param.default is not None:
            arguments[param.name] = param.default
    return arguments, [param for param in tool.required if param.name not in arguments]


def question(param: Param) -> str:
    """The one short question that asks for `param`."""
    label = param.label
    if param.enum:
        options = list(param.enum)
        listed = ", ".join(options[:-1]) + f" or {options[-1]}" if len(options) > 1 else options[0]
        return f"Which {label}: {listed}?"
    if param.kind == "boolean":
        return f"Should {label} be on? (yes or no)"
    return f"What should the {label} be?"


def plan_for(tool: OfferedTool, text: str) -> Plan:
    """Call `tool` with what the message gives, or ask for the first required argument it lacks."""
    arguments, missing = fill(tool, text)
    if missing:
        return Ask(question(missing[0]), Call(tool.name, arguments), missing[0].name)
    return Direct(Call(tool.name, arguments))


def answer(param: Param | None, text: str) -> Any:
    """The value a reply to a question about `param` gives (None: not a value of it)."""
    cleaned = ANSWER_LEAD.sub("", tidy(text)).strip()
    if param is None:
        return cleaned or None
    return coerce(param, cleaned)
