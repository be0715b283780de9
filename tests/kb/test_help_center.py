"""The help center as citizens read it: managed category names, one Serbian article in the reader's
script, the reader's language first, "sample" only in demo mode, related answers and a way to a
person under every article and on no results; and the editor's archive, preview and categories."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from helpdesk.models import Article
from helpdesk.services import Services
from helpdesk.settings import Settings
from tests.conftest import csrf_token_from, login, make_settings

PHONE = "0800 100 200"
KEYS = ("davanja", "dokumenta", "placanja", "nalog", "porezi")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, office_phone=(PHONE,), channels=("channels.chat", "channels.web"))


def _article_id(services: Services, title: str) -> int:
    with services.db.session() as s:
        found = s.scalar(select(Article.id).where(Article.title == title))
        assert found is not None
        return found


READERS = [
    ("sr-Latn", "Nalog i prijava na portal", "Zaboravio sam lozinku za nalog", "Još vam treba pomoć?"),
    ("sr-Cyrl", "Налог и пријава на портал", "Заборавио сам лозинку за налог", "Још вам треба помоћ?"),
    ("en", "Your account and signing in", "Zaboravio sam lozinku za nalog", "Still need help?"),
]


def test_index_shows_category_names_and_one_article_in_the_readers_script(
    kb_client: Any, starter: int
) -> None:
    for lang, category, latin_title_shown, still in READERS:
        html = kb_client.get(f"/help?lang={lang}").get_data(as_text=True)
        assert f">{category}</h2>" in html, lang
        for key in KEYS:  # never the internal key
            assert f">{key}<" not in html
        assert latin_title_shown in html  # the Latin article, in Cyrillic for a Cyrillic reader
        assert "kb-badge" not in html  # sample marks only in demo mode
        assert still in html


def test_reader_language_first_and_a_cyrillic_article_read_in_latin(
    kb_client: Any, services: Services, starter: int
) -> None:
    english = kb_client.get("/help?lang=en").get_data(as_text=True)
    account = english[english.index("Your account and signing in") :]
    account = account[: account.index("</section>")]
    titles = re.findall(r'lang="([^"]+)">', account)
    assert titles[0] == "en" and titles[-1].startswith("sr")  # English articles first
    cyrillic_id = _article_id(services, "Извод из матичне књиге рођених")
    latin = kb_client.get(f"/help/articles/{cyrillic_id}?lang=sr-Latn").get_data(as_text=True)
    assert "<h1>Izvod iz matične knjige rođenih</h1>" in latin and 'lang="sr-Latn"' in latin


def test_article_has_related_answers_and_a_way_to_a_person(
    kb_client: Any, services: Services, starter: int
) -> None:
    article_id = _article_id(services, "Zaboravio sam lozinku za nalog")
    html = kb_client.get(f"/help/articles/{article_id}?lang=sr-Latn").get_data(as_text=True)
    assert "Srodni odgovori" in html and "Kako da se prijavim na portal" in html
    still = html[html.index("Još vam treba pomoć?") :]
    assert 'href="/chat?lang=sr-Latn"' in still and 'href="/contact?lang=sr-Latn"' in still
    assert f'href="tel:{PHONE.replace(" ", "")}"' in still
    none = kb_client.get("/help?q=xyzzy+kvark&lang=en").get_data(as_text=True)
    assert "0 answers found." in none and "Still need help?" in none and 'href="/chat?lang=en"' in none


def test_sample_marks_in_demo_mode(tmp_path: Path, starter: int, kb_app: Any) -> None:
    from dataclasses import replace

    svc: Services = kb_app.extensions["helpdesk"]
    svc.settings = replace(svc.settings, demo=True)
    assert "kb-badge" in kb_app.test_client().get("/help?lang=en").get_data(as_text=True)


def _editor(kb_client: Any, services: Services) -> None:
    from helpdesk.models import Agent

    agent_id = login(kb_client, services, "agent")
    with services.db.transaction() as s:
        agent = s.get(Agent, agent_id)
        assert agent is not None
        agent.is_editor = True


def test_editor_previews_before_saving_and_picks_a_managed_category(
    kb_client: Any, services: Services, starter: int
) -> None:
    _editor(kb_client, services)
    form = kb_client.get("/console/kb/new").get_data(as_text=True)
    assert '<select id="kb-category" name="category">' in form
    assert '<option value="nalog">Your account and signing in</option>' in form
    data = {
        "csrf_token": csrf_token_from(form),
        "title": "Promena adrese e-pošte",
        "body": "Adresu menjate u **podešavanjima** naloga.",
        "language": "sr",
        "category": "nalog",
        "status": "published",
    }
    preview = kb_client.post("/console/kb/new", data={**data, "action": "preview"})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "<strong>podešavanjima</strong>" in html
    assert "Nothing is saved yet." in html and 'value="Promena adrese e-pošte"' in html
    with services.db.session() as s:
        assert s.scalar(select(Article).where(Article.title == data["title"])) is None
    unknown = kb_client.post("/console/kb/new", data={**data, "category": "made-up", "action": "save"})
    assert unknown.status_code == 422 and "Choose a category from the list." in unknown.get_data(as_text=True)
    saved = kb_client.post("/console/kb/new", data={**data, "action": "save"})
    assert saved.status_code == 302


def test_delete_asks_first_archives_and_restores(kb_client: Any, services: Services, starter: int) -> None:
    _editor(kb_client, services)
    article_id = _article_id(services, "Zaboravio sam lozinku za nalog")
    edit = kb_client.get(f"/console/kb/{article_id}/edit").get_data(as_text=True)
    assert f'href="/console/kb/{article_id}/delete"' in edit  # a link to a question, not a button
    ask = kb_client.get(f"/console/kb/{article_id}/delete").get_data(as_text=True)
    assert "Delete this article?" in ask and "You can restore it later" in ask
    done = kb_client.post(f"/console/kb/{article_id}/delete", data={"csrf_token": csrf_token_from(ask)})
    assert done.status_code == 302
    assert kb_client.get(f"/help/articles/{article_id}").status_code == 404
    assert "Zaboravio sam lozinku" not in kb_client.get("/help?q=zaboravio+lozinku").get_data(as_text=True)
    listing = kb_client.get("/console/kb").get_data(as_text=True)
    archived = listing[listing.index('id="archived"') :]
    assert "Zaboravio sam lozinku za nalog" in archived
    restored = kb_client.post(
        f"/console/kb/{article_id}/restore", data={"csrf_token": csrf_token_from(listing)}
    )
    assert restored.status_code == 302
    with services.db.session() as s:
        assert s.get(Article, article_id).status == "draft"  # type: ignore[union-attr]


def test_editor_renames_a_category_in_three_languages(
    kb_client: Any, services: Services, starter: int
) -> None:
    _editor(kb_client, services)
    page = kb_client.get("/console/kb/categories").get_data(as_text=True)
    names = {"name_sr_latn": "Porez na imovinu", "name_sr_cyrl": "", "name_en": "Property tax"}
    token = csrf_token_from(page)
    saved = kb_client.post(
        "/console/kb/categories", data={"csrf_token": token, "key": "porezi", "action": "save", **names}
    )
    assert saved.status_code == 302
    assert ">Порез на имовину</h2>" in kb_client.get("/help?lang=sr-Cyrl").get_data(as_text=True)
    assert ">Property tax</h2>" in kb_client.get("/help?lang=en").get_data(as_text=True)
    bad = kb_client.post(
        "/console/kb/categories",
        data={"csrf_token": token, "key": "Bad Key", "action": "create", **names},
    )
    assert bad.status_code == 422 and "lower-case letters" in bad.get_data(as_text=True)
