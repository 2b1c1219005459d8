"""``ogcapi``: a mirror of one remote OGC API Features collection into a local features collection.

The URL is the remote collection (``https://host/ogcapi/collections/trees``, or its ``/items``). A run reads the items
as GeoJSON page by page (``limit`` = the mapping's ``page_size``), following ``rel=next`` links on the same server,
and fails (writing nothing) beyond ``max_features``.

* **Full** (the default, and the first run): every feature is read; when any feature changed, appeared or went, the
  local collection is replaced as a whole (:meth:`FeaturesPort.replace_collection`, atomic: readers see the old or
  the new collection, never half); an unchanged remote writes nothing.
* **Incremental**, when the mapping names ``modified``, a property holding each feature's last change (RFC 3339):
  later runs ask only for features changed since the latest value seen, with ``datetime=<mark>/..`` (``by:
  datetime``, the default: the remote's temporal property must be that one) or a CQL2 filter ``"<modified>" >=
  TIMESTAMP('<mark>')`` (``by: filter``), merge them into what was read before (kept in the connector's items) and
  replace the collection when anything changed. Deletions are not visible this way: every ``full_every``-th run
  (default 24) reads everything again.

The remote feature id becomes the property ``id`` (unless the feature has one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shapely.errors import GEOSException
from shapely.geometry import shape

from urbanos.connectors import store
from urbanos.connectors.fetch import FeedError
from urbanos.connectors.types.base import ConnectorType, Counts, Job, Writes
from urbanos.connectors.types.remote import check_url, pages, with_query
from urbanos.connectors.writes import digest
from urbanos.errors import ValidationFailed
from urbanos.ports import FeaturesPort
from urbanos.storage import Connection

OPTIONS = {"collection": str, "modified": str, "by": str, "page_size": int, "max_features": int, "full_every": int}
BY = ("datetime", "filter")


@dataclass
class Options:
    collection: str | None = None
    modified: str | None = None
    by: str = "datetime"
    page_size: int = 1000
    max_features: int = 100_000
    full_every: int = 24

    @classmethod
    def parse(cls, mapping: Any) -> Options:
        m = mapping or {}
        bad = [k for k, v in m.items() if k not in OPTIONS or not isinstance(v, OPTIONS[k]) or isinstance(v, bool)] \
            if isinstance(m, dict) else ["mapping"]
        if bad:
            raise ValidationFailed(f"An ogcapi connector's mapping may set collection, modified and by (text), "
                                   f"page_size, max_features and full_every (numbers); not {bad[0]!r}.",
                                   detail={"mapping": list(OPTIONS)})
        o = cls(**m)
        if o.by not in BY or not 1 <= o.page_size <= 10_000 or not 1 <= o.max_features <= 10_000_000 \
                or o.full_every < 1 or (o.modified is not None and not o.modified.replace("_", "").isalnum()):
            raise ValidationFailed(f"by is {' or '.join(BY)}; page_size 1 to 10000; max_features 1 to 10000000; "
                                   "full_every at least 1; modified a property name (letters, digits, _).",
                                   detail={"mapping": list(OPTIONS)})
        return o


def _next(doc: dict[str, Any]) -> Any:
    links = doc.get("links")
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("rel") == "next" and link.get("type", "application/geo+json") in (
                "application/geo+json", "application/json"):
            return link.get("href")
    return None


def items_url(url: str) -> str:
    url = url.split("?", 1)[0].rstrip("/")
    return url if url.endswith("/items") else f"{url}/items"


def default_collection(url: str) -> str:
    parts = items_url(url).split("/")
    return parts[-2] if len(parts) >= 2 else "mirror"


@dataclass
class Mirrored:
    """The features read (by remote id), whether they are all of them, and the new mark."""

    collection: str
    features: dict[str, dict[str, Any]] = field(default_factory=dict)
    full: bool = True
    mark: str | None = None
    bad: list[str] = field(default_factory=list)

    def apply(self, c: Connection, job: Job, counts: Counts) -> None:
        for message in self.bad:
            counts.fail(message)
        prefix = f"ogc:{self.collection}:"
        have = store.items(c, job.connector.id, prefix)
        merged = {k[len(prefix):]: v[0] for k, v in have.items()}
        changed: list[tuple[str, dict[str, Any], str]] = []
        for fid, feat in self.features.items():
            d = digest(feat)
            prev = have.get(prefix + fid)
            if prev is not None and prev[1] == d:
                counts.unchanged += 1
                continue
            counts.created += prev is None
            counts.updated += prev is not None
            changed.append((prefix + fid, feat, d))
            merged[fid] = feat
        gone = [prefix + k for k in merged if k not in self.features] if self.full else []
        for k in gone:
            merged.pop(k[len(prefix):])
        if changed or gone:
            job.platform.require(FeaturesPort).replace_collection(c, job.identity, job.dataset.name, self.collection,
                                                                  list(merged.values()))
            store.put_items(c, job.connector.id, changed)
            store.drop_items(c, job.connector.id, gone)
        if self.mark:
            job.state["mark"] = self.mark


class OgcApiType(ConnectorType):
    name = "ogcapi"

    def check(self, url: str, mapping: Any) -> dict[str, Any]:
        check_url(url, "ogcapi")
        o = Options.parse(mapping)
        return {k: getattr(o, k) for k in OPTIONS if getattr(o, k) is not None}

    async def collect(self, job: Job) -> Writes:
        o = Options.parse(job.connector.mapping)
        runs = int(job.state.get("runs") or 0) + 1
        job.state["runs"] = runs
        mark = job.state.get("mark") if o.modified else None
        full = not mark or runs % o.full_every == 0
        params: dict[str, Any] = {"limit": o.page_size}
        if not full and o.by == "datetime":
            params["datetime"] = f"{mark}/.."
        elif not full:
            params["filter"] = f"\"{o.modified}\" >= TIMESTAMP('{str(mark).replace(chr(39), '')}')"
            params["filter-lang"] = "cql2-text"
        out = Mirrored(o.collection or default_collection(job.connector.url), full=full, mark=mark)
        async for url, page in pages(job, with_query(items_url(job.connector.url), params), "features", _next):
            for f in page:
                self._feature(out, f, o, url)
            if len(out.features) > o.max_features:
                raise FeedError(f"{job.connector.url}: the collection holds more than {o.max_features} features "
                                "(the mapping's max_features); nothing was written")
            job.tick(len(out.features), len(out.features))
        return out

    @staticmethod
    def _feature(out: Mirrored, f: dict[str, Any], o: Options, url: str) -> None:
        fid = f.get("id")
        if isinstance(fid, bool) or not isinstance(fid, str | int) or fid == "":
            out.bad.append(f"{url}: a feature without an id is not mirrored")
            return
        props = f.get("properties")
        props = dict(props) if isinstance(props, dict) else {}
        geometry = f.get("geometry")
        if geometry is not None:
            try:
                if not isinstance(geometry, dict) or shape(geometry).is_empty:
                    raise ValueError("empty")
            except (GEOSException, ValueError, TypeError, AttributeError, KeyError, IndexError):
                out.bad.append(f"{url}: feature {str(fid)[:80]} has no valid GeoJSON geometry")
                return
        props.setdefault("id", fid)
        out.features[str(fid)] = {"type": "Feature", "properties": props, "geometry": geometry}
        changed = props.get(o.modified) if o.modified else None
        if isinstance(changed, str) and changed and (out.mark is None or changed > out.mark):
            out.mark = changed


__all__ = ["OgcApiType", "Options", "Mirrored"]
