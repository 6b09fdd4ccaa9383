"""Which task or item a request means: an id, a title (or words of it), "it", "the first one".

"it", "that" and "this one" mean the one thing shown last (when several were shown, the model
asks which); "the first one", "the second", "the last one", "number 2", "#2" count in the list
shown last (`outputs.last_shown`: this turn's outputs, else the widgets and replies that answered
the previous requests, newest first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from backend.agent.offline import outputs
from backend.agent.offline.words import ORDINALS, squash

IT = r"it|that|this|this one|that one|the one|that task|this task|that item|this item|them"
ID = re.compile(
    r"^(?:task|itm|item)_[0-9a-z]+$|^(?=[a-z0-9_-]*\d)(?=[a-z0-9_-]*_)[a-z0-9_-]+$", re.IGNORECASE
)
ORDINAL = re.compile(
    r"^(?:the )?(?:very )?(?P<word>" + "|".join(ORDINALS) + r")(?: one| task| item| todo| entry)?$"
    r"|^(?:the )?(?:number |no\.? ?|# ?|task |item |option )(?P<number>\d{1,2})(?: one)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Shown:
    """What a reference resolved to: one entry, or the several it may mean (`entries`), or why
    it cannot be resolved (`problem`)."""

    kind: str = ""
    entry: outputs.Entry | None = None
    entries: tuple[outputs.Entry, ...] = ()
    problem: str = ""


def clean_reference(text: str) -> str:
    """The words that name a task ("the milk one" → "milk", "the task called buy milk" → "buy milk")."""
    ref = text.strip(" '\"“”‘’.,!?")
    for _ in range(2):
        ref = re.sub(r"^(?:the|my|that|this|our|a|an)\s+", "", ref, flags=re.IGNORECASE)
        ref = re.sub(
            r"^(?:(?:task|todo|to-?do|reminder|item|one|entry)\s+)?(?:called|named|titled|about|for|with|saying)\s+",
            "",
            ref,
            flags=re.IGNORECASE,
        )
        ref = re.sub(r"^(?:task|todo|to-?do|reminder)\s*:?\s+", "", ref, flags=re.IGNORECASE)
        ref = re.sub(
            r"\s+(?:from|on|off|in) (?:my|the) (?:list|tasks|todo list|to-?do list)$", "", ref, flags=re.I
        )
        ref = re.sub(
            r"\s+(?:task|todo|to-?do|item|one|thing|reminder|entry)s?$", "", ref, flags=re.IGNORECASE
        )
        ref = ref.strip(" '\"“”‘’")
    return ref


def ordinal_of(text: str) -> int | None:
    """A position in a list ("the second one" → 2, "the last" → -1, "#3" → 3, "2" → 2)."""
    stripped = text.strip(" .!?").lower()
    if re.fullmatch(r"\d{1,2}", stripped):
        return int(stripped)
    match = ORDINAL.match(stripped)
    if not match:
        return None
    return ORDINALS[match["word"]] if match["word"] else int(match["number"])


def is_pronoun(text: str) -> bool:
    """Whether `text` is "it", "that", "this one"..."""
    return re.fullmatch(IT, text.strip(" .!?").lower()) is not None


def is_reference(text: str) -> bool:
    """Whether `text` points into what was shown rather than naming a title."""
    return is_pronoun(text) or ordinal_of(text) is not None


def pick(entries: list[outputs.Entry], position: int) -> outputs.Entry | None:
    """The entry at a 1-based position (-1: the last)."""
    if position == -1:
        return entries[-1] if entries else None
    return entries[position - 1] if 1 <= position <= len(entries) else None


def resolve(blocks: list[list[str]], text: str, kinds: tuple[str, ...]) -> Shown:
    """What "it" / "the second one" in `text` refers to among what was shown last."""
    shown = outputs.last_shown(blocks, kinds)
    noun = "tasks" if kinds == ("task",) else "items" if kinds == ("item",) else "tasks or items"
    if shown is None:
        return Shown(problem=f"Which one do you mean? I haven't shown any {noun} in this conversation yet.")
    kind, entries = shown
    position = ordinal_of(text)
    if position is None:  # "it"
        if len(entries) == 1:
            return Shown(kind, entries[0])
        return Shown(kind, entries=tuple(entries))
    entry = pick(entries, position)
    if entry is None:
        return Shown(problem=f"I only showed {len(entries)} {noun if len(entries) != 1 else noun[:-1]} last.")
    return Shown(kind, entry)


def select(text: str, entries: list[outputs.Entry]) -> outputs.Entry | None:
    """The entry an answer to "which one?" picks: by position, id, exact title, or the one title
    that has all its words."""
    position = ordinal_of(clean_reference(text)) or ordinal_of(text)
    if position is not None:
        return pick(entries, position)
    for entry in entries:
        if re.search(rf"\b{re.escape(entry.id)}\b", text):
            return entry
    wanted = squash(clean_reference(text))
    if not wanted:
        return None
    exact = [entry for entry in entries if squash(entry.title) == wanted]
    if len(exact) == 1:
        return exact[0]
    words = wanted.split()
    having = [entry for entry in entries if all(word in squash(entry.title).split() for word in words)]
    return having[0] if len(having) == 1 else None
