"""Business hours, extra holidays and SLA targets that an administrator sets over the settings.

A stored value replaces the HELPDESK_BUSINESS_HOURS / HELPDESK_HOLIDAYS / HELPDESK_SLA_TARGETS
setting and uses its syntax, so the one parser validates both. The SLA policy reads them again
within half a minute in every process (at once in the process that made the change).
"""

from __future__ import annotations

from datetime import date

from helpdesk.administration.common import N_, AdminError
from helpdesk.business_hours import CalendarError, parse_hours
from helpdesk.models import ServiceSetting
from helpdesk.services import Services
from helpdesk.settings import Settings
from helpdesk.sla.policy import DEFAULT_TARGETS, SlaConfigError, parse_targets
from helpdesk.sla.stored import stored_settings
from helpdesk.tickets import Actor
from helpdesk.tickets.uow import unit_of_work

KEYS = ("business_hours", "holidays", "sla_targets")
__all__ = [
    "KEYS", "check_service_setting", "effective", "parse_holidays", "set_service_setting",
    "stored_settings",
]
MAX_VALUE = 2000


def effective(settings: Settings, stored: dict[str, str]) -> dict[str, str]:
    """What is in force: the stored value, else the setting (else its default)."""
    return {
        "business_hours": stored.get("business_hours") or settings.business_hours,
        "holidays": stored.get("holidays", ",".join(d.isoformat() for d in settings.holidays)),
        "sla_targets": stored.get("sla_targets") or settings.sla_targets or DEFAULT_TARGETS,
    }


def parse_holidays(text: str) -> tuple[date, ...]:
    days: set[date] = set()
    for item in text.replace(";", ",").replace("\n", ",").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            days.add(date.fromisoformat(item))
        except ValueError:
            raise AdminError(N_("%(value)s is not a date (use %(format)s)."), value=repr(item),
                             format="YYYY-MM-DD") from None
    return tuple(sorted(days))


def check_service_setting(key: str, value: str) -> str:
    """The value as it would be stored, or AdminError saying what is wrong with it."""
    value = " ".join((value or "").split())
    if len(value) > MAX_VALUE:
        raise AdminError(N_("The value is longer than %(max)d characters."), max=MAX_VALUE)
    try:
        if key == "business_hours":
            week = parse_hours(value)
            if not any(week.values()):
                raise AdminError(N_("Business hours need at least one working day."))
        elif key == "sla_targets":
            if not parse_targets(value):
                raise AdminError(N_("Give at least one SLA target (for example %(example)s)."),
                                 example="normal=4h/16h")
        elif key == "holidays":
            return ",".join(d.isoformat() for d in parse_holidays(value))
        else:
            raise AdminError(N_("Unknown setting %(key)s."), key=repr(key))
    except (CalendarError, SlaConfigError) as exc:
        raise AdminError(N_("This value cannot be used: %(detail)s"), detail=str(exc)) from exc
    return value


def set_service_setting(svc: Services, actor: Actor, key: str, value: str) -> str:
    """Store a validated business-hours, holidays or SLA-targets value; returns it normalized."""
    value = check_service_setting(key, value)
    with unit_of_work(svc) as uow:
        row = uow.session.get(ServiceSetting, key)
        before = row.value if row is not None else None
        if before == value:
            return value
        if row is None:
            uow.session.add(ServiceSetting(key=key, value=value, updated_at=uow.now))
        else:
            row.value, row.updated_at = value, uow.now
        uow.audit(actor, f"settings.{key}", before={key: before}, after={key: value})
    refresh = getattr(svc.sla, "refresh", None)
    if callable(refresh):
        refresh()
    return value
