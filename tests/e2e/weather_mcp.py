"""A tiny third-party-style MCP server for the offline model's tests, on the plain `mcp` SDK:
a made-up weather forecast (required city and unit, the unit an enum) and a unit converter.

Run over stdio: `python tests/e2e/weather_mcp.py`. Deterministic: the same city gives the same
forecast. It ignores who is calling (the backend's identity token in `_meta`).
"""

from __future__ import annotations

import zlib
from typing import Annotated, Literal

from mcp.server import MCPServer
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

server = MCPServer("weather", title="Weather", instructions="Made-up weather forecasts, and unit conversion.")
READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True)
SKIES = ("sunny", "cloudy", "rainy", "windy", "snowy")


class Day(BaseModel):
    """One day of a forecast."""

    day: int
    high: float
    low: float
    sky: str


class Forecast(BaseModel):
    """A city's forecast."""

    city: str
    unit: str
    days: list[Day]


class Converted(BaseModel):
    """A length converted."""

    value: float
    unit: str


@server.tool(title="Weather forecast", annotations=READ_ONLY)
def get_forecast(
    city: Annotated[str, Field(min_length=1, max_length=100, description="The city, e.g. Paris.")],
    unit: Annotated[Literal["celsius", "fahrenheit"], Field(description="Temperature unit.")],
    days: Annotated[int, Field(ge=1, le=7, description="How many days, 1-7.")] = 1,
) -> Forecast:
    """The weather forecast for a city, for one to seven days."""
    seed = zlib.crc32(city.strip().lower().encode())
    forecast = []
    for day in range(1, days + 1):
        high_c = 5 + (seed + day * 7) % 20
        low_c = high_c - 3 - (seed + day) % 5
        high, low = (high_c, low_c) if unit == "celsius" else (high_c * 9 / 5 + 32, low_c * 9 / 5 + 32)
        forecast.append(Day(day=day, high=high, low=low, sky=SKIES[(seed + day) % len(SKIES)]))
    return Forecast(city=city.strip(), unit=unit, days=forecast)


@server.tool(title="Convert length", annotations=READ_ONLY)
def convert_length(
    value: Annotated[float, Field(description="The length to convert.")],
    to: Annotated[Literal["km", "miles"], Field(description="The unit to convert to.")],
) -> Converted:
    """Convert a length between kilometres and miles."""
    factor = 1.609344
    return Converted(value=round(value * factor if to == "km" else value / factor, 3), unit=to)


if __name__ == "__main__":
    server.run("stdio")
