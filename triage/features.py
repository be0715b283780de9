"""Features for the triage classifier: word n-grams, character n-grams and word pairs.

All three read the same prepared text (masked, transliterated to Latin, lower case,
folded), so Cyrillic, Latin and Latin-without-diacritics spellings share one vocabulary.
The analyzers are module-level functions so a fitted pipeline can be pickled.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import snowballstemmer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from triage.text import mask, normalize

_WORD_RE = re.compile(r"[^\W_]+|<\w+>")
# The English stemmer also trims some Serbian endings harmlessly; on Banking77 it beat a
# plain prefix stem (0.922 vs 0.919 accuracy), so the pairs use it for both languages.
# Stemmer objects keep state while stemming, so each thread gets its own.
_local = threading.local()


def prepare(text: str) -> str:
    """Masked, normalized text: the only form the classifier ever sees."""
    return normalize(mask(text))


@lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    # Words repeat a lot across inquiries; the pure-Python stemmer is the costly part.
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return str(stemmer.stemWord(word))


def stems(text: str) -> list[str]:
    return [_stem(word) for word in _WORD_RE.findall(text)]


def word_pairs(text: str) -> list[str]:
    """Unordered pairs of distinct stems in one inquiry.

    Intent often lives in a combination of words far apart ("card ... not arrived"); pairs
    let a linear model see it. Inquiries are short, so the count stays small.
    """
    unique = sorted(set(stems(prepare(text))))[:PAIR_STEMS]
    return [a + "|" + b for i, a in enumerate(unique) for b in unique[i + 1 :]]


def build_features(min_df: int = 2) -> FeatureUnion:
    """The feature union; `min_df` drops n-grams seen once (noise on large sets)."""
    return FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    preprocessor=prepare,
                    token_pattern=r"(?u)\b\w+\b",  # noqa: S106 (a regex, not a password)
                    ngram_range=(1, 3),
                    sublinear_tf=True,
                    dtype=_float32(),
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    preprocessor=prepare,
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    sublinear_tf=True,
                    min_df=min_df,
                    dtype=_float32(),
                ),
            ),
            (
                "pairs",
                TfidfVectorizer(analyzer=word_pairs, sublinear_tf=True, min_df=min_df, dtype=_float32()),
            ),
        ]
    )


def _float32() -> type:
    import numpy as np

    return np.float32


PAIR_STEMS = 40  # pairs of at most this many distinct stems (the first in sorted order)


def pairs_of_prepared(prepared: str) -> list[str]:
    """`word_pairs` for text that has already been through `prepare` (no second pass)."""
    unique = sorted(set(stems(prepared)))[:PAIR_STEMS]
    return [a + "|" + b for i, a in enumerate(unique) for b in unique[i + 1 :]]


@lru_cache(maxsize=30_000)  # ~1.5 KB a word: common words stay, memory stays bounded
def word_char_ngrams(word: str) -> tuple[str, ...]:
    padded = " " + word + " "
    out: list[str] = []
    for n in range(2, 6):
        out.extend(padded[i : i + n] for i in range(max(1, len(padded) - n + 1)))
        if len(padded) <= n:  # a short word counts once, at its full length
            break
    return tuple(out)


def char_ngrams(prepared: str) -> list[str]:
    """scikit-learn's char_wb 2-5-grams, each word's n-grams made once and cached.

    Words repeat across inquiries, and slicing n-grams one by one in Python was the costly
    part of analysing a text (the same terms as `analyzer="char_wb", ngram_range=(2, 5)`).
    """
    return [g for word in prepared.split() for g in word_char_ngrams(word)]


def prepared_blocks(min_df: int = 2) -> list[tuple[str, TfidfVectorizer]]:
    """The production feature blocks, each reading text already through `prepare`."""
    f32 = _float32()
    return [
        (
            "words",
            TfidfVectorizer(
                lowercase=False,  # prepared text is case-folded already
                token_pattern=r"(?u)\b\w+\b",  # noqa: S106 (a regex, not a password)
                ngram_range=(1, 3),
                sublinear_tf=True,
                dtype=f32,
            ),
        ),
        (
            "chars",
            TfidfVectorizer(analyzer=char_ngrams, sublinear_tf=True, min_df=min_df, dtype=f32),
        ),
        ("pairs", TfidfVectorizer(analyzer=pairs_of_prepared, sublinear_tf=True, min_df=min_df, dtype=f32)),
    ]


def bare_blocks() -> list[tuple[str, TfidfVectorizer]]:
    """The plain baseline: word 1-2-grams of the raw text, no normalization."""
    return [("bare", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, dtype=_float32()))]


# The feature sets cross-validation chooses among: ours with and without character n-grams
# (they help with typos and word endings, and can overfit a small office's data), and the
# plain baseline. Each name maps to (blocks, whether the blocks read prepared text).
FEATURE_SETS = ("full", "words", "bare")


def feature_blocks(name: str, min_df: int = 2) -> tuple[list[tuple[str, TfidfVectorizer]], bool]:
    if name == "full":
        return prepared_blocks(min_df), True
    if name == "words":
        return [b for b in prepared_blocks(min_df) if b[0] != "chars"], True
    if name == "bare":
        return bare_blocks(), False
    raise ValueError(f"unknown feature set {name!r} (known: {', '.join(FEATURE_SETS)})")
