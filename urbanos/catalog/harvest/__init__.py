"""Hooks the capability's component calls. Filled in by this sub-package's implementation."""

from __future__ import annotations

from typing import Any

SETTINGS: tuple[Any, ...] = ()


def mount(app: Any, platform: Any) -> None:
    return None


async def startup(platform: Any) -> None:
    return None


async def shutdown(platform: Any) -> None:
    return None


def cli_commands() -> list[Any]:
    return []
