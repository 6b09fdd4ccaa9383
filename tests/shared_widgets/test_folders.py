"""Widget folders as data: a server's own folder loads beside the packaged ones (its templates, its
bindings, its part of the action table), progress lines come from titles or bindings, and a folder
that does not hold together is refused with the file named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shared_widgets import BUILTIN, WidgetsError, configured_folder, load_library

CARD = {
    "version": "1.0",
    "name": "forecast",
    "template": '{"type": "Card", "children": ['
    '{"type": "Text", "value": {{ (city ~ ": " ~ sky) | tojson }}}, '
    '{"type": "Button", "label": "Refresh", "onClickAction": {{ action("weather.refresh", city=city) }}}]}',
    "jsonSchema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "sky": {"type": "string"}},
        "required": ["city", "sky"],
    },
}
MANIFEST = {
    "tools": {"get_forecast": {"template": "forecast", "progress": "Looking at the sky…"}},
    "actions": {"weather.refresh": {"tool": "get_forecast", "payload": {"city": "city"}}},
}


def folder(tmp_path: Path, manifest: Any = MANIFEST, **templates: Any) -> Path:
    """A widgets folder with these files (`forecast.widget` and the manifest by default)."""
    path = tmp_path / "widgets"
    path.mkdir(exist_ok=True)
    for name, definition in (templates or {"forecast": CARD}).items():
        text = definition if isinstance(definition, str) else json.dumps(definition)
        (path / f"{name}.widget").write_text(text)
    if manifest is not None:
        (path / "widgets.json").write_text(manifest if isinstance(manifest, str) else json.dumps(manifest))
    return path


def test_a_servers_folder_binds_its_tools_and_declares_its_actions(tmp_path: Path) -> None:
    library = load_library([configured_folder(folder(tmp_path), "weather")])
    assert library.bindings["weather", "get_forecast"].template == "weather/forecast"
    spec = library.actions.get("weather.refresh")
    assert (spec.server, spec.tool) == ("weather", "get_forecast")  # the folder's server by default
    bound = library.bind_tool_result(
        "weather", "get_forecast", {"city": "Oslo", "sky": "clear"}, {"city": "Oslo"}
    )
    assert bound is not None and bound.state.template == "weather/forecast"
    assert "Oslo: clear" in json.dumps(bound.widget.model_dump())
    assert [offer.type for offer in bound.state.offers] == ["weather.refresh"]
    assert set(BUILTIN.bindings) <= set(library.bindings)  # the packaged ones still there
    # The packaged library alone shows the same result generically.
    generic = BUILTIN.bind_tool_result("weather", "get_forecast", {"city": "Oslo", "sky": "clear"})
    assert generic is not None and generic.state.template.startswith("generic_")


def test_a_configured_folder_may_replace_a_packaged_binding(tmp_path: Path) -> None:
    manifest = {"tools": {"list_categories": {"template": "forecast"}}, "actions": {}}
    plain = {**CARD, "template": '{"type": "Card", "children": []}'}
    library = load_library([configured_folder(folder(tmp_path, manifest, forecast=plain), "items")])
    assert library.bindings["items", "list_categories"].template == "items/forecast"
    assert library.bindings["items", "search_items"].template == "item_results"


def test_progress_is_the_title_then_the_binding_then_the_tools_name(tmp_path: Path) -> None:
    library = load_library([configured_folder(folder(tmp_path), "weather")])
    assert library.progress("weather", "get_forecast", "Get the forecast") == "Get the forecast…"
    assert library.progress("weather", "get_forecast", "Checking the forecast…") == "Checking the forecast…"
    assert library.progress("weather", "get_forecast", None) == "Looking at the sky…"
    assert library.progress("weather", "get_alerts", None) == "Running get_alerts…"
    assert library.progress("other", "get_forecast", "  ") == "Running get_forecast…"
    assert len(library.progress("x", "y", "z" * 500)) == 80


def test_misfits_name_the_template_file_and_what_does_not_fit(tmp_path: Path) -> None:
    path = folder(tmp_path)
    library = load_library([configured_folder(path, "weather")])
    fits = {"type": "object", "properties": {"city": {"type": "string"}, "sky": {"type": "string"}}}
    assert library.misfits("weather", {"get_forecast": {**fits, "required": ["city", "sky"]}}) == []
    assert library.misfits("weather", {"get_forecast": None}) == []  # no output schema: nothing to check
    [problem] = library.misfits("weather", {"get_forecast": {**fits, "required": ["city"]}})
    assert problem.startswith(
        f"{path / 'forecast.widget'} does not fit the output schema of weather/get_forecast"
    )
    assert "`sky`, which the tool may leave out" in problem
    [unknown] = library.misfits("weather", {"get_weather": fits})
    assert (
        "binds tool 'get_forecast', which server 'weather' does not offer (it offers get_weather)" in unknown
    )
    # The packaged bindings do not complain about a server that offers fewer tools (deny_tools).
    assert BUILTIN.misfits("tasks", {}) == []


BAD_UI = {"tool": "get_forecast", "payload": {"city": "town"}, "ui": {"x": "y"}}
TWICE = {**MANIFEST, "actions": {**MANIFEST["actions"], "tasks.complete": {}}}
BROKEN = {**CARD, "template": "{% if %}"}


@pytest.mark.parametrize(
    ("files", "manifest", "message"),
    [
        ({"forecast": "{not json"}, MANIFEST, "forecast.widget: not valid JSON"),
        ({"forecast": {"name": "forecast"}}, MANIFEST, "forecast.widget: a .widget file is an object with a"),
        ({"forecast": BROKEN}, MANIFEST, "forecast.widget: the template does not compile"),
        ({}, "[1, 2]", "widgets.json: "),
        ({}, {"tools": {}, "colours": {}}, "widgets.json: colours: Extra inputs are not permitted"),
        ({}, {"tools": {"get_forecast": {"template": "radar"}}}, "names template 'radar', which is not"),
        ({}, {"tools": {}, "actions": {}}, "forecast.widget: uses action types no widgets.json declares"),
        ({}, {"tools": {}, "actions": {"weather.refresh": BAD_UI}}, "action 'weather.refresh': "),
        ({}, TWICE, "action 'tasks.complete' is already declared in"),
    ],
    ids=["bad-json", "not-a-widget", "template-syntax", "manifest-shape", "manifest-key", "missing-template",
         "undeclared-action", "bad-action", "duplicate-action"],
)  # fmt: skip
def test_a_folder_that_does_not_hold_together_is_refused_naming_the_file(
    tmp_path: Path, files: dict[str, Any], manifest: Any, message: str
) -> None:
    path = folder(tmp_path, manifest, **files)
    with pytest.raises(WidgetsError, match="^" + str(path)) as refused:
        load_library([configured_folder(path, "weather")])
    assert message in str(refused.value)


def test_a_packaged_style_folder_must_name_its_server(tmp_path: Path) -> None:
    from shared_widgets.loader import WidgetFolder

    with pytest.raises(WidgetsError, match="binds tools but names no server"):
        load_library([WidgetFolder(folder(tmp_path))])


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WidgetsError, match="is not a directory"):
        configured_folder(tmp_path / "nowhere", "weather")
