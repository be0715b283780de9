"""What the phone menu says, in Serbian (Latin script, read well by the Serbian voice) and English.

Spoken prompts follow the caller's menu choice, not the web request's locale, so they live here
rather than in the Flask-Babel catalogues used by the pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

LANGUAGES = ("sr", "en")


@dataclass(frozen=True)
class Voice:
    language: str  # BCP-47 tag Twilio's <Say> understands
    voice: str


VOICES = {
    "sr": Voice(language="sr-RS", voice="Google.sr-RS-Standard-A"),
    "en": Voice(language="en-GB", voice="Google.en-GB-Standard-A"),
}

GREETING = {
    "sr": "Dobro došli u Centar za podršku eUprave. Za srpski, pritisnite 1.",
    "en": "Welcome to the e-Government Support Center. For English, press 2.",
}

TEXTS: dict[str, dict[str, str]] = {
    "sr": {
        "menu": (
            "Za status postojećeg zahteva, pritisnite 1. Da ostavite poruku, pritisnite 2. "
            "Za razgovor sa operaterom, pritisnite 3. Da vas pozovemo kasnije, pritisnite 4."
        ),
        "not_understood": "Nismo razumeli izbor.",
        "goodbye": "Hvala na pozivu. Doviđenja.",
        "ask_number": "Ukucajte broj zahteva, pa pritisnite taraba.",
        "no_ticket": "Zahtev sa tim brojem nije pronađen.",
        "status": "Zahtev broj {number} je {status}.",
        "voicemail": (
            "Posle zvučnog signala recite svoje ime i kako vam možemo pomoći. "
            "Kada završite, pritisnite taraba ili spustite slušalicu."
        ),
        "no_recording": "Nismo snimili poruku.",
        "recorded": "Hvala. Vaša poruka je primljena pod brojem {number}.",
        "recorded_later": "Hvala. Vaša poruka je primljena i javićemo vam se.",
        "connecting": "Povezujemo vas sa operaterom. Razgovor se snima radi kvaliteta usluge.",
        "closed": (
            "Operateri su trenutno van radnog vremena, radnim danima od {hours}. Možete nam ostaviti poruku."
        ),
        "agent_busy": "Nijedan operater trenutno nije slobodan. Možete nam ostaviti poruku.",
        "callback_intro": "Povezujemo vas sa građaninom, zahtev broj {number}.",
        "callback_no_number": "Za ovaj zahtev nemamo broj telefona.",
        "callback_no_answer": "Građanin se nije javio. Beleška je dodata na zahtev.",
        "callback_offer": "Da vas pozovemo {when}, pritisnite {digit}.",
        "callback_none": "Narednih dana nemamo slobodnih termina za poziv. Možete nam ostaviti poruku.",
        "callback_stale": "Taj termin više nije slobodan.",
        "callback_booked": (
            "Hvala. Pozvaćemo vas {when}, na broj sa kog zovete. Broj vašeg zahteva je {number}."
        ),
        "callback_booked_later": "Hvala. Pozvaćemo vas {when}, na broj sa kog zovete.",
        "anonymous": (
            "Vaš broj je skriven, pa ne možemo da otvorimo zahtev. "
            "Pozovite ponovo sa prikazanim brojem ili nam pišite."
        ),
    },
    "en": {
        "menu": (
            "For the status of an existing request, press 1. To leave a message, press 2. "
            "To speak to an agent, press 3. To have us call you back later, press 4."
        ),
        "not_understood": "Sorry, that was not a valid choice.",
        "goodbye": "Thank you for calling. Goodbye.",
        "ask_number": "Please type your request number, then press the hash key.",
        "no_ticket": "We could not find a request with that number.",
        "status": "Request number {number} is {status}.",
        "voicemail": (
            "After the tone, please say your name and how we can help. "
            "When you are done, press the hash key or hang up."
        ),
        "no_recording": "We did not record a message.",
        "recorded": "Thank you. Your message has been received as request number {number}.",
        "recorded_later": "Thank you. Your message has been received and we will get back to you.",
        "connecting": "Connecting you to an agent. This call is recorded to improve our service.",
        "closed": (
            "Our agents are outside working hours, on working days from {hours}. You can leave us a message."
        ),
        "agent_busy": "No agent is free right now. You can leave us a message.",
        "callback_intro": "Connecting you to the citizen, request number {number}.",
        "callback_no_number": "There is no phone number for this request.",
        "callback_no_answer": "The citizen did not answer. A note was added to the request.",
        "callback_offer": "To be called {when}, press {digit}.",
        "callback_none": "We have no free times for a call in the next days. You can leave us a message.",
        "callback_stale": "That time is no longer available.",
        "callback_booked": (
            "Thank you. We will call you {when}, on the number you are calling from. "
            "Your request number is {number}."
        ),
        "callback_booked_later": "Thank you. We will call you {when}, on the number you are calling from.",
        "anonymous": (
            "Your number is hidden, so we cannot open a request for you. "
            "Please call again showing your number, or write to us."
        ),
    },
}

STATUS_WORDS = {
    "sr": {
        "new": "primljen i čeka obradu",
        "open": "u obradi",
        "pending": "na čekanju, očekujemo vaš odgovor",
        "resolved": "rešen",
        "closed": "zatvoren",
    },
    "en": {
        "new": "received and waiting to be handled",
        "open": "being handled",
        "pending": "on hold, waiting for your answer",
        "resolved": "resolved",
        "closed": "closed",
    },
}


def text(lang: str, key: str, **values: str) -> str:
    return TEXTS[lang if lang in TEXTS else "sr"][key].format(**values)


def spoken_digits(number: str) -> str:
    """'000123' -> '1 2 3': read digit by digit, leading zeros dropped, as the caller types it."""
    digits = number.lstrip("0") or "0"
    return " ".join(digits)


# How a callback window is said: "sutra od 9 do 11", "on Monday 7 December from 14:00 to 16:00".
_SR_DAYS = ("u ponedeljak", "u utorak", "u sredu", "u četvrtak", "u petak", "u subotu", "u nedelju")
_SR_MONTHS = ("januara", "februara", "marta", "aprila", "maja", "juna", "jula", "avgusta",
              "septembra", "oktobra", "novembra", "decembra")
_EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")


def spoken_window(lang: str, start: datetime, end: datetime, today: date) -> str:
    """``start`` and ``end`` in the center's local time; ``today`` the local date now."""
    offset = (start.date() - today).days
    if lang == "en":
        day = {0: "today", 1: "tomorrow"}.get(
            offset, f"on {_EN_DAYS[start.weekday()]} {start.day} {_EN_MONTHS[start.month - 1]}"
        )
        return f"{day} from {start:%H:%M} to {end:%H:%M}"

    def clock(t: datetime) -> str:
        return str(t.hour) if t.minute == 0 else f"{t.hour} i {t.minute}"

    day = {0: "danas", 1: "sutra"}.get(
        offset, f"{_SR_DAYS[start.weekday()]} {start.day}. {_SR_MONTHS[start.month - 1]}"
    )
    return f"{day} od {clock(start)} do {clock(end)}"
