"""Structured JSON logs that carry the request id and never a token."""

from __future__ import annotations

import contextvars
import logging
import re
import sys
from typing import Any

from urbanos.core import jsontext

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("urbanos_request_id", default="")

_SECRET = re.compile(r"(?i)(bearer\s+|uos_)[A-Za-z0-9._~+/=-]+|ey[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_STD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def redact(text: str) -> str:
    return _SECRET.sub(lambda m: (m.group(1) or "") + "[redacted]", text)


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        rid = request_id_var.get()
        if rid:
            out["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STD and not key.startswith("_"):
                out[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            out["exc"] = redact(self.formatException(record.exc_info))
        return jsontext.dumps(out)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        rid = request_id_var.get()
        base = f"{self.formatTime(record, '%H:%M:%S')} {record.levelname.lower():7} {record.name}: {redact(record.getMessage())}"
        if rid:
            base += f" [{rid}]"
        if record.exc_info:
            base += "\n" + redact(self.formatException(record.exc_info))
        return base


def configure_logging(level: str = "info", fmt: str = "json") -> None:
    root = logging.getLogger("urbanos")
    for h in list(root.handlers):
        if getattr(h, "_urbanos", False):
            root.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter() if fmt == "json" else TextFormatter())
    handler._urbanos = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = False


__all__ = ["request_id_var", "configure_logging", "JSONFormatter", "redact"]
