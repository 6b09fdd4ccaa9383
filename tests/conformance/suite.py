"""The official MCP conformance suite (npm `@modelcontextprotocol/conformance`): its install, its
server runs, its results, and our baselines of the failures we expect.

The suite and Node.js 22 (it needs >= 22) are pinned in `package.json` and `package-lock.json`
beside this file and installed with `npm ci` into `node_modules/` here (gitignored), again only
when the lock file changed. `conformance server --url URL --suite all --spec-version REV -o DIR`
runs every server scenario that applies to revision REV, at REV's wire (the stateless `_meta`
envelope for 2026-07-28, the `initialize` handshake for the dated revisions before it), and writes
each scenario's checks to `DIR/server-<scenario>-<timestamp>/checks.json`."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LOCK_FILE = HERE / "package-lock.json"
NODE_MODULES = HERE / "node_modules"
NODE = NODE_MODULES / "node" / "bin" / "node"
SUITE = NODE_MODULES / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
STAMP = NODE_MODULES / ".installed-lock-sha256"
INSTALL_TIMEOUT_SECONDS = 540
RESULT_DIR = re.compile(r"^server-(?P<scenario>.+)-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$")
SUMMARY_LINE = re.compile(r"^[✓✗] (?P<scenario>[\w./-]+): (?P<passed>\d+) passed, (?P<failed>\d+) failed$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class InstallError(Exception):
    """npm could not install the suite (its output is the message)."""


def install() -> None:
    """`npm ci` the pinned suite unless an install of the same lock file is already there.
    Serialized by a file lock, for test runs side by side in one work tree."""
    digest = hashlib.sha256(LOCK_FILE.read_bytes()).hexdigest()
    with (HERE / ".install.lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if _installed(digest):
            return
        command = ["npm", "ci", "--prefix", str(HERE), "--no-audit", "--no-fund", "--loglevel=error"]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT_SECONDS,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise InstallError(f"{' '.join(command)}: {exc}") from exc
        output = (done.stderr.strip() or done.stdout.strip())[-3000:]
        if done.returncode != 0:
            raise InstallError(f"{' '.join(command)} exited with {done.returncode}:\n{output}")
        if not _runnable():
            raise InstallError(f"{' '.join(command)} left no runnable Node 22 at {NODE}:\n{output}")
        STAMP.write_text(digest + "\n", encoding="ascii")


def _installed(digest: str) -> bool:
    return STAMP.is_file() and STAMP.read_text(encoding="ascii").strip() == digest and _runnable()


def _runnable() -> bool:
    if not (SUITE.is_file() and NODE.is_file() and os.access(NODE, os.X_OK)):
        return False
    try:  # the binary itself, not a placeholder its install script should have replaced
        version = subprocess.run([str(NODE), "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return version.returncode == 0 and version.stdout.startswith("v22.")


def server_command(url: str, revision: str, output_dir: Path) -> list[str]:
    """The suite's command line: every server scenario that applies to `revision`, at its wire."""
    return [
        str(NODE),
        str(SUITE),
        "server",
        "--url",
        url,
        "--suite",
        "all",
        "--spec-version",
        revision,
        "--output-dir",
        str(output_dir),
    ]


@dataclass(repr=False)
class Run:
    """One suite run against one server at one revision: each scenario's checks, in run order."""

    server: str
    revision: str
    scenarios: dict[str, list[dict[str, Any]]]
    output: str  # what the suite printed

    @property
    def label(self) -> str:
        """`server@revision`."""
        return f"{self.server}@{self.revision}"

    def __repr__(self) -> str:
        return f"<Run {self.label}: {len(self.scenarios)} scenarios>"


def read_run(server: str, revision: str, output_dir: Path, output: str) -> Run:
    """The run's checks from `output_dir`, for every scenario its summary lists. A listed scenario
    without a checks.json (it crashed) gets one synthetic failure that says so."""
    listed = [m["scenario"] for line in output.splitlines() if (m := SUMMARY_LINE.match(line.strip()))]
    found: dict[str, list[dict[str, Any]]] = {}
    for directory in sorted(output_dir.iterdir()) if output_dir.is_dir() else []:
        match = RESULT_DIR.match(directory.name)
        if match and (directory / "checks.json").is_file():
            found[match["scenario"]] = json.loads((directory / "checks.json").read_text(encoding="utf-8"))
    scenarios = {
        name: found.get(name)
        or [{"id": name, "status": "FAILURE", "errorMessage": "the suite wrote no checks.json (see output)"}]
        for name in listed
    }
    return Run(server, revision, scenarios, output)


def clean_output(text: str) -> str:
    """The suite's output without colour codes."""
    return ANSI.sub("", text)


@dataclass(frozen=True)
class Expected:
    """A failure we expect: a whole scenario, or one check of it (`check`), on the named servers
    and revisions (all when empty), and `why`."""

    scenario: str
    why: str
    check: str | None = None
    servers: tuple[str, ...] = ()
    revisions: tuple[str, ...] = ()
    source: str = ""  # the file it is listed in

    @property
    def key(self) -> str:
        """`scenario` or `scenario:check`, as the suite's own baselines name them."""
        return self.scenario if self.check is None else f"{self.scenario}:{self.check}"

    def applies(self, run: Run) -> bool:
        """Whether it is about this run (its server, its revision, a scenario the run ran)."""
        return (
            self.scenario in run.scenarios
            and (not self.servers or run.server in self.servers)
            and (not self.revisions or run.revision in self.revisions)
        )

    def names_a_check_of(self, run: Run) -> bool:
        """Whether it applies to the run and its check (if it names one) is among the run's checks."""
        if not self.applies(run):
            return False
        return self.check is None or any(c.get("id") == self.check for c in run.scenarios[self.scenario])

    def excuses(self, scenario: str, check: dict[str, Any]) -> bool:
        """Whether this entry covers the failure of `check` in `scenario`."""
        return self.scenario == scenario and self.check in (None, check.get("id"))


def load_expected(path: Path) -> list[Expected]:
    """A baseline file: `{"entries": [{"scenario", "check"?, "servers"?, "revisions"?, "why"}]}`.
    Every entry must say why; a malformed one raises `ValueError`."""
    if not path.is_file():
        return []
    entries: list[Expected] = []
    for index, entry in enumerate(json.loads(path.read_text(encoding="utf-8"))["entries"]):
        unknown = set(entry) - {"scenario", "check", "servers", "revisions", "why", "messages"}
        why = entry.get("why")
        if (
            unknown
            or not isinstance(entry.get("scenario"), str)
            or not isinstance(why, str)
            or not why.strip()
        ):
            raise ValueError(f"{path.name} entry {index} needs a scenario and a non-empty why: {entry}")
        entries.append(
            Expected(
                scenario=entry["scenario"],
                check=entry.get("check"),
                servers=tuple(entry.get("servers", ())),
                revisions=tuple(entry.get("revisions", ())),
                why=why,
                source=path.name,
            )
        )
    return entries


@dataclass
class Verdict:
    """What one run says against the expectations."""

    unexpected: list[str] = field(default_factory=list)  # failures nobody expected
    stale: list[str] = field(default_factory=list)  # expected failures that passed
    excused: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # SHOULD-level findings (never fail the test)


def failures(run: Run) -> Iterable[tuple[str, dict[str, Any]]]:
    """Every failed check of the run, with its scenario."""
    for scenario, checks in run.scenarios.items():
        for check in checks:
            if check.get("status") == "FAILURE":
                yield scenario, check


def describe(run: Run, scenario: str, check: dict[str, Any]) -> str:
    """One check, with the suite's message."""
    details = check.get("details")
    said = check.get("errorMessage") or (details.get("message") if isinstance(details, dict) else None)
    return (
        f"{run.label} {scenario}:{check.get('id')}: {said or check.get('description') or check.get('status')}"
    )


def judge(run: Run, expected: Sequence[Expected]) -> Verdict:
    """Unexpected failures, stale entries (about this run, yet nothing of theirs failed), the rest."""
    verdict = Verdict()
    applicable = [entry for entry in expected if entry.applies(run)]
    used: set[Expected] = set()
    for scenario, check in failures(run):
        covering = [entry for entry in applicable if entry.excuses(scenario, check)]
        used.update(covering)
        text = describe(run, scenario, check)
        if covering:
            verdict.excused.append(f"{text} [{covering[0].source}: {covering[0].why}]")
        else:
            verdict.unexpected.append(text)
    for entry in applicable:
        if entry not in used and _check_ran(run, entry):
            verdict.stale.append(f"{run.label} {entry.key} ({entry.source}) passes now: remove the entry")
    for scenario, checks in run.scenarios.items():
        for check in checks:
            if check.get("status") == "WARNING":
                verdict.warnings.append(describe(run, scenario, check))
    return verdict


def _check_ran(run: Run, entry: Expected) -> bool:
    # A per-check entry whose check is absent or skipped (the scenario stopped before it) is not stale.
    checks = run.scenarios[entry.scenario]
    if entry.check is None:
        return True
    return any(c.get("id") == entry.check and c.get("status") not in ("SKIPPED", None) for c in checks)


def summary(run: Run) -> str:
    """Each scenario of the run, passed or failed, with its failed check ids."""
    lines = [f"{run.label}:"]
    for scenario, checks in run.scenarios.items():
        failed = sorted({str(c.get("id")) for c in checks if c.get("status") == "FAILURE"})
        lines.append(
            f"  {'FAIL' if failed else 'pass'} {scenario}" + (f" ({', '.join(failed)})" if failed else "")
        )
    return "\n".join(lines)
