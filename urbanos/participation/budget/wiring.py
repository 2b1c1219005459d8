"""How participatory budgets plug into the platform (called by the participation component):
``platform.services["budgets"]`` holds the :class:`~urbanos.participation.budget.service.BudgetService`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import ChoiceLoader, FileSystemLoader
from starlette.staticfiles import StaticFiles

from urbanos.participation.budget import demo as demo_data
from urbanos.participation.budget import routes
from urbanos.participation.budget.cli import budget
from urbanos.participation.budget.openapi import openapi_part
from urbanos.participation.budget.schema import MIGRATIONS
from urbanos.participation.budget.service import BudgetService

if TYPE_CHECKING:
    import click

    from urbanos.platform import Platform
    from urbanos.storage import Migration


def migrations() -> list[Migration]:
    return list(MIGRATIONS)


def setup(platform: Platform) -> None:
    platform.services["budgets"] = BudgetService(platform)


def add_templates(platform: Platform) -> None:
    """Let the pages find this package's templates (the platform's loader looks beside the component module; these
    live beside the budgets, so that the participation component need not know them)."""
    env = platform.services.get("jinja")
    folder = str(Path(__file__).parent / "templates")
    if env is not None and isinstance(env.loader, ChoiceLoader):
        if not any(isinstance(x, FileSystemLoader) and folder in x.searchpath for x in env.loader.loaders):
            env.loader.loaders = [*env.loader.loaders, FileSystemLoader(folder)]


def mount(app: Any, platform: Platform) -> None:
    add_templates(platform)
    service = platform.services.get("budgets")
    if isinstance(service, BudgetService):
        routes.mount(app, service)
        app.mount("/participation/budget-static", StaticFiles(directory=str(Path(__file__).parent / "static")),
                  name="budget-static")


def cli_commands() -> list[click.Command]:
    return [budget]


def landing_links(platform: Platform) -> list[dict[str, str]]:
    return [{"title": "Participatory budgets", "title_de": "Bürgerhaushalte", "href": "/participation/budgets",
             "description": "Residents' projects, the vote and its results.",
             "description_de": "Projekte der Einwohnerinnen und Einwohner, die Abstimmung und ihr Ergebnis."}]


def demo(platform: Platform) -> None:
    demo_data.load_demo(platform)


__all__ = ["migrations", "setup", "mount", "openapi_part", "cli_commands", "landing_links", "demo"]
