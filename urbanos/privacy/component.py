"""The privacy capability's component: its settings, migrations and hooks. Every command of the ``urbanos`` CLI loads
this module, so the capability's own modules are imported by the hook that needs them.

Today it holds the audit trail (:mod:`urbanos.privacy.audit`), the algorithm register
(:mod:`urbanos.privacy.algorithms`) and the privacy rules (:mod:`urbanos.privacy.rules`, installed as the gate's rules
hook); it provides :class:`urbanos.ports.AuditPort` and :class:`urbanos.ports.TransparencyPort`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from urbanos.plugins import Component
from urbanos.ports import AuditPort, TransparencyPort
from urbanos.privacy.extra import SETTINGS as EXTRA_SETTINGS
from urbanos.settings import Setting

if TYPE_CHECKING:
    import click

    from urbanos.platform import Platform
    from urbanos.privacy.algorithms.service import AlgorithmRegister
    from urbanos.privacy.audit.log import AuditLog
    from urbanos.privacy.rules.service import RulesService
    from urbanos.storage import Migration

SETTINGS = (
    Setting("audit_enabled", bool, True, "Keep the audit trail (reads of non-open data, changes of tokens, roles, "
            "access levels and register entries).", section="privacy"),
    Setting("audit_flush_ms", int, 200, "Milliseconds between appends of the buffered audit entries (one transaction "
            "each); what a process that dies without shutting down loses.", section="privacy", minimum=1),
    Setting("audit_flush_entries", int, 500, "Append the buffered audit entries as soon as this many wait.",
            section="privacy", minimum=1),
    *EXTRA_SETTINGS,
)


def _rules(platform: Platform) -> RulesService:
    """The rules' store, engine (installed in the gate) and service (``services["privacy_rules"]``)."""
    from urbanos.privacy.rules.engine import RulesEngine
    from urbanos.privacy.rules.keys import KeyStore
    from urbanos.privacy.rules.service import RulesService
    from urbanos.privacy.rules.store import Boundaries, RuleStore

    store, boundaries = RuleStore(platform.db), Boundaries()
    keys = KeyStore(platform.settings.data_path / "keys")
    platform.services["pseudonym_keys"] = keys
    platform.gate.set_rules(RulesEngine(store, keys, boundaries, platform.gate.visibility_cache.access_of))
    service = RulesService(platform, store, boundaries)
    platform.services["privacy_rules"] = service
    return service


class Transparency:
    """:class:`urbanos.ports.TransparencyPort`: the algorithm register's links and the rules' descriptions."""

    def __init__(self, register: AlgorithmRegister, rules: RulesService) -> None:
        self.register = register
        self.rules = rules

    async def algorithms_for_dataset(self, name: str) -> list[tuple[int, str, str]]:
        return await self.register.algorithms_for_dataset(name)

    async def rules_summary(self, name: str, lang: str = "en") -> list[str]:
        return await self.rules.summary(name, lang)


class PrivacyComponent(Component):
    name = "privacy"
    settings = SETTINGS

    def migrations(self) -> list[Migration]:
        from urbanos.privacy import extra
        from urbanos.privacy.schema import MIGRATIONS

        return [*MIGRATIONS, *extra.migrations()]

    def setup(self, platform: Platform) -> None:
        from urbanos.privacy.algorithms.service import AlgorithmRegister
        from urbanos.privacy.audit.hooks import ChangeAuditor, ReadAuditor
        from urbanos.privacy.audit.log import AuditLog
        from urbanos.privacy.schema import GENESIS

        s = platform.settings
        audit = AuditLog(platform.db, GENESIS, enabled=bool(s.get("audit_enabled", True)),
                         interval=float(s.get("audit_flush_ms", 200)) / 1000.0, batch=int(s.get("audit_flush_entries", 500)))
        platform.services["audit"] = audit
        platform.provide(AuditPort, audit)
        if audit.enabled:
            reads = ReadAuditor(audit)
            platform.gate.add_transform(reads.count)
            platform.gate.add_observer(reads.observe)
            changes = ChangeAuditor(audit)
            platform.bus.subscribe(changes.on_governance, topic="governance")
            platform.bus.subscribe(changes.on_catalog, topic="catalog")
        register = AlgorithmRegister(platform, audit)
        platform.services["algorithms"] = register
        rules = _rules(platform)
        platform.provide(TransparencyPort, Transparency(register, rules))
        from urbanos.privacy import extra

        extra.setup(platform)

    def mount(self, app: Any, platform: Platform) -> None:
        from urbanos.privacy import routes

        routes.mount(app, platform)
        from urbanos.privacy import extra

        extra.mount(app, platform)

    async def startup(self, platform: Platform) -> None:
        audit: AuditLog = platform.services["audit"]
        audit.start()
        rules: RulesService = platform.services["privacy_rules"]
        await rules.load()
        rules.store.start(rules.load)
        from urbanos.privacy import extra

        await extra.startup(platform)

    async def shutdown(self, platform: Platform) -> None:
        from urbanos.privacy import extra

        await extra.shutdown(platform)
        rules: RulesService = platform.services["privacy_rules"]
        await rules.store.stop()
        audit: AuditLog = platform.services["audit"]
        await audit.stop()

    def openapi(self, platform: Platform) -> dict[str, Any]:
        from urbanos.privacy import extra
        from urbanos.privacy.openapi import openapi_part

        part, more = openapi_part(), extra.openapi_part()
        part["paths"].update(more["paths"])
        part["components"]["schemas"].update(more["components"]["schemas"])
        part["tags"] = more["tags"]
        return part

    def landing_links(self, platform: Platform) -> list[dict[str, str]]:
        return [{"title": "Algorithm register", "title_de": "Algorithmenregister", "href": "/algorithms",
                 "description": "The algorithms the city uses, the data they use and how to object.",
                 "description_de": "Die Algorithmen der Stadt, ihre Daten und wie man widerspricht."},
                {"title": "Transparency", "title_de": "Transparenz", "href": "/transparency",
                 "description": "What data the city collects, why, for how long, and how to object.",
                 "description_de": "Welche Daten die Stadt erhebt, wozu, wie lange, und wie man widerspricht."}]

    def cli_commands(self) -> list[click.Command]:
        from urbanos.privacy import extra
        from urbanos.privacy.cli import commands
        from urbanos.privacy.rules.cli import commands as rules_commands

        return [*commands(), *rules_commands(), *extra.cli_commands()]

    def demo(self, platform: Platform) -> None:
        from urbanos.privacy.demo import load_demo
        from urbanos.privacy.rules.demo import load_demo as load_rules_demo

        load_demo(platform, platform.services["algorithms"])
        load_rules_demo(platform, platform.services["privacy_rules"])
        from urbanos.privacy import extra

        extra.demo(platform)


__all__ = ["PrivacyComponent", "SETTINGS"]
