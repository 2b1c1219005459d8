"""The connector page's words in English and German; the language comes from ``?lang=``, then ``Accept-Language``."""

from __future__ import annotations

from urbanos.core.lang import LANGS, pick_lang

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "connector": "Connector", "type": "Type", "source": "Source", "dataset": "Dataset", "schedule": "Schedule",
        "every": "every {n} s", "manual": "only when started", "push": "pushed by the source", "status": "Status",
        "healthy": "healthy", "unhealthy": "unhealthy: {n} failed runs in a row", "disabled": "disabled",
        "last_run": "Last run", "next_run": "Next run", "runs": "Last runs", "no_runs": "No runs yet.",
        "started": "Started", "finished": "Finished", "created": "Created", "updated": "Updated",
        "unchanged": "Unchanged", "failed": "Failed", "bytes": "Bytes fetched", "errors": "Errors",
        "trigger": "Started by", "trigger_schedule": "schedule", "trigger_manual": "by hand", "trigger_webhook": "push",
        "status_ok": "ok", "status_partial": "partly failed", "status_failed": "failed", "status_running": "running",
        "configured_by": "Configured by", "ingest": "Push address", "as_json": "As JSON", "never": "never",
        "connectors": "Connectors", "new": "New connector", "none": "No connectors you may change yet.",
        "name": "Name", "name_help": "Lower-case letters, digits, '-' and '_'; it cannot be changed later.",
        "url_help": "The feed's http or https address (a webhook has none).",
        "dataset_help": "Only the datasets you may publish to.", "no_datasets": "You may publish to no dataset.",
        "every_label": "Every", "every_help": "An interval: 30s, 5m, 2h, 1d. Leave it and cron empty to run only by hand.",
        "cron_label": "Cron (UTC)", "cron_help": "Instead of an interval, e.g. */10 * * * *.",
        "mapping": "Mapping (YAML or JSON)", "mapping_help": "How the feed becomes Observations or features.",
        "example": "Example for", "enabled": "Enabled", "save": "Save", "create": "Create",
        "edit": "Change", "edit_title": "Change connector {name}", "delete": "Delete", "run_now": "Run now",
        "delete_title": "Delete connector {name}?", "delete_text": "The connector and its run log are removed; what it "
        "wrote stays in the dataset.", "cancel": "Cancel", "not_saved": "The connector was not saved:",
        "pushkey_title": "Connector {name} created", "pushkey_text": "The source signs each push with this secret "
        "(HMAC-SHA256 of the body, header X-Urbanos-Signature: sha256=<hex>). It is shown only this once:",
        "pushkey": "Secret", "open": "Open the connector", "error": "Error", "sign_in": "Sign in in the portal",
        "health": "Health", "actions": "Actions", "trigger_live": "live link",
        "live": "Live", "live_connected": "connected", "live_connecting": "connecting", "live_disconnected":
        "disconnected, reconnecting", "live_refused": "refused", "live_stopped": "stopped", "live_waiting":
        "waiting for a run", "live_since": "since {at}", "live_counts": "{m} messages, {w} written, {s} already "
        "copied, {r} reconnects", "live_error": "Last error",
    },
    "de": {
        "connector": "Konnektor", "type": "Typ", "source": "Quelle", "dataset": "Datensatz", "schedule": "Zeitplan",
        "every": "alle {n} s", "manual": "nur auf Anstoß", "push": "von der Quelle gesendet", "status": "Zustand",
        "healthy": "gesund", "unhealthy": "gestört: {n} Läufe in Folge fehlgeschlagen", "disabled": "abgeschaltet",
        "last_run": "Letzter Lauf", "next_run": "Nächster Lauf", "runs": "Letzte Läufe", "no_runs": "Noch keine Läufe.",
        "started": "Begonnen", "finished": "Beendet", "created": "Angelegt", "updated": "Geändert",
        "unchanged": "Unverändert", "failed": "Fehlgeschlagen", "bytes": "Geladene Bytes", "errors": "Fehler",
        "trigger": "Angestoßen durch", "trigger_schedule": "Zeitplan", "trigger_manual": "von Hand",
        "trigger_webhook": "Sendung", "status_ok": "in Ordnung", "status_partial": "teilweise fehlgeschlagen",
        "status_failed": "fehlgeschlagen", "status_running": "läuft", "configured_by": "Eingerichtet von",
        "ingest": "Empfangsadresse", "as_json": "Als JSON", "never": "nie",
        "connectors": "Konnektoren", "new": "Neuer Konnektor", "none": "Noch keine Konnektoren, die Sie ändern dürfen.",
        "name": "Name", "name_help": "Kleinbuchstaben, Ziffern, '-' und '_'; er lässt sich später nicht ändern.",
        "url_help": "Die http- oder https-Adresse der Quelle (ein Webhook hat keine).",
        "dataset_help": "Nur die Datensätze, in die Sie veröffentlichen dürfen.",
        "no_datasets": "Sie dürfen in keinen Datensatz veröffentlichen.",
        "every_label": "Alle", "every_help": "Ein Abstand: 30s, 5m, 2h, 1d. Leer lassen (auch Cron), um nur von Hand zu "
        "starten.", "cron_label": "Cron (UTC)", "cron_help": "Statt eines Abstands, z. B. */10 * * * *.",
        "mapping": "Zuordnung (YAML oder JSON)", "mapping_help": "Wie die Quelle zu Beobachtungen oder Features wird.",
        "example": "Beispiel für", "enabled": "Eingeschaltet", "save": "Speichern", "create": "Anlegen",
        "edit": "Ändern", "edit_title": "Konnektor {name} ändern", "delete": "Löschen", "run_now": "Jetzt ausführen",
        "delete_title": "Konnektor {name} löschen?", "delete_text": "Der Konnektor und sein Protokoll werden entfernt; "
        "was er geschrieben hat, bleibt im Datensatz.", "cancel": "Abbrechen",
        "not_saved": "Der Konnektor wurde nicht gespeichert:", "pushkey_title": "Konnektor {name} angelegt",
        "pushkey_text": "Die Quelle signiert jede Sendung mit diesem Geheimnis (HMAC-SHA256 des Inhalts, Kopfzeile "
        "X-Urbanos-Signature: sha256=<hex>). Es wird nur dieses eine Mal gezeigt:", "pushkey": "Geheimnis",
        "open": "Zum Konnektor", "error": "Fehler", "sign_in": "Im Portal anmelden", "health": "Zustand",
        "actions": "Aktionen", "trigger_live": "Live-Verbindung",
        "live": "Live", "live_connected": "verbunden", "live_connecting": "verbindet", "live_disconnected":
        "getrennt, verbindet neu", "live_refused": "abgewiesen", "live_stopped": "angehalten", "live_waiting":
        "wartet auf einen Lauf", "live_since": "seit {at}", "live_counts": "{m} Nachrichten, {w} geschrieben, {s} "
        "schon kopiert, {r} Neuverbindungen", "live_error": "Letzter Fehler",
    },
}


def messages(lang: str) -> dict[str, str]:
    return MESSAGES.get(lang, MESSAGES["en"])


__all__ = ["LANGS", "MESSAGES", "pick_lang", "messages"]
