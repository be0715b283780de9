"""The array scorer against Whoosh's own BM25F, the shared term cache, and fast snippets."""

import random

import pytest
from whoosh import query, scoring
from whoosh.searching import Searcher

from knowledge_base import KbDocument, KbIndex
from knowledge_base.engine import Clause, TermTable, top_documents
from knowledge_base.search import DEFAULT_OPTIONS
from knowledge_base.snippets import snippet

WORDS = (
    "uplata takse uverenje izvod lozinka nalog portal šalter kartica potpis porez imovina "
    "prijava rok dana zahtev obrazac dokument lična karta pasoš adresa prebivalište"
).split()


def _docs(rng: random.Random, start: int, count: int) -> list[KbDocument]:
    return [
        KbDocument(
            str(i),
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6))),
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 60))),
            tags=[rng.choice(WORDS)],
            published=rng.random() > 0.1,
        )
        for i in range(start, start + count)
    ]


@pytest.fixture(scope="module")
def segmented():
    """An index of several segments, with deleted and replaced documents."""
    rng = random.Random(3)
    ix = KbIndex(None)
    ix.rebuild(_docs(rng, 0, 150))
    ix.upsert(_docs(rng, 100, 80))  # replaces 100-149 (deletions in the first segment)
    ix.upsert(_docs(rng, 300, 20))
    ix.delete(["5", "301"])
    yield ix
    ix.close()


def _whoosh_top(searcher: Searcher, clauses: list[Clause], limit: int) -> list[tuple[int, float]]:
    weighting = scoring.BM25F(B=DEFAULT_OPTIONS.bm25_b, K1=DEFAULT_OPTIONS.bm25_k1)
    scored = Searcher(searcher.reader(), weighting=weighting, closereader=False)
    q = query.Or([query.Term(c.field, t, boost=c.boost) for c in clauses for t in c.terms])
    allowed = set(scored.docs_for_query(query.Term("published", True)))
    return [(hit.docnum, hit.score) for hit in scored.search(q, limit=limit, filter=allowed)]


def test_scores_and_order_equal_whoosh_bm25f_across_segments_and_deletions(segmented):
    searcher = segmented.searcher()
    assert len(list(searcher.reader().leaf_readers())) > 1 and searcher.reader().has_deletions()
    table = TermTable(searcher, DEFAULT_OPTIONS.bm25_b, DEFAULT_OPTIONS.bm25_k1)
    rng = random.Random(5)
    for _ in range(40):
        words = rng.sample(WORDS, rng.randint(1, 4))
        clauses = [
            Clause(f"{field}_sr", (t,), boost)
            for t in {t for w in words for t in _terms(w)}
            for field, boost in (("title", 1.5), ("content", 1.0))
            if table.postings(searcher, f"{field}_sr", t) is not None
        ]
        ours = top_documents(table, searcher, clauses, 10)
        theirs = _whoosh_top(searcher, clauses, 10)
        assert ours and [d for d, _ in ours] == [d for d, _ in theirs]
        assert [round(s, 6) for _, s in ours] == [round(s, 6) for _, s in theirs]


def test_a_words_spellings_count_once_with_the_best_score(segmented):
    searcher = segmented.searcher()
    table = TermTable(searcher, DEFAULT_OPTIONS.bm25_b, DEFAULT_OPTIONS.bm25_k1)
    a = table.postings(searcher, "content_sr", "porez")
    b = table.postings(searcher, "content_sr", "imovin")
    assert a is not None and b is not None
    both = top_documents(table, searcher, [Clause("content_sr", ("porez", "imovin"), 1.0)], 1000, False)
    best = {}
    for ids, scores in (a, b):
        for d, s in zip(ids.tolist(), scores.tolist(), strict=True):
            if table.live[d]:
                best[d] = max(best.get(d, 0.0), s)
    assert {d: round(s, 9) for d, s in both} == {d: round(s, 9) for d, s in best.items()}


def test_a_small_cache_evicts_and_still_ranks_the_same(segmented):
    searcher = segmented.searcher()
    clauses = [Clause("content_sr", (w,), 1.0) for w in ("porez", "uplat", "taks", "uverenj")]
    roomy = TermTable(searcher, 1.0, 2.0)
    tiny = TermTable(searcher, 1.0, 2.0, budget=50)
    expected = top_documents(roomy, searcher, clauses, 5)
    for _ in range(3):
        assert top_documents(tiny, searcher, clauses, 5) == expected
    assert tiny._held <= 50 or len(tiny._postings) == 1


def test_an_edit_is_scored_with_the_new_version_at_once():
    ix = KbIndex(None)
    ix.rebuild([KbDocument("a", "Porez na imovinu", "Prijava poreza."), KbDocument("b", "Uplata", "Taksa.")])
    assert [h.id for h in ix.search("porez")] == ["a"]
    ix.upsert([KbDocument("b", "Porez i porez", "Porez, porez, porez na imovinu.")])
    assert [h.id for h in ix.search("porez")][0] == "b"
    ix.delete(["b"])
    assert [h.id for h in ix.search("porez")] == ["a"]
    ix.close()


def test_snippet_marks_whole_words_only_and_keeps_two_fragments():
    text = (
        "Portal e-Uprava prima zahteve. "
        + "Ovde nema ničega bitnog za pitanje, samo tekst koji popunjava prostor. " * 6
        + "Na portalu eUprava se plaća taksa karticom. "
        + "Još malo teksta bez veze sa pitanjem da se vidi gde se fragment završava. " * 6
        + "Taksa se plaća i na šalteru."
    )
    terms = frozenset(t for w in ("taksa", "portal") for t in _terms(w))
    shown = snippet(text, terms, "sr")
    # The fragment with both words wins; of the two with one word, the earlier one.
    assert shown.count(" … ") == 1
    assert shown.startswith('<mark class="match term0">Portal</mark> e-Uprava')
    assert 'portalu</mark> eUprava se plaća <mark class="match term1">taksa</mark> karticom' in shown
    assert "Taksa</mark>" not in shown and "šalteru" not in shown
    assert len(shown.replace('<mark class="match term0">', "").replace("</mark>", "")) < 2 * 200 + 10
    # "Uprava" alone is not a word of "e-Uprava": the tokenizer keeps it whole.
    assert "e-<mark" not in snippet("Portal e-Uprava radi.", frozenset(_terms("uprava")), "sr")
    assert snippet("a < b & c", frozenset(_terms("nista")), "sr") == "a &lt; b &amp; c"


def _terms(word: str) -> list[str]:
    from knowledge_base.analysis import query_tokens

    return [t for slot in query_tokens(word, "sr") for t in slot]
