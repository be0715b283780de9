"""The Serbian analyzer chain, field boosts, typo tolerance and snippets, on a real index."""

import threading

import pytest

from knowledge_base import KbDocument, KbIndex
from knowledge_base.analysis import query_tokens

ARTICLES = [
    KbDocument(
        "birth",
        "Izvod iz matične knjige rođenih",
        "Izvod iz **matične knjige rođenih** poručujete preko portala ili na šalteru.",
        tags=["izvod", "matične knjige"],
    ),
    KbDocument(
        "cert",
        "Електронски сертификат на личној карти",
        "Квалификовани електронски сертификат служи за пријаву и потпис. Потребан је читач.",
        tags=["eID", "сертификат"],
    ),
    KbDocument(
        "djak",
        "Đačke i studentske povlastice",
        "Đaci i studenti plaćaju upola manju taksu za uverenje.",
        tags=["đaci", "takse"],
    ),
    KbDocument(
        "password",
        "I forgot my password",
        "Use the Forgotten password link on the sign-in page. We never email passwords.",
        language="en",
        tags=["password", "account"],
    ),
    KbDocument(
        "fees",
        "Paying fees online",
        "Pay fees by card. If you forgot to pay, the request waits. Password not needed.",
        language="en",
    ),
    KbDocument(
        "draft",
        "Nacrt: lozinka za nalog",
        "Ovaj članak o lozinki još nije objavljen.",
        published=False,
    ),
]


@pytest.fixture()
def index():
    ix = KbIndex(None)
    ix.rebuild(ARTICLES)
    yield ix
    ix.close()


@pytest.mark.parametrize(
    "question",
    [
        "Где да поручим извод из матичне књиге рођених?",  # Cyrillic
        "Gde da poručim izvod iz matične knjige rođenih?",  # Latin
        "Gde da porucim izvod iz maticne knjige rodenih?",  # no diacritics at all
        "gde da porucim izvod iz maticne knjige rodjenih",  # dj for đ
    ],
)
def test_the_same_question_in_every_spelling_finds_the_same_article_first(index, question):
    hits = index.search(question, language="sr")
    assert hits and hits[0].id == "birth"


@pytest.mark.parametrize(
    "question",
    ["електронски сертификат", "elektronski sertifikat", "elektronskom sertifikatu"],
)
def test_latin_query_finds_cyrillic_article(index, question):
    hits = index.search(question)
    assert hits[0].id == "cert"


@pytest.mark.parametrize("question", ["đačke povlastice", "djacke povlastice", "ђачке повластице"])
def test_dj_and_dj_letter_are_the_same(index, question):
    assert index.search(question)[0].id == "djak"


def test_title_outranks_body(index):
    # "password" is in the body of "fees" but in the title of "password".
    hits = index.search("password", language="en")
    assert [h.id for h in hits][:2] == ["password", "fees"]


def test_one_typo_in_a_short_query_is_forgiven(index):
    assert index.search("sertifkat")[0].id == "cert"
    assert index.search("pasword", language="en")[0].id == "password"


def test_drafts_are_hidden_unless_asked(index):
    assert "draft" not in [h.id for h in index.search("lozinka nalog")]
    assert index.search("lozinka nalog", published_only=False)[0].id == "draft"


def test_snippet_marks_matches_and_escapes_html():
    ix = KbIndex(None)
    ix.rebuild([KbDocument("x", "Plaćanje", "Platite <script>alert(1)</script> karticom i čuvajte potvrdu.")])
    hit = ix.search("kartica")[0]
    assert "<mark" in hit.snippet and "karticom</mark>" in hit.snippet
    assert "<script>" not in hit.snippet
    ix.close()


def test_language_filter_keeps_to_one_language(index):
    assert all(h.language == "en" for h in index.search("password sertifikat", language="en"))
    assert index.search("password", language="sr-Latn") == []


def test_nonsense_and_empty_queries_return_nothing(index):
    assert index.search("") == []
    assert index.search("!!! ??? ...") == []
    assert index.search("zzqxj") == []


def test_nominative_and_other_cases_meet():
    # Snowball cuts the nominative "nalog" to "nal" but "naloga" to "nalog".
    assert set(query_tokens("nalog", "sr")[0]) & set(query_tokens("naloga", "sr")[0])
    assert set(query_tokens("potpis", "sr")[0]) & set(query_tokens("potpisom", "sr")[0])


def test_upsert_and_delete_are_seen_by_the_next_search(index):
    index.upsert([KbDocument("new", "Porez na imovinu", "Prijava poreza na imovinu u roku od 30 dana.")])
    assert index.search("porez imovina")[0].id == "new"
    index.upsert([KbDocument("new", "Porez na imovinu", "Izmenjeno: rok je 30 dana.", published=False)])
    assert index.search("porez imovina") == []
    index.delete(["new"])
    assert "new" not in index.versions()


def test_concurrent_writers_and_readers_lose_nothing(tmp_path):
    ix = KbIndex(tmp_path / "kb")
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(5):
                ix.upsert([KbDocument(f"{n}-{i}", f"Članak {n} {i}", "Tekst o uplati takse.")])
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    def read() -> None:
        try:
            for _ in range(10):
                ix.search("uplata takse")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(3)]
    threads += [threading.Thread(target=read) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert ix.doc_count() == 15
    # A second KbIndex on the same directory (another process in production) sees it all.
    other = KbIndex(tmp_path / "kb")
    assert len(other.search("uplata takse", limit=20)) == 15
    other.close()
    ix.close()
