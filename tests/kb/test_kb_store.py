"""Articles in the store and two nodes' indexes following it, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpdesk.kb.service import WhooshKnowledgeBase
from helpdesk.kb.store import (
    ArticleInput,
    InvalidArticle,
    delete_article,
    feedback_counts,
    record_feedback,
    save_article,
)
from helpdesk.services import Services


def test_two_nodes_keep_their_own_index_in_step(store: Services, tmp_path: Path) -> None:
    node_a = WhooshKnowledgeBase(store.db, tmp_path / "a", sync_seconds=0)
    node_b = WhooshKnowledgeBase(store.db, tmp_path / "b", sync_seconds=0)
    store.kb = node_a  # node A is where the editor works
    article = save_article(
        store, ArticleInput("Elektronska sednica", "Sednice se zakazuju preko portala.", status="published")
    )
    assert [h.id for h in node_a.search("sednica")] == [article.id]
    # Node B never saw the write; its next search picks it up from the database.
    assert [h.id for h in node_b.search("седница")] == [article.id]
    save_article(store, ArticleInput("Elektronska sednica", "Povučeno.", status="draft"), article.id)
    assert node_b.search("sednica") == []
    assert delete_article(store, article.id)
    assert node_b.sync(force=True) == 1
    assert node_b.index.versions() == {}


def test_feedback_counts_per_article(store: Services) -> None:
    a = save_article(store, ArticleInput("A", "Tekst a.", status="published"))
    b = save_article(store, ArticleInput("B", "Tekst b.", status="published"))
    draft = save_article(store, ArticleInput("C", "Tekst c.", status="draft"))
    for helpful in (True, True, False):
        assert record_feedback(store, a.id, helpful)
    assert record_feedback(store, b.id, False)
    assert not record_feedback(store, draft.id, True)  # no votes on unpublished articles
    assert not record_feedback(store, 987654, True)
    assert feedback_counts(store, [a.id, b.id, draft.id]) == {a.id: (2, 1), b.id: (0, 1)}


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (ArticleInput("", "x"), "title"),
        (ArticleInput("x", "   "), "body"),
        (ArticleInput("x" * 201, "x"), "title_length"),
        (ArticleInput("x", "x", language="de"), "language"),
        (ArticleInput("x", "x", status="live"), "status"),
    ],
)
def test_invalid_articles_are_refused(services: Services, data: ArticleInput, error: str) -> None:
    with pytest.raises(InvalidArticle, match=error):
        save_article(services, data)


def test_script_is_detected_and_tags_cleaned(services: Services) -> None:
    a = save_article(
        services,
        ArticleInput("Лична карта", "Текст.", tags=[" eID ", "eID", "", "лична  карта"]),
    )
    assert a.script == "cyrl" and a.tags == ["eID", "лична карта"]
