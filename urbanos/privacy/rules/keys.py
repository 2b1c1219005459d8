"""Pseudonymisation keys, one per purpose and period, kept outside the database.

A key is the environment variable ``URBANOS_PSEUDONYM_KEY_<PURPOSE>_<PERIOD>`` (hex, ``-`` in the purpose written
``_``, e.g. ``URBANOS_PSEUDONYM_KEY_WIFI_PRESENCE_2026_12``) or the file ``<data_dir>/keys/<purpose>.<period>.key``
(32 random bytes, made on first use with 0600 rights in a 0700 folder). Destroying a key (``urbanos privacy
shred-key``) is crypto-shredding: the pseudonyms made with it can no longer be linked to anyone, not even by the
platform; a key made afterwards for the same purpose and period is a new random key."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from urbanos.errors import NotFound, ServiceUnavailable, ValidationFailed

_PERIOD = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_PURPOSE = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")


def period_id(period: str, now: datetime | None = None) -> str:
    """The current period's name: ``2026`` (year), ``2026-12`` (month) or ``2026-12-06`` (day)."""
    t = now or datetime.now(UTC)
    return {"year": f"{t.year:04d}", "month": f"{t.year:04d}-{t.month:02d}"}.get(period, t.strftime("%Y-%m-%d"))


def _env_name(purpose: str, period: str) -> str:
    return f"URBANOS_PSEUDONYM_KEY_{purpose.upper().replace('-', '_')}_{period.replace('-', '_')}"


class KeyStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._keys: dict[tuple[str, str], tuple[bytes, float]] = {}
        self._lock = threading.Lock()

    def _file(self, purpose: str, period: str) -> Path:
        if not _PURPOSE.match(purpose) or not _PERIOD.match(period):
            raise ValidationFailed(f"{purpose!r}/{period!r} is not a purpose and period.", status=422,
                                   detail={"purpose": ["lower-case letters, digits and '-'"],
                                           "period": ["2026, 2026-12 or 2026-12-06"]})
        return self.folder / f"{purpose}.{period}.key"

    def key(self, purpose: str, period: str) -> bytes:
        """The key of ``purpose`` and ``period`` (made on first use unless the environment holds it)."""
        found = self._keys.get((purpose, period))
        if found is not None:
            if time.monotonic() - found[1] < 1.0:
                return found[0]
            if os.environ.get(_env_name(purpose, period)) or self._file(purpose, period).exists():
                self._keys[(purpose, period)] = (found[0], time.monotonic())
                return found[0]
            self._keys.pop((purpose, period), None)  # shredded by another process: never use it again
        with self._lock:
            env = os.environ.get(_env_name(purpose, period))
            if env:
                try:
                    key = bytes.fromhex(env)
                except ValueError:
                    raise ServiceUnavailable(f"{_env_name(purpose, period)} is not hex; no pseudonyms can be made.",
                                             code="privacy_rule_unavailable") from None
            else:
                path = self._file(purpose, period)
                if path.exists():
                    key = path.read_bytes()
                else:
                    self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                    key = secrets.token_bytes(32)
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "wb") as f:
                        f.write(key)
            if len(key) < 16:
                raise ServiceUnavailable(f"The pseudonymisation key of {purpose!r} ({period}) is shorter than 16 bytes.",
                                         code="privacy_rule_unavailable")
            self._keys[(purpose, period)] = (key, time.monotonic())
            return key

    def pseudonym(self, purpose: str, period: str, value: object) -> str:
        mac = hmac.new(self.key(purpose, period), str(value).encode(), hashlib.sha256)
        return "pn:" + mac.hexdigest()[:32]

    def shred(self, purpose: str, period: str) -> Path:
        """Overwrite and delete the key file of ``purpose`` and ``period`` (NotFound when there is none)."""
        path = self._file(purpose, period)
        with self._lock:
            self._keys.pop((purpose, period), None)
            if not path.exists():
                raise NotFound(f"There is no key file for purpose {purpose!r} and period {period} in {self.folder}.")
            size = path.stat().st_size
            with path.open("r+b") as f:
                f.write(secrets.token_bytes(max(size, 32)))
                f.flush()
                os.fsync(f.fileno())
            path.unlink()
        return path

    def forget(self) -> None:
        """Drop the keys held in memory (another process shredded one)."""
        with self._lock:
            self._keys.clear()


__all__ = ["KeyStore", "period_id"]
