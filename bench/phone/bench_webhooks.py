"""Twilio webhook latency: the phone channel's signed webhooks vs a bare Flask route.

Both apps run in this process behind werkzeug's threaded HTTP server on free ports and are hit
with keep-alive HTTP POSTs of the recorded Twilio bodies (channels/phone/fixtures), so the figures
include HTTP parsing, signature validation, TwiML building and, for SMS and voicemail, storing the
ticket (SQLite in a temp dir; the recording is fetched from a local Twilio REST double).

    .venv/bin/python bench/phone/bench_webhooks.py [--n 300]
"""

from __future__ import annotations

import argparse
import logging
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl

import requests
from flask import Flask, Response, request
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "channels" / "phone")]

from phone_twilio_double import TwilioDouble  # noqa: E402

from channels.phone.signature import sign  # noqa: E402
from helpdesk import create_app  # noqa: E402
from helpdesk.migrate import upgrade  # noqa: E402
from helpdesk.settings import Settings  # noqa: E402

FIXTURES = ROOT / "channels" / "phone" / "fixtures"
PUBLIC = "https://podrska.example.rs"
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello</Say></Response>'


def fixture(name: str) -> dict[str, str]:
    return dict(parse_qsl((FIXTURES / name).read_text().strip(), keep_blank_values=True))


def serve(app: Flask) -> tuple[str, object]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def bare_app() -> Flask:
    app = Flask("bare")

    @app.post("/hook")
    def hook() -> Response:
        request.form.get("CallSid")  # parse the same form body
        return Response(TWIML, mimetype="text/xml")

    return app


def measure(session: requests.Session, url: str, bodies, headers_for) -> list[float]:
    times = []
    for params in bodies:
        headers = headers_for(params)
        start = time.perf_counter()
        response = session.post(url, data=params, headers=headers, timeout=30)
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code not in (200, 204):
            raise SystemExit(f"{url}: HTTP {response.status_code} {response.text[:200]}")
    return times


def row(name: str, times: list[float], baseline: float) -> str:
    times = sorted(times)
    p50 = statistics.median(times)
    p95 = times[int(len(times) * 0.95) - 1]
    p99 = times[int(len(times) * 0.99) - 1]
    return (
        f"| {name} | {len(times)} | {p50:.2f} | {p95:.2f} | {p99:.2f} | {max(times):.2f} "
        f"| {p50 / baseline:.1f}x |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    n = args.n
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log lines in the table

    double = TwilioDouble(account_sid="AC" + "3f" * 16, auth_token="8c" * 16).start()
    tmp = Path(tempfile.mkdtemp(prefix="bench-phone-"))
    settings = Settings.from_env(
        {
            "HELPDESK_DATA_DIR": str(tmp),
            "HELPDESK_SECRET_KEY": "bench",
            "HELPDESK_CHANNELS": "channels.phone",
            "HELPDESK_TRIAGE": "local",
            "HELPDESK_PUBLIC_URL": PUBLIC,
            "HELPDESK_TWILIO_ACCOUNT_SID": double.account_sid,
            "HELPDESK_TWILIO_AUTH_TOKEN": double.auth_token,
            "HELPDESK_TWILIO_FROM_NUMBER": "+381113300900",
            "HELPDESK_TWILIO_API_BASE": double.url,
            "HELPDESK_LOG_LEVEL": "WARNING",
        }
    )
    app = create_app(settings)
    upgrade(app.extensions["helpdesk"].db)
    phone = app.extensions["phone_channel"]
    token = phone.webhook_token

    bare_url, bare_server = serve(bare_app())
    app_url, app_server = serve(app)
    session = requests.Session()

    def signed(path: str):
        return lambda params: {"X-Twilio-Signature": sign(token, PUBLIC + path, params)}

    def fresh(name: str, **sids: str):
        out = []
        for i in range(n):
            params = fixture(name)
            for key, prefix in sids.items():
                params[key] = prefix + secrets.token_hex(16)
            if "RecordingSid" in params:  # the recording lives in the double's account
                params["RecordingUrl"] = (
                    f"https://api.twilio.com/2010-04-01/Accounts/{double.account_sid}"
                    f"/Recordings/{params['RecordingSid']}"
                )
            if "From" in params and name == "sms_incoming.form":
                params["From"] = f"+3816{40000000 + i}"  # a new citizen each time: new tickets
            out.append(params)
        return out

    voice = fixture("voice_incoming.form")
    cases = [
        ("bare Flask route (baseline)", bare_url + "/hook", [voice] * n, lambda p: {}),
        (
            "voice: greeting TwiML",
            app_url + "/channels/twilio/voice",
            [voice] * n,
            signed("/channels/twilio/voice"),
        ),
        (
            "voice: menu choice 1",
            app_url + "/channels/twilio/voice/choice?lang=sr",
            [fixture("voice_gather_language.form")] * n,
            signed("/channels/twilio/voice/choice?lang=sr"),
        ),
        (
            "sms: new ticket stored",
            app_url + "/channels/twilio/sms",
            fresh("sms_incoming.form", MessageSid="SM"),
            signed("/channels/twilio/sms"),
        ),
        (
            "voicemail: fetch + store",
            app_url + "/channels/twilio/voice/voicemail?lang=sr",
            fresh("voice_record_action.form", RecordingSid="RE"),
            signed("/channels/twilio/voice/voicemail?lang=sr"),
        ),
        (
            "403: unsigned request",
            app_url + "/channels/twilio/sms",
            [fixture("sms_incoming.form")] * n,
            lambda p: {},
        ),
    ]
    # warm up both servers and the connection pool
    measure(session, bare_url + "/hook", [voice] * 20, lambda p: {})
    measure(session, app_url + "/channels/twilio/voice", [voice] * 20, signed("/channels/twilio/voice"))

    results = []
    for name, url, bodies, headers in cases:
        if name.startswith("403"):
            times = []
            for params in bodies:
                start = time.perf_counter()
                status = session.post(url, data=params, timeout=30).status_code
                times.append((time.perf_counter() - start) * 1000)
                assert status == 403
        else:
            times = measure(session, url, bodies, headers)
        results.append((name, times))
    phone.worker.drain()
    fetched = sum(1 for r in double.requests if r.method == "GET")
    baseline = statistics.median(results[0][1])
    print(f"Twilio webhooks over HTTP, {n} requests each, keep-alive, one client thread (ms)\n")
    print("| case | n | p50 | p95 | p99 | max | p50 vs bare |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, times in results:
        print(row(name, times, baseline))
    print(f"\nrecordings fetched from the local Twilio REST double: {fetched}")
    app_server.shutdown()  # type: ignore[attr-defined]
    bare_server.shutdown()  # type: ignore[attr-defined]
    phone.worker.stop()
    double.stop()


if __name__ == "__main__":
    main()
