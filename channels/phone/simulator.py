"""A stand-in for Twilio: follows the TwiML the app returns and sends the next signed webhook.

Used by the console's phone simulator page (HELPDESK_DEMO=1) and by the tests, so that both walk
the menu exactly as Twilio would: <Say> is heard, <Gather> waits for keys and posts Digits to its
action, <Record> posts the recording to its action and the transcription to transcribeCallback,
<Dial> posts DialCallStatus to its action and the recording to recordingStatusCallback,
<Redirect> is followed when the caller stays silent, <Hangup> ends the call.
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET  # noqa: S405 - parses only TwiML our own app produced
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from channels.phone.media import SIMULATOR_RECORDINGS

# post(url, params) -> (status, body)
Poster = Callable[[str, dict[str, str]], tuple[int, str]]
ACCOUNT_SID = "AC" + "0" * 31 + "1"
MAX_REDIRECTS = 10


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


@dataclass
class Pending:
    """What the call is waiting for after the last TwiML document."""

    verb: str  # gather | record | dial | hangup | end
    attrs: dict[str, str] = field(default_factory=dict)
    redirect: str | None = None  # followed when the caller stays silent
    dial_target: str | None = None


@dataclass
class Call:
    call_sid: str
    caller: str
    called: str
    heard: list[str] = field(default_factory=list)
    pending: Pending = field(default_factory=lambda: Pending("end"))
    twiml: str = ""
    statuses: list[int] = field(default_factory=list)

    @property
    def ended(self) -> bool:
        return self.pending.verb in {"hangup", "end"}


def parse(twiml: str) -> tuple[list[str], Pending]:
    """What is said before the call waits, and what it waits for."""
    root = ET.fromstring(twiml)  # noqa: S314 - our own TwiML
    said: list[str] = []
    pending: Pending | None = None
    for node in root:
        if pending is not None:
            # The verbs after a wait run on silence / empty input; the Redirect is what matters.
            if node.tag == "Redirect" and pending.redirect is None:
                pending.redirect = (node.text or "").strip()
            continue
        if node.tag == "Say":
            said.append((node.text or "").strip())
        elif node.tag == "Gather":
            said.extend((say.text or "").strip() for say in node.iter("Say"))
            pending = Pending("gather", dict(node.attrib))
        elif node.tag == "Record":
            pending = Pending("record", dict(node.attrib))
        elif node.tag == "Dial":
            target = next(iter(node), None)
            label = None
            if target is not None:
                label = (target.text or "").strip()
                label = f"client:{label}" if target.tag == "Client" else label
            pending = Pending("dial", dict(node.attrib), dial_target=label)
        elif node.tag == "Redirect":
            return said, Pending("redirect", redirect=(node.text or "").strip())
        elif node.tag == "Hangup":
            return said, Pending("hangup")
    return said, pending or Pending("end")


class Simulator:
    def __init__(
        self,
        post: Poster,
        voice_url: str,
        sms_url: str,
        to_number: str,
        recordings_base: str | None = None,
    ) -> None:
        """recordings_base: Twilio's .../Accounts/AC.../Recordings/ (None: the simulator's own)."""
        self.post = post
        self.recordings_base = recordings_base
        self.voice_url = voice_url
        self.sms_url = sms_url
        self.to_number = to_number

    def _base(self, call: Call, status: str = "in-progress") -> dict[str, str]:
        return {
            "AccountSid": ACCOUNT_SID,
            "ApiVersion": "2010-04-01",
            "CallSid": call.call_sid,
            "CallStatus": status,
            "Called": call.called,
            "Caller": call.caller,
            "Direction": "inbound",
            "From": call.caller,
            "To": call.called,
            "FromCountry": "RS" if call.caller.startswith("+381") else "",
            "ToCountry": "RS" if call.called.startswith("+381") else "",
        }

    def _request(self, call: Call, url: str, params: dict[str, str], depth: int = 0) -> None:
        status, body = self.post(url, params)
        call.statuses.append(status)
        if status != 200 or not body.lstrip().startswith("<?xml"):
            call.pending = Pending("end")
            return
        call.twiml = body
        said, call.pending = parse(body)
        call.heard.extend(said)
        if call.pending.verb == "redirect" and call.pending.redirect and depth < MAX_REDIRECTS:
            self._request(call, call.pending.redirect, self._base(call), depth + 1)

    def call(self, caller: str, call_sid: str | None = None) -> Call:
        call = Call(call_sid or new_sid("CA"), caller, self.to_number)
        self._request(call, self.voice_url, self._base(call, "ringing"))
        return call

    def press(self, call: Call, digits: str) -> Call:
        assert call.pending.verb == "gather", f"not waiting for keys but {call.pending.verb}"
        params = self._base(call)
        params.update(Digits=digits, FinishedOnKey="#" if digits.endswith("#") else "")
        params["Digits"] = digits.rstrip("#")
        self._request(call, call.pending.attrs["action"], params)
        return call

    def silence(self, call: Call) -> Call:
        """The caller says / presses nothing: Twilio goes on with the verbs after the wait."""
        if call.pending.redirect:
            self._request(call, call.pending.redirect, self._base(call))
        else:
            call.pending = Pending("end")
        return call

    def record(self, call: Call, transcript: str | None, seconds: int = 12) -> tuple[str, str | None]:
        """Leave a voicemail; returns (RecordingSid, TranscriptionSid) as Twilio would send them."""
        assert call.pending.verb == "record", f"not recording but {call.pending.verb}"
        attrs = call.pending.attrs
        recording_sid = new_sid("RE")
        url = self.recording_url(recording_sid)
        params = self._base(call)
        params.update(
            RecordingSid=recording_sid, RecordingUrl=url, RecordingDuration=str(seconds), Digits="#"
        )
        self._request(call, attrs["action"], params)
        transcription_sid = None
        if attrs.get("transcribe") == "true" and "transcribeCallback" in attrs:
            transcription_sid = new_sid("TR")
            params = self._base(call, "completed")
            params.update(
                RecordingSid=recording_sid,
                RecordingUrl=url,
                TranscriptionSid=transcription_sid,
                TranscriptionStatus="completed" if transcript else "failed",
                TranscriptionText=transcript or "",
                TranscriptionType="fast",
                TranscriptionUrl=f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}"
                f"/Recordings/{recording_sid}/Transcriptions/{transcription_sid}",
                url=url,
            )
            call.statuses.append(self.post(attrs["transcribeCallback"], params)[0])
        return recording_sid, transcription_sid

    def recording_url(self, recording_sid: str) -> str:
        if self.recordings_base:
            return self.recordings_base + recording_sid
        base = self.voice_url.split("/channels/twilio/")[0]
        return f"{base}{SIMULATOR_RECORDINGS}{recording_sid}"

    def dial_outcome(self, call: Call, answered: bool, seconds: int = 95) -> str | None:
        """The dialled agent answers (and talks `seconds`) or not; returns the RecordingSid."""
        assert call.pending.verb == "dial", f"not dialling but {call.pending.verb}"
        attrs = call.pending.attrs
        recording_sid = None
        if answered and "recordingStatusCallback" in attrs:
            recording_sid = new_sid("RE")
            url = self.recording_url(recording_sid)
            params = {
                "AccountSid": ACCOUNT_SID,
                "CallSid": call.call_sid,
                "RecordingSid": recording_sid,
                "RecordingUrl": url,
                "RecordingStatus": "completed",
                "RecordingDuration": str(seconds),
                "RecordingChannels": "2",
                "RecordingSource": "DialVerb",
                "RecordingStartTime": datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000"),
            }
            call.statuses.append(self.post(attrs["recordingStatusCallback"], params)[0])
        if "action" in attrs:
            params = self._base(call)
            params.update(
                DialCallSid=new_sid("CA"),
                DialCallStatus="completed" if answered else "no-answer",
                DialCallDuration=str(seconds if answered else 0),
            )
            self._request(call, attrs["action"], params)
        else:
            call.pending = Pending("end")
        return recording_sid

    def sms(self, sender: str, body: str, message_sid: str | None = None) -> tuple[int, str, str]:
        """Send an inbound SMS; returns (HTTP status, response body, MessageSid)."""
        sid = message_sid or new_sid("SM")
        params = {
            "ToCountry": "RS",
            "ToState": "",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ToCity": "",
            "FromZip": "",
            "SmsSid": sid,
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": body,
            "FromCountry": "RS" if sender.startswith("+381") else "",
            "To": self.to_number,
            "ToZip": "",
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": sender,
            "ApiVersion": "2010-04-01",
        }
        status, text = self.post(self.sms_url, params)
        return status, text, sid
