"""Settings of the usage cockpit: who publishes the usage statistics as a dataset of the catalogue."""

from __future__ import annotations

from urbanos.settings import Setting

SETTINGS: tuple[Setting, ...] = (
    Setting("cockpit_usage_dataset_org", str, "", "Organisation (its name in the catalogue) that publishes the usage "
            "statistics as the open dataset usage-statistics, with /cockpit/public/usage.csv and .json as its "
            "resources; registered (or brought up to date) at every start. Empty: not registered (the demo uses "
            "hamburg-lgv).", section="cockpit"),
    Setting("cockpit_usage_dataset_license", str, "dl-de-zero-2.0", "Licence id of the usage-statistics dataset "
            "(one of the catalogue's licences, see /api/3/action/license_list).", section="cockpit"),
)
