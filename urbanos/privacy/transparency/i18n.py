"""English and German words of the transparency page."""

from __future__ import annotations

from collections.abc import Callable

from urbanos.core.lang import translator as make_translator

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "title": "Transparency: what data the city collects and how it is protected",
        "intro": "Which data the city collects, why, under which rules and for how long; which algorithms use it; the "
                 "data protection impact assessments; what was deleted; and whom to contact to object. This page "
                 "can be printed.",
        "print_hint": "Print this page with your browser's print function.",
        "datasets": "Data collected", "dataset": "Dataset", "organization": "Organisation", "access": "Access",
        "why": "Why (purposes)", "legal_basis": "Legal basis", "rules": "Rules", "retention": "Kept for",
        "algorithms": "Algorithms using it", "assessment": "Impact assessment", "person_related": "person-related",
        "consent": "only with consent for: {purpose} (recipient {recipient})", "days": "{n} days",
        "datastream": "Datastream {ref}: {n} days", "collection": "collection {ref}: {n} days",
        "no_retention": "no period set", "none": "—", "no_datasets": "No datasets with privacy rules are visible to you.",
        "properties": "Person-related sensor types", "property": "Observed property",
        "algorithms_title": "Algorithms", "no_algorithms": "No algorithms are registered.",
        "register_link": "The full algorithm register", "dpias": "Data protection impact assessments",
        "no_dpias": "No assessments are visible to you.", "state": "State", "decided": "Decided",
        "state_draft": "draft", "state_submitted": "submitted", "state_approved": "approved", "state_rejected": "rejected",
        "deletions": "Deletion records", "no_deletions": "Nothing has been deleted under a retention rule yet.",
        "when": "When (UTC)", "what": "What", "rows": "Rows", "rule": "Rule", "before": "Older than",
        "object": "How to object", "object_intro": "To object to a processing, or to ask what is kept about you, "
                  "contact the organisation responsible:",
        "contact": "Contact", "no_contact": "no contact given yet", "as_json": "As JSON", "other_lang": "Deutsch",
        "scope_dataset": "all data", "open": "open", "registered": "registered", "internal": "internal",
        "confidential": "confidential",
    },
    "de": {
        "title": "Transparenz: welche Daten die Stadt erhebt und wie sie geschützt sind",
        "intro": "Welche Daten die Stadt erhebt, wozu, nach welchen Regeln und wie lange; welche Algorithmen sie "
                 "nutzen; die Datenschutz-Folgenabschätzungen; was gelöscht wurde; und an wen man sich mit einem "
                 "Widerspruch wendet. Diese Seite kann gedruckt werden.",
        "print_hint": "Drucken Sie diese Seite mit der Druckfunktion Ihres Browsers.",
        "datasets": "Erhobene Daten", "dataset": "Datensatz", "organization": "Organisation", "access": "Zugriff",
        "why": "Wozu (Zwecke)", "legal_basis": "Rechtsgrundlage", "rules": "Regeln", "retention": "Aufbewahrt für",
        "algorithms": "Nutzende Algorithmen", "assessment": "Folgenabschätzung", "person_related": "personenbezogen",
        "consent": "nur mit Einwilligung für: {purpose} (Empfänger {recipient})", "days": "{n} Tage",
        "datastream": "Datastream {ref}: {n} Tage", "collection": "Sammlung {ref}: {n} Tage",
        "no_retention": "keine Frist festgelegt", "none": "—",
        "no_datasets": "Für Sie sind keine Datensätze mit Datenschutzregeln sichtbar.",
        "properties": "Personenbezogene Sensortypen", "property": "Beobachtete Eigenschaft",
        "algorithms_title": "Algorithmen", "no_algorithms": "Keine Algorithmen eingetragen.",
        "register_link": "Das vollständige Algorithmenregister", "dpias": "Datenschutz-Folgenabschätzungen",
        "no_dpias": "Für Sie sind keine Folgenabschätzungen sichtbar.", "state": "Stand", "decided": "Entschieden",
        "state_draft": "Entwurf", "state_submitted": "eingereicht", "state_approved": "genehmigt",
        "state_rejected": "abgelehnt", "deletions": "Löschprotokoll",
        "no_deletions": "Nach einer Aufbewahrungsregel wurde noch nichts gelöscht.",
        "when": "Zeitpunkt (UTC)", "what": "Was", "rows": "Zeilen", "rule": "Regel", "before": "Älter als",
        "object": "Widerspruch", "object_intro": "Um einer Verarbeitung zu widersprechen oder zu erfragen, was über "
                  "Sie gespeichert ist, wenden Sie sich an die zuständige Organisation:",
        "contact": "Kontakt", "no_contact": "noch kein Kontakt angegeben", "as_json": "Als JSON", "other_lang": "English",
        "scope_dataset": "alle Daten", "open": "offen", "registered": "registriert", "internal": "intern",
        "confidential": "vertraulich",
    },
}


def translator(lang: str) -> Callable[..., str]:
    return make_translator(MESSAGES, lang)


__all__ = ["MESSAGES", "translator"]
