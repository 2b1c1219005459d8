"""The privacy capability's HTTP routes: the audit trail (``/audit``, read only), the algorithm register
(``/algorithms``), the privacy rules (``/privacy/rules/{dataset}``), and the middleware that tells the audit hooks which request a read belongs to."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from urbanos.platform import Platform
from urbanos.privacy.algorithms.routes import mount as mount_algorithms
from urbanos.privacy.audit.hooks import REQUEST_PATH
from urbanos.privacy.audit.routes import mount as mount_audit
from urbanos.privacy.rules.routes import mount as mount_rules


class RequestPathMiddleware:
    """Sets :data:`~urbanos.privacy.audit.hooks.REQUEST_PATH` for the request being served."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = REQUEST_PATH.set(f"{scope.get('method', '')} {scope.get('path', '')}")
        try:
            await self.app(scope, receive, send)
        finally:
            REQUEST_PATH.reset(token)


def mount(app: FastAPI, platform: Platform) -> None:
    if platform.services.get("audit") is not None and platform.services["audit"].enabled:
        app.add_middleware(RequestPathMiddleware)
    mount_audit(app, platform)
    mount_algorithms(app, platform)
    mount_rules(app)


__all__ = ["mount", "RequestPathMiddleware"]
