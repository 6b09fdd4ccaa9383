"""What kind of file an attachment is: which uploads are allowed (`UPLOAD_ALLOWED_TYPES`), what the
model is given of each kind, and whether uploaded bytes contradict the type they were declared as."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Literal

Kind = Literal["image", "text", "pdf", "other"]

# The raster images every provider we support accepts as image input.
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "application/x-pdf": "application/pdf"}
PDF_TYPE = "application/pdf"
# A type that says nothing: such an upload is judged by its file name's extension.
GENERIC_TYPES = frozenset({"application/octet-stream", "binary/octet-stream"})
# Non-`text/*` types whose content is text: data formats and source code.
TEXT_APPLICATION_TYPES = frozenset(
    {
        "application/json",
        "application/ld+json",
        "application/x-ndjson",
        "application/jsonl",
        "application/xml",
        "application/yaml",
        "application/x-yaml",
        "application/toml",
        "application/x-toml",
        "application/csv",
        "application/sql",
        "application/graphql",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "application/typescript",
        "application/x-typescript",
        "application/x-python",
        "application/x-python-code",
        "application/x-sh",
        "application/x-shellscript",
        "application/x-httpd-php",
        "application/x-perl",
        "application/x-ruby",
        "application/x-tex",
        "application/x-latex",
    }
)
# Extensions read as text whatever type the browser declared (it often has none for source code).
_TEXT_EXTENSIONS = (
    ".txt .text .md .markdown .mdx .rst .adoc .org .csv .tsv .json .jsonl .ndjson .xml .yaml .yml "
    ".toml .ini .cfg .conf .env .properties .log .sql .graphql .gql .html .htm .css .scss .sass .less "
    ".py .pyi .ipynb .js .mjs .cjs .jsx .ts .tsx .mts .cts .vue .svelte .java .kt .kts .scala .groovy "
    ".gradle .c .h .cc .cpp .cxx .hpp .hh .cs .fs .go .rs .rb .php .pl .pm .lua .r .jl .swift .m .mm "
    ".dart .ex .exs .erl .hs .clj .elm .ml .nim .zig .sh .bash .zsh .fish .ps1 .bat .cmd .tf .hcl "
    ".proto .tex .bib .diff .patch .dockerfile .make .mk .cmake .gitignore .editorconfig"
)
TEXT_EXTENSIONS = frozenset(_TEXT_EXTENSIONS.split())
TEXT_FILE_NAMES = frozenset({"dockerfile", "makefile", "readme", "license", "changelog"})
# Default allowlist: the images above, text (markdown, CSV, source code), JSON, XML, YAML, PDF.
DEFAULT_UPLOAD_TYPES = (*sorted(IMAGE_TYPES), "text/*", PDF_TYPE, *sorted(TEXT_APPLICATION_TYPES))
SNIFF_BYTES = 1024
# Signatures of formats that are certainly not text (and not the image or PDF they would have to be).
BINARY_SIGNATURES = {
    b"PK\x03\x04": "a ZIP archive",
    b"\x1f\x8b": "gzip data",
    b"\x7fELF": "an executable",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": "an Office document",
    b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive",
    b"Rar!\x1a\x07": "a RAR archive",
}


def media_type(mime_type: str) -> str:
    """`type/subtype`, lowercased, without parameters, with common aliases resolved."""
    plain = mime_type.split(";", 1)[0].strip().lower()
    return ALIASES.get(plain, plain)


def _text_name(name: str) -> bool:
    path = PurePosixPath(name.strip().lower().replace("\\", "/"))
    return path.suffix in TEXT_EXTENSIONS or path.name in TEXT_FILE_NAMES or path.name in TEXT_EXTENSIONS


def kind_of(mime_type: str, name: str) -> Kind:
    """What the model gets of a file: an image, its text, a PDF's text, or only a note.

    By MIME type first; a file declared with a generic type (or another that is not text) whose
    name has a text or source-code extension is text too."""
    declared = media_type(mime_type)
    if declared in IMAGE_TYPES:
        return "image"
    if declared == PDF_TYPE:
        return "pdf"
    if (
        declared.startswith("text/")
        or declared in TEXT_APPLICATION_TYPES
        or declared.endswith(("+json", "+xml", "+yaml"))
    ):
        return "text"
    return "text" if _text_name(name) else "other"


def sniff(content: bytes) -> str | None:
    """The image or PDF type the bytes start with, a description of another binary format they
    certainly are, or None."""
    head = content[:SNIFF_BYTES]
    if head.startswith(b"\x89PNG"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if b"%PDF-" in head:  # readers accept the header anywhere in the first KiB
        return PDF_TYPE
    for signature, description in BINARY_SIGNATURES.items():
        if head.startswith(signature):
            return description
    return None


def contradiction(mime_type: str, name: str, content: bytes) -> str | None:
    """Why `content` cannot be the file it was declared as, or None.

    Kept simple: an image or PDF must carry its format's signature; a file that will be read as
    text must not be an image, a PDF or another known binary format. Other types are not checked."""
    kind, found = kind_of(mime_type, name), sniff(content)
    declared = media_type(mime_type)
    if kind in ("image", "pdf") and found != declared:
        return f"The file is not {_article(declared)}: its content is {_described(found)}."
    if kind == "text" and found is not None:
        return f"The file was declared as text ({declared}), but its content is {_described(found)}."
    return None


def _article(mime_type: str) -> str:
    return "a PDF" if mime_type == PDF_TYPE else f"{mime_type.removeprefix('image/').upper()} image"


def _described(found: str | None) -> str:
    if found is None:
        return "of another kind"
    if found == PDF_TYPE:
        return "a PDF"
    return _article(found) if found in IMAGE_TYPES else found


class UploadTypes:
    """The allowlist of upload types: MIME types and `type/*` patterns, matched case-insensitively
    without parameters. A file declared with a generic type (`application/octet-stream`) is allowed
    when its name has a text or source-code extension and text is allowed."""

    def __init__(self, patterns: list[str] | tuple[str, ...]) -> None:
        self.patterns = tuple(dict.fromkeys(media_type(pattern) for pattern in patterns if pattern.strip()))

    def allows(self, mime_type: str, name: str) -> bool:
        """Whether a file of this declared type and name may be uploaded."""
        declared = media_type(mime_type)
        if self._matches(declared):
            return True
        return declared in GENERIC_TYPES and _text_name(name) and self._matches("text/plain")

    def refusal(self, mime_type: str, name: str) -> str | None:
        """Why this upload is refused (naming its type and the allowed ones), or None."""
        if self.allows(mime_type, name):
            return None
        allowed = ", ".join(self.patterns) or "none"
        return f"Files of type '{media_type(mime_type)[:80]}' cannot be attached. Allowed types: {allowed}."

    def _matches(self, declared: str) -> bool:
        return any(
            pattern in (declared, "*/*", "*")
            or (pattern.endswith("/*") and declared.startswith(pattern[:-1]))
            for pattern in self.patterns
        )
