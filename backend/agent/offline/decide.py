"""The offline model's decision for one model call: the next tool call, or what to say.

In order: help, greetings and thanks; an answer to the question the model asked last (a missing
argument, or which of several tasks); a task request (`tasks`); a catalog request (`catalog`);
any other offered tool whose words fit (`generic`), which also wins over a task or catalog
reading that rests on a bare verb ("add ...", "find ..."), or over another one when the words fit
it clearly better (by more than `MARGIN`: "delete note note_1" with a notes server); else an
honest "I don't understand"
that lists what the tools offered now can do. A request for a tool that is not offered is
answered as such.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from backend.agent.offline import catalog, outputs, replies, tasks
from backend.agent.offline.conversation import read
from backend.agent.offline.generic import answer, best_tool, plan_for, question, score
from backend.agent.offline.plans import (
    Ask,
    Call,
    CheapSearch,
    Choose,
    Context,
    Decision,
    Direct,
    OnTask,
    Plan,
    Reply,
    Say,
)
from backend.agent.offline.references import select
from backend.agent.offline.toolbox import Toolbox
from backend.agent.offline.words import tidy

GREETING = re.compile(
    r"^(?:hi|hello|hey|hiya|howdy|yo|good (?:morning|afternoon|evening))(?: there| again)?[\s!.,]*$", re.I
)
THANKS = re.compile(
    r"^(?:thanks|thank you|thx|ty|cheers|great|perfect|awesome|cool|nice)(?: a lot| so much)?"
    r"(?:,? thanks| thank you)?[\s!.]*$",
    re.I,
)
HELP = re.compile(
    r"^(?:help|help me|\?|what can you do|what can i do|what can i ask|what do you do|how does this work|"
    r"how do i use (?:this|you)|commands|what are (?:the|your) commands|what can you help (?:me )?with|"
    r"what do you understand|options|menu)$",
    re.I,
)
WHICH = "Which one do you mean"
# Another tool beats a task or catalog reading that is not weak only when its words fit it by more.
MARGIN = 1.0
CANCEL = re.compile(r"^(?:cancel|never ?mind|forget it|stop|no|nope|nothing|skip|abort|none|neither)$", re.I)


def decide(model_input: str | Sequence[Any], tools: Sequence[Any], today: date) -> Decision:
    """What the offline model does next with this input and these tools, `today` being the date
    relative dates are read against."""
    conversation = read(model_input)
    toolbox = Toolbox.of(tools)
    context = Context(conversation, toolbox, today)
    plan = interpret(context)
    if plan.tool is not None and not conversation.steps and not toolbox.has(plan.tool):
        return Say(replies.cant_reach(plan.tool))
    decision = plan.next(context)
    if isinstance(decision, Call) and not toolbox.has(decision.name):
        return Say(replies.cant_reach(decision.name))
    request = conversation.request
    if isinstance(decision, Say) and request is not None and request.attachments:
        return Say(f"{replies.attachments_note(request.attachments)} {decision.text}")
    return decision


def interpret(context: Context) -> Plan:
    """The plan for the current request."""
    toolbox = context.toolbox
    request = context.conversation.request
    if request is None or not request.text.strip():
        if request is not None and request.attachments:
            return Reply(f"Tell me in words what to do. I can help with {replies.abilities(toolbox)}.")
        return Reply(replies.greeting(toolbox))
    raw = request.text.strip()
    if GREETING.fullmatch(raw):
        return Reply(replies.greeting(toolbox))
    text = tidy(raw)
    if HELP.fullmatch(text) or HELP.fullmatch(raw.rstrip("?!. ")):
        return Reply(replies.help_text(toolbox))
    if THANKS.fullmatch(raw):
        return Reply(replies.thanks())
    if not text:
        return Reply(replies.greeting(toolbox))
    return follow_up(text, context) or understand(text, raw, context)


def _builtin(text: str, context: Context) -> Plan | None:
    return tasks.parse(text, context) or catalog.parse(text, context)


def understand(text: str, raw: str, context: Context) -> Plan:
    """A fresh request: the tasks' and catalog's readings, or the offered tool that fits best."""
    plan = _builtin(text, context)
    if plan is not None and plan.tool is None:
        return plan
    others = context.toolbox.others()
    fitting = best_tool(text, others) if others else None
    if fitting is not None and plan is not None and not plan.weak:
        ours = context.toolbox.get(plan.tool or "")
        if ours is not None and score(fitting, text) <= score(ours, text) + MARGIN:
            fitting = None  # the task or catalog reading stands
    if fitting is not None:
        return plan_for(fitting, text)
    return plan if plan is not None else Reply(replies.not_understood(raw, context.toolbox))


def _fresh(text: str, context: Context) -> bool:
    """Whether an answer is rather a new request (a task or catalog one, of two words or more)."""
    if HELP.fullmatch(text):
        return True
    plan = _builtin(text, context)
    return (
        isinstance(plan, Direct | OnTask | CheapSearch)
        and not plan.weak
        and plan.tool is not None
        and context.toolbox.has(plan.tool)
        and len(text.split()) > 1
    )


def _answered(asked: Ask, text: str, context: Context) -> Plan | None:
    """The call an answer to "what should the X be?" completes (or the next question)."""
    tool = context.toolbox.get(asked.call.name)
    param = tool.param(asked.missing) if tool is not None else None
    if CANCEL.fullmatch(text):
        name = tool.label if tool is not None else asked.call.name
        return Reply(f"OK, I won't run {name}.")
    value = answer(param, text)
    textual = param is None or (param.kind in ("string", "") and not param.enum)
    if (textual or value is None) and _fresh(text, context):
        return None
    if value is None:
        if len(text.split()) > 3:
            return None
        original = asked.question.rsplit("isn't one of them. ", 1)[-1]
        return Ask(f"Sorry, “{text}” isn't one of them. {original}", asked.call, asked.missing)
    arguments = {**asked.call.arguments, asked.missing: value}
    still = [p for p in tool.required if p.name not in arguments] if tool is not None else []
    if still:
        return Ask(question(still[0]), Call(asked.call.name, arguments), still[0].name)
    return Direct(Call(asked.call.name, arguments))


def follow_up(text: str, context: Context) -> Plan | None:
    """An answer to the question the previous reply asked, if it was one of mine."""
    conversation = context.conversation
    previous = conversation.previous_reply()
    if previous is None or not previous[1].text.rstrip().endswith("?"):
        return None
    reply_index, reply = previous
    typed = [
        index for index, message in conversation.earlier() if index < reply_index and message.kind == "typed"
    ]
    if not typed:
        return None
    asked = interpret(Context(conversation.before(typed[0]), context.toolbox, context.today))
    if isinstance(asked, Ask) and reply.text.endswith(asked.question):
        return _answered(asked, text, context)
    if isinstance(asked, OnTask | Choose) and WHICH in reply.text:
        chosen = select(text, outputs.entries(reply.text, "task"))
        if chosen is not None:
            return Direct(Call(asked.action, {"task_id": chosen.id, **asked.arguments}))
        if CANCEL.fullmatch(text):
            return Reply("OK, I'll leave them as they are.")
    return None
