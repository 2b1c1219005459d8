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
        "services": "Open311 services", "services_intro": "The kinds of problem residents can report, of the "
        "organisations you are a steward of.", "new_service": "New service", "no_services": "No service yet.",
        "code": "Code", "name": "Name", "group": "Group", "keywords": "Keywords", "type": "Type",
        "organization": "Organisation", "sensitive": "Sensitive: leave the descriptions out of the open dataset",
        "attributes": "Attributes (JSON list, as in the API)", "attributes_help": "For example [{\"code\": \"size\", "
        "\"datatype\": \"singlevaluelist\", \"description\": \"How large?\", \"values\": [{\"key\": \"small\", "
        "\"name\": \"Small\"}]}]", "code_help": "Letters, digits, '_', '.', '-'; it cannot be changed later.",
        "org_help": "The organisation whose stewards manage the service (empty: admins only).", "edit": "Change",
        "delete": "Delete", "create": "Create", "edit_title": "Change service {code}",
        "delete_title": "Delete service {code}?", "delete_text": "The service is removed from the service list. A "
        "service that has requests cannot be deleted.", "cancel": "Cancel", "not_saved": "The service was not saved:",
        "saved": "Service {code} saved.", "yes": "yes", "actions": "Actions",
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
        "services": "Open311-Dienste", "services_intro": "Die Arten von Problemen, die gemeldet werden können, der "
        "Organisationen, deren Verwalter Sie sind.", "new_service": "Neuer Dienst", "no_services": "Noch kein Dienst.",
        "code": "Kennung", "name": "Name", "group": "Gruppe", "keywords": "Stichwörter", "type": "Typ",
        "organization": "Organisation", "sensitive": "Sensibel: Beschreibungen nicht im offenen Datensatz",
        "attributes": "Attribute (JSON-Liste wie in der API)", "attributes_help": "Zum Beispiel [{\"code\": \"size\", "
        "\"datatype\": \"singlevaluelist\", \"description\": \"Wie groß?\", \"values\": [{\"key\": \"small\", "
        "\"name\": \"Klein\"}]}]", "code_help": "Buchstaben, Ziffern, '_', '.', '-'; später nicht änderbar.",
        "org_help": "Die Organisation, deren Verwalter den Dienst pflegen (leer: nur Administratoren).",
        "edit": "Ändern", "delete": "Löschen", "create": "Anlegen", "edit_title": "Dienst {code} ändern",
        "delete_title": "Dienst {code} löschen?", "delete_text": "Der Dienst wird aus der Liste entfernt. Ein Dienst "
        "mit Meldungen kann nicht gelöscht werden.", "cancel": "Abbrechen",
        "not_saved": "Der Dienst wurde nicht gespeichert:", "saved": "Dienst {code} gespeichert.", "yes": "ja",
        "actions": "Aktionen",
    },
}


def messages(lang: str) -> dict[str, str]:
    return MESSAGES.get(lang, MESSAGES["en"])


def states(lang: str) -> dict[str, str]:
    return STATE_DE if lang == "de" else STATE_EN


__all__ = ["MESSAGES", "messages", "states", "pick_lang"]
