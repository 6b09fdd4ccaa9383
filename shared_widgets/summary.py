"""A rendered widget as a few lines of text: what a model should read instead of widget JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

TEXT_PROPS = {"Title": "value", "Text": "value", "Caption": "value", "Markdown": "value", "Badge": "label"}


def _texts(node: Any) -> list[str]:
    if not isinstance(node, Mapping):
        return []
    prop = TEXT_PROPS.get(node.get("type", ""))
    value = node.get(prop) if prop else None
    texts = [" ".join(value.split())] if isinstance(value, str) and value.strip() else []
    children = node.get("children")
    for child in children if isinstance(children, list) else [children]:
        texts.extend(_texts(child))
    return texts


def summarize_widget(widget: BaseModel | Mapping[str, Any], *, limit: int = 500) -> str:
    """The header and the Title/Text/Caption/Badge/Markdown texts of `widget`, one line per list
    row, cut to `limit` characters."""
    node = widget.model_dump(mode="json") if isinstance(widget, BaseModel) else widget
    lines: list[str] = []
    status = node.get("status")
    if isinstance(status, Mapping) and isinstance(status.get("text"), str) and status["text"].strip():
        lines.append(" ".join(status["text"].split()))
    children = node.get("children")
    children = children if isinstance(children, list) else [children]
    if node.get("type") == "ListView":
        lines.extend("- " + " · ".join(texts) for child in children if (texts := _texts(child)))
    else:
        texts = [text for child in children for text in _texts(child)]
        if texts:
            lines.append(" · ".join(texts))
    summary = "\n".join(lines)
    return summary if len(summary) <= limit else summary[: limit - 1].rstrip() + "…"
