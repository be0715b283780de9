"""Administrative core operations: queues, categories, routes, agents, hours and SLA targets.

Like `helpdesk.tickets` for tickets, these are the only writers of what they manage. The admin
pages (helpdesk/admin) and the CLI (`helpdesk queue|category|route|user ...`) both call them, so
both validate alike, and each change commits once with its audit line.
"""

from helpdesk.administration.agents import (
    NewAgent,
    agent_id_for_email,
    create_agent,
    deactivate_agent,
    normalize_email,
    reactivate_agent,
    update_agent,
)
from helpdesk.administration.common import AdminError
from helpdesk.administration.names import display_name, display_names
from helpdesk.administration.queues import (
    QueueInfo,
    create_queue,
    ensure_triage_queue,
    list_categories,
    list_queues,
    rename_queue,
    set_category_names,
)
from helpdesk.administration.routes import RouteEffect, change_route, current_routes, route_effects
from helpdesk.administration.service_hours import set_service_setting

__all__ = [
    "AdminError",
    "NewAgent",
    "QueueInfo",
    "RouteEffect",
    "agent_id_for_email",
    "change_route",
    "create_agent",
    "create_queue",
    "current_routes",
    "deactivate_agent",
    "display_name",
    "display_names",
    "ensure_triage_queue",
    "list_categories",
    "list_queues",
    "normalize_email",
    "reactivate_agent",
    "rename_queue",
    "route_effects",
    "set_category_names",
    "set_service_setting",
    "update_agent",
]
