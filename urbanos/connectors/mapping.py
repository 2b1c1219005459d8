"""Declared mappings: how the rows of a CSV file or the records of a JSON document become Observations or features.

A mapping is YAML or JSON (a file given to ``--mapping``, or the ``mapping`` member of the API's body)::

    observations:                 # each record gives one Observation per entry
      - {datastream: 12, time: measured_at, result: pm10}
      - {datastream: "Station 4 NO2", time: measured_at, result: no2}
    features:                     # or: each record is one feature of a collection replaced as a whole
      {collection: air-stations, id: station, lon: lon, lat: lat, properties: [name, pm10]}
    records: $.data.items         # JSON only: where the list of records is (default: the document, or [document])

A bare list is a list of ``observations``; a bare ``{datastream, time, result}`` or ``{collection, …}`` is one entry.
For CSV, a reference is a column name; for JSON, a path inside the record (``$.main.temp``, ``main.temp`` or
``values[0]``).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import yaml

from urbanos.core.numbers import parse_int
from urbanos.core.time import format_stored, parse_lenient
from urbanos.errors import ValidationFailed

MAX_MAPPING_BYTES = 64 * 1024
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@dataclass(frozen=True)
class ObservationRule:
    datastream: int | str
    time: str
    result: str


@dataclass(frozen=True)
class FeatureRule:
    collection: str
    id: str
    lon: str
    lat: str
    properties: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mapping:
    observations: tuple[ObservationRule, ...] = ()
    features: FeatureRule | None = None
    records: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        if self.observations:
            out["observations"] = [{"datastream": r.datastream, "time": r.time, "result": r.result} for r in self.observations]
        if self.features is not None:
            f = self.features
            out["features"] = {"collection": f.collection, "id": f.id, "lon": f.lon, "lat": f.lat,
                               "properties": list(f.properties)}
        if self.records:
            out["records"] = self.records
        return out


def load_text(text: str) -> Any:
    """A mapping document's text (YAML, of which JSON is a part) as values."""
    if len(text.encode()) > MAX_MAPPING_BYTES:
        raise ValidationFailed(f"The mapping is larger than {MAX_MAPPING_BYTES} bytes.", detail={"mapping": ["too large"]})
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationFailed(f"The mapping is not valid YAML or JSON: {str(exc).splitlines()[0]}",
                               detail={"mapping": ["not YAML or JSON"]}) from None


def _ref(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise ValidationFailed(f"mapping: {what} must name a column or a JSON path.", detail={"mapping": [what]})
    return value.strip()


def _observation(v: Any) -> ObservationRule:
    if not isinstance(v, dict):
        raise ValidationFailed("mapping: each observation entry is {datastream, time, result}.",
                               detail={"mapping": ["observations"]})
    ds = v.get("datastream")
    if isinstance(ds, bool) or not (isinstance(ds, int) and ds > 0 or isinstance(ds, str) and 0 < len(ds.strip()) <= 200):
        raise ValidationFailed("mapping: datastream must be a Datastream id or name.", detail={"mapping": ["datastream"]})
    return ObservationRule(ds.strip() if isinstance(ds, str) else ds, _ref(v.get("time"), "time"),
                           _ref(v.get("result"), "result"))


def _features(v: Any) -> FeatureRule:
    if not isinstance(v, dict):
        raise ValidationFailed("mapping: features is {collection, id, lon, lat, properties}.",
                               detail={"mapping": ["features"]})
    props = v.get("properties") or []
    if not isinstance(props, list) or len(props) > 200:
        raise ValidationFailed("mapping: properties is a list of columns or JSON paths.", detail={"mapping": ["properties"]})
    coll = v.get("collection")
    if not isinstance(coll, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", coll):
        raise ValidationFailed("mapping: collection must be a collection name (letters, digits, '-', '_', '.').",
                               detail={"mapping": ["collection"]})
    return FeatureRule(coll, _ref(v.get("id"), "id"), _ref(v.get("lon"), "lon"), _ref(v.get("lat"), "lat"),
                       tuple(_ref(p, "a property") for p in props))


def parse(value: Any, *, required: bool = True) -> Mapping:
    """A mapping from its document (already loaded) or text; ValidationFailed naming what is wrong."""
    if isinstance(value, str):
        value = load_text(value)
    if value is None or value == {}:
        if required:
            raise ValidationFailed("This connector type needs a mapping (observations or features).",
                                   detail={"mapping": ["required"]})
        return Mapping()
    if isinstance(value, list):
        value = {"observations": value}
    if not isinstance(value, dict):
        raise ValidationFailed("The mapping must be an object or a list.", detail={"mapping": ["object"]})
    if "datastream" in value:
        value = {"observations": [value]}
    elif "collection" in value and "features" not in value:
        value = {"features": value}
    obs = value.get("observations") or []
    if not isinstance(obs, list) or len(obs) > 100:
        raise ValidationFailed("mapping: observations is a list (at most 100 entries).", detail={"mapping": ["observations"]})
    records = value.get("records") or ""
    extra = {k: v for k, v in value.items() if k not in ("observations", "features", "records")}
    m = Mapping(tuple(_observation(o) for o in obs), _features(value["features"]) if value.get("features") else None,
                _ref(records, "records") if records else "", extra)
    if required and not m.observations and m.features is None:
        raise ValidationFailed("The mapping names no observations and no features.", detail={"mapping": ["empty"]})
    return m


# -- reading records ----------------------------------------------------------------------------------------------
def lookup(record: Any, ref: str) -> Any:
    """The value at ``ref`` in a record: a column of a CSV row, or a path in a JSON record (None when absent)."""
    if isinstance(record, dict) and ref in record:
        return record[ref]
    path = ref[2:] if ref.startswith("$.") else ref[1:] if ref.startswith("$") else ref
    cur = record
    for name, index in _STEP.findall(path):
        if name and isinstance(cur, dict):
            cur = cur.get(name)
        elif index and isinstance(cur, list) and int(index) < len(cur):
            cur = cur[int(index)]
        else:
            return None
    return cur


def csv_records(body: bytes, where: str) -> list[dict[str, str]]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(f"{where}: the CSV file is not UTF-8 text") from None
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    try:
        reader = csv.DictReader(io.StringIO(text), dialect=dialect)
        rows = list(reader)
    except csv.Error as exc:
        raise ValidationFailed(f"{where}: the CSV file is malformed ({exc})") from None
    if not reader.fieldnames:
        raise ValidationFailed(f"{where}: the CSV file has no header row")
    if any(None in r for r in rows):
        raise ValidationFailed(f"{where}: a row has more cells than the header; the file may be malformed")
    return rows


def json_records(doc: Any, records: str, where: str) -> list[Any]:
    found = lookup(doc, records) if records else doc
    if isinstance(found, dict) and not records:
        return [found]
    if not isinstance(found, list):
        raise ValidationFailed(f"{where}: no list of records at {records or 'the top of the document'}")
    return found


def records_of(body: bytes, kind: str, mapping: Mapping, where: str) -> list[Any]:
    """The records of a fetched or pushed body: CSV rows, or the JSON document's records."""
    if kind == "csv":
        return csv_records(body, where)
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValidationFailed(f"{where}: not valid JSON ({exc}); the body may be truncated or malformed") from None
    return json_records(doc, mapping.records, where)


def number(value: Any) -> Any:
    """A value read from text: integers and decimals become numbers, the rest stays as it is."""
    if isinstance(value, str):
        text = value.strip()
        as_int = parse_int(text)
        if as_int is not None:
            return as_int
        if re.fullmatch(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?", text):
            return float(text)
    return value


def instant(value: Any) -> str:
    """An instant in the stored form: ISO 8601 text, or POSIX seconds (ValueError otherwise)."""
    if isinstance(value, bool) or value is None or value == "":
        raise ValueError("no time")
    if isinstance(value, int | float) or (isinstance(value, str) and parse_int(value.strip()) is not None):
        return format_stored(datetime.fromtimestamp(float(value), UTC))
    return format_stored(parse_lenient(value))


__all__ = ["Mapping", "ObservationRule", "FeatureRule", "parse", "load_text", "lookup", "records_of", "number",
           "instant", "csv_records", "json_records"]
