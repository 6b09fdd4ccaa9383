"""Catalog requests in plain words: a search with price limits ("under 50", "below $30", "less than
20 dollars", "between 20 and 40", "over 100"), stock ("in stock", "available", "sold out"), a
category, "cheap", "more" / "next page"; one item by id or as "the second one"; the categories.
The words searched for lose the filler around them, and plurals their ending (`singular`).

Categories are known from what `list_categories` showed in the conversation, and from an enum on
the search tool's `category` property; "in the X category" passes X as the user wrote it (the
catalog matches names case-insensitively).
"""

from __future__ import annotations

import re
from typing import Any

from backend.agent.offline import outputs
from backend.agent.offline.conversation import Conversation
from backend.agent.offline.plans import Call, CheapSearch, Context, Direct, Plan, Reply
from backend.agent.offline.references import is_reference, resolve
from backend.agent.offline.words import tidy, words_of

N = r"\d+(?:[.,]\d{1,2})?"
CURRENCY = r"(?:\s?(?:\$|dollars?|bucks|usd|eur|euros?))"
PRICED = r"(?:(?:priced|costing|that costs?|which costs?|for|at|with a price)\s+)?"
LIMITS: list[tuple[str, re.Pattern[str]]] = [
    (kind, re.compile(rf"(?<![\w$]){PRICED}{body}(?![\w.])", re.IGNORECASE))
    for kind, body in [
        ("between", rf"(?:between|from) \$?(?P<low>{N}){CURRENCY}? (?:and|to|-) \$?(?P<high>{N}){CURRENCY}?"),
        ("between", rf"\$(?P<low>{N}) ?(?:-|–|to) ?\$?(?P<high>{N}){CURRENCY}?"),
        ("between", rf"(?P<low>{N}) ?(?:-|–|to) ?(?P<high>{N}){CURRENCY}"),
        (
            "max",
            r"(?:under|below|less than|cheaper than|at most|up to|no more than|not more than|"
            r"max(?:imum)?(?: of)?|within|lower than|beneath|not over|not above|<=?) "
            rf"\$?(?P<max>{N}){CURRENCY}?",
        ),
        ("max", rf"\$?(?P<max>{N}){CURRENCY}? or (?:less|under|below|cheaper)"),
        (
            "min",
            r"(?:over|above|more than|at least|min(?:imum)?(?: of)?|starting at|higher than|greater than|"
            rf"pricier than|upwards of|>=?) \$?(?P<min>{N}){CURRENCY}?",
        ),
        ("min", rf"\$?(?P<min>{N}){CURRENCY}? or (?:more|over|above|higher)"),
        ("max", rf"(?:for|around|about) (?:\$(?P<max>{N}){CURRENCY}?|(?P<max2>{N}){CURRENCY})"),
    ]
]
NOT_IN_STOCK = re.compile(
    r"\b(?:(?:that are |which are |that is |which is |currently )?"
    r"(?:out of stock|sold out|unavailable|not in stock|not available))\b",
    re.I,
)
IN_STOCK = re.compile(
    r"\b(?:(?:only )?(?:that are |which are |that is |which is |currently |only )?"
    r"(?:in[ -]stock|available(?: now)?|in store|on hand))"
    r"(?: ones| only)?\b",
    re.I,
)
CHEAP = re.compile(
    r"\b(?:cheap(?:er|est)?|inexpensive|affordable|budget(?:-friendly)?|low[- ]cost|bargains?|economical|"
    r"on a budget)\b",
    re.I,
)
VERB = re.compile(
    r"^(?:search(?: the (?:catalog|store|shop))?(?: for)?|find(?: me)?|look(?:ing)? for|look up|"
    r"i(?:'m| am) looking for|shop(?:ping)? for|browse|do you (?:have|sell|carry)|have you got|got any)\b\s*",
    re.I,
)
SOFT_VERB = re.compile(
    r"^(?:show me|show|list|i (?:want|need|'d like|would like)|get me|recommend(?: me)?|suggest|any)\b\s*",
    re.I,
)
FILLER = re.compile(
    r"^(?:(?:some|any|a|an|the|me|for|of|all|only|good|nice|something|anything|everything|items?|products?|things|stuff|"
    r"what's|what is|what are|which|that are|which are|that|with|please|ones)\b\s*)+|"
    r"(?:\s*\b(?:items?|products?|things|stuff|ones|that are|which are|that|with|in|from|for|please|"
    r"only|priced|costing|available|in the|at|price|prices)\b)+$",
    re.I,
)
MORE = re.compile(
    r"^(?:(?:show|give|load|see|get|list)(?: me)? )?(?:some )?(?:more|next(?: page| ones| results| items)?|"
    r"the next (?:page|ones|results|items)|another page|more results|keep going|continue|what else)"
    r"(?: results| items| ones| please| of those| of them| of these)?$",
    re.I,
)
CATEGORIES = re.compile(
    r"^(?:(?:list|show|see|view|get|give me|what are|which are|what|which)(?: me)?"
    r"(?: the| all| your| all the)? )?"
    r"(?:product |item |catalog |store |shop )?"
    r"(?:categor(?:y|ies)|(?:kinds|sorts|types) of (?:products|items|things))"
    r"(?: (?:are there|do you have|do you sell|are available|exist|in the catalog|there are|you have|"
    r"are in the catalog))?$",
    re.I,
)
LEGACY_ITEM = re.compile(r"^(?:show|get) item (?P<id>\S+)$", re.I)
ITEM_ID = re.compile(r"\bitm_[0-9A-Za-z]+\b")
SHOW_REF = re.compile(
    r"^(?:(?:show|open|get|view|see|display|read)(?: me)?|(?:tell me |show me |give me )?(?:more )?"
    r"(?:details|info|information|more) (?:on|about|of|for)|tell me (?:more )?about|what about|how about)"
    r" (?P<ref>.+)$",
    re.I,
)
CHEAP_SAID = re.compile(r"means up to \$(\d+(?:\.\d+)?)")


def known_categories(context: Context) -> list[str]:
    """Category names the conversation showed, and the search tool's enum, longest first."""
    names: dict[str, str] = {}
    tool = context.toolbox.get("search_items")
    param = tool.param("category") if tool is not None else None
    for name in param.enum if param is not None else ():
        names.setdefault(name.casefold(), name)
    for text in context.conversation.recent_texts():
        for name in outputs.categories(text):
            names.setdefault(name.casefold(), name)
    return sorted(names.values(), key=len, reverse=True)


def _amount(text: str) -> float:
    value = float(text.replace(",", "."))
    return int(value) if value.is_integer() else value


def _take(pattern: re.Pattern[str], text: str) -> tuple[re.Match[str] | None, str]:
    match = pattern.search(text)
    if match is None:
        return None, text
    return match, (text[: match.start()] + " " + text[match.end() :]).strip()


def _category(text: str, known: list[str]) -> tuple[str | None, str]:
    names = "|".join(re.escape(name) for name in known)
    patterns = []
    if names:
        patterns += [
            rf"\b(?:in|from|under|within) (?:the )?(?P<cat>{names})(?: category| section| "
            rf"department| aisle)?(?!\w)",
            rf"\b(?:the )?(?P<cat>{names}) (?:category|section|department|aisle)\b",
            rf"\bcategory[:= ]\s*(?P<cat>{names})(?!\w)",
        ]
    patterns += [
        r"\b(?:in|from) the (?P<cat>[\w&' ]+?) (?:category|section|department)\b",
        r"\bcategory[:=]\s*(?P<cat>[\w&' ]+)$",
        r"\bcategory (?P<cat>[\w&']+)$",
    ]
    for pattern in patterns:
        match = re.search(pattern, text, re.I)
        if match:
            said = match["cat"].strip()
            name = next(
                (known_name for known_name in known if known_name.casefold() == said.casefold()), said
            )
            return name, (text[: match.start()] + " " + text[match.end() :]).strip()
    return None, text


def _bare_category(query: str, known: list[str]) -> str | None:
    """A category when the query is nothing but its name (or the name without a plural s)."""
    wanted = " ".join(words_of(query))
    for name in known:
        plain = " ".join(words_of(name))
        if wanted and wanted in (plain, plain.rstrip("s"), plain + "s"):
            return name
    return None


def singular(word: str) -> str:
    """A plural's singular, cut so it is a prefix of both ("lamps" → "lamp", "batteries" → "batter"):
    the catalog matches word prefixes, so "lamps" alone would miss "Desk Lamp"."""
    lowered = word.lower()
    if len(word) <= 3 or not lowered.isalpha():
        return word
    if lowered.endswith("ies") and len(word) > 4:
        return word[:-3]
    if lowered.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if lowered.endswith("s") and not lowered.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def search_arguments(text: str, context: Context) -> tuple[dict[str, Any], bool, bool] | None:
    """The search a request asks for: (arguments, "cheap" said, a limit or filter said); None
    when it is not a search."""
    verb, rest = _take(VERB, text)
    soft = None
    if verb is None:
        soft, rest = _take(SOFT_VERB, text)
    arguments: dict[str, Any] = {}
    for kind, pattern in LIMITS:
        match, rest = _take(pattern, rest)
        if match is None:
            continue
        groups = match.groupdict()
        if kind == "between":
            low, high = sorted((_amount(groups["low"]), _amount(groups["high"])))
            arguments.setdefault("min_price", low)
            arguments.setdefault("max_price", high)
        elif kind == "max":
            arguments.setdefault("max_price", _amount(groups.get("max") or groups.get("max2") or "0"))
        else:
            arguments.setdefault("min_price", _amount(groups["min"]))
    sold_out, rest = _take(NOT_IN_STOCK, rest)
    available, rest = _take(IN_STOCK, rest)
    if sold_out or available:
        arguments["in_stock"] = sold_out is None
    cheap, rest = _take(CHEAP, rest)
    known = known_categories(context)
    category, rest = _category(rest, known)
    query = FILLER.sub("", re.sub(r"\s+", " ", rest)).strip(" ,.?!")
    query = FILLER.sub("", query).strip(" ,.?!")
    if category is None and (bare := _bare_category(query, known)):
        category, query = bare, ""
    if category:
        arguments["category"] = category
    query = " ".join(singular(word) for word in query.split())
    filtered = bool(arguments) or cheap is not None
    if verb is None and soft is None and not filtered:
        return None
    if soft is not None and not query and not filtered:
        return None
    return {"query": query, **arguments}, cheap is not None and "max_price" not in arguments, filtered


def _last_search(context: Context) -> tuple[dict[str, Any], int, list[list[str]]] | None:
    """The search "more" continues: its arguments, how many "more"s came since, and what answered
    the requests since it (newest first)."""
    conversation = context.conversation
    pages = 0
    for index, message in conversation.earlier():
        if message.kind != "typed":
            continue
        earlier = Context(conversation.before(index), context.toolbox, context.today)
        text = tidy(message.text)
        if MORE.fullmatch(text):
            pages += 1
            continue
        found = search_arguments(text, earlier)
        if found is None:
            continue
        arguments, cheap, _ = found
        after = [
            m.text
            for i, m in enumerate(conversation.messages)
            if index < i < (conversation.request_index or 0)
        ]
        if cheap:
            said = next((m for text_after in after if (m := CHEAP_SAID.search(text_after))), None)
            if said:
                arguments = {**arguments, "max_price": _amount(said[1])}
        # What answered the requests since (this turn's own outputs left out: they come after).
        blocks = Conversation(conversation.messages, conversation.request_index).blocks()[: pages + 1]
        return arguments, pages, blocks
    return None


def _more(context: Context) -> Plan:
    found = _last_search(context)
    if found is None:
        return Reply("More of what? Search first, e.g. “search desk lamp”, then say “more”.")
    arguments, pages, blocks = found
    for block in blocks:
        for text in block:
            page = outputs.cursor(text)
            if page:
                return Direct(Call("search_items", {**arguments, "cursor": page}))
    tool = context.toolbox.get("search_items")
    param = tool.param("limit") if tool is not None else None
    if param is None:
        return Direct(Call("search_items", arguments))
    size = int(arguments.get("limit") or param.default or 10)
    limit = min(size * (pages + 2), int(param.maximum or size * (pages + 2)))
    return Direct(
        Call("search_items", {**arguments, "limit": limit}),
        note="The results give me no page cursor, so here is a longer list.",
    )


def _show(text: str, context: Context) -> Plan | None:
    legacy = LEGACY_ITEM.fullmatch(text)
    if legacy:
        return Direct(Call("get_item", {"item_id": legacy["id"]}))
    mentioned = ITEM_ID.findall(text)
    if len(mentioned) == 1 and len(text.split()) <= 8:
        return Direct(Call("get_item", {"item_id": mentioned[0]}))
    match = SHOW_REF.fullmatch(text)
    reference = match["ref"] if match else text
    if not is_reference(reference):
        return None
    shown = resolve(context.conversation.blocks(), reference, ("item", "task"))
    if shown.entry is None:
        if shown.entries:
            return Reply("Which one do you mean: “the first one”, “the second one”… or its id?")
        return None if not match else Reply(shown.problem)
    tool = "get_item" if shown.kind == "item" else "get_task"
    key = "item_id" if shown.kind == "item" else "task_id"
    return Direct(Call(tool, {key: shown.entry.id}))


def parse(text: str, context: Context) -> Plan | None:
    """The plan for a catalog request in `text` (tidied), or None when it is not one."""
    if CATEGORIES.fullmatch(text):
        return Direct(Call("list_categories", {}))
    if MORE.fullmatch(text):
        return _more(context)
    shown = _show(text, context)
    if shown is not None:
        return shown
    found = search_arguments(text, context)
    if found is None:
        return None
    arguments, cheap, filtered = found
    tool = context.toolbox.get("search_items")
    if tool is not None:
        arguments = {
            key: value for key, value in arguments.items() if tool.param(key) is not None or key == "query"
        }
    if cheap:
        return CheapSearch(arguments)
    return Direct(Call("search_items", arguments), weak=not filtered)
