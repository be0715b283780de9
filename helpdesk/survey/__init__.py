"""Satisfaction: the one-question survey sent when a ticket is resolved, and its answers."""

from helpdesk.survey.operations import record_satisfaction
from helpdesk.survey.views import bp

__all__ = ["bp", "record_satisfaction"]
