"""Plain-word helpers: tidy a message, fix typos in command words, stems, stopwords, ordinals."""

from __future__ import annotations

import re

# Typos fixed anywhere in a message (they are not words of their own).
MISSPELLINGS = {
    "pls": "please",
    "plz": "please",
    "plase": "please",
    "pleae": "please",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "tmrow": "tomorrow",
    "tomorow": "tomorrow",
    "tommorow": "tomorrow",
    "tommorrow": "tomorrow",
    "tomorrw": "tomorrow",
    "2morrow": "tomorrow",
    "tdy": "today",
    "tody": "today",
    "2day": "today",
    "wensday": "wednesday",
    "wednsday": "wednesday",
    "wendsday": "wednesday",
    "thursay": "thursday",
    "firday": "friday",
    "fridy": "friday",
    "saterday": "saturday",
    "tsk": "task",
    "taks": "task",
    "tsks": "tasks",
    "taskss": "tasks",
    "todos": "todos",
    "dont": "don't",
    "urgnet": "urgent",
    "urgant": "urgent",
    "importnat": "important",
    "priorty": "priority",
    "priortiy": "priority",
    "prioirty": "priority",
    "pirority": "priority",
}
# Command words: a token one edit away from one of these (two for long words) is read as it, at
# the start of a message only ("remnd me to", "delte the milk task", "serach lamps").
COMMAND_WORDS = (
    "remind",
    "remember",
    "please",
    "delete",
    "remove",
    "complete",
    "finish",
    "reopen",
    "rename",
    "search",
    "create",
    "forget",
    "show",
    "list",
    "mark",
    "move",
    "make",
    "change",
    "postpone",
    "reschedule",
    "categories",
)
# Real words that are one edit from a command word but mean something else: never "fixed".
NOT_TYPOS = {
    "mind",
    "kind",
    "find",
    "fine",
    "lost",
    "last",
    "lust",
    "mask",
    "mare",
    "mars",
    "more",
    "move",
    "make",
    "made",
    "mike",
    "like",
    "lift",
    "lint",
    "mint",
    "need",
    "feed",
    "seed",
    "weed",
    "deed",
    "reed",
    "nerd",
    "snow",
    "show",
    "shoe",
    "shop",
    "slow",
    "chow",
    "list",
    "fist",
    "mist",
    "gist",
    "wist",
    "mark",
    "park",
    "dark",
    "bark",
    "lark",
    "work",
    "marks",
    "moved",
    "movie",
    "range",
    "change",
    "orange",
    "charge",
    "create",
    "crate",
    "grate",
    "finish",
    "finnish",
    "polish",
    "remain",
    "reminds",
    "rewind",
    "remedy",
    "reopen",
    "rename",
    "renamed",
    "research",
    "forge",
    "forget",
    "forgot",
    "remote",
    "remover",
    "removed",
    "deleted",
    "delta",
    "please",
    "pleased",
    "lease",
    "schedule",
    "scheduled",
}


def spaced(text: str) -> list[str]:
    """The words of a space-separated list written as one string."""
    return text.split()


STOPWORDS = frozenset(
    spaced(
        """a an the and or but of to in on at by for from with without about into onto over under is are
    was were be been being am do does did done have has had i me my mine we us our you your it its
    this that these those there here what which who whom whose when where why how can could would
    should will shall may might must please pls just some any all each every also too very really
    so then than as if not no yes ok okay hey hi hello thanks thank let lets let's want wants need
    needs like i'm im i'd id i've ive it's whats what's tell give show get find look see now one"""
    )
)
ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "sixth": 6,
    "6th": 6,
    "seventh": 7,
    "7th": 7,
    "eighth": 8,
    "8th": 8,
    "ninth": 9,
    "9th": 9,
    "tenth": 10,
    "10th": 10,
    "last": -1,
    "latter": -1,
    "former": 1,
}
NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "couple of": 2,
    "few": 3,
}
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9']*")
POLITE_START = re.compile(
    r"^(?:(?:hey|hi|hello|ok|okay|so|um|uh|well|alright|please|kindly|just|quickly|oh|and|also|now|then)"
    r"\b[,!]?\s*|(?:can|could|would|will) (?:you|u)(?: please)?\s+|i(?:'d| would) like (?:you )?to\s+|"
    r"i want you to\s+|(?:go ahead and|be so kind as to)\s+)+",
    re.IGNORECASE,
)
POLITE_END = re.compile(
    r"(?:[\s,]+(?:please|pls|thanks|thank you|thx|for me|now|right now|if you can|if possible|ok\??))+$",
    re.IGNORECASE,
)


def _edits(word: str, target: str) -> int:
    """The Damerau-Levenshtein distance (adjacent swaps count one) of two short words."""
    previous2: list[int] = []
    previous = list(range(len(target) + 1))
    for i, char in enumerate(word, 1):
        current = [i]
        for j, other in enumerate(target, 1):
            cost = 0 if char == other else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char == target[j - 2] and word[i - 2] == other:
                value = min(value, previous2[j - 2] + 1)
            current.append(value)
        previous2, previous = previous, current
    return previous[-1]


def command_word(token: str) -> str | None:
    """The command word `token` is a typo of, if any."""
    lowered = token.lower()
    if len(lowered) < 4 or lowered in NOT_TYPOS or lowered in STOPWORDS:
        return None
    for word in COMMAND_WORDS:
        allowed = 1 if len(word) < 8 else 2
        if lowered != word and abs(len(word) - len(lowered)) <= allowed and _edits(lowered, word) <= allowed:
            return word
    return None


def fix_typos(text: str) -> str:
    """`text` with known misspellings fixed, and typos of command words among its first three
    words; every other word keeps its spelling and case."""
    position = 0

    def fix(match: re.Match[str]) -> str:
        nonlocal position
        position += 1
        token = match[0]
        known = MISSPELLINGS.get(token.lower())
        if known is not None:
            return known
        if position <= 3:
            return command_word(token) or token
        return token

    return WORD.sub(fix, text)


def tidy(text: str) -> str:
    """One line: whitespace collapsed, curly quotes straightened, typos fixed, polite openers and
    closers and the final punctuation removed."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = re.sub(r"\s+", " ", text).strip()
    text = fix_typos(text)
    for _ in range(3):
        before = text
        text = POLITE_START.sub("", text).strip()
        text = text.rstrip(" .!?…")
        text = POLITE_END.sub("", text).strip().rstrip(" .!?,…")
        if text == before:
            break
    return text


def stem(word: str) -> str:
    """A crude stem, the same on both sides of a comparison (forecasts → forecast, cities → city)."""
    word = word.lower().strip("'")
    word = word.removesuffix("'s")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed") and not word.endswith("eed"):
        return word[:-2]
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words_of(text: str) -> list[str]:
    """The words of `text`, lowercased, split on anything but letters and digits, on `_` and on
    camelCase humps."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return [word.lower() for word in re.findall(r"[A-Za-z0-9]+", spaced)]


def plain_words(text: str) -> list[str]:
    """The words of a message, lowercased, apostrophes kept ("what's", "don't")."""
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower().replace("’", "'"))


def content_stems(text: str) -> list[str]:
    """The stems of the words of `text` that are not stopwords, in order, without repeats."""
    seen: dict[str, None] = {}
    for word in plain_words(text):
        if word not in STOPWORDS:
            seen.setdefault(stem(word), None)
    return list(seen)


def number_in(text: str) -> float | None:
    """A number written in digits or as a small number word, else None."""
    text = text.strip().lower().replace(",", "")
    if re.fullmatch(r"-?\d+(?:\.\d+)?", text):
        return float(text)
    value = NUMBER_WORDS.get(text)
    return float(value) if value is not None else None


def squash(text: str) -> str:
    """`text` reduced to lowercase words for comparing titles (punctuation and case ignored)."""
    return " ".join(words_of(text))
