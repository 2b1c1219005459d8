"""The sections of an assessment, after the Model DPIA Rijksdienst (the Dutch central government's model for a data
protection impact assessment, v3.0): part A describes the processing, part B assesses its lawfulness, part C the
risks for the data subjects, part D the measures. Keys are ours; the Dutch headings are the model's."""

from __future__ import annotations

SECTIONS: tuple[tuple[str, str, str, str, bool], ...] = (
    # key, part, English heading, German heading, required to submit
    ("description", "A", "Description of the processing", "Beschreibung der Verarbeitung", True),
    ("personal_data", "A", "Personal data processed", "Verarbeitete personenbezogene Daten", True),
    ("purposes", "A", "Purposes of the processing", "Zwecke der Verarbeitung", True),
    ("parties", "A", "Parties involved", "Beteiligte", False),
    ("retention", "A", "Retention periods", "Speicherfristen", False),
    ("legal_basis", "B", "Legal basis", "Rechtsgrundlage", True),
    ("necessity_proportionality", "B", "Necessity and proportionality (subsidiarity)",
     "Erforderlichkeit und Verhältnismäßigkeit", True),
    ("data_subject_rights", "B", "Rights of the data subjects", "Rechte der betroffenen Personen", False),
    ("risks", "C", "Risks for the data subjects", "Risiken für die betroffenen Personen", True),
    ("measures", "D", "Measures against the risks", "Maßnahmen gegen die Risiken", True),
)
KEYS = tuple(s[0] for s in SECTIONS)
REQUIRED = tuple(s[0] for s in SECTIONS if s[4])
STATES = ("draft", "submitted", "approved", "rejected")
KINDS = ("dataset", "observed_property")
MAX_SECTION = 20000

__all__ = ["SECTIONS", "KEYS", "REQUIRED", "STATES", "KINDS", "MAX_SECTION"]
