"""A console list view as its URL says it: filters, search words, sort and page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from helpdesk.models import CHANNELS, STATUSES

MAX_PAGE = 10_000
SORTS = ("due", "reference", "subject", "status", "priority", "channel", "queue", "assignee", "updated")
DEFAULT_SORT = "due"


@dataclass(frozen=True)
class Filters:
    mine: bool = False
    unassigned: bool = False
    overdue: bool = False
    status: str = "active"  # active = new, open or pending; "" = any
    channel: str = ""
    category: str = ""
    queue: str = ""
    q: str = ""
    sort: str = ""  # "" = the default (due), or the search rank when searching
    dir: str = "asc"
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        status = args.get("status", "active")
        channel = args.get("channel", "")
        sort = args.get("sort", "")
        page = args.get("page", "1")
        return cls(
            mine=args.get("mine") == "1",
            unassigned=args.get("unassigned") == "1",
            overdue=args.get("overdue") == "1",
            status=status if status in (*STATUSES, "active", "") else "active",
            channel=channel if channel in CHANNELS else "",
            category=args.get("category", "")[:40],
            queue=args.get("queue", "")[:64],
            q=" ".join(args.get("q", "").split())[:200],
            sort=sort if sort in SORTS else "",
            dir="desc" if args.get("dir") == "desc" else "asc",
            page=min(int(page), MAX_PAGE) if page.isdigit() and int(page) > 0 else 1,
        )

    @property
    def effective_sort(self) -> str:
        return self.sort or ("" if self.q else DEFAULT_SORT)

    def query_string(self, **changes: Any) -> dict[str, str]:
        """The URL arguments of this view (page 1 and the default order left out)."""
        f = replace(self, **changes) if changes else self
        values = {
            "q": f.q,
            "mine": "1" if f.mine else "",
            "unassigned": "1" if f.unassigned else "",
            "overdue": "1" if f.overdue else "",
            "status": f.status,
            "channel": f.channel,
            "category": f.category,
            "queue": f.queue,
            "sort": f.sort,
            "dir": f.dir if f.sort and f.dir != "asc" else "",
            "page": str(f.page) if f.page > 1 else "",
        }
        return {k: v for k, v in values.items() if v or k == "status"}

    def sorted_by(self, column: str) -> dict[str, str]:
        """The link of a column header: this column ascending, or flipped if already sorted by it."""
        flip = "desc" if self.effective_sort == column and self.dir == "asc" else "asc"
        return self.query_string(sort=column, dir=flip, page=1)

    def aria_sort(self, column: str) -> str:
        if self.effective_sort != column:
            return "none"
        return "descending" if self.dir == "desc" else "ascending"
