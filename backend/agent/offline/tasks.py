"""Task requests in plain words: adding (title, due date, priority), listing and filtering, and
acting on a task named by its id, its title, a word of it, "it" or "the first one".

Titles keep the user's words and case, without the filler around them ("remind me to", "I need
to", "put ... on my list", "don't forget to", "add ... to my tasks") and without the date and
priority words (`dates`, `priorities`).
"""

from __future__ import annotations

import re
from typing import Any

from backend.agent.offline.dates import find_date, take_date, whole_date
from backend.agent.offline.plans import Ask, Call, Choose, Context, Direct, OnTask, Plan, Reply
from backend.agent.offline.priorities import take_priority, whole_priority
from backend.agent.offline.references import ID, clean_reference, is_reference, resolve

NOUN = r"(?:tasks?|todos?|to-?dos?|to do(?:'?s)?|reminders?|(?:todo |to-?do |task )?list|agenda)"
PLURAL = r"(?:tasks|todos|to-?dos|to do(?:'?s)?|reminders|(?:todo |to-?do |task )?list|agenda)"
STATUS = (
    r"(?P<status>open|pending|remaining|outstanding|unfinished|incomplete|current|active|undone|"
    r"completed|complete|done|finished|closed|old|all)"
)
LEADIN = (
    r"(?:(?:tell|show|give) me |let me (?:know|see) |remind me |i (?:want|need|would like|'d like) to "
    r"(?:know|see) |do you know )?"
)
PENDING_WORDS = {
    "open",
    "pending",
    "remaining",
    "outstanding",
    "unfinished",
    "incomplete",
    "current",
    "active",
    "undone",
}
DONE_WORDS = {"completed", "complete", "done", "finished", "closed", "old"}
ABOUT = (
    r"(?:about|for|with|mentioning|containing|matching|regarding|related to|on|named|called|that mention|"
    r"that contain|like)"
)
# (pattern, the status it implies); what follows a pattern (`rest`) may only be a filter
LISTING: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p, re.I), status)
    for p, status in [
        (
            rf"(?:list|show|see|view|display|get|give me|check|read|print|pull up|bring up)(?: me)?"
            rf"(?: all)?(?: (?:of )?(?:my|the|our))?(?: {STATUS})? {PLURAL}(?P<rest>.*)",
            "all",
        ),
        (rf"(?:all )?(?:my |the )?(?:{STATUS} )?{PLURAL}(?P<rest>(?: {ABOUT} .+)?)", "all"),
        (rf"(?:is there |are there |do i have |have i got )?any (?:{STATUS} )?{PLURAL}(?P<rest>.*)", "all"),
        (
            rf"{LEADIN}what(?:'s| is| are)(?: still)? (?:on|in) (?:my|the) "
            r"(?:list|todo list|to-?do list|task list|tasks|plate|agenda|schedule)(?P<rest>.*)",
            "all",
        ),
        (
            rf"{LEADIN}what (?:else )?(?:do|should|must|have|did) i (?:still )?(?:have|need|got|gotta)? ?"
            r"(?:to do|to get done|left|on my (?:list|plate))(?P<rest>.*)",
            "pending",
        ),
        (rf"{LEADIN}what (?:do|should|can) i do(?P<rest>(?: next| now| today| first)?)", "pending"),
        (  # "Plan my day": the tasks server's prompt, offered on the start screen
            rf"{LEADIN}(?:help me )?(?:plan|organi[sz]e|prioriti[sz]e) (?:my|the) "
            r"(?:day|week|morning|afternoon|evening|schedule|tasks)(?P<rest>.*)",
            "pending",
        ),
        (
            r"(?:is there |are there |do i have |have i got )?anything (?:else )?(?:still )?"
            r"(?:left|pending|remaining|outstanding|open|undone|to do|on my (?:list|plate))(?P<rest>.*)",
            "pending",
        ),
        (
            rf"{LEADIN}what(?:'s| is| are)(?: still)? (?:left|pending|remaining|outstanding|open|due|next|"
            r"unfinished|not done|undone)(?P<rest>.*)",
            "pending",
        ),
        (
            rf"{LEADIN}what(?:'s| is| are| have i| did i)(?: already)? "
            r"(?:done|completed|finished)(?P<rest>.*)",
            "completed",
        ),
        (
            rf"{LEADIN}(?:what|which) (?:tasks?|todos?|things|ones) "
            rf"(?:are|is|do i have|have i got|did i)(?: still)? {STATUS}(?P<rest>.*)",
            "all",
        ),
        (
            rf"{LEADIN}what (?:have|did) i (?:already )?(?:finish|finished|complete|completed|done|do|"
            r"accomplish|accomplished|get done|got done|check off|checked off|tick off|"
            r"ticked off)(?P<rest>.*)",
            "completed",
        ),
        (
            rf"(?:find|search(?: for)?|look for|look up|look through|search through)(?: in)? (?:my |the )?"
            rf"(?:{STATUS} )?{NOUN} (?:{ABOUT} )?(?P<query>.+)",
            "all",
        ),
        (rf"(?:search|find|look for|look up) (?P<query>.+?) (?:in|on|among) (?:my|the) {NOUN}", "all"),
        (rf"(?:how many|count)(?: of)?(?: my)? (?:{STATUS} )?{PLURAL}(?P<rest>.*)", "all"),
    ]
]
REST_QUERY = re.compile(rf"^ ?{ABOUT} (?P<query>.+)$", re.I)
REST_STATUS = re.compile(
    rf"^ ?(?:that|which|i)? ?(?:are|is|i have|i've|i|have i|did i)? ?(?:still |already )?{STATUS}"
    r"(?: yet| already| so far)?$",
    re.I,
)
REST_IGNORED = re.compile(
    r"^(?:\s*(?:(?:for |due )?(?:today|tomorrow|tonight)|this week|next week|now|right now|next|first|"
    r"so far|yet|already|at the moment|please|again|to do|left|still|for me|(?:on|in) (?:my|the) list|"
    r"i have|do i have|have i got|are there|is there))*\s*$",
    re.I,
)
ADD_PREFIX = re.compile(
    r"^(?:"
    + "|".join(
        [
            r"remind me (?:to|that i (?:need|have|must|should|gotta) to|that|about|of)",
            r"remind me",
            r"(?:add|create|make|put|set up|set|schedule|log|jot down|note down|write down|save|start)"
            r"(?: me)?(?: up)?(?: a| an| one| another)?(?: new)? (?:task|todo|to-?do|reminder|entry)"
            r"(?: for me)?(?: (?:to|for|that|about|called|named|titled|saying))?:?",
            r"(?:new|another) (?:task|todo|to-?do|reminder)(?: (?:to|for|called|named))?:?",
            r"i (?:need|have|want|must|should|gotta|ought|got) to",
            r"i(?:'ve| have) got to",
            r"i (?:gotta|must|should)",
            r"(?:don'?t|do not) (?:let me )?forget (?:to|about)",
            r"(?:remember|remind) (?:me )?to",
            r"note to self:?",
            r"(?:todo|to-?do|task|reminder):",
        ]
    )
    + r")\s+(?P<rest>.+)$",
    re.I,
)
ADD_BARE = re.compile(r"^(?:add|create) (?P<rest>.+)$", re.I)
ADD_SUFFIX = re.compile(
    r"^(?:(?:add|put|stick|write|pop|place|throw|jot|save|include)(?: down)? )?(?P<rest>.+?),? "
    r"(?:on|to|in|onto|into) (?:my|the|our) "
    r"(?:(?:todo |to-?do |task |reminders? |\w+ )?list|tasks?|todos?|to-?dos?|reminders)(?P<tail>(?: .+)?)$",
    re.I,
)
NO_TITLE = re.compile(
    r"(?:add|create|make|new|another|set up)(?: a| an| one| another)?(?: new)? (?:task|todo|to-?do|reminder)|"
    r"remind me",
    re.I,
)
TODO_VERB = re.compile(
    r"(?:schedule|book|call|phone|ring|email|e-mail|text|message|buy|get|pick up|pay|renew|submit|send|clean|"
    r"visit|meet|see|write|prepare|plan|fix|return|water|wash|feed|walk|bring|order|print|sign|file)\b",
    re.I,
)
LEGACY = [
    (re.compile(r"^(?:complete|finish) task (?P<id>\S+)$", re.I), "complete_task"),
    (re.compile(r"^reopen task (?P<id>\S+)$", re.I), "reopen_task"),
    (re.compile(r"^(?:delete|remove) task (?P<id>\S+)$", re.I), "delete_task"),
    (re.compile(r"^(?:show|get) task (?P<id>\S+)$", re.I), "get_task"),
]
LEGACY_RENAME = re.compile(r"^rename task (?P<id>\S+) to (?P<title>.+)$", re.I)
PRIORITY_SAID = (
    r"(?:high|low|medium|normal|top)(?:[ -]priority)?|urgent|important|higher priority|lower priority|"
    r"not urgent|less urgent|priority (?:high|low|medium)"
)
ACTS: list[tuple[str, re.Pattern[str]]] = [
    (action, re.compile(p, re.I))
    for action, p in [
        ("reopen_task", r"(?:reopen|re-open|unfinish|uncomplete|un-complete|restore|resume) (?P<ref>.+)"),
        (
            "reopen_task",
            r"(?:mark|set|put) (?P<ref>.+?) (?:as |to |back to )?"
            r"(?:not done|undone|not finished|pending|open|incomplete|unfinished|to ?do|not completed|"
            r"not complete)(?: again)?",
        ),
        (
            "reopen_task",
            r"(?P<ref>.+?) (?:is|are)(?:n't| not) (?:done|finished|complete|completed)(?: yet| after all)?",
        ),
        (
            "complete_task",
            r"(?:mark|set) (?P<ref>.+?) (?:as )?(?:done|complete|completed|finished|checked(?: off)?)",
        ),
        ("complete_task", r"(?:check|tick|cross) off (?P<ref>.+)"),
        ("complete_task", r"(?:check|tick|cross) (?P<ref>.+?) off(?: (?:my|the) list)?"),
        ("complete_task", r"(?:complete|finish|close|completed|finished) (?P<ref>.+)"),
        ("complete_task", r"i(?:'ve| have)? (?:just |already )?(?:finished|completed|done|did) (?P<ref>.+)"),
        ("complete_task", r"(?:done|finished) with (?P<ref>.+)"),
        ("complete_task", r"(?P<ref>.+?) (?:is|are) (?:now |all )?(?:done|finished|complete|completed)"),
        ("rename", r"rename (?P<ref>.+?) (?:to|as|into) (?P<new>.+)"),
        ("rename", r"change (?:the )?(?:title|name) of (?P<ref>.+?) to (?P<new>.+)"),
        ("priority", r"(?P<how>prioriti[sz]e|deprioriti[sz]e) (?P<ref>.+)"),
        (
            "priority",
            r"(?:set|change|make|update) (?:the )?priority (?:of|for|on) (?P<ref>.+?) "
            r"(?:to |as )?(?P<prio>.+)",
        ),
        (
            "priority",
            rf"(?:make|set|mark|change|put|bump|move|turn) (?P<ref>.+?) (?:to |as |at |into )?(?:a |an )?"
            rf"(?P<prio>{PRIORITY_SAID})",
        ),
        ("priority", rf"(?P<ref>.+?) (?:is|are|should be) (?:now )?(?P<prio>{PRIORITY_SAID})"),
        (
            "due",
            r"(?:set|change|update|move|make) (?:the )?(?:due date|deadline|date) (?:of|for|on) (?P<ref>.+?) "
            r"(?:to|as|for|on) (?P<when>.+)",
        ),
        (
            "due",
            r"(?:move|postpone|push|reschedule|shift|delay|defer|bump|set|change|put|make) (?P<ref>.+?) "
            r"(?:back )?(?:to|until|till|for|on|by|due|out to) (?P<when>.+)",
        ),
        ("due", r"(?P<ref>.+?) (?:is|should be) (?:now )?due (?P<when>.+)"),
        ("change", r"(?:change|edit|update|modify) (?P<ref>.+?) to (?P<new>.+)"),
        (
            "delete_task",
            r"(?:delete|remove|drop|erase|trash|discard|get rid of|throw away|throw out|scrap|cancel|"
            r"forget about|forget|ditch) (?P<ref>.+?)"
            r"(?: (?:from|off) (?:my|the) (?:list|tasks|todo list|to-?do list))?",
        ),
        (
            "get_task",
            r"(?:show|open|get|view|display|see|read)(?: me)? (?:the )?"
            r"(?:details (?:of|for|on) |info (?:on|about|for) )?(?P<ref>.+?) (?:task|todo)",
        ),
    ]
]
STATUS_FOR = {"complete_task": "pending", "reopen_task": "completed"}
EVERYTHING = {"all", "everything", "all tasks", "all of them", "them all"}  # one task at a time


def _status(word: str | None, default: str) -> str:
    if not word:
        return default
    lowered = word.lower()
    if lowered in PENDING_WORDS:
        return "pending"
    return "completed" if lowered in DONE_WORDS else "all"


def _listing(text: str) -> Plan | None:
    for pattern, implied in LISTING:
        match = pattern.fullmatch(text)
        if not match:
            continue
        groups = match.groupdict()
        status = _status(groups.get("status"), implied)
        query = groups.get("query")
        rest = groups.get("rest") or ""
        if query is None and rest.strip():
            filtered = REST_QUERY.match(rest)
            stated = REST_STATUS.match(rest)
            if filtered and not REST_IGNORED.match(" " + filtered["query"]):
                query = filtered["query"]
            elif stated:
                status = _status(stated["status"], status)
            elif not REST_IGNORED.match(rest):
                continue
        arguments: dict[str, Any] = {}
        if status != "all":
            arguments["status"] = status
        query = re.sub(r"^(?:the|my|a|an|our) ", "", (query or "").strip(" ?\"'"), flags=re.I)
        if query:
            arguments["query"] = query
        return Direct(Call("list_tasks", arguments))
    return None


def clean_title(text: str) -> str:
    """A title without leftover connectors, brackets, quotes and punctuation at its ends."""
    title = re.sub(r"\s+", " ", text).strip()
    title = re.sub(r"\s+([,;:!?])", r"\1", title)
    title = re.sub(r"\(\s*\)|\[\s*\]", "", title)
    for _ in range(3):
        title = re.sub(r"^(?:to|that|about|:|-|–|,)\s+", "", title, flags=re.I)
        title = re.sub(r"[\s,;:–-]+(?:and|on|by|due|for|at|every|each)?$", "", title, flags=re.I)
        title = title.strip(" ,;:-–")
    if len(title) > 1 and title[0] == title[-1] and title[0] in "'\"":
        title = title[1:-1].strip()
    return title


def adding(rest: str, context: Context, *, weak: bool = False) -> Plan:
    """`add_task` from the words after the filler: due date and priority taken out of the title."""
    due, rest = take_date(rest, context.today)
    priority, rest = take_priority(rest)
    arguments: dict[str, Any] = {}
    title = clean_title(rest)
    if title:
        arguments["title"] = title
    if due is not None:
        arguments["due_date"] = due.isoformat()
    if priority is not None:
        arguments["priority"] = priority
    if not title:
        return Ask("What should the task be called?", Call("add_task", arguments), "title")
    return Direct(Call("add_task", arguments), weak=weak)


def _adding(text: str, context: Context) -> Plan | None:
    if NO_TITLE.fullmatch(text):
        return Ask("What should the task be called?", Call("add_task", {}), "title")
    if TODO_VERB.match(text) and find_date(text, context.today) is not None:
        return adding(text, context)  # "call mom tomorrow": a date makes it a to-do, verb and all
    suffix = ADD_SUFFIX.fullmatch(text)
    if suffix and not re.match(r"^(?:what|which|is|are|anything|how)\b", suffix["rest"], re.I):
        return adding(suffix["rest"] + (suffix["tail"] or ""), context)
    prefix = ADD_PREFIX.fullmatch(text)
    if prefix:
        return adding(prefix["rest"], context)
    bare = ADD_BARE.fullmatch(text)
    return adding(bare["rest"], context, weak=True) if bare else None


def _legacy(text: str) -> Plan | None:
    for pattern, action in LEGACY:
        match = pattern.fullmatch(text)
        if match and ID.match(match["id"]):
            return Direct(Call(action, {"task_id": match["id"]}))
    renamed = LEGACY_RENAME.fullmatch(text)
    if renamed and ID.match(renamed["id"]):
        return Direct(Call("update_task", {"task_id": renamed["id"], "title": renamed["title"].strip()}))
    return None


def _changes(action: str, match: re.Match[str], context: Context) -> tuple[str, dict[str, Any]] | None:
    """The tool and arguments besides the task an action's words give (None: not this action)."""
    groups = match.groupdict()
    if action == "rename":
        return "update_task", {"title": clean_title(groups["new"])}
    if action == "priority":
        how = (groups.get("how") or "").lower()
        if how:
            return "update_task", {"priority": "low" if how.startswith("de") else "high"}
        level = whole_priority(groups["prio"])
        return ("update_task", {"priority": level}) if level else None
    if action == "due":
        day = whole_date(groups["when"], context.today)
        return ("update_task", {"due_date": day.isoformat()}) if day else None
    if action == "change":
        new = groups["new"]
        day = whole_date(new, context.today)
        if day is not None:
            return "update_task", {"due_date": day.isoformat()}
        level = whole_priority(new)
        if level is not None:
            return "update_task", {"priority": level}
        return "update_task", {"title": clean_title(new)}
    return action, {}


def on_task(action: str, reference: str, arguments: dict[str, Any], context: Context) -> Plan:
    """The plan for an action on the task `reference` names."""
    if ID.match(reference):
        return Direct(Call(action, {"task_id": reference, **arguments}))
    if is_reference(reference):
        shown = resolve(context.conversation.blocks(), reference, ("task",))
        if shown.entry is not None:
            return Direct(Call(action, {"task_id": shown.entry.id, **arguments}))
        if shown.entries:
            return Choose(action, arguments, list(shown.entries))
        return Reply(shown.problem + " Name the task, or say “list tasks” first.")
    return OnTask(action, reference, arguments, STATUS_FOR.get(action, "all"))


def _acting(text: str, context: Context) -> Plan | None:
    for action, pattern in ACTS:
        match = pattern.fullmatch(text)
        if not match:
            continue
        raw = match["ref"]
        reference = raw if is_reference(raw) else clean_reference(raw)
        if reference.lower() in EVERYTHING:
            return Reply("I act on one task at a time: name it, or say “list tasks” to pick one.")
        if not reference or all(word in ("as", "it", "this", "that") for word in reference.lower().split()):
            reference = "it"  # "mark as done": the task shown last
        if re.match(r"(?:me|you|us|him|her|myself|yourself)\b", reference, re.I):  # "cancel me halfway"
            continue
        change = _changes(action, match, context)
        if change is None:
            continue
        tool, arguments = change
        if not all(value for value in arguments.values()):
            continue
        return on_task(tool, reference, arguments, context)
    return None


def parse(text: str, context: Context) -> Plan | None:
    """The plan for a task request in `text` (tidied), or None when it is not one."""
    for parser in (_legacy, _listing):
        plan = parser(text)
        if plan is not None:
            return plan
    return _adding(text, context) or _acting(text, context)
