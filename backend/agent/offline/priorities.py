"""Priorities said in words.

- high: "high priority" (also "high-priority", "top priority", "priority: high", "hi pri"),
  urgent, urgently, important, critical, asap, "as soon as possible";
- low: "low priority" (also "priority: low", "low prio"), "not urgent", "not important", "no
  rush", "no hurry", whenever ("whenever I can"), someday, "some day", eventually, "if I have time";
- medium: "medium priority" (also "normal", "mid", "med").
Negated forms ("not urgent") are read before the plain ones. The words, with a "with", "as",
"is", "it's" or "at" before them, and brackets or dashes around them, leave the title.
"""

from __future__ import annotations

import re

PRIORITY_WORD = r"(?:priority|prio|pri)"
LEAD = r"(?:(?:with|as|at|is|it's|it is|this is|that's|very|super|really|a|an)\s+)*"
RULES: list[tuple[str, str]] = [
    (
        "low",
        rf"low[\s-]*{PRIORITY_WORD}|{PRIORITY_WORD}[:\s]+low|not (?:urgent|important|a priority)|"
        r"no (?:rush|hurry)|whenever(?: i (?:can|get (?:a chance|(?:around )?to it)|have time))?|"
        r"some ?day|eventually|if i (?:have|get) (?:the )?time|when i (?:have|get) (?:the )?time",
    ),
    (
        "high",
        rf"(?:high|hi|top|highest)[\s-]*{PRIORITY_WORD}|{PRIORITY_WORD}[:\s]+(?:high|top)|"
        r"urgent(?:ly)?|important|critical|asap|a\.s\.a\.p\.?|as soon as possible",
    ),
    (
        "medium",
        rf"(?:medium|normal|mid|med|regular)[\s-]*{PRIORITY_WORD}|{PRIORITY_WORD}[:\s]+(?:medium|normal)",
    ),
]
# A bare "high" or "low" is a priority only when it is all there is (`whole_priority`).
PATTERNS = [
    (
        level,
        re.compile(rf"(?:[,;(\[-]\s*)?(?<![\w-]){LEAD}(?:{body})(?![\w-])(?:\s*[)\]!]+)?", re.IGNORECASE),
    )
    for level, body in RULES
]
WHOLE = {
    "high": "high",
    "higher": "high",
    "top": "high",
    "urgent": "high",
    "important": "high",
    "critical": "high",
    "asap": "high",
    "low": "low",
    "lower": "low",
    "medium": "medium",
    "normal": "medium",
    "mid": "medium",
    "med": "medium",
    "regular": "medium",
}


def take_priority(text: str) -> tuple[str | None, str]:
    """The priority said in `text` (low, medium or high), and `text` without its words."""
    best: tuple[int, int, str] | None = None
    for level, pattern in PATTERNS:
        match = pattern.search(text)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), match.end(), level)
    if best is None:
        return None, text
    start, end, level = best
    return level, (text[:start] + " " + text[end:]).strip()


def whole_priority(text: str) -> str | None:
    """A priority when `text` is nothing but one ("high", "urgent", "low priority"), else None."""
    cleaned = re.sub(rf"\s*(?:{PRIORITY_WORD})\s*$", "", text.strip().lower())
    cleaned = re.sub(r"^(?:a|an|the|to|as|at)\s+", "", cleaned).strip()
    if cleaned in WHOLE:
        return WHOLE[cleaned]
    level, rest = take_priority(text)
    return level if level is not None and not rest.strip(" ,.") else None
