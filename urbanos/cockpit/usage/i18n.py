"""The usage cockpit's small message table, English and German (the language: ``?lang=``, then
``Accept-Language``, English as the fallback)."""

from __future__ import annotations

from collections.abc import Callable

from urbanos.core.lang import pick_lang
from urbanos.core.lang import translator as make_translator

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "title": "Usage cockpit", "public_title": "Usage of open data",
        "intro": "How the published datasets and APIs are used: anonymous counts per day, dataset, API and "
                 "application. No addresses and no persons are recorded.",
        "public_intro": "How the open datasets and the APIs are used: anonymous counts per day, dataset and API.",
        "period": "Period", "days_n": "last {n} days", "from": "From", "to": "To", "show": "Show",
        "range": "{since} to {until}", "total": "Reads in the period: {n}",
        "datasets": "Most used datasets", "apis": "Most used APIs", "trend": "Reads per day and API",
        "trend_chart": "Chart of the reads per day and API: the same values as the table below",
        "apps": "Applications using each dataset", "late": "Late datasets",
        "late_intro": "Datasets updated less often than their declared frequency allows.",
        "none": "Nothing in this period.", "no_late": "No dataset is late.",
        "dataset": "Dataset", "api": "API", "application": "Application", "reads": "Reads", "day": "Day",
        "frequency": "Frequency", "last_update": "Last update", "age": "Age (days)", "allowed": "Allowed (days)",
        "anonymous": "(anonymous)", "no_dataset": "(no dataset)", "csv": "Download as CSV",
        "open_data": "These statistics as open data", "json": "JSON",
        "showcases": "Applications using it",
        "connectors": "Unhealthy connectors", "connectors_intro": "Connectors whose runs failed repeatedly: their "
        "datasets are not being updated.", "no_connectors": "Every connector is healthy.", "connector": "Connector",
        "last_run": "Last run", "failures": "Failed runs in a row", "last_error": "Last error",
    },
    "de": {
        "title": "Nutzungs-Cockpit", "public_title": "Nutzung offener Daten",
        "intro": "Wie die veröffentlichten Datensätze und Schnittstellen genutzt werden: anonyme Zählungen je Tag, "
                 "Datensatz, Schnittstelle und Anwendung. Es werden weder Adressen noch Personen erfasst.",
        "public_intro": "Wie die offenen Datensätze und die Schnittstellen genutzt werden: anonyme Zählungen je Tag, "
                        "Datensatz und Schnittstelle.",
        "period": "Zeitraum", "days_n": "letzte {n} Tage", "from": "Von", "to": "Bis", "show": "Anzeigen",
        "range": "{since} bis {until}", "total": "Zugriffe im Zeitraum: {n}",
        "datasets": "Meistgenutzte Datensätze", "apis": "Meistgenutzte Schnittstellen",
        "trend": "Zugriffe je Tag und Schnittstelle",
        "trend_chart": "Diagramm der Zugriffe je Tag und Schnittstelle: dieselben Werte wie die Tabelle darunter",
        "apps": "Anwendungen je Datensatz", "late": "Verspätete Datensätze",
        "late_intro": "Datensätze, die seltener aktualisiert werden, als ihre angegebene Häufigkeit erlaubt.",
        "none": "Nichts in diesem Zeitraum.", "no_late": "Kein Datensatz ist verspätet.",
        "dataset": "Datensatz", "api": "Schnittstelle", "application": "Anwendung", "reads": "Zugriffe",
        "day": "Tag", "frequency": "Häufigkeit", "last_update": "Letzte Aktualisierung", "age": "Alter (Tage)",
        "allowed": "Erlaubt (Tage)", "anonymous": "(anonym)", "no_dataset": "(kein Datensatz)",
        "csv": "Als CSV herunterladen", "open_data": "Diese Statistik als offene Daten", "json": "JSON",
        "showcases": "Anwendungen, die ihn nutzen",
        "connectors": "Gestörte Konnektoren", "connectors_intro": "Konnektoren, deren Läufe wiederholt fehlschlugen: "
        "ihre Datensätze werden nicht aktualisiert.", "no_connectors": "Alle Konnektoren arbeiten.",
        "connector": "Konnektor", "last_run": "Letzter Lauf", "failures": "Fehlgeschlagene Läufe in Folge",
        "last_error": "Letzter Fehler",
    },
}


def translator(lang: str) -> Callable[..., str]:
    return make_translator(MESSAGES, lang)


__all__ = ["MESSAGES", "pick_lang", "translator"]
