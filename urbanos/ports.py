"""The contracts between capabilities: what one capability may ask of another.

Capabilities never import each other (an import-linter contract keeps it so), and none reads or writes
another's tables. What one needs from another is declared here, as a :class:`typing.Protocol` and the frozen
dataclasses it returns; the owning capability registers its implementation at setup with
``platform.provide(Port, impl)`` and a caller asks ``platform.require(Port)`` when it needs it (a clear
start-up error names a missing provider). Anything that is not a question travels over the bus as a typed
event (:mod:`urbanos.events`): usage, changes, audit.

Methods that take a :class:`~urbanos.storage.Connection` run inside the caller's transaction (the same
database), so a write that spans two capabilities still commits or rolls back as one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from urbanos.governance import Identity
    from urbanos.storage import Connection


# -- the catalogue ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DatasetRef:
    """A catalogue dataset as other capabilities see it."""

    id: int
    name: str
    title: str
    owner_org: str | None
    access_level: str
    state: str


@dataclass(frozen=True)
class ResourceRef:
    """A catalogue resource (a distribution) as other capabilities see it. ``collection`` names the feature
    collection that holds its data, when it has one."""

    id: str
    dataset_id: int | None
    name: str
    url: str
    format: str
    url_type: str
    collection: str | None
    datastore_active: bool


class CatalogPort(Protocol):
    """What the catalogue answers for other capabilities."""

    def dataset(self, c: Connection, key: str | int) -> DatasetRef | None:
        """The dataset named ``key`` (its name, or its id), or None."""
        ...

    def resource(self, c: Connection, resource_id: str) -> ResourceRef | None:
        """The resource ``resource_id``, or None."""
        ...

    def resources_of_collection(self, c: Connection, collection: str) -> list[ResourceRef]:
        """The resources whose data is feature collection ``collection``."""
        ...

    def bind_collection(self, c: Connection, resource_id: str, collection: str | None, *, datastore_active: bool) -> None:
        """Record that resource ``resource_id``'s data is feature collection ``collection`` (None: no longer)."""
        ...

    def create_resource(self, c: Connection, identity: Identity, data: dict[str, Any]) -> ResourceRef:
        """resource_create as ``identity`` (the same checks: publisher of the dataset's organisation), in the caller's
        transaction, for a resource whose data the caller stores next. Without ``url`` it is a DataStore-only resource
        (``url_type`` ``datastore``) whose URL becomes its table's download when :meth:`bind_collection` binds it.
        Raises what resource_create raises (NotFound, Forbidden, ValidationFailed); a refusal writes nothing."""
        ...

    async def describe_collection(self, dataset: str, collection: str, *, fmt: str, url: str, title: str = "") -> None:
        """Describe collection ``collection`` as a distribution of dataset ``dataset`` (made when missing), once:
        a collection that already has a resource is left as it is."""
        ...

    async def describe_service(self, dataset: str, *, url: str, title: str, conforms_to: str, endpoint_url: str,
                               endpoint_description: str = "", description: str = "") -> None:
        """Describe an API that serves dataset ``dataset`` (SensorThings, MQTT, OGC API Features) as a distribution
        whose ``dcat:accessService`` is a ``dcat:DataService`` at ``endpoint_url`` conforming to ``conforms_to``;
        ``url`` is where the dataset's own part of it is read (e.g. its Datastreams). Once: a distribution with the
        same ``url`` is left as it is; a missing dataset is left alone."""
        ...


    # create-or-update by name, for a capability that publishes data of its own (the cockpit's usage statistics) or
    # describes the datasets it creates (the dashboards demo)
    def ensure_dataset(self, c: Connection, identity: Identity, data: dict[str, Any]) -> DatasetRef:
        """Dataset ``data["name"]`` made to say ``data`` (CKAN package fields), in the caller's transaction, through the
        catalogue's own authorisation (publisher of the dataset's organisation) and validation: package_create when
        it is missing, package_patch otherwise (a deleted one becomes active again); nothing is written when nothing
        would change, so it may run at every start. Raises what those raise (Unauthorized, Forbidden, NotFound,
        ValidationFailed)."""
        ...

    def ensure_resource(self, c: Connection, identity: Identity, data: dict[str, Any]) -> ResourceRef:
        """The resource of dataset ``data["package_id"]`` whose URL is ``data["url"]`` made to say ``data``, in the
        caller's transaction: resource_create when the dataset has none with that URL, resource_patch otherwise,
        nothing when nothing would change."""
        ...

# -- usage statistics (the catalogue counts them) -------------------------------------------------------------
@dataclass(frozen=True)
class UsageRow:
    """One ``catalog_usage`` aggregate: reads of ``dataset`` (its name; "" for reads of no dataset) on ``day``
    through ``api`` by ``application`` (a token's name; "" anonymous); ``title`` is the dataset's title."""

    day: str
    dataset: str
    title: str
    resource: str
    api: str
    application: str
    kind: str
    count: int


@dataclass(frozen=True)
class LateDataset:
    """A dataset updated less often than its declared frequency allows (the catalogue's freshness check)."""

    name: str
    title: str
    frequency: str
    last_update: str | None
    age_days: float | None
    max_age_days: float | None


class UsagePort(Protocol):
    """The catalogue's usage counts and freshness overview, for the cockpit. Every answer is limited to the
    datasets ``identity`` may read (the gate); reads of no dataset count as open."""

    async def usage(self, identity: Identity, since: str, until: str) -> list[UsageRow]:
        """The aggregates with ``since`` <= day <= ``until`` (ISO dates), counts written so far included."""
        ...

    async def late_datasets(self, identity: Identity) -> list[LateDataset]:
        """The active datasets whose freshness check says ``stale``, the oldest first."""
        ...


# -- features -----------------------------------------------------------------------------------------------
class FeaturesPort(Protocol):
    """What the features capability answers for others (the portal's previews and import reports)."""

    async def preview(self, identity: Identity, collection: str, limit: int) -> dict[str, Any]:
        """Up to ``limit`` features of ``collection`` as a GeoJSON FeatureCollection, read exactly as an OGC API
        Features items request (the same gate, privacy transforms, audit and usage); NotFound when the caller may
        not read it."""
        ...

    async def import_report(self, resource_id: str) -> dict[str, Any] | None:
        """The last import of resource ``resource_id``: ``{"status": "running" | "done" | "failed", "report": …,
        "failure": …}``, or None."""
        ...

    async def download_head(self, identity: Identity, collection: str, fmt: str, size: int) -> tuple[str, bytes]:
        """The media type and first ``size`` bytes of ``/download/{collection}.{fmt}`` as ``identity`` would get them
        (the same gate, privacy transforms and encoder; no usage is counted): the catalogue's quality check reads
        them to tell data from a metadata document. NotFound when the caller may not read it, BadRequest for an
        unknown format."""
        ...

    def collection_dataset(self, c: Connection, name: str) -> tuple[bool, int | None]:
        """Whether feature collection ``name`` exists, and the id of the catalogue dataset it belongs to (None for
        a collection of no dataset): the catalogue asks before a resource names a collection."""
        ...

    def replace_collection(self, c: Connection, identity: Identity, dataset: str, collection: str,
                           features: list[dict[str, Any]], *, fields: list[dict[str, str]] | None = None,
                           time_field: str | None = None, title: str = "", description: str = "") -> int:
        """Replace every feature of ``collection`` (made, in ``dataset``, when missing) with ``features`` (GeoJSON
        Feature dicts: ``properties``, a WGS84 ``geometry`` or None, and an integer ``id`` kept as the feature's id
        when every feature has one) as ``identity``, in the caller's transaction: readers see the old or the new
        collection, never half. ``identity`` must publish to the dataset's organisation, and to the collection's when
        it exists (the same answers as OGC API Features Part 4 writes); a collection of another dataset is refused.
        ``fields`` (``[{"name", "type"}]``) declares the properties (else their types follow the values),
        ``time_field`` the one that drives ``datetime=``; ``title`` and ``description`` describe a new collection.
        Returns the number of features written."""
        ...

    def put_feature(self, c: Connection, identity: Identity, collection: str, fid: int,
                    feature: dict[str, Any] | None) -> bool:
        """Feature ``fid`` of ``collection`` made to be ``feature`` (a GeoJSON Feature dict; its properties that the
        collection has no field for are ignored), inserted with that id when missing; ``feature`` None deletes it
        when it exists. In the caller's transaction, as ``identity`` (a publisher of the collection's dataset, as
        :meth:`replace_collection`); the count and extent stay right without a whole-collection write. Returns
        whether a feature was inserted, replaced or deleted. NotFound for an unknown collection."""
        ...

    # -- retention (privacy) --------------------------------------------------------------------------------
    def purge_features(self, c: Connection, collection: str, before: str, time_property: str | None = None) -> int:
        """Delete, in the caller's transaction, the features of ``collection`` whose time (``time_property``, by
        default the collection's time field) is before ``before`` (stored UTC text); keeps the collection's count and
        time extent right. Returns the number deleted (0 for a collection without that time). NotFound for an unknown
        collection, ValidationFailed for a property that is not a date-time field."""
        ...

    def dataset_collections(self, c: Connection, dataset_id: int) -> list[str]:
        """The names of the feature collections of dataset ``dataset_id``."""
        ...


CkanAction = Callable[[Any, "Identity", dict[str, Any]], Awaitable[Any]]
"""An extra CKAN action: ``async fn(platform, identity, data) -> result``, served by the catalogue's Action API."""


class CkanActionsPort(Protocol):
    """Extra actions a capability serves through the catalogue's CKAN Action API: the DataStore's (the provider), the
    cockpit's showcases (a contribution: ``platform.contribute(CkanActionsPort, impl)``; a capability may add its own)."""

    def ckan_actions(self) -> Mapping[str, CkanAction]:
        ...


# -- sensing ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SensorRef:
    """A SensorThings Thing of a dataset as other capabilities see it: where it is (WGS84, None when it has no
    point Location) and its Datastreams as ``(id, name, unit symbol)``."""

    thing_id: int
    name: str
    longitude: float | None
    latitude: float | None
    datastreams: tuple[tuple[int, str, str], ...]


@dataclass(frozen=True)
class DatastreamOwner:
    """Whose a SensorThings Datastream is: its catalogue dataset (id and name; None when it has none) and its owning
    organisation (the dataset's, else the one recorded when it was created; None: no organisation)."""

    datastream_id: int
    name: str
    dataset_id: int | None
    dataset: str | None
    owner_org: str | None


class SensingPort(Protocol):
    """What the SensorThings service answers for others (MQTT, dashboards): exactly the HTTP API's answers."""

    def datastream_owner(self, c: Connection, datastream_id: int) -> DatastreamOwner | None:
        """The dataset and owning organisation of Datastream ``datastream_id`` (None when it does not exist), read
        in the caller's transaction; the caller decides what the asker may see (the gate)."""
        ...

    async def read_path(self, version: str, path: str, query: dict[str, str], identity: Identity,
                        base_url: str) -> dict[str, Any]:
        ...

    async def create_at_path(self, version: str, path: str, body: dict[str, Any], identity: Identity,
                             base_url: str) -> dict[str, Any]:
        ...

    async def entity_json(self, version: str, entity_set: str, id: Any, identity: Identity, base_url: str,
                          select: list[str] | None = None) -> dict[str, Any] | None:
        ...

    async def entities_json(self, version: str, entity_set: str, ids: list[int], identity: Identity, base_url: str,
                            select: list[str] | None = None) -> list[dict[str, Any] | None]:
        """``entity_json`` of many ids in one read (None for each one missing or not visible), in the order given."""
        ...

    async def dataset_sensors(self, identity: Identity, dataset: str, limit: int) -> list[SensorRef]:
        """Up to ``limit`` Things of dataset ``dataset`` (its name) with their locations and Datastreams, in id
        order; empty when the caller may not read the dataset or it has none."""
        ...

    def create_observations(self, c: Connection, identity: Identity, body: list[dict[str, Any]]) -> list[str]:
        """What ``POST /sta/v1.1/CreateObservations`` does with ``body`` (the dataArray extension: ``[{"Datastream":
        {"@iot.id": id}, "components": [...], "dataArray": [[...], ...]}]``), as ``identity``, in the caller's
        transaction: many Observations at once. Returns, per row, the new Observation's link (``…Observations(id)``)
        or ``"error"``."""
        ...

    def write_entities(self, c: Connection, identity: Identity, ops: list[tuple[str, str, dict[str, Any]]]) -> list[int]:
        """Each ``(method, path, body)`` (``POST`` to an entity set or navigation collection, ``PATCH`` of one
        entity) exactly as the v1.1 HTTP API does it, as ``identity``, in the caller's transaction (one transaction
        for many writes: a connector's run). Returns the id each write created or changed; raises what HTTP would
        answer, and the caller's transaction then rolls back as one."""
        ...

    # -- retention and assessments (privacy) ----------------------------------------------------------------
    def purge_observations(self, c: Connection, dataset_id: int, before: str,
                           datastream_ids: list[int] | None = None) -> int:
        """Delete, in the caller's transaction, the Observations of dataset ``dataset_id``'s Datastreams and
        MultiDatastreams (only ``datastream_ids`` when given: Datastreams of that dataset) whose phenomenon time starts
        before ``before`` (stored UTC text), and compute the touched Datastreams' phenomenonTime and resultTime envelopes
        and latest pointers again. Returns the number deleted."""
        ...

    def observed_property(self, c: Connection, observed_property_id: int) -> tuple[str, str | None] | None:
        """``(name, owning organisation)`` of ObservedProperty ``observed_property_id``, or None when it does not
        exist."""

    # -- bulk writes of machine feeds (connectors) ----------------------------------------------------------
    def create_things_bulk(self, c: Connection, identity: Identity, things: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Things as ``POST Things`` deep inserts make them, in the caller's transaction and few statements: each
        with new ``Locations`` and new ``Datastreams`` that link an existing Sensor and ObservedProperty by
        ``@iot.id``. The same checks and events as the API. Returns per Thing ``{"thing": id, "locations": [ids],
        "datastreams": [ids]}``."""
        ...

    def create_observations_bulk(self, c: Connection, identity: Identity,
                                 rows: list[tuple[Any, ...]]) -> list[int | None]:
        """Observations ``(datastream id, phenomenonTime, result[, resultTime])`` spread over many Datastreams (a
        feed's latest values, a mirror's pages), in the caller's transaction and few statements, each with the FeatureOfInterest generated from its
        Thing's Location; the new ids in order, None for a row refused. Envelopes, latest values and events as
        the API's."""
        ...


# -- messages -----------------------------------------------------------------------------------------------
class MessagePort(Protocol):
    """Messages on plain topics of the platform's MQTT broker (provided by the sensing capability's MQTT part)."""

    async def publish(self, topic: str, payload: bytes, dataset_id: int | None = None) -> int:
        """Deliver ``payload`` on plain topic ``topic`` to each subscriber whose identity may read dataset
        ``dataset_id`` (None: data of no dataset, every subscriber); returns the number of deliveries."""
        ...


# -- privacy ------------------------------------------------------------------------------------------------
class AuditPort(Protocol):
    """The audit trail (provided by the privacy capability): what a capability records besides the reads the gate
    reports (changes of rules, consent, assessments, registers). Never blocks on the database; never give a secret."""

    def record(self, actor: str, action: str, object_kind: str, object_id: Any = "", *, dataset: str | None = None,
               dataset_id: int | None = None, org: str | None = None, path: str | None = None,
               rows: int | None = None, details: dict[str, Any] | None = None) -> None:
        """Add an entry: ``actor`` a subject (``token:7``), ``action`` such as ``rule.changed``, the object changed,
        the dataset (by name, or by id: its name and organisation are looked up), the organisation whose stewards
        may read the entry, the request path, a row count and a small JSON-able ``details``."""
        ...


@dataclass(frozen=True)
class Erasure:
    """Personal data a capability erased when its own retention period ran out: ``rows`` of ``what`` (plain words)
    older than ``days``, recorded as a deletion of dataset ``dataset`` (its name: the record is listed on
    /transparency to those who may see that dataset) of organisation ``org``; ``scope`` and ``ref`` say which data
    (``contacts``, ``open311``)."""

    dataset: str
    org: str | None
    scope: str
    ref: str
    days: int
    rows: int
    what: str


class PersonalDataPort(Protocol):
    """Personal data a capability keeps for a period of its own (Open311's contact details): each capability adds
    one with ``platform.contribute(PersonalDataPort, impl)``; the privacy capability's scheduled purge and ``urbanos
    purge [--dry-run]`` call every contribution, each in a transaction of its own, and write the deletion records and
    audit entries. The capability never touches privacy's tables, nor privacy its."""

    def erase_expired(self, c: Connection, now: datetime) -> list[Erasure]:
        """Erase, in the caller's transaction, what is past its period at ``now`` (UTC); one :class:`Erasure` per
        kind of data, with ``rows`` 0 when nothing was due. A dry run is the caller's rollback."""
        ...


class TransparencyPort(Protocol):
    """What the privacy capability tells others for transparency (the dataset page's links to the register)."""

    async def algorithms_for_dataset(self, name: str) -> list[tuple[int, str, str]]:
        """The algorithm register entries that use dataset ``name``: ``(id, name, url)`` with a URL relative to the
        platform's base (``/algorithms/7``), ordered by name. The caller has checked that its reader may see the
        dataset."""
        ...

    # -- added for the privacy rules (issue 14) -----------------------------------------------------------------
    async def rules_summary(self, name: str, lang: str = "en") -> list[str]:
        """The privacy rules in force for dataset ``name``, one plain-language sentence each (``lang``: en or de);
        empty when it has none. The caller has checked that its reader may see the dataset."""
        ...


# -- connectors ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConnectorHealth:
    """A connector that failed ``failures`` runs in a row (``connectors_unhealthy_after`` or more: unhealthy): its name and
    type, the dataset it writes (its name), when it last ran, with what status, and the first error of its last run."""

    name: str
    type: str
    dataset: str
    last_run_at: str | None
    last_status: str | None
    last_error: str | None
    failures: int


class ConnectorHealthPort(Protocol):
    """What the connectors capability tells the cockpit's freshness view (provided by ``connectors/health.py``)."""

    async def unhealthy(self, identity: Identity) -> list[ConnectorHealth]:
        """The enabled connectors marked unhealthy whose dataset ``identity`` may read (the gate), the most failures
        first."""
        ...

__all__ = ["DatasetRef", "ResourceRef", "CatalogPort", "FeaturesPort", "CkanAction",
           "CkanActionsPort", "SensingPort", "SensorRef", "DatastreamOwner", "MessagePort", "AuditPort", "Erasure",
           "PersonalDataPort",
           "TransparencyPort", "UsageRow", "LateDataset", "UsagePort", "ConnectorHealth",
           "ConnectorHealthPort"]
