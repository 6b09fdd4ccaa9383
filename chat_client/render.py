"""ChatKit widgets and thread items as rich renderables; unknown components degrade to their text."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.constrain import Constrain
from rich.markdown import Markdown, MarkdownContext, MarkdownElement
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

Node = Mapping[str, Any]

COLORS = {
    "secondary": "dim", "tertiary": "dim", "success": "green", "danger": "red", "warning": "yellow",
    "caution": "yellow", "info": "blue", "discovery": "magenta", "emphasis": "bold",
}  # fmt: skip
PRIMITIVES = {"red", "green", "yellow", "blue", "magenta", "cyan", "white", "black"}
ICONS = {
    "check": "✓", "check-circle": "✓", "check-circle-filled": "✔", "empty-circle": "○", "circle": "○",
    "plus": "+", "x": "✗", "trash": "✗", "star": "☆", "star-filled": "★", "info": "ℹ", "warning": "⚠",
    "write": "✎", "lucide:trash-2": "✗", "reload": "↺", "lucide:circle-alert": "⚠",
}  # fmt: skip
WEIGHTS = {"semibold": "bold", "bold": "bold"}
CARD_WIDTHS = {"sm": 48, "md": 72, "lg": 96, "full": None}  # at most; narrower terminals win
LIST_WIDTH = 88
TEXT_FIELDS = ("title", "label", "value", "text", "content", "description", "placeholder", "alt")


class HtmlAsText(MarkdownElement):
    """An HTML block (a paragraph that starts with `<title>`, `<details>`...) as the text it is."""

    def __init__(self) -> None:
        self.text = ""

    def on_text(self, context: MarkdownContext, text: str | Text) -> None:
        self.text += str(text)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Text(self.text.rstrip("\n"))


class MessageMarkdown(Markdown):
    """Markdown in which HTML is text, shown as it was sent: rich drops inline HTML and HTML blocks,
    so a reply saying `add task <title>` would lose its `<title>` (ChatKit's UI shows it)."""

    elements: ClassVar[dict[str, type[MarkdownElement]]] = {**Markdown.elements, "html_block": HtmlAsText}

    def __init__(self, markup: str, **options: Any) -> None:
        super().__init__(markup, **options)
        for token in self.parsed:
            for child in token.children or ():
                if child.type == "html_inline":
                    child.type = "text"


def mapping(value: object) -> Node:
    """`value` when it is a JSON object, else an empty one (events from other backends may differ)."""
    return value if isinstance(value, Mapping) else {}


def color_style(color: object) -> str:
    """A rich style for a ChatKit colour token (`success`, `red-500`, ...); '' for anything else."""
    if not isinstance(color, str):
        return ""  # theme-aware {light, dark} pairs and the like: keep the terminal's colour
    if color in COLORS:
        return COLORS[color]
    base = color.split("-")[0]
    return base if base in PRIMITIVES else ""


def string_at(node: Node, key: str = "value") -> str:
    """`node[key]` when it is a string, else ''."""
    value = node.get(key)
    return value if isinstance(value, str) else ""


def child_nodes(node: Node) -> Iterator[Node]:
    """A component's children: a list of them, or one."""
    children = node.get("children")
    if isinstance(children, list):
        yield from (child for child in children if isinstance(child, Mapping))
    elif isinstance(children, Mapping):
        yield children


def _status(node: Node) -> Text | None:
    """The status header of a Card or ListView (as Text: a plain string would be read as markup)."""
    text = string_at(mapping(node.get("status")), "text")
    return Text(text) if text else None


def _styled_text(node: Node, *extra: str) -> Text:
    styles = [*extra, color_style(node.get("color")), WEIGHTS.get(str(node.get("weight")), "")]
    if node.get("lineThrough"):
        styles.append("strike")
    if node.get("italic"):
        styles.append("italic")
    return Text(string_at(node), style=" ".join(style for style in styles if style))


def _badge(node: Node) -> Text:
    color = color_style(node.get("color")).replace("dim", "white") or "white"
    style = f"bold {color}" if node.get("variant") == "outline" else f"{color} reverse"
    return Text(f" {string_at(node, 'label')} ", style=style)


def _button(node: Node) -> Text:
    label = string_at(node, "label") or ICONS.get(str(node.get("iconStart")), "") or "button"
    return Text(f"[{label}]", style=f"bold {color_style(node.get('color'))}".strip())


def _icon(node: Node) -> Text | None:
    glyph = ICONS.get(str(node.get("name")))
    return Text(glyph, style=color_style(node.get("color"))) if glyph else None


def _image(node: Node) -> Text:
    return Text(f"[image: {string_at(node, 'alt') or string_at(node, 'src')}]", style="dim")


def _control(node: Node) -> Text:
    """Form controls (Input, Select, DatePicker, ...): their label or placeholder in brackets, with the
    value they start with."""
    default = node.get("defaultValue")
    # A placeholder says what an empty control means ("No due date"): with a value, name the field.
    empty_name = string_at(node, "placeholder") if not default else ""
    label = string_at(node, "label") or empty_name or string_at(node, "name") or str(node.get("type"))
    options = node.get("options")
    if isinstance(options, list):
        labels = [
            f"*{string_at(option, 'label')}" if option.get("value") == default else string_at(option, "label")
            for option in options
            if isinstance(option, Mapping)
        ]
        label = f"{label}: {' | '.join(labels)}" if labels else label
    elif isinstance(default, str) and default:
        shown = default[:10] if node.get("type") == "DatePicker" else default
        label = f"{label}: {shown}"
    return Text(f"[{label}]", style="dim")


def _checkbox(node: Node) -> Text:
    return Text(f"{'☑' if node.get('defaultChecked') else '☐'} {string_at(node, 'label')}".rstrip())


def _column(node: Node) -> RenderableType | None:
    parts = [part for part in map(render_component, child_nodes(node)) if part is not None]
    return Group(*parts) if parts else None


def _row(node: Node) -> RenderableType | None:
    grid = Table.grid(padding=(0, 1))
    cells: list[RenderableType] = []
    for child in child_nodes(node):
        if child.get("type") == "Spacer":
            grid.add_column(ratio=1)
            grid.expand = True
            cells.append("")
            continue
        part = render_component(child)
        if part is None:
            continue
        flex = child.get("flex")
        ratio = flex if isinstance(flex, int) and flex > 0 else None
        grid.add_column(ratio=ratio)
        grid.expand = grid.expand or ratio is not None
        cells.append(part)
    if not any(not isinstance(cell, str) for cell in cells):
        return None
    grid.add_row(*cells)
    return grid


def _box(node: Node) -> RenderableType | None:
    return _row(node) if node.get("direction") == "row" else _column(node)


def _card(node: Node) -> RenderableType:
    buttons = [
        f"[{action['label']}]"
        for action in (node.get("confirm"), node.get("cancel"))
        if isinstance(action, Mapping) and isinstance(action.get("label"), str)
    ]
    panel = Panel(
        _column(node) or Text(""),
        title=_status(node),
        title_align="left",
        subtitle=Text(" ".join(buttons)) if buttons else None,
        subtitle_align="right",
        box=box.ROUNDED,
    )
    return Constrain(panel, CARD_WIDTHS.get(str(node.get("size")), CARD_WIDTHS["md"]))


def _list_view(node: Node) -> RenderableType:
    items = list(child_nodes(node))
    limit = node.get("limit")
    shown = items[:limit] if isinstance(limit, int) and limit > 0 else items
    table = Table(
        show_header=False,
        show_lines=True,
        box=box.ROUNDED,
        title=_status(node),
        title_justify="left",
        title_style="bold",
        expand=True,
    )
    table.add_column()
    for item in shown:
        table.add_row(render_component(item) or Text(""))
    if len(shown) < len(items):
        table.add_row(Text(f"… {len(items) - len(shown)} more", style="dim"))
    return Constrain(table, LIST_WIDTH)


def text_of(node: Node) -> str:
    """Every piece of text in a component tree, in order: what an unknown component degrades to."""
    parts = [node[key] for key in TEXT_FIELDS if isinstance(node.get(key), str) and node[key].strip()]
    parts += [text for child in child_nodes(node) if (text := text_of(child))]
    return " ".join(parts)


def _unknown(node: Node) -> RenderableType | None:
    own = [node[key] for key in TEXT_FIELDS if isinstance(node.get(key), str) and node[key].strip()]
    children = _column(node)
    if not own:
        return children
    text = Text(" ".join(own))
    return Group(text, children) if children is not None else text


RENDERERS: dict[str, Callable[[Node], RenderableType | None]] = {
    "Card": _card,
    "ListView": _list_view,
    "ListViewItem": _row,
    "Row": _row,
    "Col": _column,
    "Box": _box,
    "Form": _box,
    "Transition": _column,
    "Basic": _column,
    "Text": _styled_text,
    "Label": _styled_text,
    "Title": lambda node: _styled_text(node, "bold"),
    "Caption": lambda node: _styled_text(node, "dim"),
    "Markdown": lambda node: MessageMarkdown(string_at(node)),
    "Badge": _badge,
    "Button": _button,
    "Icon": _icon,
    "Image": _image,
    "Divider": lambda _: Rule(style="dim"),
    "Spacer": lambda _: None,
    "Checkbox": _checkbox,
    "Input": _control,
    "Textarea": _control,
    "Select": _control,
    "DatePicker": _control,
    "RadioGroup": _control,
    "Chart": lambda _: Text("[chart]", style="dim"),
}


def render_component(node: Node) -> RenderableType | None:
    """One widget component (and its children); None when it shows nothing."""
    return RENDERERS.get(str(node.get("type")), _unknown)(node)


def render_widget(widget: Node) -> RenderableType:
    """A widget root as the terminal shows it."""
    return render_component(widget) or Text("[empty widget]", style="dim")


def item_text(item: Node) -> str:
    """The text of a message item's content parts."""
    content = item.get("content")
    if isinstance(content, str):
        return content
    parts = content if isinstance(content, list) else []
    return "".join(string_at(part, "text") for part in parts if isinstance(part, Mapping))


def _workflow(item: Node) -> RenderableType:
    workflow = mapping(item.get("workflow"))
    title = string_at(mapping(workflow.get("summary")), "title") or "Workflow"
    tasks = workflow.get("tasks")
    tasks = tasks if isinstance(tasks, list) else []
    lines = [Text(f"▸ {title}", style="dim bold")]
    lines += [Text(f"  • {task_title(task)}", style="dim") for task in tasks if isinstance(task, Mapping)]
    return Group(*lines)


def task_title(task: Node) -> str:
    """What a workflow task is about: its title, else its content, else its kind."""
    return string_at(task, "title") or string_at(task, "content") or str(task.get("type", "task"))


def render_item(item: Node) -> RenderableType | None:
    """A thread item as history shows it; None for items that show nothing (end of turn, hidden)."""
    kind = item.get("type")
    if kind == "user_message":
        return Text.assemble(("you › ", "bold cyan"), item_text(item))
    if kind == "assistant_message":
        return MessageMarkdown(item_text(item))
    if kind == "widget" and isinstance(item.get("widget"), Mapping):
        return render_widget(item["widget"])
    if kind == "workflow":
        return _workflow(item)
    if kind == "task" and isinstance(item.get("task"), Mapping):
        return Text(f"▸ {task_title(item['task'])}", style="dim")
    if kind == "client_tool_call":
        return Text(f"[client tool call: {string_at(item, 'name')}]", style="dim")
    if kind == "generated_image" and isinstance(item.get("image"), Mapping):
        return Text(f"[image: {string_at(item['image'], 'url')}]", style="dim")
    if kind in {"end_of_turn", "hidden_context_item", "sdk_hidden_context"}:
        return None
    text = text_of(item)
    return Text(f"[{kind}] {text}".rstrip(), style="dim")
