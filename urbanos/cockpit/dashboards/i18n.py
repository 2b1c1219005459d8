"""The dashboards' own small message table, English and German. The language comes from ``?lang=`` first, then
from ``Accept-Language``; English is the fallback (as on the catalogue's portal)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from urbanos.core.lang import LANGS, pick_lang
from urbanos.core.lang import translator as make_translator

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "dashboards": "Dashboards", "intro": "Live views of the city's sensors and data. Every chart has a table of "
        "its values and a CSV download; values update live while the page is open.",
        "none": "No dashboards yet.", "new": "New dashboard", "edit": "Edit", "delete": "Delete",
        "problems": "Dashboard files with problems", "problems_intro": "These files were not loaded; the others were.",
        "file": "File", "line": "Line", "reason": "Reason", "panels": "{n} panels", "origin_file": "file",
        "origin_portal": "made in the portal", "owner": "Organisation", "live": "Live",
        "live_on": "Live updates on", "live_off": "Live updates off (showing the values at page load)",
        "name": "Name", "value": "Value", "unit": "Unit", "time": "Time", "series": "Series", "group": "Group",
        "count": "Count", "csv": "Download the values (CSV)", "table_of": "Values of “{title}”",
        "chart_of": "Chart of “{title}”: the same values as the table below", "map_of": "Map of “{title}”: the same "
        "values as the table below", "no_values": "No values to show (or none you may read).",
        "reference": "Usual value", "versus": "Against usual", "limit": "Limit value", "exceeds": "Exceeds the limit",
        "yes": "yes", "no": "no", "cmp_low": "below usual (under 80 %)", "cmp_normal": "as usual (80–120 %)",
        "cmp_high": "above usual (over 120 %)", "cmp_none": "no comparison", "time_in": "Time ({tz})", "ok": "below {t}", "warn": "{a} to {b}",
        "alert": "{t} and above", "legend": "Legend",
        "compare_weekdays": "Compared with the same hour ({hour}:00) on {days}.",
        "compare_fallback": "The four preceding {weekday}s hold no data; compared instead with the same hour "
        "({hour}:00) on the four latest {weekday}s on record: {days}.",
        "compare_missing": "No earlier values at this hour to compare with.",
        "previous_year": "A year earlier (the same hour on {day}): {value}.",
        "previous_year_missing": "The data holds no values for the same hour 52 weeks earlier ({day}); no comparison "
        "with the previous year is shown.",
        "avg4": "4-week average", "avg52": "52-week average", "hour": "Hour", "today": "This day ({day})",
        "avg4_days": "The 4-week average is the mean of the same hour on {days}.",
        "avg52_short": "The 52-week average needs the 52 preceding same weekdays; the data holds {n} of them "
        "(it begins on {first}), so no 52-week average is shown.",
        "sensor": "Sensor", "show": "Show",
        "form_new": "New dashboard", "form_edit": "Edit dashboard “{title}”", "slug": "Address (slug)",
        "slug_help": "Lower-case letters, digits and hyphens: the dashboard is served at /dashboards/<slug>.",
        "definition": "Definition (YAML)", "definition_help": "The same keys as a dashboard file: title, title_de, "
        "description, timezone, panels (type, title, sta or features or datastreams, …). See docs/dashboards.md.",
        "organization": "Organisation", "save": "Save", "errors": "The dashboard was not saved:",
        "signin": "Sign in to create dashboards", "deleted": "Dashboard deleted.",
        "kpi_where": "{n} of {total}", "free": "free", "where_above": "above {t}", "where_below": "below {t}",
        "agg_sum": "sum", "agg_mean": "mean", "agg_min": "minimum", "agg_max": "maximum", "agg_count": "count",
        "updated": "Updated", "map_keyboard": "The map is a picture of the table below; use the table to reach "
                                              "each value with the keyboard.",
    },
    "de": {
        "dashboards": "Dashboards", "intro": "Live-Ansichten der Sensoren und Daten der Stadt. Jedes Diagramm hat eine "
        "Tabelle seiner Werte und einen CSV-Download; die Werte werden live aktualisiert, solange die Seite offen ist.",
        "none": "Noch keine Dashboards.", "new": "Neues Dashboard", "edit": "Bearbeiten", "delete": "Löschen",
        "problems": "Dashboard-Dateien mit Fehlern", "problems_intro": "Diese Dateien wurden nicht geladen, die "
        "übrigen schon.", "file": "Datei", "line": "Zeile", "reason": "Grund", "panels": "{n} Elemente",
        "origin_file": "Datei", "origin_portal": "im Portal erstellt", "owner": "Organisation", "live": "Live",
        "live_on": "Live-Aktualisierung an", "live_off": "Live-Aktualisierung aus (Werte beim Laden der Seite)",
        "name": "Name", "value": "Wert", "unit": "Einheit", "time": "Zeit", "series": "Reihe", "group": "Gruppe",
        "count": "Anzahl", "csv": "Werte herunterladen (CSV)", "table_of": "Werte von „{title}“",
        "chart_of": "Diagramm „{title}“: dieselben Werte wie die Tabelle darunter",
        "map_of": "Karte „{title}“: dieselben Werte wie die Tabelle darunter",
        "no_values": "Keine Werte (oder keine, die Sie sehen dürfen).",
        "reference": "Üblicher Wert", "versus": "Gegenüber üblich", "limit": "Grenzwert",
        "exceeds": "Über dem Grenzwert", "yes": "ja", "no": "nein", "cmp_low": "unter üblich (unter 80 %)",
        "cmp_normal": "wie üblich (80–120 %)", "cmp_high": "über üblich (über 120 %)", "cmp_none": "kein Vergleich",
        "time_in": "Zeit ({tz})",
        "ok": "unter {t}", "warn": "{a} bis {b}", "alert": "ab {t}", "legend": "Legende",
        "compare_weekdays": "Verglichen mit derselben Stunde ({hour}:00) am {days}.",
        "compare_fallback": "Die vier vorangehenden gleichen Wochentage enthalten keine Daten; verglichen stattdessen "
        "mit derselben Stunde ({hour}:00) an den vier letzten vorhandenen: {days}.",
        "compare_missing": "Keine früheren Werte zu dieser Stunde zum Vergleich.",
        "previous_year": "Ein Jahr zuvor (dieselbe Stunde am {day}): {value}.",
        "previous_year_missing": "Für dieselbe Stunde 52 Wochen zuvor ({day}) liegen keine Werte vor; es wird kein "
        "Vorjahresvergleich gezeigt.",
        "avg4": "4-Wochen-Mittel", "avg52": "52-Wochen-Mittel", "hour": "Stunde", "today": "Dieser Tag ({day})",
        "avg4_days": "Das 4-Wochen-Mittel ist der Mittelwert derselben Stunde am {days}.",
        "avg52_short": "Das 52-Wochen-Mittel braucht die 52 vorangehenden gleichen Wochentage; die Daten enthalten {n} "
        "davon (sie beginnen am {first}), daher wird kein 52-Wochen-Mittel gezeigt.",
        "sensor": "Sensor", "show": "Anzeigen",
        "form_new": "Neues Dashboard", "form_edit": "Dashboard „{title}“ bearbeiten", "slug": "Adresse (Kurzname)",
        "slug_help": "Kleinbuchstaben, Ziffern und Bindestriche: das Dashboard steht unter /dashboards/<Kurzname>.",
        "definition": "Definition (YAML)", "definition_help": "Dieselben Schlüssel wie in einer Dashboard-Datei: "
        "title, title_de, description, timezone, panels (type, title, sta oder features oder datastreams, …). "
        "Siehe docs/dashboards.md.",
        "organization": "Organisation", "save": "Speichern", "errors": "Das Dashboard wurde nicht gespeichert:",
        "signin": "Zum Erstellen von Dashboards anmelden", "deleted": "Dashboard gelöscht.",
        "kpi_where": "{n} von {total}", "free": "frei", "where_above": "über {t}", "where_below": "unter {t}",
        "agg_sum": "Summe", "agg_mean": "Mittelwert", "agg_min": "Minimum", "agg_max": "Maximum", "agg_count": "Anzahl",
        "updated": "Aktualisiert", "map_keyboard": "Die Karte bildet die Tabelle darunter ab; über die Tabelle ist "
                                                   "jeder Wert mit der Tastatur erreichbar.",
    },
}


def fmt_number(v: float | None, lang: str, digits: int = 1) -> str:
    """``v`` with grouped thousands and at most ``digits`` decimals, as English or German writes it."""
    if v is None:
        return "–"
    text = f"{v:,.{digits}f}".rstrip("0").rstrip(".") if not float(v).is_integer() else f"{v:,.0f}"
    if lang == "de":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def fmt_day(d: object, lang: str) -> str:
    if not isinstance(d, date):
        return str(d)
    return f"{d.day}.{d.month}.{d.year}" if lang == "de" else d.isoformat()


def translator(lang: str) -> Callable[..., str]:
    return make_translator(MESSAGES, lang)


__all__ = ["LANGS", "MESSAGES", "pick_lang", "translator", "fmt_number", "fmt_day"]
