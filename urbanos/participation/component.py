"""The participation capability's component (minimal: participatory budgets only; the hooks load
:mod:`urbanos.participation.budget.wiring`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from urbanos.plugins import Component

if TYPE_CHECKING:
    import click

    from urbanos.platform import Platform
    from urbanos.storage import Migration


class ParticipationComponent(Component):
    name = "participation"

    def migrations(self) -> list[Migration]:
        from urbanos.participation.budget import wiring

        return wiring.migrations()

    def setup(self, platform: Platform) -> None:
        from urbanos.participation.budget import wiring

        wiring.setup(platform)

    def mount(self, app: Any, platform: Platform) -> None:
        from urbanos.participation.budget import wiring

        wiring.mount(app, platform)

    def openapi(self, platform: Platform) -> dict[str, Any]:
        from urbanos.participation.budget import wiring

        return wiring.openapi_part()

    def cli_commands(self) -> list[click.Command]:
        from urbanos.participation.budget.cli import budget

        return [budget]

    def landing_links(self, platform: Platform) -> list[dict[str, str]]:
        from urbanos.participation.budget import wiring

        return wiring.landing_links(platform)

    def demo(self, platform: Platform) -> None:
        from urbanos.participation.budget import wiring

        wiring.demo(platform)


__all__ = ["ParticipationComponent"]
