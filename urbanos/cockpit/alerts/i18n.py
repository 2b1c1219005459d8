"""The words of the alerts' pages, in English and German (``?lang=`` first, then ``Accept-Language``)."""

from __future__ import annotations

from collections.abc import Callable

from urbanos.core.lang import LANGS, pick_lang
from urbanos.core.lang import translator as make_translator

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "alerts": "Alerts", "intro": "Rules on sensor data streams and every alert episode they raised.",
        "rules": "Rules", "rules_caption": "Alert rules you may see", "episodes": "Recent episodes",
        "episodes_caption": "The most recent alert episodes, newest first", "no_rules": "No alert rules yet.",
        "no_episodes": "No alert episodes yet.", "name": "Name", "datastream": "Datastream",
        "condition": "Condition", "state": "State", "last_value": "Last value", "last_seen": "Last observation",
        "channels": "Channels", "rule": "Rule", "kind": "Kind", "started": "Started", "resolved": "Resolved",
        "deliveries": "Deliveries", "episode": "Alert episode {id}", "channel": "Channel", "event": "Event",
        "status": "Status", "attempts": "Attempts", "last_error": "Last error", "updated": "Updated",
        "start_value": "Value at start", "end_value": "Value at end", "back": "All alerts",
        "state_ok": "OK", "state_pending": "Pending", "state_firing": "Firing", "state_resolved": "Resolved",
        "state_nodata": "No data", "kind_threshold": "Threshold", "kind_nodata": "No data",
        "event_fired": "fired", "event_resolved": "resolved", "status_pending": "pending",
        "status_retrying": "retrying", "status_delivered": "delivered", "status_failed": "failed",
        "pending_for": "for {s} s", "stale_after": "no data for {m} min", "disabled": "disabled",
        "signin_needed": "Sign in with a publisher's or steward's token to see the alerts.",
        "signin": "Sign in", "forbidden": "The alerts are for publishers and stewards; your token is a reader's.",
        "not_found": "This alert episode does not exist, or you may not see it.", "api": "The same as JSON",
    },
    "de": {
        "alerts": "Alarme", "intro": "Regeln auf Sensor-Datenströmen und jede Alarm-Episode, die sie ausgelöst haben.",
        "rules": "Regeln", "rules_caption": "Alarmregeln, die Sie sehen dürfen", "episodes": "Letzte Episoden",
        "episodes_caption": "Die letzten Alarm-Episoden, neueste zuerst", "no_rules": "Noch keine Alarmregeln.",
        "no_episodes": "Noch keine Alarm-Episoden.", "name": "Name", "datastream": "Datenstrom",
        "condition": "Bedingung", "state": "Zustand", "last_value": "Letzter Wert", "last_seen": "Letzte Beobachtung",
        "channels": "Kanäle", "rule": "Regel", "kind": "Art", "started": "Beginn", "resolved": "Ende",
        "deliveries": "Zustellungen", "episode": "Alarm-Episode {id}", "channel": "Kanal", "event": "Ereignis",
        "status": "Status", "attempts": "Versuche", "last_error": "Letzter Fehler", "updated": "Aktualisiert",
        "start_value": "Wert zu Beginn", "end_value": "Wert am Ende", "back": "Alle Alarme",
        "state_ok": "OK", "state_pending": "Wartend", "state_firing": "Ausgelöst", "state_resolved": "Aufgehoben",
        "state_nodata": "Keine Daten", "kind_threshold": "Schwellenwert", "kind_nodata": "Keine Daten",
        "event_fired": "ausgelöst", "event_resolved": "aufgehoben", "status_pending": "wartet",
        "status_retrying": "neuer Versuch", "status_delivered": "zugestellt", "status_failed": "fehlgeschlagen",
        "pending_for": "für {s} s", "stale_after": "keine Daten seit {m} min", "disabled": "abgeschaltet",
        "signin_needed": "Melden Sie sich mit dem Token einer Publisherin oder eines Stewards an, um die Alarme "
                         "zu sehen.",
        "signin": "Anmelden", "forbidden": "Die Alarme sind für Publisher und Stewards; Ihr Token ist das eines "
                                           "Lesers.",
        "not_found": "Diese Alarm-Episode gibt es nicht, oder Sie dürfen sie nicht sehen.",
        "api": "Dasselbe als JSON",
    },
}


def translator(lang: str) -> Callable[..., str]:
    return make_translator(MESSAGES, lang)


__all__ = ["LANGS", "MESSAGES", "pick_lang", "translator"]
