"""Due dates said in words, resolved against a given "today" (the caller decides whose today).

The rules, in the order they are tried (case does not matter; a leading "on", "by", "due",
"before", "until", "for" goes with the date, and a time of day after it is dropped):
- an ISO date: 2026-12-24;
- today, tonight, this morning/afternoon/evening, end of day → today; tomorrow → +1 day;
  the day after tomorrow → +2 days;
- in N days/weeks/months (N in digits or words: "in a week", "in two days") → that many later;
- a weekday: "friday", "on fri", "this friday", "coming friday" → the first such day after
  today (never today itself); "next friday" → that weekday in next week (weeks start on Monday);
- next week → Monday of next week; next month → the 1st of next month; this weekend / the
  weekend → the coming Saturday (today on a Saturday or Sunday); end of the week → this week's
  Friday (next week's once it has passed); end of the month → its last day;
- a calendar date with a month name: "Dec 5", "5 December", "the 5th of May", "December 5th,
  2027" → read by dateparser, preferring the future (a date already passed this year is next
  year's) unless a year is given;
- "on/by/due 12/5" → month/day (US order), this year or next.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from backend.agent.offline.words import number_in

WEEKDAYS = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tues": 1,
    "tue": 1,
    "wednesday": 2,
    "weds": 2,
    "wed": 2,
    "thursday": 3,
    "thurs": 3,
    "thur": 3,
    "thu": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
LEAD = r"(?:(?:(?:it(?:'s| is) )?due(?: date)?(?: on| by| is|:)?|by|on|before|until|till|for|deadline:?)\s+)?"
FULL_DAY = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"
SHORT_DAY = r"mon|tues?|weds?|thu(?:rs?)?|fri|sat|sun"
TIME = (
    r"(?:\s+(?:at\s+)?(?:\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)|\d{1,2}:\d{2}|noon|midnight)|"
    r"\s+(?:in the\s+)?(?:morning|afternoon|evening|night))?"
)
COUNT = r"\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a couple of|a few"
PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(rf"(?<![\w-]){LEAD}(?:{body}){TIME}(?![\w-])", re.IGNORECASE))
    for name, body in [
        ("iso", r"(?P<iso>\d{4}-\d{2}-\d{2})"),
        ("after_tomorrow", r"the day after tomorrow|day after tomorrow"),
        ("today", r"today|tonight|this (?:morning|afternoon|evening)|(?:the )?end of (?:the )?day|eod"),
        ("tomorrow", r"tomorrow"),
        ("in", rf"in (?P<count>{COUNT}) (?P<unit>days?|weeks?|months?)"),
        ("next_week", r"next week|early next week"),
        ("next_month", r"next month"),
        ("weekend", r"(?:this |the |on the |over the )?weekend"),
        ("end_of_week", r"(?:the )?end of (?:the |this )?week"),
        ("end_of_month", r"(?:the )?end of (?:the |this )?month"),
        ("next_day", rf"next (?P<next>{FULL_DAY}|{SHORT_DAY})"),
        ("weekday", rf"(?:(?:this|coming|this coming|on) )?(?P<day>{FULL_DAY})"),
        ("short_weekday", rf"(?:this|coming|on|by|until|before) (?P<short>{SHORT_DAY})\.?"),
        (
            "calendar",
            rf"(?P<calendar>(?:the )?\d{{1,2}}(?:st|nd|rd|th)?(?: of)? (?:{MONTHS})\.?(?:,? \d{{4}})?|"
            rf"(?:{MONTHS})\.? (?:the )?\d{{1,2}}(?:st|nd|rd|th)?(?:,? \d{{4}})?)",
        ),
        ("slash", r"(?<=on |by |ue )(?P<slash>\d{1,2}/\d{1,2}(?:/\d{2,4})?)"),
    ]
]


@dataclass(frozen=True, slots=True)
class FoundDate:
    """A due date found in a message: the day, and where its words were."""

    day: date
    start: int
    end: int


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _calendar(text: str, today: date) -> date | None:
    """A month-name date, by dateparser (imported on first use: it takes a quarter second)."""
    import dateparser

    settings: Any = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": datetime(today.year, today.month, today.day),
        "REQUIRE_PARTS": ["day", "month"],
    }
    parsed = dateparser.parse(
        re.sub(r"^the ", "", text.strip(), flags=re.I), languages=["en"], settings=settings
    )
    return parsed.date() if parsed is not None else None


def _slash(text: str, today: date) -> date | None:
    parts = [int(part) for part in text.split("/")]
    year = parts[2] if len(parts) == 3 else today.year
    year += 2000 if year < 100 else 0
    try:
        day = date(year, parts[0], parts[1])
    except ValueError:
        return None
    if len(parts) == 2 and day < today:
        day = date(year + 1, parts[0], parts[1])
    return day


def _resolve(name: str, match: re.Match[str], today: date) -> date | None:
    weekday = today.weekday()
    if name == "iso":
        try:
            return date.fromisoformat(match["iso"])
        except ValueError:
            return None
    if name == "after_tomorrow":
        return today + timedelta(days=2)
    if name == "today":
        return today
    if name == "tomorrow":
        return today + timedelta(days=1)
    if name == "in":
        count = int(number_in(match["count"].lower().removeprefix("a ")) or 1)
        unit = match["unit"].lower()
        if unit.startswith("month"):
            return _add_months(today, count)
        return today + timedelta(days=count * (7 if unit.startswith("week") else 1))
    if name == "next_week":
        return today + timedelta(days=7 - weekday)
    if name == "next_month":
        return _add_months(today.replace(day=1), 1)
    if name == "weekend":
        return today if weekday >= 5 else today + timedelta(days=5 - weekday)
    if name == "end_of_week":
        return today + timedelta(days=(4 - weekday) % 7)
    if name == "end_of_month":
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if name == "next_day":
        target = WEEKDAYS[match["next"].lower()]
        return today + timedelta(days=7 - weekday + target)
    if name in ("weekday", "short_weekday"):
        target = WEEKDAYS[(match["day"] if name == "weekday" else match["short"]).lower()]
        return today + timedelta(days=(target - weekday - 1) % 7 + 1)
    if name == "calendar":
        return _calendar(match["calendar"], today)
    if name == "slash":
        return _slash(match["slash"], today)
    return None


def find_date(text: str, today: date) -> FoundDate | None:
    """The first due date said in `text` (the earliest in the text among the rules), if any."""
    found: FoundDate | None = None
    for name, pattern in PATTERNS:
        for match in pattern.finditer(text):
            if found is not None and match.start() >= found.start:
                break
            day = _resolve(name, match, today)
            if day is not None:
                found = FoundDate(day, match.start(), match.end())
                break
    return found


def take_date(text: str, today: date) -> tuple[date | None, str]:
    """The due date said in `text`, and `text` without its words."""
    found = find_date(text, today)
    if found is None:
        return None, text
    return found.day, (text[: found.start] + " " + text[found.end :]).strip()


def whole_date(text: str, today: date) -> date | None:
    """A date when `text` is nothing but one ("friday", "next week", "on Dec 5"), else None."""
    day, rest = take_date(text.strip(), today)
    return day if day is not None and not rest.strip(" ,.") else None
