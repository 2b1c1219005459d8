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
    },
}


def messages(lang: str) -> dict[str, str]:
    return MESSAGES.get(lang, MESSAGES["en"])


__all__ = ["LANGS", "MESSAGES", "pick_lang", "messages"]
