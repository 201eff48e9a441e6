"""Make's HTTP app: ``http:MakeRequest``."""

from __future__ import annotations

from scenarist_connector_sdk import Connector, ModuleSpec

from scenarist_connectors.http.make_request import make_request
from scenarist_connectors.http.spec import APP, INPUTS, OUTPUTS

__all__ = ["connector"]

connector = Connector(APP)
connector.module(
    ModuleSpec(
        "MakeRequest",
        label="Make a request",
        description="Send an HTTP request and return the response as a bundle.",
        inputs=INPUTS,
        outputs=OUTPUTS,
    )
)(make_request)
