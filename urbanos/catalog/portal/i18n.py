"""A small message catalogue for the portal pages (English and German).

The language comes from ``?lang=`` first, then from ``Accept-Language``; English is the fallback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from urbanos.core.lang import LANGS, pick_lang

MAIN_LANG = "en"
"""The language of a dataset's main ``title`` and ``notes`` (the catalogue's default language); its other languages
are in ``title_translated`` and ``notes_translated``."""

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "portal": "Open data portal",
        "tagline": "Find, preview and download the city's data: every dataset, who is responsible and who may use it.",
        "search": "Search", "search_label": "Search the catalogue", "search_placeholder": "e.g. trees, traffic, districts",
        "datasets": "Datasets", "results": "{n} datasets found", "results_one": "1 dataset found", "no_results": "No dataset matches your search.",
        "filter": "Filter", "clear_filters": "Clear filters", "sort": "Sort by", "apply": "Apply",
        "sort_relevance": "Relevance", "sort_modified": "Last modified", "sort_name": "Name",
        "facet_organization": "Organisation", "facet_groups": "Group", "facet_tags": "Keyword",
        "facet_res_format": "Format", "facet_license_id": "Licence", "facet_access_level": "Access level",
        "facet_theme": "Theme", "facet_frequency": "Update frequency",
        "prev": "Previous page", "next": "Next page", "page": "Page {p} of {n}",
        "access_open": "Open", "access_registered": "Registered users", "access_internal": "Internal",
        "access_confidential": "Confidential",
        "metadata": "Metadata", "access": "Access", "access_level": "Access level", "grounds": "Grounds for non-disclosure",
        "legal_basis": "Legal basis", "review_date": "Review date", "steward": "Data steward", "maintainer": "Maintainer",
        "owner": "Owner", "publisher": "Publisher", "license": "Licence", "frequency": "Update frequency",
        "themes": "Themes", "keywords": "Keywords", "spatial": "Spatial coverage", "temporal": "Temporal coverage",
        "created": "Created", "modified": "Last modified", "version": "Version",
        "quality": "Metadata quality", "quality_total": "{score} of {max} points — {band}",
        "dimension": "Dimension", "check": "Check", "points": "Points", "explanation": "Explanation",
        "freshness": "Freshness", "fresh": "Up to date", "stale": "Overdue for an update", "unknown": "Unknown",
        "not_applicable": "No fixed update period",
        "distributions": "Distributions", "download": "Download", "api": "API",
        "no_download": "No download: this dataset is not open.", "format": "Format", "size": "Size",
        "preview": "Preview", "preview_table": "First rows", "preview_map": "Map", "preview_none": "No preview available.",
        "preview_loading": "Loading preview…",
        "formats_rdf": "Metadata as DCAT-AP", "organization": "Organisation", "organizations": "Organisations",
        "inventory": "Inventory", "inventory_title": "Inventory of all datasets",
        "inventory_intro": "Every dataset the city keeps, including the ones it cannot open, with the grounds. "
                            "This page lists metadata only, never data.",
        "name": "Name", "title": "Title", "count": "Count", "all": "All",
        "services": "Services and APIs", "language": "Language", "not_found": "Not found",
        "open_data_of": "Open data of {city}", "datasets_of": "Datasets of {org}", "none": "—",
        "bands_Excellent": "Excellent", "bands_Good": "Good", "bands_Sufficient": "Sufficient", "bands_Bad": "Bad",
        "popular": "Browse by theme", "all_datasets": "All datasets",
        "no_distributions": "No distributions yet.",
        "download_as": "Download {name} as {fmt}", "read_api": "Open {name} in the API", "related": "Related datasets",
        "algorithms": "Algorithms that use this data",
        "privacy_summary": "Privacy rules",
        "sensors": "Sensors", "n_sensors": "{n} sensors on the map", "chart": "Recent values",
        "chart_of": "Recent values of {name}, in {unit}", "chart_none": "No recent values.", "standard": "Standard",
        "time": "Time", "value": "Value",
        "dim_findability": "Findability", "dim_accessibility": "Accessibility",
        "dim_interoperability": "Interoperability", "dim_reusability": "Reusability",
        "dim_contextuality": "Contextuality",
        "signin": "Sign in", "signout": "Sign out", "signed_in_as": "Signed in as {name}",
        "signin_title": "Sign in to publish data",
        "signin_intro": "Enter your API token once. It is kept in a cookie of this browser that scripts cannot read "
                        "and that is only sent to this portal; sign out to remove it.",
        "signin_field": "API token",
        "signin_empty": "Enter an API token.",
        "signin_failed": "This token is unknown, expired or revoked.",
        "add_data": "Add data", "add_data_intro": "Upload a file to this dataset: it becomes a distribution and a "
                                                  "queryable collection (OGC API Features, DataStore).",
        "file": "File", "file_types": "Accepted: {types}; at most {limit}.", "resource_title": "Title (optional)",
        "upload": "Upload", "uploading": "Uploading…", "upload_none": "Choose a file to upload.",
        "upload_empty": "The file is empty.",
        "upload_wrong_type": "Files of type {ext} cannot be imported; use one of {types}.",
        "upload_too_large": "The file is too large; the limit is {limit}.",
        "upload_no_rights": "You may not add data to this dataset: that needs the publisher role for its organisation.",
        "upload_failed": "The upload failed",
        "import": "Import", "import_running": "The file is being imported…", "import_done": "Import finished",
        "import_failed": "The import failed", "import_rows": "Rows loaded", "import_bad_rows": "Rows rejected",
        "import_collection": "Collection", "import_geometry": "Geometry", "import_crs": "Source CRS",
        "import_errors": "Rejected rows (row number and reason)",
        "import_unknown": "No report of this import is available yet; reload the page later.",
        "decimal_point": ".", "percent": "{n}%",
        # metadata quality (MQA) by indicator: its label (mqa_label_), its explanation when it passes (mqa_ok_),
        # fails (mqa_no_) or fails because the dataset has no distributions (mqa_none_, else mqa_no_distributions)
        "mqa_partial": "{text} ({share} of distributions pass)", "mqa_no_distributions": "No distributions.",
        "mqa_label_keywords": "Keyword usage (dcat:keyword)", "mqa_ok_keywords": "Keywords are given.",
        "mqa_no_keywords": "No keywords: add tags so that people find the dataset.",
        "mqa_label_themes": "Categories (dcat:theme)", "mqa_ok_themes": "A theme is given.",
        "mqa_no_themes": "No theme: pick an EU data theme or a city domain.",
        "mqa_label_spatial": "Geo search (dct:spatial)", "mqa_ok_spatial": "Spatial coverage is given.",
        "mqa_no_spatial": "No spatial coverage: add a geometry or place names.",
        "mqa_label_temporal": "Time-based search (dct:temporal)", "mqa_ok_temporal": "Temporal coverage is given.",
        "mqa_no_temporal": "No temporal coverage: add a start and/or end date.",
        "mqa_label_access_url": "AccessURL accessibility",
        "mqa_ok_access_url": "Every distribution has a reachable access URL (uploaded files checked on disk, paths "
                             "served here accepted; external URLs checked for form, not fetched).",
        "mqa_no_access_url": "Some distributions have no reachable access URL",
        "mqa_none_access_url": "No distributions: add a resource.",
        "mqa_label_download_url": "DownloadURL existence", "mqa_ok_download_url": "Every distribution has a download URL.",
        "mqa_no_download_url": "Distributions without a download URL",
        "mqa_label_download_url_ok": "DownloadURL accessibility", "mqa_ok_download_url_ok": "Every download gives data in its format.",
        "mqa_no_download_url_ok": "Some downloads give no data in their format (a metadata document, an error or nothing)",
        "mqa_label_format": "Format (dct:format)", "mqa_ok_format": "Every distribution states its format.",
        "mqa_no_format": "Distributions without a format",
        "mqa_label_media_type": "Media type (dcat:mediaType)",
        "mqa_ok_media_type": "Every distribution states its media type.",
        "mqa_no_media_type": "Distributions without a media type",
        "mqa_label_vocabulary": "Format / media type from vocabulary",
        "mqa_ok_vocabulary": "Formats and media types come from the EU file-type and IANA vocabularies.",
        "mqa_no_vocabulary": "Formats not in the controlled vocabularies",
        "mqa_label_non_proprietary": "Non-proprietary format",
        "mqa_ok_non_proprietary": "Every distribution uses a non-proprietary format.",
        "mqa_no_non_proprietary": "Distributions in proprietary formats",
        "mqa_label_machine_readable": "Machine-readable format",
        "mqa_ok_machine_readable": "Every distribution is machine readable.",
        "mqa_no_machine_readable": "Distributions that are not machine readable",
        "mqa_label_dcat_ap": "DCAT-AP compliance",
        "mqa_ok_dcat_ap": "The mandatory DCAT-AP properties (title, description, distribution with access URL) are "
                          "present.",
        "mqa_no_dcat_ap": "Mandatory DCAT-AP properties are missing: {missing}",
        "mqa_dcat_ap_title": "title", "mqa_dcat_ap_description": "description",
        "mqa_dcat_ap_distribution": "distribution", "mqa_dcat_ap_access_url": "a distribution has no access URL.",
        "mqa_label_license": "License information", "mqa_ok_license": "A licence is given.",
        "mqa_no_license": "No licence.",
        "mqa_label_license_vocabulary": "License vocabulary",
        "mqa_ok_license_vocabulary": "The licence comes from the known licence list.",
        "mqa_no_license_vocabulary": "The licence is not from the known licence list.",
        "mqa_label_access_rights": "Access restrictions (dct:accessRights)",
        "mqa_ok_access_rights": "The access level is stated.", "mqa_no_access_rights": "No access level.",
        "mqa_label_access_rights_vocabulary": "Access restrictions vocabulary",
        "mqa_ok_access_rights_vocabulary": "The access level maps to the EU access-right vocabulary (PUBLIC, "
                                           "RESTRICTED, NON_PUBLIC).",
        "mqa_no_access_rights_vocabulary": "Unknown access level.",
        "mqa_label_contact_point": "Contact point (dcat:contactPoint)", "mqa_ok_contact_point": "A contact point is given.",
        "mqa_no_contact_point": "No contact point: add a contact name or email.",
        "mqa_label_publisher": "Publisher (dct:publisher)", "mqa_ok_publisher": "A publisher is given.",
        "mqa_no_publisher": "No publisher.",
        "mqa_label_rights": "Rights (dct:rights)", "mqa_ok_rights": "A rights statement is given.",
        "mqa_no_rights": "No rights statement.",
        "mqa_label_byte_size": "File size (dcat:byteSize)", "mqa_ok_byte_size": "Every distribution states its size.",
        "mqa_no_byte_size": "Distributions without a size",
        "mqa_label_issued": "Date of issue (dct:issued)", "mqa_ok_issued": "The date of issue is known.",
        "mqa_no_issued": "No date of issue.",
        "mqa_label_modified": "Modification date (dct:modified)", "mqa_ok_modified": "The modification date is known.",
        "mqa_no_modified": "No modification date.",
        # freshness of a dataset against its update frequency ({freq} in words)
        "fresh_no_frequency": "No update frequency is declared.",
        "fresh_no_period": "Frequency “{freq}” has no fixed period.",
        "fresh_last_unknown": "The last update is not known.",
        "fresh_age": "Last updated {age} days ago; “{freq}” allows {max} days.",
        # organisation and theme pages
        "organizations_intro": "The publishers of the catalogue, with the number of their datasets you may see.",
        "themes_intro": "The EU data themes (DCAT-AP) and the city's domains, with the number of datasets you may see.",
        "eu_themes": "EU data themes", "city_domains": "City domains", "theme": "Theme",
        "n_datasets": "{n} datasets", "n_datasets_one": "1 dataset", "datasets_on": "Datasets on {theme}",
        "theme_unknown": "There is no theme {theme!r}: choose one on the themes page.",
        # the metadata form
        "new_dataset": "New dataset", "edit": "Edit metadata", "new_title": "Create a dataset",
        "edit_title": "Edit the metadata of “{title}”", "create": "Create dataset", "save": "Save changes",
        "cancel": "Cancel", "required": "required",
        "form_intro": "The same rules as the catalogue's API apply: the fields are checked when you save, and you may "
                      "only publish for your own organisation.",
        "form_errors": "The dataset was not saved. Correct the fields below:", "error": "Error",
        "f_name": "URL name", "f_name_hint": "Lower-case letters a–z, digits, - and _; at least 2 characters.",
        "f_owner_org": "Organisation", "f_title": "Title", "f_notes": "Description", "f_license_id": "Licence",
        "f_title_de": "Title in German", "f_notes_de": "Description in German",
        "f_translated_hint": "Shown on the German pages of the portal; the title and description above are the main "
                             "(English) ones.",
        "f_license_none": "— no licence —", "f_tags": "Keywords", "f_tags_hint": "Separate keywords with commas.",
        "f_theme": "Themes", "f_frequency": "Update frequency", "f_frequency_none": "— not stated —",
        "f_spatial_text": "Spatial coverage (place names)",
        "f_spatial": "Spatial coverage as a GeoJSON geometry",
        "f_spatial_hint": "WGS84 longitude/latitude, e.g. {\"type\": \"Point\", \"coordinates\": [9.99, 53.55]}.",
        "f_temporal_start": "Temporal coverage from", "f_temporal_end": "Temporal coverage until",
        "f_date_hint": "A date (YYYY-MM-DD).", "f_access_level": "Access level",
        "f_grounds": "Grounds for non-disclosure", "f_grounds_hint": "Needed when the dataset is not open.",
        "f_legal_basis": "Legal basis", "f_review_date": "Review date",
        "edit_no_rights": "You may not edit this dataset: that needs the publisher role for its organisation.",
        "new_no_rights": "You may not create datasets: that needs the publisher role for an organisation.",
    },
    "de": {
        "portal": "Open-Data-Portal",
        "tagline": "Daten der Stadt finden, ansehen und herunterladen: jeder Datensatz, wer verantwortlich ist und wer "
                   "ihn nutzen darf.",
        "search": "Suchen", "search_label": "Katalog durchsuchen", "search_placeholder": "z. B. Bäume, Verkehr, Bezirke",
        "datasets": "Datensätze", "results": "{n} Datensätze gefunden", "results_one": "1 Datensatz gefunden", "no_results": "Kein Datensatz passt zur Suche.",
        "filter": "Filtern", "clear_filters": "Filter zurücksetzen", "sort": "Sortieren nach", "apply": "Anwenden",
        "sort_relevance": "Relevanz", "sort_modified": "Zuletzt geändert", "sort_name": "Name",
        "facet_organization": "Organisation", "facet_groups": "Gruppe", "facet_tags": "Schlagwort",
        "facet_res_format": "Format", "facet_license_id": "Lizenz", "facet_access_level": "Zugangsstufe",
        "facet_theme": "Thema", "facet_frequency": "Aktualisierung",
        "prev": "Vorherige Seite", "next": "Nächste Seite", "page": "Seite {p} von {n}",
        "access_open": "Offen", "access_registered": "Registrierte Nutzer", "access_internal": "Intern",
        "access_confidential": "Vertraulich",
        "metadata": "Metadaten", "access": "Zugang", "access_level": "Zugangsstufe",
        "grounds": "Gründe für die Nichtveröffentlichung", "legal_basis": "Rechtsgrundlage",
        "review_date": "Überprüfung am", "steward": "Datenverantwortliche Stelle", "maintainer": "Pflege",
        "owner": "Eigentümer", "publisher": "Herausgeber", "license": "Lizenz", "frequency": "Aktualisierung",
        "themes": "Themen", "keywords": "Schlagwörter", "spatial": "Räumliche Abdeckung",
        "temporal": "Zeitliche Abdeckung", "created": "Erstellt", "modified": "Zuletzt geändert", "version": "Version",
        "quality": "Metadatenqualität", "quality_total": "{score} von {max} Punkten — {band}",
        "dimension": "Dimension", "check": "Prüfung", "points": "Punkte", "explanation": "Erläuterung",
        "freshness": "Aktualität", "fresh": "Aktuell", "stale": "Aktualisierung überfällig", "unknown": "Unbekannt",
        "not_applicable": "Kein fester Aktualisierungszyklus",
        "distributions": "Distributionen", "download": "Herunterladen", "api": "API",
        "no_download": "Kein Download: Dieser Datensatz ist nicht offen.", "format": "Format", "size": "Größe",
        "preview": "Vorschau", "preview_table": "Erste Zeilen", "preview_map": "Karte",
        "preview_none": "Keine Vorschau verfügbar.", "preview_loading": "Vorschau wird geladen…",
        "formats_rdf": "Metadaten als DCAT-AP", "organization": "Organisation", "organizations": "Organisationen",
        "inventory": "Verzeichnis", "inventory_title": "Verzeichnis aller Datensätze",
        "inventory_intro": "Alle Datensätze der Stadt, auch die, die sie nicht öffnen kann, mit den Gründen. "
                            "Diese Seite zeigt nur Metadaten, nie Daten.",
        "name": "Name", "title": "Titel", "count": "Anzahl", "all": "Alle",
        "services": "Dienste und Schnittstellen", "language": "Sprache", "not_found": "Nicht gefunden",
        "open_data_of": "Offene Daten: {city}", "datasets_of": "Datensätze: {org}", "none": "—",
        "bands_Excellent": "Ausgezeichnet", "bands_Good": "Gut", "bands_Sufficient": "Ausreichend",
        "bands_Bad": "Mangelhaft", "popular": "Nach Thema stöbern", "all_datasets": "Alle Datensätze",
        "no_distributions": "Noch keine Distributionen.",
        "download_as": "{name} als {fmt} herunterladen", "read_api": "{name} in der Schnittstelle öffnen",
        "related": "Verwandte Datensätze", "algorithms": "Algorithmen, die diese Daten nutzen", "privacy_summary": "Datenschutzregeln", "sensors": "Sensoren", "n_sensors": "{n} Sensoren auf der Karte",
        "chart": "Aktuelle Werte", "chart_of": "Aktuelle Werte von {name}, in {unit}", "chart_none": "Keine aktuellen Werte.",
        "standard": "Standard", "time": "Zeit", "value": "Wert",
        "dim_findability": "Auffindbarkeit", "dim_accessibility": "Zugänglichkeit",
        "dim_interoperability": "Interoperabilität", "dim_reusability": "Wiederverwendbarkeit",
        "dim_contextuality": "Kontext",
        "signin": "Anmelden", "signout": "Abmelden", "signed_in_as": "Angemeldet als {name}",
        "signin_title": "Anmelden, um Daten zu veröffentlichen",
        "signin_intro": "Geben Sie Ihr API-Token einmal ein. Es wird in einem Cookie dieses Browsers gespeichert, das "
                        "Skripte nicht lesen können und das nur an dieses Portal geht; beim Abmelden wird es gelöscht.",
        "signin_field": "API-Token",
        "signin_empty": "Bitte ein API-Token eingeben.",
        "signin_failed": "Dieses Token ist unbekannt, abgelaufen oder widerrufen.",
        "add_data": "Daten hinzufügen", "add_data_intro": "Laden Sie eine Datei zu diesem Datensatz hoch: Sie wird "
                                                          "eine Distribution und eine abfragbare Sammlung (OGC API Features, DataStore).",
        "file": "Datei", "file_types": "Erlaubt: {types}; höchstens {limit}.", "resource_title": "Titel (optional)",
        "upload": "Hochladen", "uploading": "Wird hochgeladen…", "upload_none": "Bitte eine Datei auswählen.",
        "upload_empty": "Die Datei ist leer.",
        "upload_wrong_type": "Dateien vom Typ {ext} können nicht importiert werden; erlaubt sind {types}.",
        "upload_too_large": "Die Datei ist zu groß; die Grenze ist {limit}.",
        "upload_no_rights": "Sie dürfen diesem Datensatz keine Daten hinzufügen: Dafür ist die Rolle Publisher für "
                            "seine Organisation nötig.",
        "upload_failed": "Das Hochladen ist fehlgeschlagen",
        "import": "Import", "import_running": "Die Datei wird importiert…", "import_done": "Import abgeschlossen",
        "import_failed": "Der Import ist fehlgeschlagen", "import_rows": "Geladene Zeilen",
        "import_bad_rows": "Abgelehnte Zeilen", "import_collection": "Sammlung", "import_geometry": "Geometrie",
        "import_crs": "Quell-Koordinatensystem", "import_errors": "Abgelehnte Zeilen (Zeilennummer und Grund)",
        "import_unknown": "Zu diesem Import liegt noch kein Bericht vor; laden Sie die Seite später neu.",
        "decimal_point": ",", "percent": "{n} %",
        "mqa_partial": "{text} ({share} der Distributionen erfüllen das Kriterium)",
        "mqa_no_distributions": "Keine Distributionen.",
        "mqa_label_keywords": "Verwendung von Schlagwörtern (dcat:keyword)", "mqa_ok_keywords": "Schlagwörter sind angegeben.",
        "mqa_no_keywords": "Keine Schlagwörter: Vergeben Sie Schlagwörter, damit der Datensatz gefunden wird.",
        "mqa_label_themes": "Kategorien (dcat:theme)", "mqa_ok_themes": "Ein Thema ist angegeben.",
        "mqa_no_themes": "Kein Thema: Wählen Sie ein EU-Datenthema oder einen Fachbereich der Stadt.",
        "mqa_label_spatial": "Räumliche Suche (dct:spatial)", "mqa_ok_spatial": "Die räumliche Abdeckung ist angegeben.",
        "mqa_no_spatial": "Keine räumliche Abdeckung: Ergänzen Sie eine Geometrie oder Ortsnamen.",
        "mqa_label_temporal": "Zeitbasierte Suche (dct:temporal)",
        "mqa_ok_temporal": "Die zeitliche Abdeckung ist angegeben.",
        "mqa_no_temporal": "Keine zeitliche Abdeckung: Ergänzen Sie ein Anfangs- und/oder Enddatum.",
        "mqa_label_access_url": "Erreichbarkeit der Zugangs-URL (dcat:accessURL)",
        "mqa_ok_access_url": "Jede Distribution hat eine erreichbare Zugangs-URL (hochgeladene Dateien werden auf dem "
                             "Server geprüft, Pfade dieser Plattform gelten als erreichbar; externe URLs werden nur auf "
                             "ihre Form geprüft, nicht abgerufen).",
        "mqa_no_access_url": "Einige Distributionen haben keine erreichbare Zugangs-URL",
        "mqa_none_access_url": "Keine Distributionen: Fügen Sie eine Ressource hinzu.",
        "mqa_label_download_url": "Vorhandensein der Download-URL (dcat:downloadURL)",
        "mqa_ok_download_url": "Jede Distribution hat eine Download-URL.",
        "mqa_no_download_url": "Distributionen ohne Download-URL",
        "mqa_label_download_url_ok": "Erreichbarkeit der Download-URL (dcat:downloadURL)",
        "mqa_ok_download_url_ok": "Jeder Download liefert Daten in seinem Format.",
        "mqa_no_download_url_ok": "Einige Downloads liefern keine Daten in ihrem Format (ein Metadatendokument, einen Fehler oder nichts)",
        "mqa_label_format": "Format (dct:format)", "mqa_ok_format": "Jede Distribution gibt ihr Format an.",
        "mqa_no_format": "Distributionen ohne Formatangabe",
        "mqa_label_media_type": "Medientyp (dcat:mediaType)", "mqa_ok_media_type": "Jede Distribution gibt ihren Medientyp an.",
        "mqa_no_media_type": "Distributionen ohne Medientyp",
        "mqa_label_vocabulary": "Format / Medientyp aus einem Vokabular",
        "mqa_ok_vocabulary": "Formate und Medientypen stammen aus dem EU-Vokabular der Dateitypen und dem der IANA.",
        "mqa_no_vocabulary": "Formate, die nicht aus den kontrollierten Vokabularen stammen",
        "mqa_label_non_proprietary": "Offenes (nicht proprietäres) Format",
        "mqa_ok_non_proprietary": "Jede Distribution nutzt ein offenes, nicht proprietäres Format.",
        "mqa_no_non_proprietary": "Distributionen in proprietären Formaten",
        "mqa_label_machine_readable": "Maschinenlesbares Format",
        "mqa_ok_machine_readable": "Jede Distribution ist maschinenlesbar.",
        "mqa_no_machine_readable": "Distributionen, die nicht maschinenlesbar sind",
        "mqa_label_dcat_ap": "DCAT-AP-Konformität",
        "mqa_ok_dcat_ap": "Die Pflichtangaben nach DCAT-AP (Titel, Beschreibung, Distribution mit Zugangs-URL) sind "
                          "vorhanden.",
        "mqa_no_dcat_ap": "Pflichtangaben nach DCAT-AP fehlen: {missing}",
        "mqa_dcat_ap_title": "Titel", "mqa_dcat_ap_description": "Beschreibung",
        "mqa_dcat_ap_distribution": "Distribution",
        "mqa_dcat_ap_access_url": "Eine Distribution hat keine Zugangs-URL.",
        "mqa_label_license": "Lizenzangabe", "mqa_ok_license": "Eine Lizenz ist angegeben.",
        "mqa_no_license": "Keine Lizenz.",
        "mqa_label_license_vocabulary": "Lizenz aus einem Vokabular",
        "mqa_ok_license_vocabulary": "Die Lizenz stammt aus der Liste der bekannten Lizenzen.",
        "mqa_no_license_vocabulary": "Die Lizenz stammt nicht aus der Liste der bekannten Lizenzen.",
        "mqa_label_access_rights": "Zugangsbeschränkungen (dct:accessRights)",
        "mqa_ok_access_rights": "Die Zugangsstufe ist angegeben.", "mqa_no_access_rights": "Keine Zugangsstufe.",
        "mqa_label_access_rights_vocabulary": "Zugangsbeschränkungen aus einem Vokabular",
        "mqa_ok_access_rights_vocabulary": "Die Zugangsstufe entspricht einem Wert des EU-Vokabulars für Zugangsrechte "
                                           "(PUBLIC, RESTRICTED, NON_PUBLIC).",
        "mqa_no_access_rights_vocabulary": "Unbekannte Zugangsstufe.",
        "mqa_label_contact_point": "Kontaktstelle (dcat:contactPoint)",
        "mqa_ok_contact_point": "Eine Kontaktstelle ist angegeben.",
        "mqa_no_contact_point": "Keine Kontaktstelle: Ergänzen Sie einen Kontaktnamen oder eine E-Mail-Adresse.",
        "mqa_label_publisher": "Herausgeber (dct:publisher)", "mqa_ok_publisher": "Ein Herausgeber ist angegeben.",
        "mqa_no_publisher": "Kein Herausgeber.",
        "mqa_label_rights": "Rechte (dct:rights)", "mqa_ok_rights": "Angaben zu den Rechten sind vorhanden.",
        "mqa_no_rights": "Keine Angaben zu den Rechten.",
        "mqa_label_byte_size": "Dateigröße (dcat:byteSize)", "mqa_ok_byte_size": "Jede Distribution gibt ihre Größe an.",
        "mqa_no_byte_size": "Distributionen ohne Größenangabe",
        "mqa_label_issued": "Veröffentlichungsdatum (dct:issued)",
        "mqa_ok_issued": "Das Veröffentlichungsdatum ist bekannt.", "mqa_no_issued": "Kein Veröffentlichungsdatum.",
        "mqa_label_modified": "Änderungsdatum (dct:modified)", "mqa_ok_modified": "Das Änderungsdatum ist bekannt.",
        "mqa_no_modified": "Kein Änderungsdatum.",
        "fresh_no_frequency": "Es ist keine Aktualisierungshäufigkeit angegeben.",
        "fresh_no_period": "Für die Aktualisierungshäufigkeit „{freq}“ gibt es keinen festen Zeitraum.",
        "fresh_last_unknown": "Der Zeitpunkt der letzten Aktualisierung ist nicht bekannt.",
        "fresh_age": "Zuletzt aktualisiert vor {age} Tagen; bei „{freq}“ sind höchstens {max} Tage zulässig.",
        "organizations_intro": "Die Herausgeber des Katalogs mit der Zahl ihrer Datensätze, die Sie sehen dürfen.",
        "themes_intro": "Die Datenthemen der EU (DCAT-AP) und die Fachbereiche der Stadt mit der Zahl der Datensätze, "
                        "die Sie sehen dürfen.",
        "eu_themes": "Datenthemen der EU", "city_domains": "Fachbereiche der Stadt", "theme": "Thema",
        "n_datasets": "{n} Datensätze", "n_datasets_one": "1 Datensatz", "datasets_on": "Datensätze zum Thema {theme}",
        "theme_unknown": "Es gibt kein Thema {theme!r}: Wählen Sie eines auf der Themenseite.",
        "new_dataset": "Neuer Datensatz", "edit": "Metadaten bearbeiten", "new_title": "Datensatz anlegen",
        "edit_title": "Metadaten von „{title}“ bearbeiten", "create": "Datensatz anlegen", "save": "Änderungen speichern",
        "cancel": "Abbrechen", "required": "Pflichtfeld",
        "form_intro": "Es gelten dieselben Regeln wie in der Schnittstelle des Katalogs: Die Felder werden beim "
                      "Speichern geprüft, und Sie dürfen nur für Ihre eigene Organisation veröffentlichen.",
        "form_errors": "Der Datensatz wurde nicht gespeichert. Bitte korrigieren Sie die folgenden Felder:",
        "error": "Fehler",
        "f_name": "URL-Name", "f_name_hint": "Kleinbuchstaben a–z, Ziffern, - und _; mindestens 2 Zeichen.",
        "f_owner_org": "Organisation", "f_title": "Titel", "f_notes": "Beschreibung", "f_license_id": "Lizenz",
        "f_title_de": "Titel auf Deutsch", "f_notes_de": "Beschreibung auf Deutsch",
        "f_translated_hint": "Wird auf den deutschen Seiten des Portals gezeigt; Titel und Beschreibung oben sind die "
                             "Hauptfassung (Englisch).",
        "f_license_none": "— keine Lizenz —", "f_tags": "Schlagwörter",
        "f_tags_hint": "Schlagwörter durch Kommas trennen.", "f_theme": "Themen", "f_frequency": "Aktualisierung",
        "f_frequency_none": "— nicht angegeben —", "f_spatial_text": "Räumliche Abdeckung (Ortsnamen)",
        "f_spatial": "Räumliche Abdeckung als GeoJSON-Geometrie",
        "f_spatial_hint": "WGS84 Länge/Breite, z. B. {\"type\": \"Point\", \"coordinates\": [9.99, 53.55]}.",
        "f_temporal_start": "Zeitliche Abdeckung ab", "f_temporal_end": "Zeitliche Abdeckung bis",
        "f_date_hint": "Ein Datum (JJJJ-MM-TT).", "f_access_level": "Zugangsstufe",
        "f_grounds": "Gründe für die Nichtveröffentlichung", "f_grounds_hint": "Nötig, wenn der Datensatz nicht offen ist.",
        "f_legal_basis": "Rechtsgrundlage", "f_review_date": "Überprüfung am",
        "edit_no_rights": "Sie dürfen diesen Datensatz nicht bearbeiten: Dafür ist die Rolle Publisher für seine "
                          "Organisation nötig.",
        "new_no_rights": "Sie dürfen keine Datensätze anlegen: Dafür ist die Rolle Publisher für eine Organisation nötig.",
    },
}

# The EU frequency vocabulary (publications.europa.eu/resource/authority/frequency) in words: code -> (en, de).
FREQUENCY_LABELS: dict[str, tuple[str, str]] = {
    "UPDATE_CONT": ("Continuously updated", "Laufend aktualisiert"), "CONT": ("Continuous", "Kontinuierlich"),
    "1MIN": ("Every minute", "Jede Minute"), "5MIN": ("Every five minutes", "Alle fünf Minuten"),
    "10MIN": ("Every ten minutes", "Alle zehn Minuten"), "15MIN": ("Every fifteen minutes", "Alle fünfzehn Minuten"),
    "30MIN": ("Every thirty minutes", "Alle dreißig Minuten"), "HOURLY": ("Hourly", "Stündlich"),
    "BIHOURLY": ("Every two hours", "Alle zwei Stunden"), "TRIHOURLY": ("Every three hours", "Alle drei Stunden"),
    "12HRS": ("Every twelve hours", "Alle zwölf Stunden"), "DAILY": ("Daily", "Täglich"),
    "DAILY_2": ("Twice a day", "Zweimal täglich"), "BIDAILY": ("Every two days", "Alle zwei Tage"),
    "TRIDAILY": ("Every three days", "Alle drei Tage"), "WEEKLY": ("Weekly", "Wöchentlich"),
    "WEEKLY_2": ("Twice a week", "Zweimal wöchentlich"), "WEEKLY_3": ("Three times a week", "Dreimal wöchentlich"),
    "BIWEEKLY": ("Every two weeks", "Alle zwei Wochen"), "MONTHLY": ("Monthly", "Monatlich"),
    "MONTHLY_2": ("Twice a month", "Zweimal monatlich"), "MONTHLY_3": ("Three times a month", "Dreimal monatlich"),
    "BIMONTHLY": ("Every two months", "Alle zwei Monate"), "QUARTERLY": ("Quarterly", "Vierteljährlich"),
    "ANNUAL": ("Annual", "Jährlich"), "ANNUAL_2": ("Twice a year", "Halbjährlich"),
    "ANNUAL_3": ("Three times a year", "Dreimal jährlich"), "BIENNIAL": ("Every two years", "Alle zwei Jahre"),
    "TRIENNIAL": ("Every three years", "Alle drei Jahre"), "QUADRENNIAL": ("Every four years", "Alle vier Jahre"),
    "QUINQUENNIAL": ("Every five years", "Alle fünf Jahre"), "DECENNIAL": ("Every ten years", "Alle zehn Jahre"),
    "BIDECENNIAL": ("Every twenty years", "Alle zwanzig Jahre"),
    "TRIDECENNIAL": ("Every thirty years", "Alle dreißig Jahre"), "IRREG": ("Irregular", "Unregelmäßig"),
    "OTHER": ("Other", "Sonstige"), "UNKNOWN": ("Unknown", "Unbekannt"), "NEVER": ("Never", "Nie"),
    "AS_NEEDED": ("As needed", "Nach Bedarf"), "NOT_PLANNED": ("Not planned", "Nicht geplant"),
    "OP_DATPRO": ("Provisional data", "Vorläufige Daten"),
}

# The EU data themes and the city domains (urbanos.catalog.model.THEMES) in words: code -> (en, de).
THEME_LABELS: dict[str, tuple[str, str]] = {
    "AGRI": ("Agriculture, fisheries, forestry and food", "Landwirtschaft, Fischerei, Forstwirtschaft und Nahrungsmittel"),
    "ECON": ("Economy and finance", "Wirtschaft und Finanzen"),
    "EDUC": ("Education, culture and sport", "Bildung, Kultur und Sport"), "ENER": ("Energy", "Energie"),
    "ENVI": ("Environment", "Umwelt"), "GOVE": ("Government and public sector", "Regierung und öffentlicher Sektor"),
    "HEAL": ("Health", "Gesundheit"), "INTR": ("International issues", "Internationale Themen"),
    "JUST": ("Justice, legal system and public safety", "Justiz, Rechtssystem und öffentliche Sicherheit"),
    "REGI": ("Regions and cities", "Regionen und Städte"), "SOCI": ("Population and society", "Bevölkerung und Gesellschaft"),
    "TECH": ("Science and technology", "Wissenschaft und Technologie"), "TRAN": ("Transport", "Verkehr"),
    "OP_DATPRO": ("Provisional data", "Vorläufige Daten"),
    "economy": ("Smart economy", "Wirtschaft"), "living": ("Smart living", "Leben in der Stadt"),
    "governance": ("Smart governance", "Verwaltung"), "environment": ("Smart environment", "Umwelt und Klima"),
    "mobility": ("Smart mobility", "Mobilität"), "people": ("Smart people", "Menschen und Bildung"),
    "security": ("Safety and security", "Sicherheit"),
}


def in_language(item: Mapping[str, Any], key: str, lang: str) -> dict[str, str]:
    """``item[key]`` (``title`` or ``notes``) in the page's language ``lang``: its text in ``key + "_translated"``
    for ``lang`` (or a regional variant such as ``de-CH``) when it has one, else the main text. ``lang`` of the
    answer is the text's language when it differs from the page's (for a ``lang`` attribute, WCAG 3.1.2), else ""."""
    translated = item.get(f"{key}_translated")
    if isinstance(translated, Mapping):
        found = translated.get(lang)
        code = lang
        if not found:
            code, found = next(((k, v) for k, v in sorted(translated.items()) if str(k).split("-")[0] == lang and v),
                               (lang, None))
        if isinstance(found, str) and found:
            return {"text": found, "lang": "" if code == lang else str(code)}
    text = item.get(key)
    return {"text": str(text or ""), "lang": "" if lang == MAIN_LANG or not text else MAIN_LANG}


def translator(lang: str) -> Callable[..., str]:
    table = MESSAGES.get(lang, MESSAGES["en"])
    at = LANGS.index(lang) if lang in LANGS else 0

    def t(key: str, default: str | None = None, **kw: object) -> str:
        """The message ``key`` in this language (English when it has none); ``freq_<code>`` names an EU
        frequency code, ``theme_<code>`` a data theme."""
        words = FREQUENCY_LABELS.get(key[5:]) if key.startswith("freq_") else THEME_LABELS.get(key[6:]) if key.startswith("theme_") else None
        text = table.get(key) or MESSAGES["en"].get(key) or (words[at] if words else None) or (default if default is not None else key)
        return text.format(**kw) if kw else text

    return t


__all__ = ["LANGS", "MAIN_LANG", "in_language", "MESSAGES", "FREQUENCY_LABELS", "THEME_LABELS", "pick_lang",
           "translator"]
