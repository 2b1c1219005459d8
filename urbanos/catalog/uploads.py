"""Files uploaded to resources: checked (size, extension, content signature, text encoding, no executables), then
kept under ``<data_dir>/catalog/uploads/<random token>/<safe file name>`` until their resource goes."""

from __future__ import annotations

import re
import secrets
import shutil
from pathlib import Path
from typing import Any

from urbanos.catalog.model import MEDIA_TYPES
from urbanos.catalog.validation import invalid
from urbanos.settings import Settings

UPLOAD_SIGNATURES = {"ZIP": b"PK\x03\x04", "XLSX": b"PK\x03\x04", "ODS": b"PK\x03\x04", "PDF": b"%PDF",
                     "PARQUET": b"PAR1", "GPKG": b"SQLite format 3\x00", "XLS": b"\xd0\xcf\x11\xe0"}
TEXT_TYPES = {"CSV", "TSV", "JSON", "GEOJSON", "XML", "RDF", "TTL", "JSONLD", "GML", "KML", "TXT", "HTML"}
EXT_FORMATS = {"csv": "CSV", "tsv": "TSV", "json": "JSON", "geojson": "GEOJSON", "xml": "XML", "rdf": "RDF", "ttl": "TTL",
               "jsonld": "JSONLD", "gml": "GML", "kml": "KML", "txt": "TXT", "html": "HTML", "zip": "ZIP", "pdf": "PDF",
               "parquet": "PARQUET", "gpkg": "GPKG", "xlsx": "XLSX", "xls": "XLS", "ods": "ODS"}
Staged = dict[str, Any]
"""A file kept by :func:`stage_upload`: upload_path (relative), filename, size, format, mimetype, path (absolute)."""


def upload_dir(settings: Settings) -> Path:
    return Path(settings.data_path) / "catalog" / "uploads"


def stage_upload(settings: Settings, upload_dir: Path, upload: tuple[str, bytes]) -> Staged:
    """Check an uploaded file and keep it (before the resource row is written; :func:`remove_upload` undoes it)."""
    filename, content = upload
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(str(filename or "upload")).name).strip("._") or "upload"
    limit = int(settings.get("catalog_upload_max_bytes") or 0)
    if limit and len(content) > limit:
        raise invalid("upload", f"File upload too large: {len(content)} bytes; the limit is {limit} bytes")
    ext = safe.rsplit(".", 1)[-1].lower() if "." in safe else ""
    allowed = [t.strip().lower() for t in str(settings.get("catalog_upload_types") or "").split(",") if t.strip()]
    if ext not in allowed:
        raise invalid("upload", f"Unsupported upload type {('.' + ext) if ext else '(no extension)'}: allowed are {', '.join(allowed)}")
    fmt = EXT_FORMATS.get(ext, ext.upper())
    _check_content(fmt, content[:4096])
    token = secrets.token_hex(12)
    target = upload_dir / token / safe
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return {"upload_path": f"{token}/{safe}", "filename": safe, "size": len(content), "format": fmt,
            "mimetype": MEDIA_TYPES.get(fmt, "application/octet-stream"), "path": str(target)}


def _check_content(fmt: str, head: bytes) -> None:
    """The first bytes of a file say it is what its extension claims, and no program."""
    sig = UPLOAD_SIGNATURES.get(fmt)
    if sig is not None and not head.startswith(sig):
        raise invalid("upload", f"The file content is not {fmt}")
    if fmt in TEXT_TYPES:
        if b"\x00" in head:
            raise invalid("upload", f"The file content is not {fmt} text")
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:
                try:
                    head.decode("latin-1")
                except UnicodeDecodeError:
                    raise invalid("upload", f"The file content is not {fmt} text") from None
    if head.startswith((b"MZ", b"\x7fELF", b"#!")):
        raise invalid("upload", "Executable files are not accepted")


def remove_upload(upload_dir: Path, rel: str) -> None:
    """Delete a kept file and its token folder (``rel`` as stored in ``upload_path``)."""
    if not rel or ".." in rel:
        return
    target = (upload_dir / rel).parent
    if target.parent == upload_dir and target.is_dir():
        shutil.rmtree(target, ignore_errors=True)


__all__ = ["upload_dir", "stage_upload", "remove_upload", "Staged", "EXT_FORMATS"]
