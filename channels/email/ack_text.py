"""The acknowledgement of a new ticket, in the citizen's language and script."""

from __future__ import annotations

_TEXTS = {
    ("sr", "latn"): (
        "Primili smo vašu poruku",
        "Poštovani,\n\nprimili smo vašu poruku i otvorili zahtev {ref}. Odgovorićemo vam što pre.\n"
        "Kada nam pišete o ovom zahtevu, samo odgovorite na ovu poruku i zadržite oznaku {ref} "
        "u naslovu.\n\nOvo je automatska poruka.\n\nKorisnička podrška",
    ),
    ("sr", "cyrl"): (
        "Примили смо вашу поруку",
        "Поштовани,\n\nпримили смо вашу поруку и отворили захтев {ref}. Одговорићемо вам што пре.\n"
        "Када нам пишете о овом захтеву, само одговорите на ову поруку и задржите ознаку {ref} "
        "у наслову.\n\nОво је аутоматска порука.\n\nКорисничка подршка",
    ),
    ("en", "latn"): (
        "We received your message",
        "Hello,\n\nwe received your message and opened request {ref}. We will answer as soon as "
        "we can.\nTo write to us about this request, just reply to this message and keep {ref} "
        "in the subject.\n\nThis is an automatic message.\n\nCitizen support",
    ),
}
_SENDER_NAMES = {
    ("sr", "latn"): "Korisnička podrška",
    ("sr", "cyrl"): "Корисничка подршка",
    ("en", "latn"): "Citizen support",
}


def _key(language: str, script: str) -> tuple[str, str]:
    lang = (language or "sr").lower().split("-")[0].split("_")[0]
    if lang != "en":
        # Serbian, and the neighbouring languages our Serbian text serves best.
        return ("sr", "cyrl" if (script or "").lower().startswith("cyr") else "latn")
    return ("en", "latn")


def ack_subject_and_text(reference: str, language: str, script: str) -> tuple[str, str]:
    title, body = _TEXTS[_key(language, script)]
    return title, body.format(ref=reference)


def sender_name(language: str, script: str) -> str:
    return _SENDER_NAMES[_key(language, script)]


_SURVEY = {
    ("sr", "latn"): (
        "Kako smo vam pomogli?",
        "Poštovani,\n\nvaš zahtev {ref} je rešen. Molimo vas da ocenite našu pomoć od 1 do 5 "
        "(jedno pitanje, manje od minuta):\n\n{link}\n\nHvala vam.\n\nKorisnička podrška",
    ),
    ("sr", "cyrl"): (
        "Како смо вам помогли?",
        "Поштовани,\n\nваш захтев {ref} је решен. Молимо вас да оцените нашу помоћ од 1 до 5 "
        "(једно питање, мање од минута):\n\n{link}\n\nХвала вам.\n\nКорисничка подршка",
    ),
    ("en", "latn"): (
        "How did we do?",
        "Hello,\n\nyour request {ref} is resolved. Please rate our help from 1 to 5 "
        "(one question, less than a minute):\n\n{link}\n\nThank you.\n\nCitizen support",
    ),
}
_TRANSCRIPT = {
    ("sr", "latn"): (
        "Prepiska vašeg razgovora",
        "Prepiska razgovora {ref}:\n\n{lines}\n\nKorisnička podrška",
    ),
    ("sr", "cyrl"): ("Препис вашег разговора", "Препис разговора {ref}:\n\n{lines}\n\nКорисничка подршка"),
    ("en", "latn"): (
        "Your chat transcript",
        "Transcript of conversation {ref}:\n\n{lines}\n\nCitizen support",
    ),
}


def survey_subject_and_text(reference: str, link: str, language: str, script: str) -> tuple[str, str]:
    title, body = _SURVEY[_key(language, script)]
    return title, body.format(ref=reference, link=link)


def transcript_subject_and_text(
    reference: str, lines: list[str], language: str, script: str
) -> tuple[str, str]:
    title, body = _TRANSCRIPT[_key(language, script)]
    return title, body.format(ref=reference, lines="\n\n".join(lines))
