"""Login timing: do an unknown account, a deactivated one, a throttled pair and a wrong password
answer in the same time? (They should: each runs scrypt once; see helpdesk/auth/accounts.py.)

    .venv/bin/python bench/auth/bench_login.py [--count 40]

Each case posts the login form `count` times through the Flask test client (no network) and prints
the median and p90 beside the baseline: one bare scrypt check measured in the same run. The cases are
interleaved round by round so that a noisy neighbour hurts them all alike.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from werkzeug.security import check_password_hash

from helpdesk import create_app
from helpdesk.auth.accounts import hash_password
from helpdesk.db import Database
from helpdesk.extensions import limiter
from helpdesk.migrate import upgrade
from helpdesk.models import Agent
from helpdesk.services import Services
from helpdesk.settings import Settings

PASSWORD = "correct horse battery"


def csrf(client: Any) -> str:
    html = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp), secret_key="bench-" + "x" * 40, channels=(), triage="local",
            embedded_services=False, api_ticket_rate_limit="100000 per minute",
            login_failures_per_address=10**9,
        ).resolved()
        svc = Services(settings=settings, db=Database(settings.database_url))
        upgrade(svc.db)
        with svc.db.transaction() as s:
            for email, active in (("live@bench.test", True), ("gone@bench.test", False)):
                s.add(Agent(email=email, name="B", role="agent", active=active,
                            password_hash=hash_password(PASSWORD)))
        app = create_app(settings, services=svc)
        limiter.enabled = False  # the per-minute form limit (429) is not what is measured here
        client = app.test_client()
        token = csrf(client)

        def post(address: str, email: str, password: str) -> float:
            client.environ_base["REMOTE_ADDR"] = address
            start = time.perf_counter()
            response = client.post("/login", data={"email": email, "password": password,
                                                   "csrf_token": token})
            elapsed = time.perf_counter() - start
            assert response.status_code == 401, response.status_code
            return elapsed

        for _ in range(8):  # block the pair (live@bench.test, 10.0.0.9)
            post("10.0.0.9", "live@bench.test", "wrong")
        cases = {
            "unknown account": ("10.0.0.1", "nobody@bench.test", PASSWORD),
            "deactivated account": ("10.0.0.2", "gone@bench.test", PASSWORD),
            "wrong password": ("10.0.0.3", "live@bench.test", "wrong"),
            "throttled pair": ("10.0.0.9", "live@bench.test", PASSWORD),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        baseline: list[float] = []
        stored = hash_password(PASSWORD)
        for i in range(args.count):
            start = time.perf_counter()
            check_password_hash(stored, "wrong")
            baseline.append(time.perf_counter() - start)
            for name, (address, email, password) in cases.items():
                # a fresh address per round for the wrong password, so it never becomes throttled
                where = f"10.1.{i // 250}.{i % 250}" if name == "wrong password" else address
                times[name].append(post(where, email, password))
        svc.db.dispose()

    def row(name: str, values: list[float]) -> str:
        p50 = statistics.median(values) * 1000
        p90 = statistics.quantiles(values, n=10)[-1] * 1000
        return f"| {name} | {p50:.1f} | {p90:.1f} | {p50 / (statistics.median(baseline) * 1000):.2f} |"

    print(f"login POSTs per case: {args.count}")
    print("| case | p50 ms | p90 ms | p50 / bare scrypt |")
    print("|---|---|---|---|")
    print(row("bare scrypt check (baseline)", baseline))
    for name, values in times.items():
        print(row(name, values))


if __name__ == "__main__":
    main()
