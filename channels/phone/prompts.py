"""What the phone menu says, in Serbian (Latin script, read well by the Serbian voice) and English.

Spoken prompts follow the caller's menu choice, not the web request's locale, so they live here
rather than in the Flask-Babel catalogues used by the pages.
"""

from __future__ import annotations

from dataclasses import dataclass

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
            "Za razgovor sa operaterom, pritisnite 3."
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
        "anonymous": (
            "Vaš broj je skriven, pa ne možemo da otvorimo zahtev. "
            "Pozovite ponovo sa prikazanim brojem ili nam pišite."
        ),
    },
    "en": {
        "menu": (
            "For the status of an existing request, press 1. To leave a message, press 2. "
            "To speak to an agent, press 3."
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
