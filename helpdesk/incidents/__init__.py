"""Incidents: one outage, many citizens asking about it (issue 17).

A supervisor opens an incident (a triage category and/or keywords, a notice in Serbian Latin,
Cyrillic and English, a start and an expected end). While it is open, citizen pages show its
banner, new tickets that match it are linked to it and get its notice as their acknowledgement on
their own channel, agents answer every linked ticket at once, and closing it can tell every linked
citizen. The tables are in ``models``, the operations in ``core`` (open/edit/close), ``linking``
(the hook ``receive_inbound`` calls) and ``answers`` (the bulk answer).

``helpdesk.models`` imports this package's tables module; importing the store first here means
any module of this package may be imported first.
"""

import helpdesk.models  # noqa: F401
