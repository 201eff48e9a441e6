"""The ``datastore`` app, declared without an implementation: Make's data store modules.

Data stores live in the connector gateway's Postgres schema, and connectors must never touch
our Postgres, so the modules run inside the gateway (``scenarist_connector_gateway.
datastore_app`` registers the handlers for these specs in its runtime's registry). This module
is the one place their names and fields are written down, so processes that cannot import the
gateway (the orchestrator validating documents) know them too. It is deliberately not an entry
point: a registry that loaded it would list modules it cannot run.

Every module takes the parameter ``datastore`` (the data store's id); the rest is the mapper,
with Make's names: ``key``, ``data``, ``overwrite``, ``insert``, ``returnWrapped``, ``filter``,
``sort``, ``limit``.
"""

from __future__ import annotations

from scenarist_connector_sdk.spec import (
    AppSpec,
    FieldSpec,
    FieldType,
    ModuleKind,
    ModuleSpec,
    Option,
)

__all__ = ["APP", "MAX_SEARCH_RESULTS", "MODULES"]

APP = AppSpec(
    name="datastore",
    version="1.0.0",
    label="Data store",
    description=(
        "Typed key-value tables scenarios read and write across runs; the modules run in the "
        "connector gateway, which owns the stores."
    ),
)

# One search emits at most this many bundles (the mapper's ``limit`` may ask for fewer).
MAX_SEARCH_RESULTS = 10_000

_STORE = FieldSpec(
    "datastore",
    FieldType.TEXT,
    "Data store",
    required=True,
    help="The id of a data store of this organization.",
)
_KEY = FieldSpec("key", FieldType.TEXT, "Key", required=True, help="The record's unique key.")
_DATA = FieldSpec(
    "data",
    FieldType.COLLECTION,
    "Record",
    help="Values by field of the data store's record structure.",
)
_FILTER = FieldSpec(
    "filter",
    FieldType.ARRAY,
    "Filter",
    help=(
        "OR-groups of AND-conditions [[{a, o, b}]] like a link filter: `a` is `key` or a "
        "field name (dotted for nested fields), `o` a filter operator, `b` the value."
    ),
)
_SORT = FieldSpec(
    "sort",
    FieldType.COLLECTION,
    "Sort",
    fields=(
        FieldSpec("field", FieldType.TEXT, "Sort by", default="key"),
        FieldSpec(
            "order",
            FieldType.SELECT,
            "Order",
            options=(Option("asc", "Ascending"), Option("desc", "Descending")),
            default="asc",
        ),
    ),
)
_RECORD = (
    FieldSpec("key", FieldType.TEXT, "Key"),
    FieldSpec("data", FieldType.COLLECTION, "Record"),
)

MODULES: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        "AddRecord",
        ModuleKind.ACTION,
        "Add/replace a record",
        "Adds a record; with overwrite, replaces the record of the same key.",
        inputs=(
            _STORE,
            FieldSpec("key", FieldType.TEXT, "Key", help="Empty: a new unique key."),
            FieldSpec(
                "overwrite", FieldType.BOOLEAN, "Overwrite an existing record", default=False
            ),
            _DATA,
        ),
        outputs=_RECORD,
    ),
    ModuleSpec(
        "UpdateRecord",
        ModuleKind.ACTION,
        "Update a record",
        "Changes the mapped fields of a record and keeps the others.",
        inputs=(
            _STORE,
            _KEY,
            FieldSpec("insert", FieldType.BOOLEAN, "Insert missing record", default=False),
            _DATA,
        ),
        outputs=_RECORD,
    ),
    ModuleSpec(
        "GetRecord",
        ModuleKind.ACTION,
        "Get a record",
        "The record's fields; one empty bundle when there is no record with the key.",
        inputs=(
            _STORE,
            _KEY,
            FieldSpec(
                "returnWrapped",
                FieldType.BOOLEAN,
                "Return wrapped output",
                default=False,
                help="Output {key, data} instead of the record's fields.",
            ),
        ),
        outputs=_RECORD,
    ),
    ModuleSpec(
        "ExistRecord",
        ModuleKind.ACTION,
        "Check the existence of a record",
        inputs=(_STORE, _KEY),
        outputs=(FieldSpec("exist", FieldType.BOOLEAN, "Exists"),),
    ),
    ModuleSpec(
        "DeleteRecord",
        ModuleKind.ACTION,
        "Delete a record",
        "Deletes the record of the key; a missing record is not an error.",
        inputs=(_STORE, _KEY),
        outputs=(
            FieldSpec("key", FieldType.TEXT, "Key"),
            FieldSpec("deleted", FieldType.BOOLEAN, "Deleted"),
        ),
    ),
    ModuleSpec(
        "SearchRecords",
        ModuleKind.SEARCH,
        "Search records",
        "One bundle per matching record {key, data}, sorted, at most `limit`.",
        inputs=(
            _STORE,
            _FILTER,
            _SORT,
            FieldSpec("limit", FieldType.INTEGER, "Maximum number of returned records"),
        ),
        outputs=_RECORD,
        max_results=MAX_SEARCH_RESULTS,
    ),
    ModuleSpec(
        "CountRecords",
        ModuleKind.ACTION,
        "Count records",
        "The number of records (matching the filter, when one is given).",
        inputs=(_STORE, _FILTER),
        outputs=(FieldSpec("count", FieldType.NUMBER, "Count"),),
    ),
    ModuleSpec(
        "DeleteAllRecords",
        ModuleKind.ACTION,
        "Delete all records",
        inputs=(_STORE,),
        outputs=(FieldSpec("deleted", FieldType.NUMBER, "Deleted records"),),
    ),
)
