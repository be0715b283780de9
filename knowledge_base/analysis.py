"""Whoosh analyzers: one chain for Serbian (either script), one for English.

Serbian: tokenize, lower-case, Cyrillic -> Latin, Snowball ``serbian`` stemming on the
diacritic form, then diacritic folding with ``dj`` == ``đ`` (``triage.text.fold``). The
result is that a Cyrillic query, a Latin query and a Latin query typed without diacritics
(or with ``dj`` for ``đ``) all produce the same index terms.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

import snowballstemmer
from whoosh.analysis import (
    STOP_WORDS,
    Analyzer,
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    StopFilter,
    Token,
)

from triage.text import fold, to_latin

__all__ = [
    "LANGUAGES",
    "SerbianFilter",
    "EnglishStemFilter",
    "serbian_analyzer",
    "serbian_stem",
    "english_analyzer",
    "analyzer_for",
    "language_key",
    "query_tokens",
]

LANGUAGES: tuple[str, ...] = ("sr", "en")

# Letters and digits; "e-Uprava" and "don't" stay one word (joined by JoinFilter).
_WORD_PATTERN = r"[^\W_]+(?:['\u2019-][^\W_]+)*"
_JOINERS = re.compile("['\u2019-]")

# Function words that carry no topic in help questions ("kako da ...", "how do I ...").
SERBIAN_STOP_WORDS = frozenset(
    fold(w)
    for w in """
    a i u o na za od do sa se da li je su sam si smo ste bi bih bismo biste ne ni niti ili
    ali pa te to taj ta ovo ovaj ova ono koji koja koje kako kada kad gde gdje sta šta što
    sto zasto zašto mi ti on ona ono oni one me mu joj ih ga nas vas vam nam moj moja moje
    moji tvoj vaš vas svoj svoja svoje kod iz po pri uz kroz jer ako još jos već vec
    li neki neka neko nešto nesto može moze mogu možete mozete treba trebam molim
    """.split()
)

# Question scaffolding ("how do I", "is it possible") that every FAQ query carries.
ENGLISH_STOP_WORDS = frozenset(STOP_WORDS) | frozenset(
    """how do does did i my me what which there way possible get can could would should
    someone something any anyone anything about into its it's i'm im""".split()
)

_DJ = re.compile("dj")
_VOWELS = frozenset("aeiou")
# Drop the marks the stemmer can live without, but keep đ: it reads "dj" differently.
_STRIP_KEEP_DJ = str.maketrans("čćšž", "ccsz")


class JoinFilter(Filter):
    """ "e-Uprava" and "eUprava" mean the same: drop hyphens and apostrophes inside words."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            t.text = _JOINERS.sub("", t.text)
            yield t


@lru_cache(maxsize=1)
def _serbian_stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("serbian")


@lru_cache(maxsize=100_000)
def serbian_stem(word: str) -> str:
    """Snowball Serbian stem of a lower-case Latin word."""
    return str(_serbian_stemmer().stemWord(word))


@lru_cache(maxsize=200_000)
def serbian_variants(word: str) -> tuple[str, ...]:
    """The folded stems a lower-case Latin word may stand for.

    * ``dj`` is read as ``đ`` first, because the stemmer treats the two differently.
    * The stem of the spelling without marks is added too: a citizen typing without
      diacritics gives the stemmer "placanja" or "rodenih", and the indexed "plaćanja" and
      "rođenih" must meet them.
    * For a word ending in a consonant the stem of its genitive (word + "a") is added:
      Snowball cuts nominatives such as "nalog" -> "nal" or "potpis" -> "potpi", while
      every other case form ("naloga", "nalogu") stems to "nalog".
    """
    stem = _serbian_stemmer().stemWord
    spelled = _DJ.sub("đ", word)
    bare = spelled.translate(_STRIP_KEEP_DJ)
    forms = [spelled, bare, bare.replace("đ", "d")]
    if spelled[-1:].isalpha() and spelled[-1] not in _VOWELS:
        forms += [form + "a" for form in forms]
    out: list[str] = []
    for form in forms:
        folded = fold(stem(form))
        if folded and folded not in out:
            out.append(folded)
    return tuple(out)


@lru_cache(maxsize=200_000)
def serbian_terms(token: str) -> tuple[str, ...] | None:
    """Index terms for one lower-cased token; None for a stop word. Cached: words repeat."""
    latin = to_latin(token)
    if fold(latin) in SERBIAN_STOP_WORDS:
        return None
    if not latin[:1].isalpha():
        return (fold(latin),)
    return serbian_variants(latin)


class SerbianFilter(Filter):
    """Cyrillic -> Latin, stem, fold; emits each variant at the same position."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            if t.stopped:
                yield t
                continue
            terms = serbian_terms(t.text)
            if terms is None:
                if t.removestops:
                    continue
                t.stopped = True
                yield t
                continue
            for i, term in enumerate(terms):
                if i:
                    t = t.copy()
                t.text = term
                yield t


@lru_cache(maxsize=1)
def _english_stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=100_000)
def english_stem(word: str) -> str:
    return fold(str(_english_stemmer().stemWord(word)))


class EnglishStemFilter(Filter):
    """Snowball English (Porter 2) stemming; folds accents away too.

    Stateless on purpose: Whoosh pickles the schema, analyzers included, into the index.
    """

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            if not t.stopped:
                t.text = english_stem(t.text)
            yield t


def serbian_analyzer() -> Analyzer:
    return RegexTokenizer(_WORD_PATTERN) | JoinFilter() | LowercaseFilter() | SerbianFilter()


def english_analyzer() -> Analyzer:
    return (
        RegexTokenizer(_WORD_PATTERN)
        | JoinFilter()
        | LowercaseFilter()
        | StopFilter(stoplist=ENGLISH_STOP_WORDS, minsize=2)
        | EnglishStemFilter()
    )


@lru_cache(maxsize=4)
def analyzer_for(language: str) -> Analyzer:
    """The analyzer for an article or query language ("sr", "sr-Cyrl", "en", ...)."""
    return english_analyzer() if language_key(language) == "en" else serbian_analyzer()


def language_key(language: str | None) -> str:
    """Map "sr-Latn", "sr_Cyrl", "SR", "en-GB" to the two index languages; default "sr"."""
    lang = (language or "sr").lower()
    return "en" if lang.startswith("en") else "sr"


def query_tokens(text: str, language: str) -> list[list[str]]:
    """Analyzed query terms grouped by position (alternatives for one word share a slot)."""
    groups: dict[int, list[str]] = {}
    for t in analyzer_for(language)(text, positions=True, mode="query"):
        if t.stopped:
            continue
        slot = groups.setdefault(t.pos, [])
        if t.text not in slot:
            slot.append(t.text)
    return [groups[p] for p in sorted(groups)]
