"""Batch requests (``$batch``): the OData JSON batch format (atomicity groups, ``$id`` references) and the
multipart/mixed format (change sets, ``$1``-style Content-ID references). A group or change set runs in one
database transaction: all of it applies, or none of it."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from urbanos.errors import BadRequest, NotFound, UnsupportedMediaType, UrbanosError
from urbanos.governance import Gate
from urbanos.query.limits import BODY_MAX_NESTING, json_problem

if TYPE_CHECKING:
    from urbanos.governance import Identity
    from urbanos.sensing.service import SensingService
    from urbanos.storage import Connection

_REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
            404: "Not Found", 409: "Conflict", 424: "Failed Dependency", 500: "Internal Server Error",
            501: "Not Implemented"}


class Sub:
    """One request inside a batch."""

    def __init__(self, rid: str | None, method: str, url: str, body: Any, headers: dict[str, str]) -> None:
        self.id = rid
        self.method = method.upper()
        self.url = url
        self.body = body
        self.headers = headers


def _err_body(exc: UrbanosError) -> dict[str, Any]:
    return {"code": exc.status, "type": "error", "message": exc.message}


Result = tuple[int, dict[str, str], Any]
"""One request's answer: status, headers, JSON body (None for none)."""


class Runner:
    def __init__(self, svc: SensingService, version: str, identity: Identity, base: str) -> None:
        self.svc = svc
        self.version = version
        self.identity = identity
        self.base = base.rstrip("/")
        self.refs: dict[str, str] = {}  # request id -> entity path, e.g. "Things(5)"
        self.ids: dict[str, int] = {}

    # -- references ---------------------------------------------------------------------------
    def path_of(self, url: str) -> tuple[str, dict[str, str]]:
        parts = urlsplit(url)
        path = parts.path
        prefix = f"/sta/{self.version}/"
        if parts.scheme and not url.startswith(self.base):
            raise BadRequest(f"The batch URL {url!r} is not on this service.")
        if path.startswith(prefix):
            path = path[len(prefix):]
        elif path.startswith("/"):
            raise BadRequest(f"The batch URL {url!r} is not under {prefix}.")
        m = re.match(r"^\$([\w-]+)(/.*)?$", path)
        if m:
            ref = self.refs.get(m.group(1))
            if ref is None:
                raise BadRequest(f"${m.group(1)} does not refer to an earlier request of this batch.")
            path = ref + (m.group(2) or "")
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        return path, query

    def subst(self, body: Any) -> Any:
        if isinstance(body, dict):
            out = {}
            for k, v in body.items():
                if k == "@iot.id" and isinstance(v, str) and v.startswith("$"):
                    if v[1:] not in self.ids:
                        raise BadRequest(f"{v} does not refer to an earlier request of this batch.")
                    out[k] = self.ids[v[1:]]
                else:
                    out[k] = self.subst(v)
            return out
        if isinstance(body, list):
            return [self.subst(v) for v in body]
        return body

    # -- one request --------------------------------------------------------------------------
    def run_write(self, conn: Connection, sub: Sub) -> Result:
        ctx = self.svc.ctx(self.version, self.identity, self.base)
        path, _q = self.path_of(sub.url)
        body = self.subst(sub.body)
        if sub.method == "POST":
            out = self.svc.create_sync(conn, ctx, path, body)
            if sub.id is not None and out.get("@iot.selfLink"):
                link = out["@iot.selfLink"]
                self.refs[sub.id] = link.rsplit("/", 1)[-1]
                self.ids[sub.id] = out["@iot.id"]
            return 201, {"location": out.get("@iot.selfLink", "")}, out
        if sub.method in ("PATCH", "PUT"):
            ctype = sub.headers.get("content-type", "application/json").split(";")[0].strip().lower()
            mode = "replace" if sub.method == "PUT" else ("json-patch" if ctype == "application/json-patch+json" else "merge")
            return 200, {}, self.svc.update_sync(conn, ctx, path, body, mode)
        if sub.method == "DELETE":
            self.svc.delete_sync(conn, ctx, path)
            return 200, {}, None
        raise BadRequest(f"{sub.method} is not allowed in a batch.")

    async def run_read(self, sub: Sub) -> Result:
        path, query = self.path_of(sub.url)
        kind, body = await self.svc.read(self.version, path, query, self.identity, self.base)
        if kind == "value":
            if body is None:  # a property whose value is null
                return 204, {}, None
            body = {"value": body}
        return 200, {}, body

    async def run_group(self, subs: list[Sub]) -> list[Result]:
        """Writes of one atomicity group / change set in one transaction."""
        for s in subs:
            if s.method == "GET":
                raise BadRequest("GET requests cannot be part of an atomicity group or change set.")
        Gate.require_somewhere(self.identity, "publisher")
        saved = (dict(self.refs), dict(self.ids))

        def tx(conn: Connection) -> list[Result]:
            return [self.run_write(conn, s) for s in subs]

        try:
            return await self.svc.db.write(tx)
        except UrbanosError:
            self.refs, self.ids = saved
            raise

    async def run_one(self, sub: Sub) -> Result:
        try:
            if sub.method == "GET":
                return await self.run_read(sub)
            return (await self.run_group([sub]))[0]
        except UrbanosError as exc:
            return exc.status, {}, _err_body(exc)


# -- JSON batch ---------------------------------------------------------------------------------

async def json_batch(runner: Runner, doc: Any, limit: int) -> dict[str, Any]:
    if not isinstance(doc, dict) or not isinstance(doc.get("requests"), list):
        raise BadRequest('A JSON batch is an object with a "requests" array.')
    reqs = doc["requests"]
    if len(reqs) > limit:
        raise BadRequest(f"A batch may hold at most {limit} requests.")
    subs: list[tuple[Sub, str | None]] = []
    seen: set[str] = set()
    for r in reqs:
        if not isinstance(r, dict) or not isinstance(r.get("method"), str) or not isinstance(r.get("url"), str):
            raise BadRequest("Each batch request needs a method and a url.")
        rid = r.get("id")
        if rid is not None:
            rid = str(rid)
            if rid in seen:
                raise BadRequest(f"The request id {rid!r} is used twice.")
            seen.add(rid)
        if not isinstance(r.get("headers") or {}, dict):
            raise BadRequest('The headers of a batch request are an object, e.g. {"Content-Type": "application/json"}.')
        headers = {str(k).lower(): str(v) for k, v in (r.get("headers") or {}).items()}
        subs.append((Sub(rid, r["method"], r["url"], r.get("body"), headers), r.get("atomicityGroup")))
    responses: list[dict[str, Any]] = []
    failed_ids: set[str] = set()
    i = 0
    while i < len(subs):
        sub, group = subs[i]
        members = [sub]
        if group is not None:
            j = i + 1
            while j < len(subs) and subs[j][1] == group:
                members.append(subs[j][0])
                j += 1
            i = j
        else:
            i += 1
        deps = [d for r in reqs for d in (r.get("dependsOn") or []) if str(r.get("id")) in {m.id for m in members}]
        if any(str(d) in failed_ids for d in deps):
            for m in members:
                failed_ids.add(str(m.id))
                responses.append({"id": m.id, "status": 424, "body": {"code": 424, "type": "error",
                                                                      "message": "A request this one depends on failed."}})
            continue
        if group is not None:
            try:
                results = await runner.run_group(members)
            except UrbanosError as exc:
                for m in members:
                    failed_ids.add(str(m.id))
                    responses.append({"id": m.id, "status": exc.status, "atomicityGroup": group, "body": _err_body(exc)})
                continue
            for m, (status, headers, body) in zip(members, results, strict=True):
                responses.append(_json_resp(m.id, status, headers, body, group))
        else:
            status, headers, body = await runner.run_one(sub)
            if status >= 400:
                failed_ids.add(str(sub.id))
            responses.append(_json_resp(sub.id, status, headers, body, None))
    return {"responses": responses}


def _json_resp(rid: Any, status: int, headers: dict[str, str], body: Any, group: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": rid, "status": status}
    if group is not None:
        out["atomicityGroup"] = group
    if headers:
        out["headers"] = headers
    if body is not None:
        out["body"] = body
    return out


# -- multipart/mixed ----------------------------------------------------------------------------

def _boundary(ctype: str) -> str:
    m = re.search(r'boundary="?([^";]+)"?', ctype)
    if not m:
        raise BadRequest("The multipart batch has no boundary.")
    return m.group(1)


def _split_parts(body: bytes, boundary: str) -> list[bytes]:
    delim = b"--" + boundary.encode()
    chunks = body.split(delim)
    if len(chunks) < 2:
        raise BadRequest("The multipart batch has no parts.")
    parts = []
    for ch in chunks[1:]:
        if ch.startswith(b"--"):
            break
        parts.append(ch.strip(b"\r\n"))
    return parts


def _headers_body(raw: bytes) -> tuple[dict[str, str], bytes]:
    sep = raw.find(b"\r\n\r\n")
    nl = 4
    if sep < 0:
        sep, nl = raw.find(b"\n\n"), 2
    head, body = (raw, b"") if sep < 0 else (raw[:sep], raw[sep + nl:])
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").splitlines():
        if ":" in line:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
    return headers, body


def _http_request(raw: bytes, content_id: str | None) -> Sub:
    text = raw.lstrip(b"\r\n")
    line_end = text.find(b"\n")
    first = (text if line_end < 0 else text[:line_end]).decode("utf-8", "replace").strip()
    m = re.match(r"^([A-Za-z]+) (\S+)(?: HTTP/1\.[01])?$", first)
    if not m:
        raise BadRequest("A batch part does not hold an HTTP request line.")
    rest = b"" if line_end < 0 else text[line_end + 1:]
    headers: dict[str, str]
    if rest.startswith((b"\r\n", b"\n")):
        headers, payload = {}, rest.lstrip(b"\r\n")
    else:
        headers, payload = _headers_body(rest)
    data: Any = None
    if payload.strip():
        if (problem := json_problem(payload, max_nesting=BODY_MAX_NESTING, what="A batch part's body")) is not None:
            raise BadRequest(problem)
        try:
            data = orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise BadRequest("A batch part's body is not valid JSON.") from None
    return Sub(content_id or headers.get("content-id"), m.group(1), m.group(2), data, headers)


def _http_response(status: int, headers: dict[str, str], body: Any, content_id: str | None) -> bytes:
    out = [b"Content-Type: application/http", b"Content-Transfer-Encoding: binary"]
    if content_id:
        out.append(f"Content-ID: {content_id}".encode())
    out.append(b"")
    out.append(f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}".encode())
    for k, v in headers.items():
        out.append(f"{k.title()}: {v}".encode())
    payload = orjson.dumps(body) if body is not None else b""
    if body is not None:
        out.append(b"Content-Type: application/json")
    out.append(b"")
    out.append(payload)
    return b"\r\n".join(out)


async def multipart_batch(runner: Runner, body: bytes, ctype: str, limit: int) -> tuple[str, bytes]:
    parts = _split_parts(body, _boundary(ctype))
    if len(parts) > limit:
        raise BadRequest(f"A batch may hold at most {limit} parts.")
    out_boundary = f"batch_{uuid.uuid4()}"
    chunks: list[bytes] = []
    for part in parts:
        headers, inner = _headers_body(part)
        pct = headers.get("content-type", "")
        if pct.startswith("multipart/mixed"):
            subs = []
            for cp in _split_parts(inner, _boundary(pct)):
                ch, cinner = _headers_body(cp)
                subs.append(_http_request(cinner, ch.get("content-id")))
            cs_boundary = f"changesetresponse_{uuid.uuid4()}"
            try:
                results = await runner.run_group(subs)
                resp = b"".join(f"--{cs_boundary}\r\n".encode() + _http_response(st, h, b, s.id) + b"\r\n"
                                for s, (st, h, b) in zip(subs, results, strict=True))
                resp += f"--{cs_boundary}--".encode()
                chunks.append(f"Content-Type: multipart/mixed; boundary={cs_boundary}\r\n\r\n".encode() + resp)
            except UrbanosError as exc:
                chunks.append(_http_response(exc.status, {}, _err_body(exc), None))
        elif pct.startswith("application/http"):
            try:
                sub = _http_request(inner, headers.get("content-id"))
            except UrbanosError as exc:
                chunks.append(_http_response(exc.status, {}, _err_body(exc), None))
                continue
            st, h, b = await runner.run_one(sub)
            chunks.append(_http_response(st, h, b, None))
        else:
            raise BadRequest(f"A batch part has the unsupported Content-Type {pct!r}.")
    payload = b"".join(f"--{out_boundary}\r\n".encode() + c + b"\r\n" for c in chunks) + f"--{out_boundary}--\r\n".encode()
    return f"multipart/mixed; boundary={out_boundary}", payload


async def handle_batch(svc: SensingService, version: str, identity: Identity, base: str, ctype: str,
                       raw: bytes) -> tuple[int, str, bytes]:
    """A ``$batch`` request (``ctype``: its Content-Type, ``raw``: its body): status, Content-Type and body of the
    answer."""
    if version not in ("v1.0", "v1.1"):
        raise NotFound(f"SensorThings version {version!r} is not served.")
    runner = Runner(svc, version, identity, base)
    limit = int(getattr(svc.platform.settings, "sta_max_batch", 1000))
    if ctype.startswith("multipart/mixed"):
        out_type, payload = await multipart_batch(runner, raw, ctype, limit)
        return 200, out_type, payload
    if "json" in ctype or not ctype:
        # the parts' bodies sit four levels down ({"requests": [{"body": …}]})
        if (problem := json_problem(raw, max_nesting=BODY_MAX_NESTING + 4, what="The batch body")) is not None:
            raise BadRequest(problem)
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise BadRequest("The batch body is not valid JSON.") from None
        return 200, "application/json", orjson.dumps(await json_batch(runner, doc, limit))
    raise UnsupportedMediaType("A batch is application/json or multipart/mixed.")


__all__ = ["handle_batch", "json_batch", "multipart_batch", "Runner", "Result"]
