"""The one owner of Serbian text: transliteration, folding, tokenization, masking.

Triage, the knowledge-base analyzer and ticket search all call these functions, so a
citizen's spelling (Cyrillic, Latin, Latin without diacritics) means the same everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

__all__ = [
    "to_latin",
    "to_cyrillic",
    "fold",
    "normalize",
    "tokenize",
    "detect_script",
    "detect_language",
    "mask",
]

Script = Literal["cyrl", "latn", "none"]
Language = Literal["sr", "en", "other"]

# Serbian Cyrillic -> Latin (Gaj's alphabet); three letters become digraphs.
_CYR_TO_LAT: dict[str, str] = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ђ": "đ", "е": "e", "ж": "ž",
    "з": "z", "и": "i", "ј": "j", "к": "k", "л": "l", "љ": "lj", "м": "m", "н": "n",
    "њ": "nj", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "ћ": "ć", "у": "u",
    "ф": "f", "х": "h", "ц": "c", "ч": "č", "џ": "dž", "ш": "š",
    # Macedonian / Russian letters citizens sometimes type: a best-effort reading.
    "ѓ": "gj", "ќ": "kj", "ѕ": "dz", "й": "j", "ы": "y", "э": "e", "ю": "ju", "я": "ja",
    "ё": "jo", "щ": "šč", "ъ": "", "ь": "", "є": "je", "і": "i", "ї": "ji",
}  # fmt: skip
_DIGRAPH_CYR = {"љ", "њ", "џ", "ѓ", "ќ", "ѕ", "ю", "я", "ё", "щ", "є", "ї"}

# Latin -> Cyrillic. Digraphs are matched first (longest match).
_LAT_TO_CYR_DIGRAPHS: dict[str, str] = {"lj": "љ", "nj": "њ", "dž": "џ"}
_LAT_TO_CYR: dict[str, str] = {
    "a": "а", "b": "б", "v": "в", "g": "г", "d": "д", "đ": "ђ", "e": "е", "ž": "ж",
    "z": "з", "i": "и", "j": "ј", "k": "к", "l": "л", "m": "м", "n": "н", "o": "о",
    "p": "п", "r": "р", "s": "с", "t": "т", "ć": "ћ", "u": "у", "f": "ф", "h": "х",
    "c": "ц", "č": "ч", "š": "ш",
}  # fmt: skip
# Words where the Latin pair is two letters, not a digraph (prefix + root, loanwords).
_NOT_DIGRAPH: tuple[str, ...] = (
    "injekc", "konjug", "konjunk", "vanjezi", "injunk",
    "nadživ", "nadžnj", "nadžir", "podžup", "odživ",
)  # fmt: skip

# Segments to_cyrillic must leave alone: URLs, emails, HTML tags and entities,
# printf/format placeholders and Jinja/format braces.
_PROTECTED = re.compile(
    r"""
    (?:https?|ftp)://\S+              # URL with a scheme
    | www\.\S+                        # bare www. URL
    | [\w.+-]+@[\w-]+(?:\.[\w-]+)+    # email address
    | <[^<>]*>                        # HTML tag
    | &(?:\#\d+|\#x[0-9a-fA-F]+|\w+);  # HTML entity
    | %\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]  # %(name)s
    | %[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]          # %s, %d, %%
    | \{\{.*?\}\}|\{%.*?%\}           # Jinja expressions
    | \{[^{}\s]*\}                    # str.format fields: {x}, {0}, {name!r}
    """,
    re.VERBOSE,
)

_FOLD: dict[str, str] = {
    "č": "c", "ć": "c", "š": "s", "ž": "z", "đ": "dj",
    "Č": "C", "Ć": "C", "Š": "S", "Ž": "Z", "Đ": "Dj",
}  # fmt: skip
# Looking at one character at a time in Python cost more than the rest of normalize() for every
# chat message and ticket subject indexed (issue 14, bench/chat/run.py): fold() translates in C,
# and to_latin() returns text without Cyrillic as it is. Every character to_latin changes (a
# letter whose lower case is in _CYR_TO_LAT) is in the _CYRILLIC block (tests/triage/test_text.py).
_FOLD_TABLE = str.maketrans(_FOLD)
_CYRILLIC = re.compile("[\u0400-\u04ff]")

# A URL never ends with sentence punctuation ("see https://x.rs/a, then").
_URL_RE = re.compile(r"(?:(?:https?|ftp)://|www\.)[^\s<>\"']*[^\s<>\"'.,;:!?)\]]", re.IGNORECASE)
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_JMBG_RE = re.compile(r"(?<!\d)\d{13}(?!\d)")
# Phone numbers: a leading + or 0 and 8+ digits with optional separators.
_PHONE_RE = re.compile(r"(?<![\w+])(?:\+|00|0)\d(?:[\s./-]?\d){6,13}(?!\d)")
_NUMBER_RE = re.compile(r"(?<!\w)\d+(?:[.,/:-]\d+)*(?!\w)")
_TOKEN_RE = re.compile(r"[^\W_]+", re.UNICODE)


def _is_upper_letter(ch: str) -> bool:
    return ch.isalpha() and ch.isupper()


def to_latin(text: str) -> str:
    """Transliterate Serbian Cyrillic to Latin; other characters pass through.

    An uppercase digraph letter becomes all-caps inside an all-caps word (ЉУБАВ -> LJUBAV)
    and title case otherwise (Љубав -> Ljubav).
    """
    text = unicodedata.normalize("NFC", text)
    if _CYRILLIC.search(text) is None:  # most text (all of Latin chat): nothing to look up
        return text
    out: list[str] = []
    n = len(text)
    for i, ch in enumerate(text):
        low = ch.lower()
        latin = _CYR_TO_LAT.get(low)
        if latin is None:
            out.append(ch)
            continue
        if ch == low:
            out.append(latin)
        elif low in _DIGRAPH_CYR:
            nxt = text[i + 1] if i + 1 < n else ""
            prev = text[i - 1] if i > 0 else ""
            all_caps = _is_upper_letter(nxt) or (
                _is_upper_letter(prev) and not (nxt.isalpha() and nxt.islower())
            )
            out.append(latin.upper() if all_caps else latin[:1].upper() + latin[1:])
        else:
            out.append(latin.upper())
    return "".join(out)


def _word_start(text: str, i: int) -> int:
    while i > 0 and text[i - 1].isalpha():
        i -= 1
    return i


_FOREIGN_WORD = re.compile(r"[^\W\d_]*[qwxyQWXY][^\W\d_]*")


def _latin_run_to_cyrillic(text: str) -> str:
    # Words with q, w, x or y are foreign names (Windows, Excel): keep them in Latin.
    out: list[str] = []
    pos = 0
    for m in _FOREIGN_WORD.finditer(text):
        out.append(_letters_to_cyrillic(text[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_letters_to_cyrillic(text[pos:]))
    return "".join(out)


def _letters_to_cyrillic(text: str) -> str:
    out: list[str] = []
    i = 0
    n = len(text)
    lowered = text.lower()
    while i < n:
        pair = lowered[i : i + 2]
        cyr = _LAT_TO_CYR_DIGRAPHS.get(pair)
        if cyr is not None:
            start = _word_start(text, i)
            if not any(lowered.startswith(p, start) and i + 2 <= start + len(p) for p in _NOT_DIGRAPH):
                first_upper = text[i].isupper()
                out.append(cyr.upper() if first_upper else cyr)
                i += 2
                continue
        ch = text[i]
        low = lowered[i]
        mapped = _LAT_TO_CYR.get(low)
        if mapped is None:
            out.append(ch)
        else:
            out.append(mapped.upper() if ch != low else mapped)
        i += 1
    return "".join(out)


def to_cyrillic(text: str) -> str:
    """Transliterate Serbian Latin to Cyrillic (lj, nj, dž -> љ, њ, џ).

    URLs, emails, HTML tags and entities, and %(name)s / {x} placeholders are left untouched,
    so a translated interface string can be rendered in Cyrillic safely. Letters with no
    Cyrillic counterpart (q, w, x, y) are kept as they are.
    """
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    pos = 0
    for m in _PROTECTED.finditer(text):
        out.append(_latin_run_to_cyrillic(text[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_latin_run_to_cyrillic(text[pos:]))
    return "".join(out)


def fold(text: str) -> str:
    """Fold diacritics: č ć -> c, š -> s, ž -> z, đ -> dj (so 'dj' and 'đ' match).

    Other accented Latin letters (é, ü) lose their marks too.
    """
    text = unicodedata.normalize("NFC", text)
    if text.isascii():  # nothing to fold
        return text
    text = text.translate(_FOLD_TABLE)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def normalize(text: str) -> str:
    """Cyrillic -> Latin, lower case, folded diacritics: the comparable form of any text."""
    return fold(to_latin(text).casefold())


def tokenize(text: str) -> list[str]:
    """Normalized word tokens (letters and digits; punctuation and underscores split)."""
    return _TOKEN_RE.findall(normalize(text))


def _script_counts(text: str) -> tuple[int, int, int]:
    cyr = lat = other = 0
    for ch in text:
        if not ch.isalpha():
            continue
        if "\u0400" <= ch <= "\u04ff":
            cyr += 1
        elif ch.isascii() or "\u00c0" <= ch <= "\u024f":
            lat += 1
        else:
            other += 1
    return cyr, lat, other


def detect_script(text: str) -> Script:
    """The dominant script of the letters in text: "cyrl", "latn" or "none"."""
    cyr, lat, _ = _script_counts(_EMAIL_RE.sub(" ", _URL_RE.sub(" ", text)))
    if cyr == 0 and lat == 0:
        return "none"
    return "cyrl" if cyr >= lat else "latn"


_SR_WORDS = frozenset(
    """
    je sam si smo ste su da ne i u na za od do sa se mi ti on ona mu joj ih ga li
    kako sta sto zasto gde kada kad koji koja koje ali ili vec jos bi bih bismo nije nisam
    nema ima imam moj moja moje vas vam nas nam molim hvala pozdrav postovani postovanje
    dobar dan zdravo treba trebam mogu moze mozete zelim hocu kod ovo ovaj ova to taj
    posle pre nakon preko bez zbog prijava nalog lozinka racun uplata porez licna karta
    pasos vozacka zahtev portal greska problem hitno dokument potvrda nisu jer samo
    """.split()
)
_EN_WORDS = frozenset(
    """
    the a an is are was were be been am i you he she it we they my your our their me us
    to of in on for with from at by and or but not no do does did have has had can could
    would should will what how why where when which who this that these those there here
    please thanks thank hello hi dear help need want get account password login card payment
    tax passport my id problem error please urgent if any
    """.split()
)
_SR_LATIN_LETTERS = frozenset("čćšžđ")
_RU_ONLY = frozenset("ыэъйёщюяьі")


def detect_language(text: str) -> Language:
    """A cheap guess at the language: "sr" (either script), "en" or "other".

    Cyrillic without Russian-only letters is Serbian; Latin text is scored by common
    Serbian and English words, and Serbian diacritics count for Serbian; failing those, by
    the shape of its words.
    """
    cleaned = _EMAIL_RE.sub(" ", _URL_RE.sub(" ", text))
    cyr, lat, other = _script_counts(cleaned)
    if cyr + lat + other == 0:
        return "other"
    if other > cyr + lat:
        return "other"
    low = cleaned.lower()
    if cyr >= lat:
        ru = sum(1 for ch in low if ch in _RU_ONLY)
        return "other" if ru * 20 > cyr else "sr"
    sr_score = 2 * sum(1 for ch in low if ch in _SR_LATIN_LETTERS)
    en_score = 0
    tokens = tokenize(cleaned)
    for tok in tokens:
        if tok in _SR_WORDS:
            sr_score += 1
        if tok in _EN_WORDS:
            en_score += 1
    if sr_score != en_score:
        return "sr" if sr_score > en_score else "en"
    guess = _guess_by_word_shape(tokens)
    return "en" if guess == "other" and sr_score > 0 else guess


_EN_SHAPE = re.compile(r"[wyqx]|th|ck|ee|oo|ou|ea|(?:ing|tion|ed)$")
_SR_SHAPE = re.compile(r"[aiou]$|lj|nj|dj|[aeiou]j")


def _guess_by_word_shape(tokens: list[str]) -> Language:
    """No function words to go by ("izgubio pasos"): Serbian words mostly end in a vowel
    other than e and have lj/nj/dj; English has w, y, th, -ing. A guess needs half the words."""
    words = [t for t in tokens if len(t) >= 3 and t.isalpha()]
    sr = sum(1 for w in words if _SR_SHAPE.search(w) and not _EN_SHAPE.search(w))
    en = sum(1 for w in words if _EN_SHAPE.search(w) and not _SR_SHAPE.search(w))
    if max(sr, en) * 2 < len(words) or sr == en:
        return "other"
    return "sr" if sr > en else "en"


def mask(text: str) -> str:
    """Replace URLs, emails, JMBG national IDs, phone numbers and other numbers by placeholders.

    Used before features are built and wherever citizen text might reach a log.
    """
    text = _URL_RE.sub("<url>", text)
    text = _EMAIL_RE.sub("<email>", text)
    text = _JMBG_RE.sub("<jmbg>", text)
    text = _PHONE_RE.sub("<phone>", text)
    return _NUMBER_RE.sub("<num>", text)
