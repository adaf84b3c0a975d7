"""Reading HTTP requests: the service behind the app, bodies and JSON within their limits,
multipart forms counted as they stream in. The routes live in :mod:`atelico.server.routes`."""

from __future__ import annotations

import json
from typing import IO, Any

from fastapi import Request

from atelico.errors import RequestError
from atelico.service import Service


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


async def read_body(request: Request, limit: int) -> bytes:
    """Read a request body, refusing more than ``limit`` bytes (413) without buffering it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(f"request body of {declared} bytes exceeds the limit of {limit}",
                           code="request.too_large", http_status=413, details={"max_bytes": limit})
    parts: list[bytes] = []
    size = 0
    async for block in request.stream():
        size += len(block)
        if size > limit:
            raise RequestError(f"request body exceeds the limit of {limit} bytes",
                               code="request.too_large", http_status=413, details={"max_bytes": limit})
        parts.append(block)
    return b"".join(parts)


async def read_json(request: Request) -> dict[str, Any]:
    raw = await read_body(request, 4 * 2**20)
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(f"body is not valid JSON: {exc}", code="request.invalid_json") from exc
    except RecursionError:  # e.g. 100,000 nested '[': the parser recurses once per level
        raise RequestError("body is nested too deeply to be a request", code="request.invalid_json") from None
    if not isinstance(body, dict):
        raise RequestError("body must be a JSON object", code="request.invalid_json")
    return body


async def read_form(request: Request) -> tuple[dict[str, Any], IO[bytes] | None, str | None]:
    """Parse a multipart upload, counting bytes as they stream in (see ``uploads``):
    (fields, the spooled file or None, file name). The file is closed with the request."""
    from atelico.server import uploads

    svc = service_of(request)
    limit = svc.settings.limits.max_upload_bytes
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise RequestError("send the audio as multipart/form-data with a 'file' field",
                           code="request.invalid_content_type")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + 65536:
        raise RequestError(f"upload of {declared} bytes exceeds the limit of {limit}",
                           code="request.too_large", http_status=413, details={"max_bytes": limit})
    form = await uploads.parse_form(request.stream(), ctype, max_file_bytes=limit)
    fields: dict[str, Any] = {}
    for key, value in form.items:
        if key.endswith("[]"):
            fields.setdefault(key[:-2], []).append(value)
        elif key in fields and isinstance(fields[key], list):
            fields[key].append(value)
        else:
            fields[key] = value
    return fields, form.file, form.filename
