"""The fields of the Eurocities algorithmic transparency standard, v0.3.1, as data.

Source: the public schema file ``schema-v0_3_1.yaml`` of the Algoritmeregister standard repository (github.com/Algoritmeregister/standard: the field set
European cities, the Dutch national algorithm register and the Eurocities Digital Forum Lab agreed on). The field
names, sections, which fields are required and the allowed values are the standard's, taken over as facts (that
repository states no licence of its own); the English and German labels and the validation rules are the platform's."""

from __future__ import annotations

from dataclasses import dataclass

STANDARD_VERSION = "0.3.1"
SOURCE_NOTE = ("Eurocities algorithmic transparency standard v0.3.1 (schema-v0_3_1.yaml of "
               "github.com/Algoritmeregister/standard)")

DOMAINS = (
    "taxes", "housing, living and living environment", "culture, sports and leisure", "defence",
    "economy and entrepreneurship", "family, youth and households", "finance", "generic", "health and health care",
    "immigration and integration", "international collaboration and development aid", "agriculture, nature and food",
    "environment, spatial planning and water", "education and science", "public safety", "government", "justice",
    "travel, living and working abroad", "subsidies, benefits and allowances", "traffic and transportation",
    "work and career",
)
STATUSES = ("planned", "design", "development", "pilot", "evaluation", "operational", "retired")
RISK_CATEGORIES = ("minimal", "limited", "high", "unacceptable")
ALGORITHM_TYPES = ("self-learning", "rule-based", "hybrid")
OVERSIGHT_TYPES = ("descriptive", "diagnostic", "predictive", "prescriptive")


@dataclass(frozen=True)
class Field:
    """One field: its section, name, kind (``text``, ``email``, ``url``, ``enum``, ``date``, ``uuid``, ``lang``,
    ``keywords``, ``constant``), whether it is required, the allowed values of an enum, and its labels."""

    section: str
    name: str
    kind: str
    required: bool
    label_en: str
    label_de: str
    choices: tuple[str, ...] = ()


def _f(section: str, name: str, kind: str, required: bool, en: str, de: str, choices: tuple[str, ...] = ()) -> Field:
    return Field(section, name, kind, required, en, de, choices)


FIELDS: tuple[Field, ...] = (
    _f("basic", "name", "text", True, "Name", "Name"),
    _f("basic", "description_short", "text", True, "Short description", "Kurzbeschreibung"),
    _f("basic", "organization", "text", True, "Organisation", "Organisation"),
    _f("basic", "department", "text", True, "Department", "Abteilung"),
    _f("basic", "contact_email", "email", True, "Contact e-mail", "Kontakt-E-Mail"),
    _f("basic", "contact_phone", "text", False, "Contact phone", "Kontakttelefon"),
    _f("basic", "contact_name", "text", False, "Contact name", "Ansprechperson"),
    _f("basic", "area", "text", True, "Geographic area", "Gebiet"),
    _f("basic", "domain", "enum", True, "Domain", "Bereich", DOMAINS),
    _f("basic", "website", "url", False, "Website", "Website"),
    _f("basic", "status", "enum", True, "Status", "Status", STATUSES),
    _f("basic", "remark", "text", False, "Remark", "Anmerkung"),
    _f("use_case", "decision_making_process", "text", True, "Decision-making process", "Entscheidungsprozess"),
    _f("use_case", "goal", "text", True, "Goal", "Ziel"),
    _f("use_case", "impact", "text", True, "Impact", "Auswirkungen"),
    _f("use_case", "risks", "text", True, "Risks", "Risiken"),
    _f("use_case", "risk_category", "enum", True, "Risk category (EU AI Act)", "Risikokategorie (EU-KI-Verordnung)",
       RISK_CATEGORIES),
    _f("use_case", "proportionality", "text", True, "Proportionality", "Verhältnismäßigkeit"),
    _f("use_case", "lawful_basis", "text", True, "Lawful basis", "Rechtsgrundlage"),
    _f("use_case", "documentation", "url", False, "Documentation", "Dokumentation"),
    _f("data", "training_data", "text", True, "Training data", "Trainingsdaten"),
    _f("data", "source_data", "text", True, "Source data", "Quelldaten"),
    _f("data", "data_bias", "text", False, "Data bias", "Verzerrungen in den Daten"),
    _f("data", "connected_data_sources", "text", True, "Connected data sources", "Verbundene Datenquellen"),
    _f("data", "DPIA_description", "text", False, "Data protection impact assessment",
       "Datenschutz-Folgenabschätzung"),
    _f("data", "DPIA_url", "url", False, "DPIA link", "Link zur DSFA"),
    _f("algorithm", "algorithm_type", "enum", True, "Type of algorithm", "Art des Algorithmus", ALGORITHM_TYPES),
    _f("algorithm", "description", "text", True, "Description", "Beschreibung"),
    _f("algorithm", "methods_and_models", "text", False, "Methods and models", "Methoden und Modelle"),
    _f("algorithm", "performance", "text", False, "Performance", "Leistung"),
    _f("algorithm", "alternatives_considered", "text", False, "Alternatives considered", "Geprüfte Alternativen"),
    _f("algorithm", "product_information", "url", False, "Product information", "Produktinformationen"),
    _f("algorithm", "codebase_url", "url", False, "Source code", "Quellcode"),
    _f("algorithm", "product_page", "url", False, "Product page", "Produktseite"),
    _f("algorithm", "AIA_description", "text", False, "Algorithmic impact assessment",
       "Algorithmus-Folgenabschätzung"),
    _f("algorithm", "AIA_url", "url", False, "AIA link", "Link zur Folgenabschätzung"),
    _f("oversight", "monitoring", "text", True, "Monitoring", "Überwachung"),
    _f("oversight", "type", "enum", True, "Kind of analysis", "Art der Analyse", OVERSIGHT_TYPES),
    _f("oversight", "human_intervention", "text", True, "Human intervention", "Menschliches Eingreifen"),
    _f("oversight", "objection_procedure", "text", True, "How to object", "Widerspruchsverfahren"),
    _f("oversight", "rollback", "text", False, "Rollback", "Rückfallverfahren"),
    _f("metadata", "standard_version", "constant", True, "Standard version", "Version des Standards",
       (STANDARD_VERSION,)),
    _f("metadata", "uuid", "uuid", False, "UUID", "UUID"),
    _f("metadata", "lang", "lang", True, "Language", "Sprache"),
    _f("metadata", "publication_date", "date", True, "Published", "Veröffentlicht"),
    _f("metadata", "last_change_date", "date", True, "Last changed", "Zuletzt geändert"),
    _f("metadata", "revision_date", "date", True, "Next revision", "Nächste Überprüfung"),
    _f("metadata", "revision_note", "text", False, "Revision note", "Überprüfungsnotiz"),
    _f("metadata", "keywords", "keywords", False, "Keywords", "Schlagwörter"),
)
BY_NAME = {f.name: f for f in FIELDS}
SECTIONS = {"basic": ("Basics", "Grundlagen"), "use_case": ("Use case", "Einsatz"), "data": ("Data", "Daten"),
            "algorithm": ("Algorithm", "Algorithmus"), "oversight": ("Oversight", "Aufsicht"),
            "metadata": ("Record", "Eintrag")}
AUTOMATIC = ("standard_version", "uuid", "publication_date", "last_change_date")
"""Fields the platform fills in (a value sent for them must still be valid)."""

__all__ = ["Field", "FIELDS", "BY_NAME", "SECTIONS", "AUTOMATIC", "STANDARD_VERSION", "SOURCE_NOTE", "DOMAINS",
           "STATUSES", "RISK_CATEGORIES", "ALGORITHM_TYPES", "OVERSIGHT_TYPES"]
