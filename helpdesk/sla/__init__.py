"""Service-level agreements: business-hours due times, console highlighting and the breach watch."""

from helpdesk.sla.checker import CheckResult, SlaChecker
from helpdesk.sla.policy import (
    DEFAULT_TARGETS,
    BusinessHoursSla,
    SlaConfigError,
    Target,
    missed_target,
    parse_targets,
)
from helpdesk.sla.state import CSS_CLASS, SlaState, next_due, sla_fields, sla_state

__all__ = [
    "CSS_CLASS",
    "DEFAULT_TARGETS",
    "BusinessHoursSla",
    "CheckResult",
    "SlaChecker",
    "SlaConfigError",
    "SlaState",
    "Target",
    "missed_target",
    "next_due",
    "parse_targets",
    "sla_fields",
    "sla_state",
]
