"""How planning projects plug into the platform (called by the participation component):
``platform.services["planning"]`` holds the :class:`~urbanos.participation.planning.service.PlanningService`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import ChoiceLoader, FileSystemLoader
from starlette.staticfiles import StaticFiles

from urbanos.participation.planning import demo as demo_data
from urbanos.participation.planning import routes
from urbanos.participation.planning.openapi import openapi_part
from urbanos.participation.planning.pages import STATIC
from urbanos.participation.planning.schema import MIGRATIONS
from urbanos.participation.planning.service import PlanningService

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.storage import Migration


def migrations() -> list[Migration]:
    return list(MIGRATIONS)


def setup(platform: Platform) -> None:
    platform.services["planning"] = PlanningService(platform)


def add_templates(platform: Platform) -> None:
    """Let the pages find this package's templates (as the budgets do)."""
    env = platform.services.get("jinja")
    folder = str(Path(__file__).parent / "templates")
    if env is not None and isinstance(env.loader, ChoiceLoader):
        if not any(isinstance(x, FileSystemLoader) and folder in x.searchpath for x in env.loader.loaders):
            env.loader.loaders = [*env.loader.loaders, FileSystemLoader(folder)]


def mount(app: Any, platform: Platform) -> None:
    add_templates(platform)
    service = platform.services.get("planning")
    if isinstance(service, PlanningService):
        routes.mount(app, service)
        app.mount("/participation/planning-static", StaticFiles(directory=str(STATIC)), name="planning-static")


def landing_links(platform: Platform) -> list[dict[str, str]]:
    return [{"title": "Planning projects", "title_de": "Planungsvorhaben", "href": "/participation/projects",
             "description": "Mark places on the map and say what you think of the city's plans.",
             "description_de": "Markieren Sie Orte auf der Karte und sagen Sie, was Sie von den Plänen halten."}]


def demo(platform: Platform) -> None:
    demo_data.load_demo(platform)


__all__ = ["migrations", "setup", "mount", "openapi_part", "landing_links", "demo"]
