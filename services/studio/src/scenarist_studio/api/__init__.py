"""The REST endpoints, grouped by what they manage; ENDPOINTS is the whole route table."""

from __future__ import annotations

from scenarist_studio.api.catalogue import ENDPOINTS as CATALOGUE
from scenarist_studio.api.connections import ENDPOINTS as CONNECTIONS
from scenarist_studio.api.events import ENDPOINTS as EVENTS
from scenarist_studio.api.incomplete import ENDPOINTS as INCOMPLETE
from scenarist_studio.api.runs import ENDPOINTS as RUNS
from scenarist_studio.api.scenarios import ENDPOINTS as SCENARIOS
from scenarist_studio.api.schedules import ENDPOINTS as SCHEDULES
from scenarist_studio.api.session import ENDPOINTS as SESSION
from scenarist_studio.api.users import ENDPOINTS as USERS
from scenarist_studio.api.webhooks import ENDPOINTS as WEBHOOKS
from scenarist_studio.routing import Endpoint

ENDPOINTS: tuple[Endpoint, ...] = (
    *SESSION,
    *USERS,
    *CATALOGUE,
    *SCENARIOS,
    *RUNS,
    *EVENTS,
    *INCOMPLETE,
    *WEBHOOKS,
    *SCHEDULES,
    *CONNECTIONS,
)
