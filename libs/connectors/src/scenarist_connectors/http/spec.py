"""The HTTP app's declarative half: Make's ``http`` app, module ``MakeRequest``."""

from __future__ import annotations

from scenarist_connector_sdk import AppSpec, FieldSpec, FieldType, Option
from scenarist_connector_sdk.auth import API_KEY, BASIC, BEARER, OAUTH2
from scenarist_connector_sdk.spec import ConnectionTypeSpec

METHODS = ("get", "head", "post", "put", "patch", "delete", "options")
BODY_TYPES = ("", "raw", "json", "x_www_form_urlencoded", "multipart_form_data")
PAGINATION_TYPES = ("none", "page", "offset", "cursor", "link")

APP = AppSpec(
    name="http",
    version="4.0.0",
    label="HTTP",
    description="Make a request to any HTTP(S) endpoint, with optional authentication.",
    connection_types=(
        ConnectionTypeSpec("none", "No authentication"),
        API_KEY,
        BASIC,
        BEARER,
        OAUTH2,
    ),
)


def _pairs(name: str, label: str, help: str = "") -> FieldSpec:
    items = (
        FieldSpec("name", FieldType.TEXT, "Name", required=True),
        FieldSpec("value", label="Value"),
    )
    return FieldSpec(name, FieldType.ARRAY, label, help=help, fields=items)


_FILE = (
    FieldSpec("name", FieldType.TEXT, "Field name", required=True),
    FieldSpec("fileName", FieldType.TEXT, "File name"),
    FieldSpec("data", FieldType.BINARY, "Data (base64)", required=True),
    FieldSpec("mimeType", FieldType.TEXT, "MIME type", default="application/octet-stream"),
)

_PAGINATION = (
    FieldSpec(
        "type",
        FieldType.SELECT,
        "Type",
        options=tuple(Option(t) for t in PAGINATION_TYPES),
        default="none",
    ),
    FieldSpec(
        "itemsPath", FieldType.TEXT, "Items path", help="Dot path to the page's items array."
    ),
    FieldSpec("pageParam", FieldType.TEXT, "Page parameter", default="page"),
    FieldSpec("startPage", FieldType.INTEGER, "First page", default=1),
    FieldSpec("offsetParam", FieldType.TEXT, "Offset parameter", default="offset"),
    FieldSpec("limitParam", FieldType.TEXT, "Limit parameter", default="limit"),
    FieldSpec("limit", FieldType.INTEGER, "Page size", default=100),
    FieldSpec("cursorParam", FieldType.TEXT, "Cursor parameter", default="cursor"),
    FieldSpec("cursorPath", FieldType.TEXT, "Next cursor path", help="Dot path in the response."),
    FieldSpec("maxPages", FieldType.INTEGER, "Maximum pages", default=10),
)

INPUTS = (
    FieldSpec("url", FieldType.URL, "URL", required=True),
    FieldSpec(
        "method",
        FieldType.SELECT,
        "Method",
        options=tuple(Option(m, m.upper()) for m in METHODS),
        default="get",
    ),
    _pairs("headers", "Headers"),
    _pairs("qs", "Query String"),
    FieldSpec(
        "bodyType",
        FieldType.SELECT,
        "Body type",
        options=tuple(Option(b, b or "Empty") for b in BODY_TYPES),
        default="",
    ),
    FieldSpec("contentType", FieldType.TEXT, "Content type (raw body)", default="text/plain"),
    FieldSpec(
        "data",
        FieldType.ANY,
        "Request content",
        help="Text for raw; a value or JSON text for json.",
    ),
    _pairs("formFields", "Fields", help="Form fields (urlencoded and multipart bodies)."),
    FieldSpec("files", FieldType.ARRAY, "Files (multipart)", fields=_FILE),
    FieldSpec("parseResponse", FieldType.BOOLEAN, "Parse response", default=True),
    FieldSpec(
        "handleErrors",
        FieldType.BOOLEAN,
        "Evaluate all states as errors (except 2xx and 3xx)",
        default=False,
    ),
    FieldSpec("followRedirect", FieldType.BOOLEAN, "Follow redirects", default=True),
    # Not in Make's HTTP app: ours can forward the task's idempotency key, which stays the same
    # when a task is delivered twice, so an API that honours the header applies the call once.
    FieldSpec(
        "idempotencyKey",
        FieldType.BOOLEAN,
        "Send an Idempotency-Key header",
        help="The key is the same when a task is redelivered, so the target can deduplicate.",
        default=False,
    ),
    FieldSpec("timeout", FieldType.NUMBER, "Timeout (seconds)", default=40),
    FieldSpec("pagination", FieldType.COLLECTION, "Pagination", fields=_PAGINATION),
)

OUTPUTS = (
    FieldSpec("statusCode", FieldType.NUMBER, "Status code", required=True),
    FieldSpec("headers", FieldType.COLLECTION, "Headers", required=True),
    FieldSpec("data", FieldType.ANY, "Data"),
    FieldSpec("fileSize", FieldType.NUMBER, "File size (binary responses)"),
    FieldSpec("fileName", FieldType.TEXT, "File name (binary responses)"),
    FieldSpec("contentType", FieldType.TEXT, "Content type"),
)
