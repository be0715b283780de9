"""When knowledge-base suggestions are worth showing: only for a real question, only good matches.

"Dobar dan" is a greeting, not a question about child allowance: a text made only of greetings,
courtesy and function words gets no suggestions, and weak matches (below an absolute score and
well below the best hit) are dropped rather than shown as if they answered anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from knowledge_base.analysis import ENGLISH_STOP_WORDS, SERBIAN_STOP_WORDS
from triage.text import normalize, tokenize

# Greetings, courtesy and "I have a question" words in Serbian (any script, with or without
# diacritics: compared after triage.text.normalize) and English. They say nothing about the topic.
SMALL_TALK = frozenset(
    normalize(w)
    for w in """
    dobar dobro dobra dobre dan jutro veče vece noć noc zdravo pozdrav pozdravljam pozdravi
    ćao cao hej halo ej poštovani postovani poštovana postovana gospodine gospođo gospodjo
    hvala unapred molim vas imam imamo pitanje pitanja pitam interesuje zanima zanimalo
    pomoć pomoc pomozite pomagajte problem informacija informaciju informacije srdačan srdacno
    hello hi hey hiya good morning afternoon evening day dear sir madam thanks thank you please
    question questions help need want know regards greetings information problem
    """.split()
)
MIN_SCORE = 6.0  # BM25F score below which a hit is a coincidence of common words (starter set)
RELATIVE = 0.35  # and hits far below the best one are not shown beside it

T = TypeVar("T")


def topic_words(text: str) -> list[str]:
    """The words that can name a topic: no greetings, courtesy, function words or short bits."""
    return [
        token
        for token in tokenize(text)
        if len(token) >= 3
        and token not in SMALL_TALK
        and token not in SERBIAN_STOP_WORDS
        and token not in ENGLISH_STOP_WORDS
    ]


def is_question(text: str) -> bool:
    return bool(topic_words(text))


def good_hits(hits: Sequence[T], score_of: str = "score") -> list[T]:
    """Hits that match well: above MIN_SCORE and within RELATIVE of the best hit."""
    if not hits:
        return []
    best = max(float(getattr(h, score_of) or 0.0) for h in hits)
    floor = max(MIN_SCORE, best * RELATIVE)
    return [h for h in hits if float(getattr(h, score_of) or 0.0) >= floor]
