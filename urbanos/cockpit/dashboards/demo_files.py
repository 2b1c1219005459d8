"""The demo's dashboard files (written to ``<data_dir>/dashboards`` by the demo): the YAML a city would write.

Limit values of the air-quality dashboard: Directive 2008/50/EC on ambient air quality and cleaner air for Europe,
Annex XI (NO2: 200 µg/m³ as a 1-hour mean, not to be exceeded more than 18 times a calendar year, and 40 µg/m³ as the
annual mean; PM10: 50 µg/m³ as a 24-hour mean, not more than 35 times a year, and 40 µg/m³ as the annual mean) and
Annex XIV (PM2.5: 25 µg/m³ as the annual mean). Directive (EU) 2024/2881 (the recast) lowers them from 2030 (e.g.
NO2 annual 20 µg/m³, PM2.5 annual 10 µg/m³)."""

from __future__ import annotations

PEDESTRIANS = """\
# Melbourne's pedestrian counting sensors (City of Melbourne, CC BY 4.0), loaded by the sensing demo.
title: Pedestrians in Melbourne
title_de: Fußgänger in Melbourne
description: >-
  Hourly pedestrian counts of the City of Melbourne's sensors: where the city is busier or quieter than usual, each
  sensor's day against its 4-week and 52-week averages, and the city-wide count against the previous year (the view
  Melbourne used to follow its recovery after COVID-19). Values after April 2017 are simulated by the demo.
description_de: >-
  Stündliche Fußgängerzählungen der Sensoren der Stadt Melbourne: wo mehr oder weniger los ist als üblich, der Tag
  jedes Sensors gegenüber seinem 4- und 52-Wochen-Mittel und die Zahl der ganzen Stadt gegenüber dem Vorjahr. Werte
  nach April 2017 simuliert die Demo.
timezone: Australia/Melbourne
panels:
  - type: kpi
    title: City-wide pedestrians per hour
    title_de: Fußgänger pro Stunde, ganze Stadt
    sta: "Datastreams?$filter=Thing/properties/source eq 'melbourne-pedestrian'"
    aggregate: sum
    compare: previous_year
  - type: kpi
    title: City-wide, against the usual
    title_de: Ganze Stadt, gegenüber üblich
    sta: "Datastreams?$filter=Thing/properties/source eq 'melbourne-pedestrian'"
    aggregate: sum
    compare: weekdays
  - type: map
    title: Sensors against the same hour on the four preceding same weekdays
    title_de: Sensoren gegenüber derselben Stunde an den vier vorangehenden gleichen Wochentagen
    sta: "Datastreams?$filter=Thing/properties/source eq 'melbourne-pedestrian'"
    compare: weekdays
  - type: timeseries
    title: One sensor's day, hour by hour
    title_de: Der Tag eines Sensors, Stunde für Stunde
    sta: "Datastreams?$filter=Thing/properties/source eq 'melbourne-pedestrian'"
    averages: true
"""

PARKING = """\
# Simulated parking bays (the demo's dataset demo-parking-bays): 1 = occupied, 0 = free.
title: Parking
title_de: Parken
description: On-street parking bays in central Melbourne, live (simulated by the demo).
description_de: Parkplätze an der Straße im Zentrum von Melbourne, live (von der Demo simuliert).
timezone: Australia/Melbourne
panels:
  - type: kpi
    title: Free bays
    title_de: Freie Parkplätze
    sta: "Datastreams?$filter=Thing/properties/source eq 'demo-parking'"
    aggregate: count
    where: {below: 0.5}
  - type: map
    title: Bay occupancy
    title_de: Belegung der Parkplätze
    sta: "Datastreams?$filter=Thing/properties/source eq 'demo-parking'"
    thresholds: [0.5]
    labels: {0: free, 1: occupied}
    labels_de: {0: frei, 1: belegt}
  - type: table
    title: Free bays per street
    title_de: Freie Parkplätze je Straße
    sta: "Datastreams?$filter=Thing/properties/source eq 'demo-parking'"
    group_by: street
    aggregate: count
    where: {below: 0.5}
"""

BINS = """\
# Simulated waste bins (the demo's dataset demo-waste-bins): fill level in percent.
title: Waste bins
title_de: Abfallbehälter
description: Fill levels of the city's smart bins, live (simulated by the demo); the bins above 80 % need emptying.
description_de: Füllstände der Abfallbehälter, live (von der Demo simuliert); die über 80 % müssen geleert werden.
timezone: Australia/Melbourne
panels:
  - type: kpi
    title: Bins above 80 %
    title_de: Behälter über 80 %
    sta: "Datastreams?$filter=Thing/properties/source eq 'demo-bins'"
    aggregate: count
    where: {above: 80}
  - type: map
    title: Fill levels
    title_de: Füllstände
    sta: "Datastreams?$filter=Thing/properties/source eq 'demo-bins'"
    unit: "%"
    thresholds: [50, 80]
  - type: table
    title: Bins above 80 %
    title_de: Behälter über 80 %
    sta: "Datastreams?$filter=Thing/properties/source eq 'demo-bins'"
    where: {above: 80}
    thresholds: [50, 80]
"""

AIR = """\
# Simulated air-quality stations (the demo's dataset demo-air-quality), in µg/m³, against the EU limit values of
# Directive 2008/50/EC (Annex XI: NO2 200 µg/m³ as a 1-hour mean and 40 as the annual mean; PM10 50 µg/m³ as a
# 24-hour mean; Annex XIV: PM2.5 25 µg/m³ as the annual mean). The latest values are compared with each limit as a
# guide: a limit applies to its averaging period.
title: Air quality
title_de: Luftqualität
description: >-
  The latest values of the demo's air-quality stations (simulated) against the EU limit values (Directive
  2008/50/EC, Annexes XI and XIV).
description_de: >-
  Die neuesten Werte der Luftmessstationen der Demo (simuliert) gegenüber den EU-Grenzwerten (Richtlinie
  2008/50/EG, Anhänge XI und XIV).
timezone: Australia/Melbourne
panels:
  - type: table
    title: Latest values against the limit values
    title_de: Neueste Werte gegenüber den Grenzwerten
    sta: "Datastreams?$filter=Thing/properties/source eq 'demo-air'"
    limit_key: pollutant
    limits:
      NO2: {value: 200, label: "(1-hour mean; annual mean 40)", label_de: "(Stundenmittel; Jahresmittel 40)"}
      PM10: {value: 50, label: "(24-hour mean; annual mean 40)", label_de: "(Tagesmittel; Jahresmittel 40)"}
      PM2.5: {value: 25, label: "(annual mean)", label_de: "(Jahresmittel)"}
  - type: map
    title: Stations
    title_de: Messstationen
    sta: "Datastreams?$filter=Thing/properties/source eq 'demo-air' and properties/pollutant eq 'NO2'"
    unit: µg/m³
    thresholds: [40, 200]
  - type: timeseries
    title: Nitrogen dioxide (NO2), last 24 hours
    title_de: Stickstoffdioxid (NO2), letzte 24 Stunden
    sta: "Datastreams?$filter=Thing/properties/source eq 'demo-air' and properties/pollutant eq 'NO2'"
    unit: µg/m³
    hours: 24
  - type: timeseries
    title: Particulate matter (PM10), last 24 hours
    title_de: Feinstaub (PM10), letzte 24 Stunden
    sta: "Datastreams?$filter=Thing/properties/source eq 'demo-air' and properties/pollutant eq 'PM10'"
    unit: µg/m³
    hours: 24
"""

FILES = {"pedestrians.yaml": PEDESTRIANS, "parking.yaml": PARKING, "bins.yaml": BINS, "air-quality.yaml": AIR}

__all__ = ["FILES"]
