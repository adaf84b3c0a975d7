"""The one mapping from exceptions to HTTP error responses: ``{"error": {code, message,
type, details?}}`` with the error's status, for every route and every refusal."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from atelico.errors import AtelicoError, RequestError
from atelico.server.security import SECURITY_HEADERS

#: Starlette's own HTTP errors (no route, wrong method, ...) as documented error codes.
HTTP_ERROR_CODES = {404: "route.not_found", 405: "route.method_not_allowed"}


def error_response(exc: AtelicoError) -> JSONResponse:
    """The response for ``exc``, with the security headers (a crash's 500 is sent from
    outside every middleware)."""
    body = exc.to_dict()
    body["type"] = "invalid_request_error" if exc.http_status < 500 else "server_error"
    return JSONResponse({"error": body}, status_code=exc.http_status, headers=SECURITY_HEADERS)


def as_atelico_error(request: Request, exc: Exception) -> AtelicoError:
    """Any exception a route raises, as the AtelicoError it answers (unknown ones become
    ``engine.failed``, logged)."""
    if isinstance(exc, AtelicoError):
        return exc
    if isinstance(exc, StarletteHTTPException):
        code = HTTP_ERROR_CODES.get(exc.status_code, "request.invalid")
        path = request.url.path[:200]
        message = {404: f"no route {path!r}", 405: f"{request.method} is not allowed on {path!r}"}.get(
            exc.status_code, str(exc.detail)[:300])
        return AtelicoError(message, code=code, http_status=exc.status_code)
    if isinstance(exc, RequestValidationError):
        return RequestError(str(exc.errors())[:500], code="request.invalid")
    from atelico.service import engine_error

    return engine_error(exc)


def install_error_handlers(app: FastAPI, record: Any) -> None:
    """Answer every exception with :func:`error_response`; ``record(err, path)`` keeps the
    server-side ones (5xx) for ``/v1/status``."""

    async def handle(request: Request, exc: Exception) -> Response:
        err = as_atelico_error(request, exc)
        if err.http_status >= 500:
            record(err, request.url.path)
        response = error_response(err)
        if isinstance(exc, StarletteHTTPException):
            for name, value in (exc.headers or {}).items():  # e.g. Allow on a 405
                response.headers[name] = value
        return response

    for kind in (AtelicoError, StarletteHTTPException, RequestValidationError, Exception):
        app.add_exception_handler(kind, handle)
