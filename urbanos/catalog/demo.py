"""Demo catalogue: publishers, groups and datasets for the demo city (idempotent).

Titles and descriptions come in English (the main language) and German (``title_translated``,
``notes_translated``). Datasets that other capabilities load (the Melbourne pedestrian counts from sensing, the Hamburg
districts and the Melbourne pedestrian sensors from features) are enriched by name: at once when the row exists,
otherwise the metadata waits in ``catalog_pending`` and is applied when the row appears.
"""

from __future__ import annotations

from typing import Any

from urbanos.catalog import writes
from urbanos.governance import ADMIN
from urbanos.platform import Platform
from urbanos.storage import Connection

ORGS = [
    {"name": "city-of-melbourne", "title": "City of Melbourne", "description": "Open data of the City of Melbourne, Australia."},
    {"name": "hamburg-lgv", "title": "Landesbetrieb Geoinformation und Vermessung Hamburg",
     "description": "Geodata of the Free and Hanseatic City of Hamburg."},
    {"name": "demo-mobility", "title": "Demo City – Department of Mobility", "description": "Traffic, parking and roads."},
    {"name": "demo-social", "title": "Demo City – Social Services", "description": "Social services and public health."},
    {"name": "demo-safety", "title": "Demo City – Public Safety", "description": "Emergency services and critical infrastructure."},
    {"name": "demo-environment", "title": "Demo City – Department of Environment",
     "description": "Air quality, waste collection and green spaces."},
]
GROUPS = [
    {"name": "mobility", "title": "Mobility", "description": "How people and goods move through the city."},
    {"name": "boundaries", "title": "Boundaries", "description": "Administrative units and districts."},
    {"name": "society", "title": "Society", "description": "Population, health and social services."},
]
MELBOURNE_BOX = {"type": "Polygon", "coordinates": [[[144.94, -37.83], [144.99, -37.83], [144.99, -37.79], [144.94, -37.79], [144.94, -37.83]]]}
SENSORS_BOX = {"type": "Polygon", "coordinates": [[[144.93036194, -37.82401776], [144.97467662, -37.82401776],
                                                  [144.97467662, -37.79453802], [144.93036194, -37.79453802],
                                                  [144.93036194, -37.82401776]]]}  # the sensors' extent
HAMBURG_BOX = {"type": "Polygon", "coordinates": [[[9.73, 53.39], [10.33, 53.39], [10.33, 53.74], [9.73, 53.74], [9.73, 53.39]]]}

ENRICH: list[dict[str, Any]] = [
    # the simulated sensors of the dashboards' demo and the bike-sharing system the connectors' demo polls: created
    # by those capabilities after this runs, they take this metadata when the catalogue first indexes them
    {"name": "demo-parking-bays", "owner_org": "demo-mobility", "title": "Parking bay occupancy (simulated demo)",
     "notes": "Occupancy of 24 on-street parking bays in four streets of central Melbourne, one SensorThings Datastream "
              "per bay (1 occupied, 0 free). Simulated by the demo along a daily curve; no real sensor behind it.",
     "title_translated": {"de": "Belegung von Parkplätzen (simulierte Demo)"},
     "notes_translated": {"de": "Belegung von 24 Parkplätzen am Straßenrand in vier Straßen im Zentrum von Melbourne, ein "
                                "SensorThings-Datenstrom je Parkplatz (1 belegt, 0 frei). Von der Demo nach einem "
                                "Tagesverlauf simuliert; kein echter Sensor."},
     "license_id": "CC0-1.0", "tags": ["parking", "simulated"], "theme": ["TRAN", "mobility"], "frequency": "UPDATE_CONT",
     "access_level": "open"},
    {"name": "demo-waste-bins", "owner_org": "demo-environment", "title": "Waste bin fill levels (simulated demo)",
     "notes": "Fill level in percent of public waste bins, one SensorThings Datastream per bin. Simulated by the demo: "
              "bins fill during the day and are emptied when full.",
     "title_translated": {"de": "Füllstände von Abfallbehältern (simulierte Demo)"},
     "notes_translated": {"de": "Füllstand öffentlicher Abfallbehälter in Prozent, ein SensorThings-Datenstrom je Behälter. "
                                "Von der Demo simuliert: Die Behälter füllen sich tagsüber und werden geleert, wenn sie voll "
                                "sind."},
     "license_id": "CC0-1.0", "tags": ["waste", "simulated"], "theme": ["ENVI", "environment"],
     "frequency": "UPDATE_CONT", "access_level": "open"},
    {"name": "demo-air-quality", "owner_org": "demo-environment", "title": "Air quality (simulated demo)",
     "notes": "NO2, PM10 and PM2.5 concentrations in µg/m³ at a few measuring points, with a daily pattern. Simulated "
              "by the demo; the dashboard compares them with the EU limit values of Directive 2008/50/EC.",
     "title_translated": {"de": "Luftqualität (simulierte Demo)"},
     "notes_translated": {"de": "NO2-, PM10- und PM2,5-Konzentrationen in µg/m³ an einigen Messpunkten, mit einem "
                                "Tagesverlauf. Von der Demo simuliert; das Dashboard vergleicht sie mit den EU-Grenzwerten "
                                "der Richtlinie 2008/50/EG."},
     "license_id": "CC0-1.0", "tags": ["air quality", "simulated"], "theme": ["ENVI", "environment"],
     "frequency": "UPDATE_CONT", "access_level": "open"},
    {"name": "bike-sharing", "owner_org": "demo-mobility", "title": "Bike-sharing stations and vehicles (simulated)",
     "notes": "Stations (vehicles and docks available) and free-floating vehicles of a generated bike-sharing system "
              "around Hamburg's centre, pulled by the demo's GBFS connector from the feed the demo itself serves.",
     "title_translated": {"de": "Bikesharing-Stationen und -Fahrzeuge (simuliert)"},
     "notes_translated": {"de": "Stationen (verfügbare Fahrzeuge und Stellplätze) und frei abgestellte Fahrzeuge eines "
                                "erzeugten Bikesharing-Systems rund um die Hamburger Innenstadt, vom GBFS-Connector der "
                                "Demo aus dem Feed geholt, den die Demo selbst ausliefert."},
     "license_id": "CC0-1.0", "tags": ["bike sharing", "gbfs", "simulated"], "theme": ["TRAN", "mobility"],
     "frequency": "UPDATE_CONT", "access_level": "open"},
    {"name": "melbourne-pedestrian-counts", "title": "Pedestrian Counting System – hourly counts", "owner_org": "city-of-melbourne",
     "notes": "Hourly pedestrian counts from sensors across the Melbourne CBD, with the sensor locations. Served live through the "
              "SensorThings API.\n\nThe counts of March and April 2017 are recorded by the City of Melbourne. The live "
              "values after them are simulated by this demo: every few seconds each sensor gets the typical count "
              "recorded on the same weekday and at the same hour, with a little noise (Observations with "
              "parameters.simulated = true).",
     "license_id": "CC-BY-4.0", "tags": ["pedestrians", "footfall", "sensors", "counts"], "theme": ["TRAN", "mobility"],
     "frequency": "HOURLY", "spatial": MELBOURNE_BOX, "spatial_text": "Melbourne CBD, Victoria, Australia",
     "temporal_start": "2017-02-28", "temporal_end": "2017-04-30", "contact_name": "City of Melbourne Open Data Team",
     "contact_email": "opendata@melbourne.vic.gov.au", "steward": "Pedestrian counting programme",
     "maintainer": "City of Melbourne Open Data Team", "owner": "City of Melbourne", "publisher": "City of Melbourne",
     "groups": ["mobility"], "rights": "CC BY 4.0 – attribute the City of Melbourne", "access_level": "open",
     "extras": [{"key": "related", "value": "pedestrian-sensors"}],
     "title_translated": {"de": "Fußgängerzählsystem – stündliche Zählungen"},
     "notes_translated": {"de": "Stündliche Fußgängerzählungen der Sensoren in der Innenstadt von Melbourne (CBD), mit den "
                                "Standorten der Sensoren. Live über die SensorThings API bereitgestellt.\n\nDie Zählungen von "
                                "März und April 2017 hat die City of Melbourne erfasst. Die Live-Werte danach simuliert diese "
                                "Demo: Alle paar Sekunden erhält jeder Sensor den typischen Zählwert, der am selben Wochentag "
                                "zur selben Stunde erfasst wurde, mit etwas Rauschen (Observations mit "
                                "parameters.simulated = true)."}},
    {"name": "pedestrian-sensors", "title": "Melbourne: pedestrian counting sensors", "owner_org": "city-of-melbourne",
     "notes": "Locations of the sensors of the City of Melbourne's Pedestrian Counting System: id, name and description "
              "of each sensor, installation date, status, the two directions it counts and its position (WGS84). The "
              "hourly counts of these sensors are the dataset melbourne-pedestrian-counts. Source: City of Melbourne, "
              "Pedestrian Counting System – Sensor Locations, licensed under CC BY 4.0.",
     "license_id": "CC-BY-4.0", "tags": ["pedestrians", "sensors", "locations", "melbourne"], "theme": ["TRAN", "mobility"],
     "spatial": SENSORS_BOX, "spatial_text": "Melbourne CBD, Victoria, Australia",
     "contact_name": "City of Melbourne Open Data Team", "contact_email": "opendata@melbourne.vic.gov.au",
     "maintainer": "City of Melbourne Open Data Team", "steward": "Pedestrian counting programme", "frequency": "IRREG",
     "owner": "City of Melbourne", "publisher": "City of Melbourne",
     "rights": "CC BY 4.0 – attribute the City of Melbourne", "access_level": "open",
     "extras": [{"key": "related", "value": "melbourne-pedestrian-counts"}],
     "title_translated": {"de": "Melbourne: Sensoren der Fußgängerzählung"},
     "notes_translated": {"de": "Standorte der Sensoren des Fußgängerzählsystems der City of Melbourne: Kennung, Name und "
                                "Beschreibung jedes Sensors, Installationsdatum, Status, die beiden gezählten Richtungen und "
                                "seine Position (WGS84). Die stündlichen Zählungen dieser Sensoren enthält der Datensatz "
                                "melbourne-pedestrian-counts. Quelle: City of Melbourne, Pedestrian Counting System – Sensor "
                                "Locations, lizenziert unter CC BY 4.0."}},
    {"name": "hamburg-stadtteile", "title": "Hamburg Stadtteile (districts)", "owner_org": "hamburg-lgv",
     "notes": "Boundaries of Hamburg's 104 Stadtteile (quarters) as polygons, from the official ALKIS administrative units.",
     "license_id": "dl-de-by-2.0", "tags": ["stadtteile", "boundaries", "hamburg", "verwaltungsgrenzen"],
     "theme": ["REGI", "governance"], "frequency": "ANNUAL", "spatial": HAMBURG_BOX, "spatial_text": "Freie und Hansestadt Hamburg",
     "contact_name": "LGV Hamburg Geodatenservice", "contact_email": "geodatenservice@gv.hamburg.de",
     "steward": "LGV Hamburg, Geobasisdaten", "maintainer": "LGV Hamburg", "owner": "Freie und Hansestadt Hamburg",
     "groups": ["boundaries"], "rights": "Datenlizenz Deutschland – Namensnennung – Version 2.0", "access_level": "open",
     "title_translated": {"de": "Stadtteile Hamburg"},
     "notes_translated": {"de": "Grenzen der 104 Hamburger Stadtteile als Polygone, aus den amtlichen Verwaltungseinheiten "
                                "des ALKIS."}},
    {"name": "hamburg-bezirke", "title": "Hamburg Bezirke (boroughs)", "owner_org": "hamburg-lgv",
     "notes": "Boundaries of Hamburg's seven Bezirke (districts, also called boroughs) as polygons, from the official "
              "ALKIS administrative units.",
     "license_id": "dl-de-by-2.0", "tags": ["bezirke", "districts", "boundaries", "hamburg", "verwaltungsgrenzen"],
     "theme": ["REGI", "governance"], "frequency": "ANNUAL", "spatial": HAMBURG_BOX, "spatial_text": "Freie und Hansestadt Hamburg",
     "contact_name": "LGV Hamburg Geodatenservice", "contact_email": "geodatenservice@gv.hamburg.de",
     "steward": "LGV Hamburg, Geobasisdaten", "maintainer": "LGV Hamburg", "owner": "Freie und Hansestadt Hamburg",
     "groups": ["boundaries"], "rights": "Datenlizenz Deutschland – Namensnennung – Version 2.0", "access_level": "open",
     "title_translated": {"de": "Bezirke Hamburg"},
     "notes_translated": {"de": "Grenzen der sieben Hamburger Bezirke als Polygone, aus den amtlichen Verwaltungseinheiten "
                                "des ALKIS."}},
]

OWN: list[dict[str, Any]] = [
    {"name": "parking-occupancy-raw", "title": "Parking occupancy, raw sensor feed", "owner_org": "demo-mobility",
     "notes": "Minute-by-minute occupancy of on-street parking bays from the operator's sensors.", "access_level": "registered",
     "grounds": ["third-party-rights"], "legal_basis": "Operator contract 2024/117, clause 9 (licensed to registered users only)",
     "review_date": "2027-06-30", "license_id": "other-closed", "tags": ["parking", "sensors"], "theme": ["TRAN", "mobility"],
     "frequency": "UPDATE_CONT", "steward": "Parking management", "maintainer": "Mobility data team", "owner": "Demo City",
     "contact_email": "mobility-data@demo-city.example", "groups": ["mobility"],
     "resources": [{"name": "Occupancy API", "url": "https://parking.demo-city.example/api/v1/occupancy", "format": "JSON"}],
     "title_translated": {"de": "Parkraumbelegung, Rohdaten der Sensoren"},
     "notes_translated": {"de": "Minütliche Belegung der Parkstände im Straßenraum aus den Sensoren des Betreibers."}},
    {"name": "traffic-signal-timings", "title": "Traffic signal timing plans", "owner_org": "demo-mobility",
     "notes": "Signal programmes of all controlled junctions.", "access_level": "internal", "grounds": ["security", "inspire-13-1-b"],
     "legal_basis": "Critical infrastructure protection; INSPIRE Art. 13(1)(b)", "review_date": "2027-01-31",
     "license_id": "other-closed", "tags": ["traffic-signals", "junctions"], "theme": ["TRAN", "security"], "frequency": "MONTHLY",
     "steward": "Traffic control centre", "maintainer": "Signal engineering", "owner": "Demo City",
     "contact_email": "traffic-control@demo-city.example", "groups": ["mobility"],
     "resources": [{"name": "Timing plans (CSV)", "url": "https://intranet.demo-city.example/signals/plans.csv", "format": "CSV"}],
     "title_translated": {"de": "Signalzeitenpläne der Lichtsignalanlagen"},
     "notes_translated": {"de": "Signalprogramme aller signalgesteuerten Knotenpunkte."}},
    {"name": "road-condition-survey-2025", "title": "Road condition survey 2025", "owner_org": "demo-mobility",
     "notes": "Pavement condition index per road segment; quality control in progress.", "access_level": "internal",
     "grounds": ["not-yet-processed"], "legal_basis": "Publication after quality control (open data policy, section 4)",
     "review_date": "2026-12-31", "license_id": "CC-BY-4.0", "tags": ["roads", "maintenance"], "theme": ["TRAN", "mobility"],
     "frequency": "ANNUAL", "steward": "Road maintenance", "maintainer": "Asset management", "owner": "Demo City",
     "groups": ["mobility"], "title_translated": {"de": "Straßenzustandserfassung 2025"},
     "notes_translated": {"de": "Zustandsindex der Fahrbahn je Straßenabschnitt; die Qualitätsprüfung läuft."}},
    {"name": "social-services-caseload", "title": "Social services caseload by household", "owner_org": "demo-social",
     "notes": "Case records of social services per household.", "access_level": "confidential",
     "grounds": ["gdpr-personal-data", "inspire-13-1-f"], "legal_basis": "GDPR Art. 9; social code confidentiality",
     "review_date": "2027-12-31", "license_id": "other-closed", "tags": ["social-services"], "theme": ["SOCI", "people"],
     "frequency": "DAILY", "steward": "Social services data protection officer", "maintainer": "Social services IT",
     "owner": "Demo City", "groups": ["society"], "title_translated": {"de": "Fallaufkommen der sozialen Dienste nach Haushalt"},
     "notes_translated": {"de": "Fallakten der sozialen Dienste je Haushalt."}},
    {"name": "emergency-shelter-locations", "title": "Emergency shelter locations and capacities", "owner_org": "demo-safety",
     "notes": "Locations, capacities and access codes of emergency shelters.", "access_level": "confidential",
     "grounds": ["security", "inspire-13-1-b"], "legal_basis": "Civil protection act, section 12", "review_date": "2027-03-31",
     "license_id": "other-closed", "tags": ["shelters", "civil-protection"], "theme": ["JUST", "security"], "frequency": "QUARTERLY",
     "steward": "Civil protection office", "maintainer": "Civil protection office", "owner": "Demo City",
     "title_translated": {"de": "Standorte und Kapazitäten der Notunterkünfte"},
     "notes_translated": {"de": "Standorte, Kapazitäten und Zugangscodes der Notunterkünfte."}},
]

SERVICES = [
    {"name": "sensorthings-api", "title": "SensorThings API", "endpoint_url": "/sta/v1.1",
     "endpoint_description": "/sta/v1.1", "conforms_to": "http://www.opengis.net/doc/is/sensorthings/1.1",
     "description": "Live sensor observations (OGC SensorThings API 1.1).", "serves": ["melbourne-pedestrian-counts"]},
    {"name": "ogc-api-features", "title": "OGC API Features", "endpoint_url": "/ogcapi",
     "endpoint_description": "/ogcapi/api", "conforms_to": "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
     "description": "Geodata collections as GeoJSON, CSV and HTML.", "serves": ["hamburg-stadtteile", "hamburg-bezirke"]},
    {"name": "ckan-action-api", "title": "CKAN Action API", "endpoint_url": "/api/3/action",
     "endpoint_description": "https://docs.ckan.org/en/2.10/api/", "conforms_to": "https://docs.ckan.org/en/2.10/api/",
     "description": "Catalogue metadata: search, show and publish.", "serves": []},
]


def load_demo(platform: Platform) -> None:
    def tx(c: Connection) -> None:
        for org in ORGS:
            if not c.fetchone("SELECT 1 FROM organizations WHERE name = ?", (org["name"],)):
                writes.organization_create(c, ADMIN, org)
        for g in GROUPS:
            if not c.fetchone("SELECT 1 FROM catalog_groups WHERE name = ?", (g["name"],)):
                writes.group_create(c, ADMIN, g)
        for item in ENRICH:
            row = c.fetchone("SELECT id FROM datasets WHERE name = ?", (item["name"],))
            if row is None:
                c.execute("DELETE FROM catalog_pending WHERE name = ?", (item["name"],))
                c.execute("INSERT INTO catalog_pending (name, doc) VALUES (?, ?)", (item["name"], c.dialect.json_param(item)))
            else:
                doc = c.fetchone("SELECT doc FROM catalog_meta WHERE dataset_id = ?", (row[0],))
                if doc is None or not doc[0] or doc[0] in ("{}", {}):
                    writes.package_write(c, platform.gate, ADMIN, {**item, "id": row[0]}, mode="update")
        for svc in SERVICES:
            if not c.fetchone("SELECT 1 FROM catalog_data_services WHERE name = ?", (svc["name"],)):
                c.insert("catalog_data_services", {**svc, "owner_org": None, "access_level": "open",
                                                   "serves": c.dialect.json_param(svc["serves"])})
        for item in OWN:
            if not c.fetchone("SELECT 1 FROM datasets WHERE name = ?", (item["name"],)):
                writes.package_write(c, platform.gate, ADMIN, item, mode="create")

    platform.db.write_sync(tx)


__all__ = ["load_demo", "ORGS", "GROUPS", "ENRICH", "OWN", "SERVICES"]
