"""Streaming multipart/form-data parsing with limits counted as the bytes arrive.

Starlette's form parser trusts ``Content-Length``: a chunked upload bypassed
``max_upload_bytes`` (a 400 MiB file part was spooled in full before the 413) and kept text
fields of 100 MiB each in memory. :func:`parse_form` feeds the body to ``python-multipart``
block by block and refuses (413 ``request.too_large``, with ``details.limit`` saying which)
as soon as

- the ``file`` part passes ``max_file_bytes`` (``limit: "file"``),
- a text field passes :data:`MAX_FIELD_BYTES` (``limit: "field"``),
- the form has more than :data:`MAX_PARTS` parts (``limit: "parts"``),
- the body as a whole passes the file limit plus the room the text fields may take
  (``limit: "body"``; part headers and boundaries count too).

The file part is spooled to a temporary file (in memory up to :data:`SPOOL_MEMORY_BYTES`,
then on disk, written from a worker thread); a full disk while spooling is a 507
``server.disk_full``, not a client error.
"""

from __future__ import annotations

import asyncio
import errno
import tempfile
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, AsyncIterable, Callable, cast

from atelico.errors import AtelicoError, RequestError

MAX_FIELD_BYTES = 64 * 1024
MAX_PARTS = 32
MAX_HEADER_BYTES = 16 * 1024
SPOOL_MEMORY_BYTES = 1 << 20
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def spool_file() -> IO[bytes]:
    """Where a file part goes while it arrives (tests replace this to simulate a full disk)."""
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES, prefix="atelico-upload-")


def too_large(message: str, limit: str, max_bytes: int) -> RequestError:
    return RequestError(message, code="request.too_large", http_status=413,
                        details={"limit": limit, "max_bytes": max_bytes})


def disk_full(exc: OSError) -> AtelicoError:
    return AtelicoError(f"the sidecar's disk is full; the upload could not be stored ({exc.strerror})",
                        code="server.disk_full", http_status=507)


@dataclass
class Form:
    """The parsed form: text fields in order (name, value) and the spooled ``file`` part."""

    items: list[tuple[str, str]] = field(default_factory=list)
    file: IO[bytes] | None = None
    filename: str | None = None
    file_bytes: int = 0

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


class _Collector:
    """python-multipart callbacks: headers, field values and the file, each within its limit."""

    def __init__(self, form: Form, max_file_bytes: int, make_spool: Callable[[], IO[bytes]]) -> None:
        self.form = form
        self.max_file_bytes = max_file_bytes
        self.make_spool = make_spool
        self.parts = 0
        self.header_bytes = 0
        self.headers: dict[bytes, bytes] = {}
        self._name = b""
        self._value = b""
        self.kind: str | None = None  # "field", "file" or "skip" (a file part not named file)
        self.buf = bytearray()

    # headers ---------------------------------------------------------------------------
    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise too_large(f"the form has more than {MAX_PARTS} parts", "parts", MAX_PARTS)
        self.headers, self.header_bytes, self.kind = {}, 0, None
        self._name = self._value = b""
        self.buf = bytearray()

    def _count_header(self, n: int) -> None:
        self.header_bytes += n
        if self.header_bytes > MAX_HEADER_BYTES:
            raise too_large(f"a part's headers exceed {MAX_HEADER_BYTES} bytes", "field", MAX_HEADER_BYTES)

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self._name.strip().lower()] = self._value.strip()
        self._name = self._value = b""

    def on_headers_finished(self) -> None:
        from python_multipart.multipart import parse_options_header

        disposition = self.headers.get(b"content-disposition")
        if not disposition:
            raise RequestError("a form part has no Content-Disposition header", code="request.invalid_form")
        _, options = parse_options_header(disposition)
        self.field_name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is None:
            self.kind = "field"
        elif self.field_name == "file":
            if self.form.file is not None:
                raise RequestError("the form has more than one 'file' part", code="request.invalid_form")
            self.kind = "file"
            self.form.filename = filename.decode("utf-8", "replace")
            self.form.file = self._spool(self.make_spool)
        else:
            self.kind = "skip"

    # data ------------------------------------------------------------------------------
    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        n = end - start
        if self.kind == "field":
            if len(self.buf) + n > MAX_FIELD_BYTES:
                raise too_large(f"form field '{self.field_name[:64]}' exceeds {MAX_FIELD_BYTES} bytes",
                                "field", MAX_FIELD_BYTES)
            self.buf += data[start:end]
        elif self.kind == "file":
            self.form.file_bytes += n
            if self.form.file_bytes > self.max_file_bytes:
                raise too_large(f"upload exceeds the limit of {self.max_file_bytes} bytes", "file",
                                self.max_file_bytes)
            assert self.form.file is not None
            self._spool(self.form.file.write, data[start:end])

    def on_part_end(self) -> None:
        if self.kind == "field":
            try:
                value = bytes(self.buf).decode("utf-8")
            except UnicodeDecodeError:
                raise RequestError(f"form field '{self.field_name[:64]}' is not UTF-8",
                                   code="request.invalid_form") from None
            self.form.items.append((self.field_name, value))
        self.buf = bytearray()

    @staticmethod
    def _spool(fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except OSError as exc:
            if exc.errno in DISK_FULL:
                raise disk_full(exc) from exc
            raise

    def callbacks(self) -> dict[str, Callable[..., Any]]:
        return {name: getattr(self, name) for name in (
            "on_part_begin", "on_part_data", "on_part_end", "on_header_field", "on_header_value",
            "on_header_end", "on_headers_finished")}


def boundary_of(content_type: str) -> bytes:
    from python_multipart.multipart import parse_options_header

    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise RequestError("the multipart Content-Type has no usable boundary", code="request.invalid_form")
    return boundary


async def parse_form(chunks: AsyncIterable[bytes], content_type: str, *, max_file_bytes: int,
                     make_spool: Callable[[], IO[bytes]] | None = None) -> Form:
    """Parse a multipart body arriving as ``chunks`` (see the module docstring for limits)."""
    from python_multipart.multipart import MultipartParser

    if TYPE_CHECKING:
        from python_multipart.multipart import MultipartCallbacks

    form = Form()
    collector = _Collector(form, max_file_bytes, make_spool or spool_file)
    callbacks = cast("MultipartCallbacks", collector.callbacks())
    parser = MultipartParser(boundary_of(content_type), callbacks)
    max_body = max_file_bytes + MAX_PARTS * (MAX_FIELD_BYTES + MAX_HEADER_BYTES)
    received = 0
    try:
        async for chunk in chunks:
            received += len(chunk)
            if received > max_body:
                raise too_large(f"request body exceeds {max_body} bytes", "body", max_body)
            if form.file_bytes >= SPOOL_MEMORY_BYTES:  # the spool is a file on disk now:
                await asyncio.to_thread(parser.write, chunk)  # its writes leave the event loop
            else:
                parser.write(chunk)
        parser.finalize()
    except AtelicoError:
        form.close()
        raise
    except Exception as exc:  # python-multipart's parse errors
        form.close()
        raise RequestError(f"could not read the multipart form: {exc}", code="request.invalid_form") from exc
    if form.file is not None:
        form.file.seek(0)
    return form
