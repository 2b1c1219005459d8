"""The search index of one dataset: its facet rows, its full-text row and its spatial coverage.

:func:`rebuild` writes them from the dataset's row and metadata document; ``writes.reindex`` decides when
(after every catalogue write, and for datasets other capabilities created or changed).

The full-text row holds each field's folded words and their stems in the dataset's languages
(:mod:`urbanos.catalog.stemming`), with the title and description in other languages (``title_translated``,
``notes_translated``) stemmed in their own language, cut into words here for both back ends: FTS5 columns on
SQLite (its ``ascii`` tokenizer only splits at the spaces between them), a tsvector literal on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from shapely.geometry import shape

from urbanos.catalog import stemming
from urbanos.catalog.model import FACET_TABLE_FIELDS, THEMES
from urbanos.storage import Connection
from urbanos.storage.spatial import to_wkb

STALE_LIMIT = 5000


def stale_ids(c: Connection) -> list[int]:
    """Datasets whose index is missing or older than their row (at most STALE_LIMIT at a time)."""
    return [int(r[0]) for r in c.fetchall(
        "SELECT d.id FROM datasets d LEFT JOIN catalog_meta m ON m.dataset_id = d.id"
        f" WHERE m.dataset_id IS NULL OR m.indexed_at <> d.modified_at LIMIT {STALE_LIMIT}")]


def drop_text(c: Connection, ds_id: int) -> None:
    """Remove the full-text row of a dataset."""
    if c.dialect.name == "sqlite":
        c.execute("DELETE FROM catalog_fts WHERE rowid = ?", (ds_id,))
    else:
        c.execute("DELETE FROM catalog_search WHERE dataset_id = ?", (ds_id,))


def rebuild(c: Connection, d: dict[str, Any], doc: dict[str, Any]) -> None:
    """Write the facets, full text and spatial rows of dataset ``d`` (its ``datasets`` row) with metadata ``doc``,
    and mark it indexed for its ``modified_at``."""
    ds_id = int(d["id"])
    resources = c.rows("SELECT name, description, format FROM catalog_resources WHERE dataset_id = ?", (ds_id,))
    groups = [r[0] for r in c.fetchall("SELECT g.name FROM catalog_group_members m JOIN catalog_groups g ON g.id = m.group_id"
                                       " WHERE m.dataset_id = ?", (ds_id,))]
    _facets(c, ds_id, doc, resources, groups)
    _text(c, d, doc, resources, groups)
    c.execute("DELETE FROM catalog_spatial WHERE id = ?", (ds_id,))
    if doc.get("spatial"):
        try:
            geom = shape(doc["spatial"])
            c.execute(f"INSERT INTO catalog_spatial (id, geom) VALUES (?, {c.spatial.param()})", (ds_id, to_wkb(geom)))
        except Exception:  # noqa: BLE001 - validated on write; a bad stored value only loses the spatial index  # nosec B110
            pass
    c.execute("UPDATE catalog_meta SET indexed_at = ? WHERE dataset_id = ?", (d["modified_at"], ds_id))


def _facets(c: Connection, ds_id: int, doc: dict[str, Any], resources: list[dict[str, Any]], groups: list[str]) -> None:
    c.execute("DELETE FROM catalog_facets WHERE dataset_id = ?", (ds_id,))
    values: dict[str, set[str]] = {f: set() for f in FACET_TABLE_FIELDS}
    values["tags"].update(doc.get("tags") or [])
    values["theme"].update(doc.get("theme") or [])
    values["groups"].update(groups)
    values["res_format"].update(r["format"].upper() for r in resources if r["format"])
    values["grounds"].update(doc.get("grounds") or [])
    for f in ("license_id", "frequency"):
        if doc.get(f):
            values[f].add(str(doc[f]))
    c.executemany("INSERT INTO catalog_facets (dataset_id, field, value) VALUES (?, ?, ?)",
                  [(ds_id, f, v) for f, vs in values.items() for v in sorted(vs)])


def _text(c: Connection, d: dict[str, Any], doc: dict[str, Any], resources: list[dict[str, Any]], groups: list[str]) -> None:
    ds_id = int(d["id"])
    org_title = ""
    if d["owner_org"]:
        org_title = c.fetchval("SELECT title FROM organizations WHERE name = ?", (d["owner_org"],)) or ""
    tags_text = " ".join([*(doc.get("tags") or []), *(THEMES.get(t, t) for t in doc.get("theme") or []), *groups])
    other = " ".join([d["owner_org"] or "", org_title, str(doc.get("spatial_text") or ""), str(doc.get("publisher") or ""),
                      str(doc.get("author") or ""), str(doc.get("maintainer") or ""),
                      *(f"{r['name']} {r['description']} {r['format']}" for r in resources)])
    words = [stemming.tokens(t) for t in (d["name"], d["title"] or "", str(doc.get("notes") or ""), tags_text, other)]
    langs = stemming.languages_of(doc.get("language") or [])
    columns = [*words, *(stemming.stems(w, lang) if lang in langs else [] for lang in stemming.LANGUAGES for w in words)]
    for at, key in ((1, "title_translated"), (2, "notes_translated")):
        _add_translations(columns, at, doc.get(key))
    drop_text(c, ds_id)
    if c.dialect.name == "sqlite":
        c.execute(f"INSERT INTO catalog_fts (rowid, {', '.join(TEXT_COLUMNS)}) VALUES (?{', ?' * len(TEXT_COLUMNS)})",
                  (ds_id, *(" ".join(col) for col in columns)))
    else:
        c.execute("INSERT INTO catalog_search (dataset_id, tsv) VALUES (?, CAST(? AS tsvector))", (ds_id, tsvector(columns)))


def _add_translations(columns: list[list[str]], at: int, translated: Any) -> None:
    """Add a field's texts in other languages (``{lang: text}``) to its columns: their folded words to the field's
    words (column ``at``), and their stems in their own language to that language's stem column (a language
    without a stemmer here adds its folded words only)."""
    if not isinstance(translated, dict):
        return
    per_field = len(TEXT_FIELDS)
    for code, text in sorted(translated.items()):
        words = stemming.tokens(str(text or ""))
        columns[at].extend(words)
        lang = stemming.language_of_code(str(code))
        if lang is not None:
            columns[per_field * (1 + stemming.LANGUAGES.index(lang)) + at].extend(stemming.stems(words, lang))


TEXT_FIELDS = ("name", "title", "notes", "tags", "other")
TEXT_COLUMNS = (*TEXT_FIELDS, *(f"{f}_{stemming.CODES[lang]}" for lang in stemming.LANGUAGES for f in TEXT_FIELDS))
"""The columns of ``catalog_fts``: each field's folded words, then its English stems and its German stems."""
RANK_WEIGHTS = (4.0, 10.0, 2.0, 5.0, 1.0) + (2.0, 5.0, 1.0, 2.5, 0.5) * len(stemming.LANGUAGES)
"""bm25 weights of the columns (SQLite): a word as written counts twice its stem, the title most."""
PG_WEIGHTS = "BACBD" + "CBDCD" * len(stemming.LANGUAGES)
"""tsvector weights of the same columns (PostgreSQL)."""
_MAX_POS = 16383
_MAX_POSITIONS = 256


def tsvector(columns: list[list[str]]) -> str:
    """A tsvector literal of the columns' tokens with their positions and weights. A column starts one position
    after the end of the one before, so a phrase never runs from one column into the next (as in FTS5)."""
    positions: dict[str, list[str]] = {}
    pos = 0
    for weight, col in zip(PG_WEIGHTS, columns, strict=True):
        pos += 1
        for tok in col:
            pos += 1
            at = positions.setdefault(tok, [])
            if len(at) < _MAX_POSITIONS:
                at.append(f"{min(pos, _MAX_POS)}{weight}")
    return " ".join(f"'{tok}':{','.join(at)}" for tok, at in positions.items())


__all__ = ["stale_ids", "drop_text", "rebuild", "tsvector", "STALE_LIMIT", "TEXT_FIELDS", "TEXT_COLUMNS", "RANK_WEIGHTS",
           "PG_WEIGHTS"]
