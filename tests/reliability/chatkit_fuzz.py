"""A seeded generator of hostile ChatKit requests, and the checks every answer to one must pass.

Valid requests of every type in `chatkit.types.ChatKitReq` (on the attacker's own ids, or on the
victim's) are mutated: values of the wrong type, keys dropped or added, huge strings, huge ints,
NUL and lone surrogates, deep nesting, bogus cursors and ids, bodies that are not JSON at all,
wrong content types and bad tokens. Uploads (`POST /chatkit/upload/{id}`, `POST /chatkit/upload`)
get the same treatment with bad forms, wrong ids, other users' ids and bad or expired links.
"""

from __future__ import annotations

import copy
import json
import random
import string
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx2

from backend.attachment_links import AttachmentLinks
from tests.backend.conftest import user_input, user_token

# What no answer may contain: a traceback, a source path, an installed package's path.
LEAKS = ("Traceback", "/work/", "site-packages", '.py"', 'File "')
HUGE_INTS: list[Any] = [2**63, -(2**63) - 1, 2**64, 10**40, 2**1000, -(10**30)]
TYPES = [
    "threads.create",
    "threads.add_user_message",
    "threads.add_client_tool_output",
    "threads.add_structured_input",
    "threads.retry_after_item",
    "threads.custom_action",
    "threads.sync_custom_action",
    "threads.get_by_id",
    "threads.list",
    "items.list",
    "items.feedback",
    "attachments.create",
    "attachments.delete",
    "threads.update",
    "threads.delete",
    "input.transcribe",
]
BAD_TYPES = ["", "threads", "threads.create ", "THREADS.CREATE", "threads.nope", "items.*", "../etc", "\x00"]


@dataclass(frozen=True)
class Ids:
    """Real ids of one user: a thread, its first user message and reply, an attachment."""

    user: str
    thread: str
    user_item: str
    reply_item: str
    attachment: str


@dataclass(frozen=True)
class Case:
    """One hostile HTTP request."""

    label: str
    method: str
    path: str
    headers: dict[str, str]
    content: bytes

    def request(self, http: httpx2.AsyncClient) -> httpx2.Request:
        return http.build_request(self.method, self.path, headers=self.headers, content=self.content)


def base_requests(own: Ids, other: Ids) -> list[dict[str, Any]]:
    """One valid-looking request of every type, on the attacker's ids, and the same on the victim's."""
    requests = []
    for ids in (own, other):
        thread = ids.thread
        requests += [
            {"type": "threads.create", "params": {"input": user_input("add task fuzz", [ids.attachment])}},
            {"type": "threads.add_user_message", "params": {"thread_id": thread, "input": user_input("hi")}},
            {"type": "threads.add_client_tool_output", "params": {"thread_id": thread, "result": {"ok": 1}}},
            {
                "type": "threads.add_structured_input",
                "params": {
                    "thread_id": ids.thread,
                    "item_id": ids.reply_item,
                    "input": {"status": "answered", "answers": {"q": {"value": "x"}}},
                },
            },
            {"type": "threads.retry_after_item", "params": {"thread_id": thread, "item_id": ids.user_item}},
            {
                "type": "threads.custom_action",
                "params": {
                    "thread_id": ids.thread,
                    "item_id": ids.reply_item,
                    "action": {"type": "tasks.complete", "payload": {"task_id": "task_x"}},
                },
            },
            {
                "type": "threads.sync_custom_action",
                "params": {
                    "thread_id": ids.thread,
                    "item_id": ids.reply_item,
                    "action": {"type": "approval.approve", "payload": {}},
                },
            },
            {"type": "threads.get_by_id", "params": {"thread_id": ids.thread}},
            {"type": "threads.list", "params": {"limit": 5, "order": "desc", "after": ids.thread}},
            {"type": "items.list", "params": {"thread_id": ids.thread, "limit": 5, "after": ids.user_item}},
            {
                "type": "items.feedback",
                "params": {"thread_id": ids.thread, "item_ids": [ids.reply_item], "kind": "positive"},
            },
            {"type": "attachments.create", "params": {"name": "a.txt", "size": 3, "mime_type": "text/plain"}},
            {"type": "attachments.delete", "params": {"attachment_id": ids.attachment}},
            {"type": "threads.update", "params": {"thread_id": ids.thread, "title": "renamed"}},
            {"type": "threads.delete", "params": {"thread_id": ids.thread}},
            {"type": "input.transcribe", "params": {"audio_base64": "AAAA", "mime_type": "audio/wav"}},
        ]  # fmt: skip
    return requests


class Fuzzer:
    """Hostile requests from one seed: the same seed, the same sequence of mutations."""

    def __init__(self, seed: int, own: Ids, other: Ids, *, max_request_bytes: int) -> None:
        self.random = random.Random(seed)
        self.own, self.other = own, other
        self.max_request_bytes = max_request_bytes
        self.bases = base_requests(own, other)
        self.tokens = {
            "own": user_token(own.user),
            "other": user_token(other.user),
            "expired": user_token(own.user, exp=1),
            "wrong audience": user_token(own.user, aud="someone-else"),
            "no subject": user_token("", sub=None),
            "garbage": "not.a.jwt",
        }

    # -- values -------------------------------------------------------------------------------

    def hostile_value(self) -> Any:
        """A value no field expects (or one that looks right and is not)."""
        pick = self.random.randrange(24)
        other, own = self.other, self.own
        return [
            None,
            True,
            0,
            -1,
            self.random.choice(HUGE_INTS),
            1e308,
            "",
            " \t\n",
            "x" * self.random.choice([1_000, 100_000]),
            "\x00",
            "a\x00b",
            "\ud800",
            "lone \udfff tail",
            "😀" * 500,
            "../../etc/passwd",
            "'; DROP TABLE chat_threads; --",
            [],
            {},
            [self.random.randrange(10)] * 2_000,
            {f"k{n}": n for n in range(300)},
            self.random.choice([other.thread, other.user_item, other.reply_item, other.attachment]),
            self.random.choice(["thr_" + "0" * 40, "msg_missing", "atc_missing", "cursor:-1", "%00"]),
            self.random.choice([own.thread.upper(), own.thread + " ", " " + own.user_item]),
            self.nested(self.random.choice([30, 300])),
        ][pick]

    def nested(self, depth: int) -> Any:
        value: Any = "bottom"
        for _ in range(depth):
            value = [value] if self.random.random() < 0.5 else {"a": value}
        return value

    # -- structure ------------------------------------------------------------------------------

    def paths(self, document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Every path to a value inside `document` (dict keys and list indexes)."""
        found = [prefix] if prefix else []
        if isinstance(document, dict):
            for key, value in document.items():
                found += self.paths(value, (*prefix, key))
        elif isinstance(document, list):
            for index, value in enumerate(document):
                found += self.paths(value, (*prefix, index))
        return found

    @staticmethod
    def parent(document: Any, path: tuple[Any, ...]) -> Any:
        for step in path[:-1]:
            document = document[step]
        return document

    def mutate(self, document: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """One to three mutations of a copy of `document`; their names and the result."""
        document = copy.deepcopy(document)
        names = []
        for _ in range(self.random.choice([1, 1, 2, 3])):
            paths = self.paths(document)
            kind = self.random.choice(["replace", "replace", "drop", "extra", "type", "swap_ids"])
            if kind == "replace" and paths:
                path = self.random.choice(paths)
                self.parent(document, path)[path[-1]] = self.hostile_value()
            elif kind == "drop" and paths:
                path = self.random.choice(paths)
                container = self.parent(document, path)
                if isinstance(container, dict):
                    del container[path[-1]]
                elif container:
                    container.pop(path[-1])
            elif kind == "extra":
                dicts = [document] + [
                    value for path in paths if isinstance(value := self.value_at(document, path), dict)
                ]
                target = self.random.choice(dicts)
                key = self.random.choice(["extra", "__proto__", "metadata", "type", "id", "user_id", "\x00"])
                target[key] = self.hostile_value()
            elif kind == "type":
                document["type"] = self.random.choice(BAD_TYPES + TYPES)
            else:
                kind = "swap_ids"
                text = json.dumps(document)
                for mine, theirs in zip(self.own_ids(), self.other_ids(), strict=True):
                    text = text.replace(mine, theirs)
                document = json.loads(text)
            names.append(kind)
        return "+".join(names), document

    def own_ids(self) -> list[str]:
        own = self.own
        return [own.thread, own.user_item, own.reply_item, own.attachment]

    def other_ids(self) -> list[str]:
        other = self.other
        return [other.thread, other.user_item, other.reply_item, other.attachment]

    @staticmethod
    def value_at(document: Any, path: tuple[Any, ...]) -> Any:
        for step in path:
            document = document[step]
        return document

    # -- bodies ---------------------------------------------------------------------------------

    def raw_body(self) -> tuple[str, bytes]:
        """A body that is not a JSON ChatKit request at all."""
        base = json.dumps(self.random.choice(self.bases)).encode()
        pick = self.random.randrange(14)
        if pick == 0:
            return "empty", b""
        if pick == 1:
            return "truncated", base[: self.random.randrange(1, len(base))]
        if pick == 2:
            return "trailing garbage", base + b"}{,"
        if pick == 3:
            return "invalid utf-8", base.replace(b'"', b'"\xff\xfe', 1)
        if pick == 4:
            return "json scalar", self.random.choice([b"null", b"0", b'"threads.list"', b"true", b"1e999"])
        if pick == 5:
            return "json array", b"[" + base + b"]"
        if pick == 6:
            depth = self.random.choice([1_000, 100_000])
            return (
                "deep nesting",
                b'{"type":"threads.list","params":{"after":' + b"[" * depth + b"]" * depth + b"}}",
            )
        if pick == 7:
            return "nan and infinity", b'{"type":"threads.list","params":{"limit":NaN,"after":Infinity}}'
        if pick == 8:
            return "utf-8 bom", b"\xef\xbb\xbf" + base
        if pick == 9:
            return (
                "duplicate keys",
                b'{"type":"threads.list","type":"threads.delete","params":{"thread_id":"x"}}',
            )
        if pick == 10:
            return "random bytes", self.random.randbytes(self.random.randrange(1, 2_000))
        if pick == 11:
            return "form encoded", b"type=threads.list&params=%7B%7D"
        if pick == 12:
            near = self.max_request_bytes - 200
            return "just under the limit", self.padded(near)
        return "over the limit", self.padded(self.max_request_bytes + self.random.choice([1, 50_000]))

    def padded(self, size: int) -> bytes:
        """A threads.update whose title makes the body `size` bytes."""
        head = json.dumps({"type": "threads.update", "params": {"thread_id": self.own.thread, "title": ""}})
        return head.replace('"title": ""', '"title": "' + "t" * max(0, size - len(head)) + '"').encode()

    def headers(self) -> tuple[str, dict[str, str]]:
        """The attacker's headers, now and then with a wrong content type or a bad token."""
        headers = {"Authorization": f"Bearer {self.tokens['own']}", "Content-Type": "application/json"}
        pick = self.random.randrange(20)
        if pick == 0:
            headers["Content-Type"] = self.random.choice(
                [
                    "text/plain",
                    "multipart/form-data; boundary=x",
                    "application/xml",
                    "",
                    "application/json; charset=latin-1",
                ]
            )
            return "content type", headers
        if pick == 1:
            name = self.random.choice([n for n in self.tokens if n not in {"own", "other"}])
            headers["Authorization"] = f"Bearer {self.tokens[name]}"
            return f"{name} token", headers
        if pick == 2:
            headers["Authorization"] = self.random.choice(
                ["", "Bearer", "Basic YTpi", "Bearer a b", "bearer  "]
            )
            return "malformed authorization", headers
        if pick == 3:
            headers["X-Timezone"] = self.random.choice(
                ["../../etc/passwd", "Mars/Olympus", "x" * 300, "UTC\t"]
            )
            return "bad time zone", headers
        return "", headers

    def chatkit_case(self) -> Case:
        """One hostile POST /chatkit."""
        header_label, headers = self.headers()
        if self.random.random() < 0.2:
            label, body = self.raw_body()
        else:
            base = self.random.choice(self.bases)
            mutations, document = self.mutate(base)
            label, body = f"{base['type']}:{mutations}", json.dumps(document).encode()
        label = f"{label} [{header_label}]" if header_label else label
        path = self.random.choice(["/chatkit"] * 9 + ["/chatkit/api"])
        return Case(label, "POST", path, headers, body)

    # -- uploads --------------------------------------------------------------------------------

    def upload_case(self, links: AttachmentLinks, pending: str, max_upload_bytes: int) -> Case:
        """One hostile upload: to an attachment URL (`pending` is one of the attacker's) or direct."""
        rng = self.random
        content = rng.choice(
            [b"", b"abc", b"\x00" * 10, rng.randbytes(200), b"x" * (max_upload_bytes + rng.choice([1, 4096]))]
        )
        auth = rng.choice(["own", "own", "other", "expired", "garbage", None])
        headers = {"Authorization": f"Bearer {self.tokens[auth]}"} if auth else {}
        if rng.random() < 0.5:
            target = rng.choice(
                [
                    pending,
                    self.own.attachment,
                    self.other.attachment,
                    "atc_missing",
                    "%00",
                    "%ED%A0%80",
                    "x" * 3_000,
                    "%2e%2e",
                ]
            )
            link = rng.choice(
                ["none", "valid", "other user", "expired", "download", "other attachment", "garbage"]
            )
            query = ""
            if link != "none":
                signer, user, ttl = target, self.own.user, 600
                if link == "other user":
                    user = self.other.user
                elif link == "expired":
                    ttl = -60
                elif link == "other attachment":
                    signer = self.other.attachment
                if link == "garbage":
                    token = "".join(rng.choices(string.ascii_letters + "._-", k=40))
                elif link == "download":
                    token = links.download_url(signer, user).split("token=", 1)[1]
                else:
                    token = links.upload_url(signer, user, ttl_seconds=ttl).split("token=", 1)[1]
                query = f"?token={token}"
            body_label, body, content_type = self.form(content)
            if content_type:
                headers["Content-Type"] = content_type
            named = "pending" if target == pending else target[:20]
            label = f"upload/{{id}} target={named} link={link} auth={auth} {body_label}"
            return Case(label, "POST", f"/chatkit/upload/{target}{query}", headers, body)
        body_label, body, content_type = self.form(content, direct=True)
        if content_type:
            headers["Content-Type"] = content_type
        return Case(f"upload direct auth={auth} {body_label}", "POST", "/chatkit/upload", headers, body)

    def form(self, content: bytes, *, direct: bool = False) -> tuple[str, bytes, str | None]:
        """A multipart form around `content` (broken now and then), or the raw bytes."""
        rng = self.random
        boundary = "fuzzboundary"
        filename = rng.choice(
            ["a.txt", "", "a\x00.txt", "x" * 5_000 + ".txt", "../../evil.exe", "pic.png", "😀.pdf"]
        )
        part_type = rng.choice(
            ["text/plain", "image/png", "application/x-msdownload", "", "text/plain; x=\x00"]
        )
        field_name = rng.choice(["file", "file", "other"])
        pick = rng.randrange(8 if direct else 9)
        part = (
            (
                f"--{boundary}\r\nContent-Disposition: form-data; "
                f'name="{field_name}"; filename="{filename}"\r\n'
                + (f"Content-Type: {part_type}\r\n" if part_type else "")
                + "\r\n"
            ).encode("utf-8", "surrogatepass")
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        if pick <= 2:
            return (
                f"form({field_name}, {filename[:12]!r}, {part_type!r}, {len(content)} B)",
                part,
                f"multipart/form-data; boundary={boundary}",
            )
        if pick == 3:
            return "form without boundary", part, "multipart/form-data"
        if pick == 4:
            return "form with another boundary", part, "multipart/form-data; boundary=other"
        if pick == 5:
            return "form cut short", part[: len(part) // 2], f"multipart/form-data; boundary={boundary}"
        if pick == 6:
            plain = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"\r\n\r\n'
                f"plain value\r\n--{boundary}--\r\n"
            )
            return "form with a plain field", plain.encode(), f"multipart/form-data; boundary={boundary}"
        if pick == 7:
            return "form of random bytes", rng.randbytes(300), f"multipart/form-data; boundary={boundary}"
        return (
            f"raw bytes ({len(content)} B)",
            content,
            rng.choice([None, "application/octet-stream", "text/plain"]),
        )


@dataclass
class Tally:
    """What the answers were: counts by status, and every answer that broke a rule."""

    statuses: Counter[str] = field(default_factory=Counter)
    stream_errors: int = 0
    failures: list[str] = field(default_factory=list)

    def check(self, case: Case, response: httpx2.Response | None, problem: str | None = None) -> None:
        """Count the answer and note a 5xx, a hang, a 4xx without the JSON error body, or a leak."""
        if response is None:
            self.statuses[problem or "no answer"] += 1
            self.failures.append(f"{problem}: {case.label}")
            return
        self.statuses[str(response.status_code)] += 1
        body = response.content.decode("utf-8", "replace")
        if response.status_code >= 500:
            self.failures.append(f"{response.status_code}: {case.label}: {body[:200]}")
        elif response.status_code >= 400:
            try:
                error = response.json()["error"]
                assert isinstance(error["code"], str) and error["code"]
                assert isinstance(error["message"], str) and error["message"]
            except (ValueError, KeyError, TypeError, AssertionError):
                self.failures.append(
                    f"{response.status_code} without an error body: {case.label}: {body[:200]}"
                )
        elif response.headers.get("content-type", "").startswith("text/event-stream"):
            self.stream_errors += body.count('"type":"error"')
        for leak in LEAKS:
            if leak in body:
                self.failures.append(f"{leak!r} in the answer: {case.label}: {body[:300]}")

    def counts(self) -> str:
        return ", ".join(f"{status}: {count}" for status, count in sorted(self.statuses.items()))
