"""A round of bench/chat/run.py (its figures) and the tables printed from the rounds of both
servers: the burst's and the paced mode's, each round beside the medians of their ratios."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class Round:
    latencies: list[float]  # ms, emit (paced: its scheduled time) -> console's message.created
    acks: list[float]  # ms, emit -> the citizen's acknowledgement
    seconds: float  # the message phase
    delivered: int
    expected: int
    failures: int
    connect_seconds: float  # console + N citizens connected and said hello
    server_cpu: float  # seconds, the message phase
    server_cpu_connect: float  # seconds, the connect phase
    client_cpu: float  # seconds of this process (the citizens), the message phase
    console_cpu: float  # seconds of the console's process, the message phase
    ack_bytes: int  # JSON size of one acknowledgement
    event_bytes: int  # JSON size of one message.created
    lags: list[float]  # paced: ms from each scheduled send time to the actual emit
    first: list[bool]  # per latency: a citizen's first message (ours: it opens the ticket)

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds if self.seconds else 0.0

    @property
    def whole_rate(self) -> float:  # connects included, as the bench measured before the phases
        return self.delivered / (self.connect_seconds + self.seconds)

    @property
    def p95(self) -> float:
        return pct(self.latencies, 95)

    def split(self, first: bool) -> list[float]:
        """The latencies of the citizens' first messages (``first``) or of the later ones."""
        return [ms for ms, f in zip(self.latencies, self.first, strict=True) if f is first]

    def slow_firsts(self) -> float:
        """The share of first messages among the slowest 5% (at or above the p95)."""
        p95 = self.p95
        slow = [f for ms, f in zip(self.latencies, self.first, strict=True) if ms >= p95]
        return sum(slow) / len(slow) if slow else float("nan")


def report(clients: int, messages: int, echo: list[Round], ours: list[Round]) -> list[str]:
    per_msg = clients * messages
    lines = [
        "",
        f"{clients} citizens x {messages} messages, message phase (all connected and said hello first)",
        "",
        "| round | echo p50 / p95 ms | echo msg/s | ours p50 / p95 ms | ours msg/s | p95 ratio | msg/s ratio "
        "| server CPU ms/msg echo / ours | delivered |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for i, (e, o) in enumerate(zip(echo, ours, strict=True), 1):
        lines.append(
            f"| {i} | {pct(e.latencies, 50):.1f} / {e.p95:.1f} | {e.rate:,.0f} | "
            f"{pct(o.latencies, 50):.1f} / {o.p95:.1f} | {o.rate:,.0f} | {o.p95 / e.p95:.2f}x | "
            f"{o.rate / e.rate:.2f}x | {e.server_cpu / per_msg * 1000:.2f} / "
            f"{o.server_cpu / per_msg * 1000:.2f} | "
            f"{o.delivered}/{o.expected} |"
        )
    p95_ratios = [o.p95 / e.p95 for e, o in zip(echo, ours, strict=True)]
    rate_ratios = [o.rate / e.rate for e, o in zip(echo, ours, strict=True)]
    whole_ratios = [o.whole_rate / e.whole_rate for e, o in zip(echo, ours, strict=True)]
    echo_p95, ours_p95 = med([e.p95 for e in echo]), med([o.p95 for o in ours])
    lines += [
        "",
        f"median of round p95 ratios: {med(p95_ratios):.2f}x "
        f"(rounds {min(p95_ratios):.2f}-{max(p95_ratios):.2f}x); median of round msg/s ratios: "
        f"{med(rate_ratios):.2f}x ({min(rate_ratios):.2f}-{max(rate_ratios):.2f}x)",
        f"medians: echo p95 {echo_p95:.1f} ms, {med([e.rate for e in echo]):,.0f} msg/s; "
        f"ours p95 {ours_p95:.1f} ms, {med([o.rate for o in ours]):,.0f} msg/s; "
        f"ratio of the median p95s {ours_p95 / echo_p95:.2f}x",
        f"server CPU per message (median of rounds): echo "
        f"{med([e.server_cpu for e in echo]) / per_msg * 1000:.2f} ms, ours "
        f"{med([o.server_cpu for o in ours]) / per_msg * 1000:.2f} ms; client process "
        f"{med([r.client_cpu for r in echo + ours]) / per_msg * 1000:.2f} ms (citizens), "
        f"{med([r.console_cpu for r in echo + ours]) / per_msg * 1000:.2f} ms (console)",
        f"acknowledgement p50 / p95 (median of rounds): echo {med([pct(e.acks, 50) for e in echo]):.1f} / "
        f"{med([pct(e.acks, 95) for e in echo]):.1f} ms, ours {med([pct(o.acks, 50) for o in ours]):.1f} / "
        f"{med([pct(o.acks, 95) for o in ours]):.1f} ms",
        f"connect phase (console + {clients} citizens connect and say hello), median: echo "
        f"{med([e.connect_seconds for e in echo]) * 1000:.0f} ms, "
        f"{med([e.server_cpu_connect for e in echo]) / clients * 1000:.2f} ms server CPU per citizen; ours "
        f"{med([o.connect_seconds for o in ours]) * 1000:.0f} ms, "
        f"{med([o.server_cpu_connect for o in ours]) / clients * 1000:.2f} ms; msg/s over the whole round "
        f"(connects included) median of round ratios {med(whole_ratios):.2f}x",
        f"payload JSON bytes, acknowledgement / message.created: echo {echo[0].ack_bytes} / "
        f"{echo[0].event_bytes}, ours {ours[0].ack_bytes} / {ours[0].event_bytes}",
    ]
    return lines + lost_lines(ours)


def lost_lines(ours: list[Round]) -> list[str]:
    """A line per round of ours where a message was refused or never reached the console."""
    return [
        f"  ! round {i}: {o.failures} refused, {o.expected - o.delivered} not delivered"
        for i, o in enumerate(ours, 1)
        if o.failures or o.delivered != o.expected
    ]


def report_paced(clients: int, messages: int, rate: float, echo: list[Round], ours: list[Round]) -> list[str]:
    per_msg = clients * messages
    lines = [
        "",
        f"paced at {rate:,.0f} msg/s: {clients} citizens x {messages} messages, each citizen every "
        f"{clients / rate * 1000:.0f} ms, staggered; latency from the scheduled send time",
        "",
        "| round | echo p50 / p95 ms | ours p50 / p95 ms | p95 ratio | p50 ratio | server CPU ms/msg "
        "echo / ours | server busy echo / ours | send lag p95 ms echo / ours | delivered |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for i, (e, o) in enumerate(zip(echo, ours, strict=True), 1):
        lines.append(
            f"| {i} | {pct(e.latencies, 50):.1f} / {e.p95:.1f} | {pct(o.latencies, 50):.1f} / {o.p95:.1f} | "
            f"{o.p95 / e.p95:.2f}x | {pct(o.latencies, 50) / pct(e.latencies, 50):.2f}x | "
            f"{e.server_cpu / per_msg * 1000:.2f} / {o.server_cpu / per_msg * 1000:.2f} | "
            f"{e.server_cpu / e.seconds:.0%} / {o.server_cpu / o.seconds:.0%} | "
            f"{pct(e.lags, 95):.1f} / {pct(o.lags, 95):.1f} | {o.delivered}/{o.expected} |"
        )
    p95_ratios = [o.p95 / e.p95 for e, o in zip(echo, ours, strict=True)]
    p50_ratios = [pct(o.latencies, 50) / pct(e.latencies, 50) for e, o in zip(echo, ours, strict=True)]
    echo_p95, ours_p95 = med([e.p95 for e in echo]), med([o.p95 for o in ours])
    lines += [
        "",
        f"median of round p95 ratios: {med(p95_ratios):.2f}x ({min(p95_ratios):.2f}-{max(p95_ratios):.2f}x); "
        f"median of round p50 ratios: {med(p50_ratios):.2f}x ({min(p50_ratios):.2f}-{max(p50_ratios):.2f}x)",
        f"medians: echo p50 / p95 {med([pct(e.latencies, 50) for e in echo]):.1f} / {echo_p95:.1f} ms; "
        f"ours {med([pct(o.latencies, 50) for o in ours]):.1f} / {ours_p95:.1f} ms; "
        f"ratio of the median p95s {ours_p95 / echo_p95:.2f}x",
        f"server CPU per message (median of rounds): echo "
        f"{med([e.server_cpu for e in echo]) / per_msg * 1000:.2f} ms, ours "
        f"{med([o.server_cpu for o in ours]) / per_msg * 1000:.2f} ms; delivered msg/s (median): echo "
        f"{med([e.rate for e in echo]):,.0f}, ours {med([o.rate for o in ours]):,.0f}",
        f"acknowledgement p50 / p95 from the scheduled time (median of rounds): echo "
        f"{med([pct(e.acks, 50) for e in echo]):.1f} / {med([pct(e.acks, 95) for e in echo]):.1f} ms, ours "
        f"{med([pct(o.acks, 50) for o in ours]):.1f} / {med([pct(o.acks, 95) for o in ours]):.1f} ms",
        *split_lines(echo, ours),
    ]
    return lines + lost_lines(ours)


def split_lines(echo: list[Round], ours: list[Round]) -> list[str]:
    """First messages (ours: each opens a ticket; 1 in --messages of the samples) apart from the
    later ones: when the first are the slow ones, the p95 is the new-ticket path."""

    def part(rounds: list[Round], first: bool) -> str:
        values = [(pct(r.split(first), 50), pct(r.split(first), 95)) for r in rounds]
        return f"{med([v[0] for v in values]):.1f} / {med([v[1] for v in values]):.1f}"

    return [
        f"first messages p50 / p95 (median of rounds): echo {part(echo, True)} ms, "
        f"ours {part(ours, True)} ms; "
        f"later messages: echo {part(echo, False)} ms, ours {part(ours, False)} ms",
        f"first messages among the slowest 5% (median of rounds): echo "
        f"{med([r.slow_firsts() for r in echo]):.0%}, ours {med([r.slow_firsts() for r in ours]):.0%}",
    ]
