"""The participation pages' words in English and German; the language comes from ``?lang=``, then
``Accept-Language``."""

from __future__ import annotations

from urbanos.core.lang import pick_lang

STATE_EN = {"open": "open", "acknowledged": "acknowledged", "in_progress": "in progress", "closed": "closed",
            "duplicate": "duplicate", "not_responsible": "not the city's responsibility",
            "no_further_action": "no further action", "referred": "referred"}
STATE_DE = {"open": "offen", "acknowledged": "angenommen", "in_progress": "in Bearbeitung", "closed": "erledigt",
            "duplicate": "doppelt gemeldet", "not_responsible": "nicht Sache der Stadt",
            "no_further_action": "keine weitere Maßnahme", "referred": "weitergeleitet"}
MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "report": "Report a problem", "intro": "Tell the city about a problem in public space. Your report, its "
        "place and photo are published; your e-mail address is not.", "service": "Kind of problem",
        "choose": "Choose…", "description": "Description", "where": "Where is it?", "map_help": "Click the map to "
        "set the place, or type the coordinates or an address.", "lat": "Latitude", "long": "Longitude",
        "address": "Address", "photo": "Photo (optional; faces and number plates are blurred)",
        "email": "E-mail for updates (optional, never published)", "send": "Send report", "errors": "Please correct:",
        "request": "Service request", "status": "Status", "state": "State", "reported": "Reported",
        "updated": "Last update", "history": "History", "no_history": "No updates yet.", "notes": "Notes",
        "agency": "Agency", "time": "Time", "staff": "Service requests (staff)", "change": "Update",
        "save": "Save", "hidden": "hidden", "none": "No requests.", "map": "Map: click to set the place",
        "thanks": "Thank you: your report has been received.", "as_json": "As Open311 JSON",
    },
    "de": {
        "report": "Ein Problem melden", "intro": "Melden Sie der Stadt ein Problem im öffentlichen Raum. Meldung, Ort "
        "und Foto werden veröffentlicht, Ihre E-Mail-Adresse nicht.", "service": "Art des Problems",
        "choose": "Bitte wählen…", "description": "Beschreibung", "where": "Wo ist es?", "map_help": "Klicken Sie "
        "in die Karte, um den Ort zu setzen, oder geben Sie Koordinaten oder eine Adresse ein.", "lat": "Breitengrad",
        "long": "Längengrad", "address": "Adresse", "photo": "Foto (freiwillig; Gesichter und Kennzeichen werden "
        "unkenntlich gemacht)", "email": "E-Mail für Rückmeldungen (freiwillig, wird nie veröffentlicht)",
        "send": "Meldung senden", "errors": "Bitte korrigieren:", "request": "Meldung", "status": "Status",
        "state": "Bearbeitungsstand", "reported": "Gemeldet", "updated": "Zuletzt geändert", "history": "Verlauf",
        "no_history": "Noch keine Änderungen.", "notes": "Hinweise", "agency": "Zuständige Stelle", "time": "Zeit",
        "staff": "Meldungen (Verwaltung)", "change": "Ändern", "save": "Speichern", "hidden": "ausgeblendet",
        "none": "Keine Meldungen.", "map": "Karte: klicken, um den Ort zu setzen",
        "thanks": "Danke: Ihre Meldung ist eingegangen.", "as_json": "Als Open311-JSON",
    },
}


def messages(lang: str) -> dict[str, str]:
    return MESSAGES.get(lang, MESSAGES["en"])


def states(lang: str) -> dict[str, str]:
    return STATE_DE if lang == "de" else STATE_EN


__all__ = ["MESSAGES", "messages", "states", "pick_lang"]
