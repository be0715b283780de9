"""TwiML for every step of the voice menu, built with twilio's VoiceResponse.

Pure functions of (language, URLs, facts): no database, no Flask request, so each step is tested
and benchmarked alone. All callback URLs are absolute on the public URL, so the signature Twilio
computes for the next request is over the same URL the validator rebuilds.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from channels.phone import prompts
from channels.phone.numbers import to_e164
from channels.phone.prompts import GREETING, VOICES

PREFIX = "/channels/twilio"
# Twilio transcribes recordings of 2 to 120 seconds, in English only: a Serbian message run through
# the English engine comes back as confident nonsense, worse for an agent than no transcript.
MAX_VOICEMAIL_SECONDS = 120
TRANSCRIBE_LANGUAGES = ("en",)
MENU_ATTEMPTS = 3


@dataclass(frozen=True)
class Urls:
    public_url: str

    def __call__(self, path: str, **query: str | int) -> str:
        url = f"{self.public_url.rstrip('/')}{PREFIX}{path}"
        return f"{url}?{urlencode(query)}" if query else url


def _say(node: VoiceResponse | Gather, lang: str, message: str) -> None:
    voice = VOICES[lang]
    node.say(message, voice=voice.voice, language=voice.language)


def greeting(urls: Urls, attempt: int = 1) -> str:
    """Both languages, one key press: 1 Serbian, 2 English. Silence repeats, then Serbian."""
    resp = VoiceResponse()
    gather = resp.gather(num_digits=1, action=urls("/voice/language"), method="POST", timeout=6)
    for lang in prompts.LANGUAGES:
        _say(gather, lang, GREETING[lang])
    if attempt < MENU_ATTEMPTS:
        resp.redirect(urls("/voice", attempt=attempt + 1), method="POST")
    else:  # the most common language rather than hanging up on someone who cannot press keys
        resp.redirect(urls("/voice/menu", lang="sr"), method="POST")
    return str(resp)


def main_menu(urls: Urls, lang: str, attempt: int = 1, notice: str | None = None) -> str:
    resp = VoiceResponse()
    if notice:
        _say(resp, lang, notice)
    gather = resp.gather(num_digits=1, action=urls("/voice/choice", lang=lang), method="POST", timeout=6)
    _say(gather, lang, prompts.text(lang, "menu"))
    if attempt < MENU_ATTEMPTS:
        resp.redirect(urls("/voice/menu", lang=lang, attempt=attempt + 1), method="POST")
    else:
        _say(resp, lang, prompts.text(lang, "goodbye"))
        resp.hangup()
    return str(resp)


def ask_ticket_number(urls: Urls, lang: str) -> str:
    resp = VoiceResponse()
    gather = resp.gather(
        action=urls("/voice/ticket-status", lang=lang),
        method="POST",
        finish_on_key="#",
        timeout=10,
        num_digits=12,
    )
    _say(gather, lang, prompts.text(lang, "ask_number"))
    resp.redirect(urls("/voice/menu", lang=lang), method="POST")
    return str(resp)


def ticket_status(urls: Urls, lang: str, number: str, status: str | None) -> str:
    """Say the status (never the subject: whoever dials may not be the citizen), then the menu."""
    if status is None:
        notice = prompts.text(lang, "no_ticket")
    else:
        word = prompts.STATUS_WORDS[lang].get(status, status)
        notice = prompts.text(lang, "status", number=prompts.spoken_digits(number), status=word)
    return main_menu(urls, lang, notice=notice)


def voicemail(urls: Urls, lang: str, notice: str | None = None) -> str:
    resp = VoiceResponse()
    if notice:
        _say(resp, lang, notice)
    _say(resp, lang, prompts.text(lang, "voicemail"))
    resp.record(
        action=urls("/voice/voicemail", lang=lang),
        method="POST",
        max_length=MAX_VOICEMAIL_SECONDS,
        finish_on_key="#",
        play_beep=True,
        timeout=8,
        **(
            {"transcribe": True, "transcribe_callback": urls("/voice/transcription", lang=lang)}
            if lang in TRANSCRIBE_LANGUAGES
            else {}
        ),
    )
    # <Record> falls through here only when nothing was said.
    _say(resp, lang, prompts.text(lang, "no_recording"))
    resp.redirect(urls("/voice/menu", lang=lang), method="POST")
    return str(resp)


def voicemail_received(lang: str, number: str | None) -> str:
    resp = VoiceResponse()
    if number:
        message = prompts.text(lang, "recorded", number=prompts.spoken_digits(number))
    else:
        message = prompts.text(lang, "recorded_later")
    _say(resp, lang, message)
    _say(resp, lang, prompts.text(lang, "goodbye"))
    resp.hangup()
    return str(resp)


def _dial_target(dial: Dial, target: str, **callbacks: str) -> None:
    """'client:alice' rings a Twilio Client (browser/app) identity; anything else is a number."""
    if target.startswith("client:"):
        dial.client(target.removeprefix("client:"), **callbacks)
    elif target.startswith("sip:"):
        dial.sip(target, **callbacks)
    else:  # '011 330 0901' in settings still dials +381113300901
        dial.number(to_e164(target) or target, **callbacks)


def connect_agent(urls: Urls, lang: str, agent: str, caller_id: str | None = None) -> str:
    resp = VoiceResponse()
    _say(resp, lang, prompts.text(lang, "connecting"))
    dial = resp.dial(
        action=urls("/voice/dial-done", lang=lang),
        method="POST",
        timeout=25,
        record="record-from-answer-dual",
        recording_status_callback=urls("/voice/call-recording", lang=lang),
        recording_status_callback_event="completed",
        caller_id=caller_id,
    )
    _dial_target(dial, agent)
    return str(resp)


def agent_unavailable(urls: Urls, lang: str, reason: str, hours: str = "") -> str:
    """Outside hours (reason 'closed') or nobody answered ('agent_busy'): offer voicemail."""
    return voicemail(urls, lang, notice=prompts.text(lang, reason, hours=hours))


def hang_up(lang: str | None = None, key: str | None = None) -> str:
    resp = VoiceResponse()
    if lang and key:
        _say(resp, lang, prompts.text(lang, key))
    resp.hangup()
    return str(resp)


def callback_bridge(
    urls: Urls,
    lang: str,
    reference_digits: str,
    citizen: str | None,
    caller_id: str | None,
    reference: str,
) -> str:
    """Click-to-call: the agent answered; now ring the citizen and record the conversation."""
    resp = VoiceResponse()
    if citizen is None:
        _say(resp, lang, prompts.text(lang, "callback_no_number"))
        resp.hangup()
        return str(resp)
    _say(
        resp,
        lang,
        prompts.text(lang, "callback_intro", number=prompts.spoken_digits(reference_digits)),
    )
    dial = resp.dial(
        action=urls("/voice/callback-done", lang=lang, ticket=reference),
        method="POST",
        timeout=30,
        caller_id=caller_id,
        record="record-from-answer-dual",
        recording_status_callback=urls("/voice/call-recording", lang=lang, ticket=reference),
        recording_status_callback_event="completed",
    )
    dial.number(citizen)
    return str(resp)


CALLBACK_CHOICES = 3  # windows offered by key press: 1, 2, 3


def callback_offer(urls: Urls, lang: str, offers: list[tuple[str, str]], notice: str | None = None) -> str:
    """"Press 1 for today 14-16, 2 for tomorrow 9-11 ...": (window key, spoken time) each.

    The keys ride in the action URL, so the choice names the window the caller heard even if the
    offer would be different a minute later (Twilio signs the URL with the request)."""
    resp = VoiceResponse()
    if notice:
        _say(resp, lang, notice)
    if not offers:
        return voicemail(urls, lang, notice=prompts.text(lang, "callback_none"))
    keys = ",".join(key for key, _ in offers)
    gather = resp.gather(
        num_digits=1, action=urls("/voice/callback", lang=lang, w=keys), method="POST", timeout=8
    )
    for digit, (_, when) in enumerate(offers, start=1):
        _say(gather, lang, prompts.text(lang, "callback_offer", when=when, digit=str(digit)))
    resp.redirect(urls("/voice/menu", lang=lang), method="POST")
    return str(resp)


def callback_booked(lang: str, when: str, number: str | None) -> str:
    resp = VoiceResponse()
    if number:
        message = prompts.text(lang, "callback_booked", when=when, number=prompts.spoken_digits(number))
    else:
        message = prompts.text(lang, "callback_booked_later", when=when)
    _say(resp, lang, message)
    _say(resp, lang, prompts.text(lang, "goodbye"))
    resp.hangup()
    return str(resp)
