"""Serbian text handling: the same spelling must mean the same thing everywhere."""

from __future__ import annotations

import pytest

from triage.text import (
    detect_language,
    detect_script,
    fold,
    mask,
    normalize,
    to_cyrillic,
    to_latin,
    tokenize,
)


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        ("Љубав", "Ljubav"),
        ("ЉУБАВ", "LJUBAV"),
        ("Њива", "Njiva"),
        ("ЊИВА", "NJIVA"),
        ("Џеп", "Džep"),
        ("ЏЕП", "DŽEP"),
        ("Ђорђе", "Đorđe"),
        ("ћирилица", "ćirilica"),
        ("Шабац, Чачак, Жабаљ", "Šabac, Čačak, Žabalj"),
        ("Заборавио сам лозинку за еУправу.", "Zaboravio sam lozinku za eUpravu."),
        ("ПОДНЕО САМ ЗАХТЕВ ЗА ЛИЧНУ КАРТУ", "PODNEO SAM ZAHTEV ZA LIČNU KARTU"),
        ("Љ", "Lj"),
        ("ЉЉ", "LJLJ"),
        ("мешано: e-mail адреса 123", "mešano: e-mail adresa 123"),
    ],
)
def test_to_latin(cyrillic: str, latin: str) -> None:
    assert to_latin(cyrillic) == latin


def test_to_latin_passes_latin_and_other_text_through() -> None:
    text = "Already Latin: čćšžđ, English, 42, emoji 🙂"
    assert to_latin(text) == text


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [
        ("ljubav", "љубав"),
        ("LJUBAV", "ЉУБАВ"),
        ("Ljubav", "Љубав"),
        ("njiva Njegoš", "њива Његош"),
        ("džep Džakarta DŽEP", "џеп Џакарта ЏЕП"),
        ("Đorđe ćirilica", "Ђорђе ћирилица"),
        ("Zaboravili ste lozinku?", "Заборавили сте лозинку?"),
        # lj/nj/dž across a prefix boundary are two letters
        ("injekcija", "инјекција"),
        ("nadživeti", "надживети"),
        ("konjugacija", "конјугација"),
    ],
)
def test_to_cyrillic(latin: str, cyrillic: str) -> None:
    assert to_cyrillic(latin) == cyrillic


def test_to_cyrillic_leaves_placeholders_urls_and_markup_alone() -> None:
    src = (
        "Zdravo %(name)s, imate {count} poruka i %s zahteva. "
        'Vidi <a href="https://euprava.gov.rs/nalog">nalog</a> &amp; www.mup.gov.rs '
        "ili pišite na podrska@euprava.gov.rs. {{ ticket.reference }}"
    )
    out = to_cyrillic(src)
    assert out == (
        "Здраво %(name)s, имате {count} порука и %s захтева. "
        'Види <a href="https://euprava.gov.rs/nalog">налог</a> &amp; www.mup.gov.rs '
        "или пишите на podrska@euprava.gov.rs. {{ ticket.reference }}"
    )


def test_to_cyrillic_keeps_foreign_words() -> None:
    assert to_cyrillic("Windows i Excel") == "Windows и Excel"


def test_round_trip_latin_cyrillic_latin() -> None:
    text = "Ljubazni službenik je poslao džepni priručnik o njivama i Đerdapu."
    assert to_latin(to_cyrillic(text)) == text


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("čćšžđ", "ccszdj"),
        ("ČĆŠŽĐ", "CCSZDj"),
        ("Đorđe", "Djordje"),
        ("café naïve", "cafe naive"),
        ("plain ascii", "plain ascii"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_fold_handles_decomposed_diacritics() -> None:
    # "c" + combining caron, as some phones send it
    assert fold("c\u030cas") == "cas"


def test_dj_and_dj_with_stroke_are_equivalent() -> None:
    assert normalize("Đurđevdan") == normalize("Djurdjevdan") == normalize("Ђурђевдан")


def test_normalize_makes_all_spellings_equal() -> None:
    spellings = [
        "Хитно: изгубио сам личну карту и пасош",
        "Hitno: izgubio sam ličnu kartu i pasoš",
        "hitno: izgubio sam licnu kartu i pasos",
        "HITNO: IZGUBIO SAM LIČNU KARTU I PASOŠ",
    ]
    assert len({normalize(s) for s in spellings}) == 1
    assert normalize(spellings[0]) == "hitno: izgubio sam licnu kartu i pasos"


def test_tokenize() -> None:
    assert tokenize("Zaboravio sam lozinku za eUpravu!!! Хитно, ЉУБАВ, ne_znam 2x") == [
        "zaboravio", "sam", "lozinku", "za", "eupravu", "hitno", "ljubav", "ne", "znam", "2x",
    ]  # fmt: skip
    assert tokenize("") == []
    assert tokenize("?!...") == []


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("Заборавио сам лозинку", "cyrl"),
        ("Zaboravio sam lozinku", "latn"),
        ("I forgot my password", "latn"),
        ("Portal www.euprava.gov.rs не ради", "cyrl"),
        ("12345 !!!", "none"),
        ("", "none"),
    ],
)
def test_detect_script(text: str, script: str) -> None:
    assert detect_script(text) == script


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Заборавио сам лозинку за налог", "sr"),
        ("Zaboravio sam lozinku za nalog", "sr"),
        ("zaboravio sam lozinku, sta da radim", "sr"),
        ("Kako da platim taksu za pasoš?", "sr"),
        ("I forgot the password for my account", "en"),
        ("How do I pay the fee for a passport?", "en"),
        ("Я забыл пароль от аккаунта", "other"),
        ("Ich habe mein Passwort vergessen", "other"),
        ("12345", "other"),
        # no function words and no diacritics: the shape of the words decides
        ("izgubio pasos", "sr"),
        ("lozinka ne radi", "sr"),
        ("password reset", "en"),
        ("Bonjour", "other"),
    ],
)
def test_detect_language(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_mask_removes_personal_data() -> None:
    text = (
        "Moj JMBG je 0101990710123, telefon +381 64 123 4567 ili 064/123-4567, "
        "mejl pera.peric@example.com, link https://euprava.gov.rs/zahtev?id=77, "
        "iznos 1.500,00 din do 12.03.2026."
    )
    masked = mask(text)
    assert masked == (
        "Moj JMBG je <jmbg>, telefon <phone> ili <phone>, mejl <email>, link <url>, iznos <num> din do <num>."
    )
    for secret in ("0101990710123", "4567", "pera", "example.com", "zahtev?id"):
        assert secret not in masked


def test_mask_keeps_words_with_digits_and_plain_text() -> None:
    assert mask("Windows 10 i eID2 kartica") == "Windows <num> i eID2 kartica"
    assert mask("bez brojeva") == "bez brojeva"


def test_detect_language_and_script_agree_with_the_labelled_seed_data() -> None:
    import csv

    from triage.datasets import SEED_PATH

    lines = [line for line in SEED_PATH.read_text(encoding="utf-8").splitlines() if line[:1] != "#"]
    rows = list(csv.DictReader(lines))
    assert len(rows) > 500
    wrong = [r["text"] for r in rows if detect_language(r["text"]) != r["language"]]
    assert wrong == []
    assert all(detect_script(r["text"]) == r["script"] for r in rows)


def _to_latin_by_character(text: str) -> str:
    """to_latin as it was before its shortcut: every character looked up."""
    import unicodedata

    from triage.text import _CYR_TO_LAT, _DIGRAPH_CYR, _is_upper_letter

    text = unicodedata.normalize("NFC", text)
    out = []
    for i, ch in enumerate(text):
        low = ch.lower()
        latin = _CYR_TO_LAT.get(low)
        if latin is None:
            out.append(ch)
        elif ch == low:
            out.append(latin)
        elif low in _DIGRAPH_CYR:
            nxt = text[i + 1] if i + 1 < len(text) else ""
            prev = text[i - 1] if i > 0 else ""
            caps = _is_upper_letter(nxt) or (_is_upper_letter(prev) and not (nxt.isalpha() and nxt.islower()))
            out.append(latin.upper() if caps else latin[:1].upper() + latin[1:])
        else:
            out.append(latin.upper())
    return "".join(out)


def _fold_by_character(text: str) -> str:
    """fold as it was before its table."""
    import unicodedata

    from triage.text import _FOLD

    text = "".join(_FOLD.get(ch, ch) for ch in unicodedata.normalize("NFC", text))
    stripped = "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def test_text_without_cyrillic_or_diacritics_is_returned_as_it_is_and_the_rest_as_before() -> None:
    import random
    import sys

    from triage.text import _CYR_TO_LAT, _CYRILLIC, _FOLD

    # Every character to_latin changes is in the block it looks for first.
    changed = [c for c in map(chr, range(sys.maxunicode + 1)) if c.lower() in _CYR_TO_LAT]
    assert changed and all(_CYRILLIC.match(c) for c in changed)
    plain = "Poštovani, želim da pitam za porez na imovinu 2026."
    assert to_latin(plain) is plain  # nothing to transliterate: no copy made, character by character
    assert fold("porez na imovinu") == "porez na imovinu"
    letters = "".join(_CYR_TO_LAT) + "".join(_CYR_TO_LAT).upper() + "".join(_FOLD) + "abcé ü.,\n\tŁ🙂"
    rng = random.Random(14)
    for _ in range(3000):
        text = "".join(rng.choice(letters) for _ in range(rng.randint(0, 12)))
        assert to_latin(text) == _to_latin_by_character(text), text
        assert fold(text) == _fold_by_character(text), text
