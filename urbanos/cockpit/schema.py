"""The cockpit's tables: the alerts' migrations (versions 1 to 49) and the dashboards' (50 to 99) and the showcases' (100 and up)."""

from __future__ import annotations

from urbanos.cockpit.alerts.schema import MIGRATIONS as ALERT_MIGRATIONS
from urbanos.cockpit.dashboards.schema import MIGRATIONS as DASHBOARD_MIGRATIONS
from urbanos.cockpit.showcases.schema import MIGRATIONS as SHOWCASE_MIGRATIONS

MIGRATIONS = sorted([*ALERT_MIGRATIONS, *DASHBOARD_MIGRATIONS, *SHOWCASE_MIGRATIONS], key=lambda m: m.version)
