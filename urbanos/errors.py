"""The one error tree of urbanos.

Every error a user can see derives from :class:`UrbanosError`. It carries an HTTP
status, a machine code and a message that is safe to show. Only ``urbanos.web``
renders errors; each standard API registers its own renderer there.
"""

from __future__ import annotations

import math
from typing import Any


class UrbanosError(Exception):
    """Base class: ``status`` (HTTP), ``code`` (machine-readable), ``message`` (safe to show)."""

    status: int = 500
    code: str = "internal_error"

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        status: int | None = None,
        detail: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        log_message: str | None = None,
    ) -> None:
        self.message = message or self.__class__.__doc__ or self.code
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        # Field messages or other structured detail, safe to show.
        self.detail = detail or {}
        self.headers = headers or {}
        # What goes to the log (may be more precise than the message shown).
        self.log_message = log_message or self.message
        super().__init__(self.message)


class BadRequest(UrbanosError):
    """The request is malformed."""

    status = 400
    code = "bad_request"


class ValidationFailed(UrbanosError):
    """The request is well formed but its content is invalid."""

    status = 400
    code = "validation_failed"


class Unauthorized(UrbanosError):
    """Authentication is missing or invalid."""

    status = 401
    code = "unauthorized"

    def __init__(self, message: str = "A valid bearer token is required.", **kw: Any) -> None:
        headers = kw.pop("headers", None) or {}
        headers.setdefault("WWW-Authenticate", 'Bearer realm="urbanos"')
        super().__init__(message, headers=headers, **kw)


class Forbidden(UrbanosError):
    """The caller is authenticated but lacks the role for this action."""

    status = 403
    code = "forbidden"


class NotFound(UrbanosError):
    """The resource does not exist, or the caller may not know that it exists."""

    status = 404
    code = "not_found"


class MethodNotAllowed(UrbanosError):
    """This method is not allowed here."""

    status = 405
    code = "method_not_allowed"


class Conflict(UrbanosError):
    """The request conflicts with the current state."""

    status = 409
    code = "conflict"


class PayloadTooLarge(UrbanosError):
    """The request body is larger than the configured limit."""

    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(UrbanosError):
    """The content type of the request body is not supported here."""

    status = 415
    code = "unsupported_media_type"


class TooManyRequests(UrbanosError):
    """The server is overloaded; retry later."""

    status = 429
    code = "too_many_requests"


class NotImplementedFeature(UrbanosError):
    """This operation is not implemented."""

    status = 501
    code = "not_implemented"


class ServiceUnavailable(UrbanosError):
    """A dependency is unavailable."""

    status = 503
    code = "service_unavailable"


class RequestTimeout(UrbanosError):
    """The request took longer than the configured limit."""

    status = 503
    code = "request_timeout"


class ConfigError(UrbanosError):
    """A setting has a bad value. The message names the setting and the fix."""

    status = 500
    code = "config_error"


class StorageError(UrbanosError):
    """The database failed."""

    status = 503
    code = "storage_error"


def _retry_headers(retry_after: float, headers: dict[str, str] | None) -> dict[str, str]:
    """``headers`` with ``Retry-After`` in whole seconds (at least 1), unless they name one already."""
    out = dict(headers or {})
    if not any(k.lower() == "retry-after" for k in out):
        out["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return out


class Overloaded(ServiceUnavailable):
    """The server has more work of this kind than it can finish in time; retry after ``retry_after`` seconds."""

    code = "overloaded"

    def __init__(self, message: str = "", *, retry_after: float = 1.0, **kw: Any) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(message, headers=_retry_headers(retry_after, kw.pop("headers", None)), **kw)


class RateLimited(TooManyRequests):
    """The caller sent more requests than its rate allows; retry after ``retry_after`` seconds."""

    code = "rate_limited"

    def __init__(self, message: str = "", *, retry_after: float = 1.0, **kw: Any) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(message, headers=_retry_headers(retry_after, kw.pop("headers", None)), **kw)


class StorageUnavailable(StorageError):
    """The database cannot do this now for a reason that passes by itself; retry after ``retry_after`` seconds."""

    code = "storage_unavailable"

    def __init__(self, message: str = "", *, retry_after: float = 5.0, **kw: Any) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(message, headers=_retry_headers(retry_after, kw.pop("headers", None)), **kw)


class DatabaseDown(StorageUnavailable):
    """The database does not answer."""

    code = "database_unavailable"


class DiskFull(StorageUnavailable):
    """The database's disk is full: writes fail until space is freed."""

    code = "disk_full"


class ReadOnlyStorage(StorageUnavailable):
    """The database is read-only: writes fail until it is writable again."""

    code = "read_only"


__all__ = [
    "UrbanosError",
    "BadRequest",
    "ValidationFailed",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "MethodNotAllowed",
    "Conflict",
    "PayloadTooLarge",
    "UnsupportedMediaType",
    "TooManyRequests",
    "NotImplementedFeature",
    "ServiceUnavailable",
    "RequestTimeout",
    "ConfigError",
    "StorageError",
    "Overloaded",
    "RateLimited",
    "StorageUnavailable",
    "DatabaseDown",
    "DiskFull",
    "ReadOnlyStorage",
]
