"""The features service: collections visible to a caller, items queries, writes (filled in below)."""

from __future__ import annotations

from typing import Any


class FeaturesService:
    def __init__(self, platform: Any) -> None:
        self.platform = platform
