"""English and German words of the privacy capability's pages. The language comes from ``?lang=`` first, then from
``Accept-Language``; English is the fallback."""

from __future__ import annotations

from collections.abc import Callable

from urbanos.core.lang import LANGS, pick_lang
from urbanos.core.lang import translator as make_translator

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "audit_title": "Audit trail", "audit_intro": "Who read non-open data and who changed tokens, roles, access "
        "levels and register entries. The log is append-only and hash-chained: nobody can change it through the "
        "platform, and `urbanos audit verify` proves it.",
        "audit_scope_all": "All organisations.", "audit_scope_orgs": "Datasets and records of: {orgs}.",
        "seq": "No.", "at": "When (UTC)", "actor": "Who", "action": "Action", "object": "Object", "dataset": "Dataset",
        "path": "Path or API", "rows": "Rows", "details": "Details", "none": "—", "no_entries": "No entries.",
        "filter": "Filter", "since": "From", "until": "Until", "older": "Older entries", "apply": "Apply",
        "algorithms_title": "Algorithm register", "algorithms_intro": "The algorithms the city uses, what they decide "
        "about, the data they use and how to object. Recorded in the Eurocities algorithmic transparency standard "
        "v{version}.",
        "name": "Name", "organization": "Organisation", "status": "Status", "risk": "Risk category",
        "domain": "Domain", "no_algorithms": "No algorithms are registered yet.", "datasets": "Datasets used",
        "no_datasets": "No linked datasets.", "as_json": "As JSON", "as_csv": "As CSV", "version": "Version",
        "modified": "Last changed", "owner": "Owning organisation", "back": "All algorithms",
        "source_note": "Fields: {note}.",
    },
    "de": {
        "audit_title": "Protokoll", "audit_intro": "Wer nicht offene Daten gelesen und wer Schlüssel, Rollen, "
        "Zugriffsstufen und Registereinträge geändert hat. Das Protokoll wird nur fortgeschrieben und ist per Hash "
        "verkettet: Niemand kann es über die Plattform ändern, und `urbanos audit verify` weist es nach.",
        "audit_scope_all": "Alle Organisationen.", "audit_scope_orgs": "Datensätze und Einträge von: {orgs}.",
        "seq": "Nr.", "at": "Zeitpunkt (UTC)", "actor": "Wer", "action": "Vorgang", "object": "Objekt",
        "dataset": "Datensatz", "path": "Pfad oder Schnittstelle", "rows": "Zeilen", "details": "Einzelheiten",
        "none": "—", "no_entries": "Keine Einträge.", "filter": "Filtern", "since": "Von", "until": "Bis",
        "older": "Ältere Einträge", "apply": "Anwenden",
        "algorithms_title": "Algorithmenregister", "algorithms_intro": "Die Algorithmen, die die Stadt einsetzt, "
        "worüber sie entscheiden, welche Daten sie nutzen und wie man widerspricht. Erfasst nach dem "
        "Eurocities-Standard für algorithmische Transparenz v{version}.",
        "name": "Name", "organization": "Organisation", "status": "Status", "risk": "Risikokategorie",
        "domain": "Bereich", "no_algorithms": "Noch keine Algorithmen eingetragen.", "datasets": "Genutzte Datensätze",
        "no_datasets": "Keine verknüpften Datensätze.", "as_json": "Als JSON", "as_csv": "Als CSV",
        "version": "Version", "modified": "Zuletzt geändert", "owner": "Zuständige Organisation",
        "back": "Alle Algorithmen", "source_note": "Felder: {note}.",
    },
}


def translator(lang: str) -> Callable[..., str]:
    return make_translator(MESSAGES, lang)


__all__ = ["LANGS", "MESSAGES", "pick_lang", "translator"]
