"""The phone simulator page (HELPDESK_DEMO=1, agents only): try the phone channel without Twilio.

The page plays Twilio: it sends properly signed webhooks to this app (in-process, through the
full request path including signature validation) and shows what the caller would hear.
"""

from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _

from channels.phone.channel import PhoneChannel, current_phone
from channels.phone.numbers import to_e164
from channels.phone.signature import sign
from channels.phone.simulator import Call, Poster, Simulator, parse
from channels.phone.twiml import PREFIX

DEMO_CALLER = "+381641234567"


def make_poster(phone: PhoneChannel) -> Poster:
    """post(url, params) through the app's own request path, signed like Twilio would."""
    token = phone.webhook_token
    base = phone.settings.public_url.rstrip("/")

    def post(url: str, params: dict[str, str]) -> tuple[int, str]:
        if not url.startswith(base + PREFIX + "/"):
            return 400, "not a phone-channel URL"
        client = current_app.test_client()
        response = client.post(
            url[len(base) :], data=params, headers={"X-Twilio-Signature": sign(token, url, params)}
        )
        return response.status_code, response.get_data(as_text=True)

    return post


def simulator_for(phone: PhoneChannel) -> Simulator:
    to = phone.settings.twilio_from_number or "+381110000000"
    return Simulator(make_poster(phone), phone.urls("/voice"), phone.urls("/sms"), to)


def simulator_view() -> str:
    phone = current_phone()
    if not phone.settings.demo:
        abort(404)
    sim = simulator_for(phone)
    form = request.form
    caller = to_e164(form.get("caller", DEMO_CALLER)) or DEMO_CALLER
    call: Call | None = None
    sms_reply: str | None = None
    error: str | None = None
    op = form.get("op", "") if request.method == "POST" else ""
    if op == "call":
        call = sim.call(caller)
    elif op in {"press", "silence", "record", "answer", "no_answer"}:
        call = Call(form.get("call_sid", ""), caller, sim.to_number, twiml=form.get("twiml", ""))
        try:
            call.pending = parse(call.twiml)[1]
        except Exception:  # noqa: BLE001 - a tampered form: start again
            abort(400)
        verb = call.pending.verb
        if op == "press" and verb == "gather":
            digits = "".join(ch for ch in form.get("digits", "") if ch.isdigit() or ch in "*#")
            sim.press(call, digits[:12])
        elif op == "silence":
            sim.silence(call)
        elif op == "record" and verb == "record":
            sim.record(call, form.get("transcript", "").strip()[:2000] or None)
        elif op in {"answer", "no_answer"} and verb == "dial":
            sim.dial_outcome(call, answered=op == "answer")
        else:
            error = _("The call is not waiting for that.")
    elif op == "sms":
        body = form.get("body", "").strip()[:1600]
        if body:
            status, text, _sid = sim.sms(caller, body)
            sms_reply = text if status == 200 else f"HTTP {status}: {text}"
        else:
            error = _("Type a message first.")
    if call is not None:
        phone.worker.drain()  # so the ticket is there when the page shows the link
    return render_template("phone/simulator.html", call=call, caller=caller, sms_reply=sms_reply, error=error)
