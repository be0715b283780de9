"""Interface languages: the Serbian catalog is complete, and pages read in Latin, Cyrillic, English.

Strings are taken from the sources the way `pybabel extract` takes them (babel.cfg), so a string
added to the code or a template without a Serbian translation fails here, by name.
"""

from __future__ import annotations

import html as html_lib
import io
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from helpdesk import create_app
from helpdesk.extensions import babel
from helpdesk.i18n import LANGUAGE_NAMES, CyrillicTranslations
from helpdesk.models import Agent
from tests.conftest import PASSWORD, add_agent, csrf_token_from, make_services, make_settings
from triage.text import to_latin

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "helpdesk" / "translations" / "sr" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]|%%|\{\w*\}")
CYRILLIC = re.compile(r"[\u0400-\u04FF]")


def _read_catalog() -> Catalog:
    with PO.open("rb") as f:
        return read_po(f, locale="sr")


def _source_messages() -> dict[str, list[str]]:
    """msgid -> where it is used, extracted from the sources listed in babel.cfg."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)

    def wanted(dirname: str) -> bool:
        return Path(dirname).name not in {"node_modules", "var", "tests", "bench", "migrations"}

    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=wanted
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module", autouse=True)
def compiled_catalog() -> Iterator[None]:
    """Compile the catalog when `make setup` has not (the .mo is a build product, not in git)."""
    if not MO.exists() or MO.stat().st_mtime < PO.stat().st_mtime:
        buffer = io.BytesIO()
        write_mo(buffer, _read_catalog(), use_fuzzy=True)
        fd, tmp = tempfile.mkstemp(dir=MO.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(buffer.getvalue())
        os.replace(tmp, MO)  # atomic: a concurrent reader sees the old or the new file
        domain = babel.__dict__.get("domain_instance")  # a cached_property, set on first use
        if domain is not None:
            domain.cache.clear()  # translations loaded before the .mo was compiled
    yield


# --- the catalog ------------------------------------------------------------------------------


def test_every_interface_string_has_a_serbian_translation() -> None:
    catalog = _read_catalog()
    missing = []
    for msgid, places in sorted(_source_messages().items()):
        entry = catalog.get(msgid)
        strings = entry.string if entry is not None else ""
        forms = strings if isinstance(strings, tuple) else (strings,)
        if entry is None or not all(s.strip() for s in forms) or entry.fuzzy:
            missing.append(f"{msgid!r} ({places[0]})")
    assert not missing, (
        "Untranslated interface strings; run pybabel extract + update (see the .po header) and "
        "translate them in helpdesk/translations/sr/LC_MESSAGES/messages.po:\n  " + "\n  ".join(missing)
    )


def test_translations_keep_placeholders_and_are_in_latin_script() -> None:
    catalog = _read_catalog()
    assert catalog.num_plurals == 3  # Serbian: 1 odgovor, 2 odgovora, 5 odgovora
    bad = []
    for entry in catalog:
        if not entry.id:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        wanted = sorted(PLACEHOLDER.findall(ids[-1]))
        forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        for form in forms:
            if sorted(PLACEHOLDER.findall(form)) != wanted:
                bad.append(f"{ids[0]!r}: placeholders {wanted} but {form!r}")
            if CYRILLIC.search(form):
                bad.append(f"{ids[0]!r}: Cyrillic in the Latin catalog: {form!r}")
    assert not bad, "\n".join(bad)


# --- Cyrillic derived from the Latin catalog -----------------------------------------------


def _cyrillic_over(entries: dict[Any, Any]) -> CyrillicTranslations:
    catalog = Catalog(locale="sr")
    for msgid, msgstr in entries.items():
        catalog.add(msgid, msgstr)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return CyrillicTranslations(Translations(buffer))


def test_every_translation_in_cyrillic_keeps_its_placeholders_and_formats() -> None:
    with MO.open("rb") as f:
        cyr = CyrillicTranslations(Translations(f))
    for entry in _read_catalog():
        if not entry.id:
            continue
        if isinstance(entry.id, tuple):
            texts = [cyr.ngettext(entry.id[0], entry.id[1], n) for n in (1, 2, 5)]
        else:
            texts = [cyr.gettext(entry.id)]
        source = entry.id[-1] if isinstance(entry.id, tuple) else entry.id
        names = set(re.findall(r"%\((\w+)\)", source))
        for text in texts:
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(source)), text
            if names:  # the formatted text is what the citizen reads
                assert "%(" not in text % {name: 7 for name in names}, text
            if re.search(r"[a-z]{3}", PLACEHOLDER.sub("", text)) is None:
                continue
            # Latin that remains must be a word kept on purpose (Twilio, Enter, SMTP, a URL ...).
            assert CYRILLIC.search(text), f"{source!r} was not transliterated: {text!r}"


def test_cyrillic_plural_forms_follow_serbian_grammar() -> None:
    with MO.open("rb") as f:
        cyr = CyrillicTranslations(Translations(f))
    one, few = "%(num)d answer found.", "%(num)d answers found."
    got = {n: cyr.ngettext(one, few, n) % {"num": n} for n in (1, 3, 5, 11, 21, 22)}
    assert got == {
        1: "Пронађен је 1 одговор.",
        3: "Пронађена су 3 одговора.",
        5: "Пронађено је 5 одговора.",
        11: "Пронађено је 11 одговора.",
        21: "Пронађен је 21 одговор.",
        22: "Пронађена су 22 одговора.",
    }


def test_cyrillic_keeps_what_must_be_typed_or_read_as_written() -> None:
    cyr = _cyrillic_over(
        {
            "Status": "Status",  # Serbian equals English: still transliterated
            "keys": "Enter šalje, Shift+Enter prelazi u novi red. Potreban je JavaScript.",
            "sms": "Poruka (rade i STOP i START); pišite na %(address)s ili https://e.gov.rs/pomoć",
            "env": "Podesite HELPDESK_AGENT_PHONE; polje client_id; prvo 'hello'.",
        }
    )
    assert cyr.gettext("Status") == "Статус"
    assert cyr.gettext("keys") == "Enter шаље, Shift+Enter прелази у нови ред. Потребан је JavaScript."
    assert cyr.gettext("sms") == (
        "Порука (раде и STOP и START); пишите на %(address)s или https://e.gov.rs/pomoć"
    )
    assert cyr.gettext("env") == "Подесите HELPDESK_AGENT_PHONE; поље client_id; прво 'hello'."
    # A string the catalog does not have yet stays readable English, not transliterated English.
    assert cyr.gettext("A brand new string") == "A brand new string"


# --- pages ------------------------------------------------------------------------------------


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Any]:
    settings = make_settings(tmp_path, channels=("channels.chat",))
    svc = make_services(settings)
    yield create_app(settings, services=svc).test_client()
    svc.db.dispose()


def _visible_text(page: str) -> str:
    page = re.sub(r"<script.*?</script>|<style.*?</style>", " ", page, flags=re.S)
    page = re.sub(r'<input[^>]*type="hidden"[^>]*>', " ", page)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _render(client: Any, path: str, lang: str) -> str:
    response = client.get(f"{path}?lang={lang}")
    assert response.status_code == 200, path
    page: str = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in page
    return page


@pytest.mark.parametrize(
    ("path", "latin", "cyrillic", "english"),
    [
        (
            "/login",
            ["Prijava za operatere", "Lozinka"],
            ["Пријава за оператере", "Лозинка"],
            ["Agent login", "Password"],
        ),
        (
            "/chat",
            ["Čet sa podrškom", "Pošalji"],
            ["Чет са подршком", "Пошаљи"],
            ["Chat with support", "Send"],
        ),
        (
            "/help",
            ["Pomoć i odgovori", "Pretraži"],
            ["Помоћ и одговори", "Претражи"],
            ["Help and answers", "Search"],
        ),
    ],
)
def test_page_reads_in_the_chosen_language_and_script(
    client: Any, path: str, latin: list[str], cyrillic: list[str], english: list[str]
) -> None:
    lat = _visible_text(_render(client, path, "sr-Latn"))
    cyr = _visible_text(_render(client, path, "sr-Cyrl"))
    eng = _visible_text(_render(client, path, "en"))
    for text in latin:
        assert text in lat and text not in cyr and text not in eng
    for text in cyrillic:
        assert text in cyr and text not in lat
    for text in english:
        assert text in eng and text not in lat and text not in cyr
    assert "Centar za podršku" in lat and "Центар за подршку" in cyr and "Support Center" in eng
    # The Cyrillic page says exactly what the Latin one says, nothing left in English; the
    # language menu names each language in its own script on every page.
    for name in LANGUAGE_NAMES.values():
        lat, cyr = lat.replace(name, ""), cyr.replace(name, "")
    assert not CYRILLIC.search(lat)
    assert to_latin(cyr) == lat


def test_chat_script_strings_follow_the_language_with_placeholders_intact(client: Any) -> None:
    def strings(lang: str) -> dict[str, str]:
        page = _render(client, "/chat", lang)
        block = re.search(r'<script type="application/json" id="chat-strings">(.*?)</script>', page, re.S)
        assert block is not None
        data: dict[str, str] = json.loads(block.group(1))
        return data

    lat, cyr, eng = strings("sr-Latn"), strings("sr-Cyrl"), strings("en")
    assert lat.keys() == cyr.keys() == eng.keys()
    assert eng["typing"] == "%(name)s is typing…"
    assert lat["typing"] == "%(name)s piše…"
    assert cyr["typing"] == "%(name)s пише…"  # the script still finds %(name)s to fill in
    for key, value in lat.items():
        assert to_latin(cyr[key]) == value, key
        assert sorted(PLACEHOLDER.findall(cyr[key])) == sorted(PLACEHOLDER.findall(eng[key])), key


def test_language_choice_is_remembered_for_the_next_page(client: Any) -> None:
    _render(client, "/login", "sr-Cyrl")
    page = client.get("/help").get_data(as_text=True)
    assert '<html lang="sr-Cyrl">' in page and "Помоћ и одговори" in page


def test_language_picked_on_the_login_page_survives_the_login(client: Any) -> None:
    svc = client.application.extensions["helpdesk"]
    agent_id = add_agent(svc, "vesna@helpdesk.localhost")
    token = csrf_token_from(_render(client, "/login", "sr-Cyrl"))
    response = client.post(
        "/login",
        data={"email": "vesna@helpdesk.localhost", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    page = client.get("/help").get_data(as_text=True)
    assert '<html lang="sr-Cyrl">' in page and "Одјава" in page  # "Log out", in Cyrillic
    with svc.db.session() as s:  # and it is the agent's language from now on
        assert s.get(Agent, agent_id).language == "sr-Cyrl"


def test_chat_socket_errors_come_in_the_page_language(client: Any) -> None:
    socketio = client.application.extensions["socketio"]
    said = {}
    for lang in ("sr-Latn", "sr-Cyrl", "en"):
        _render(client, "/chat", lang)  # the choice lives in the session the socket shares
        sock = socketio.test_client(client.application, namespace="/chat", flask_test_client=client)
        reply = sock.emit(
            "message", {"text": "x", "client_id": "abcdefgh12"}, namespace="/chat", callback=True
        )
        sock.disconnect(namespace="/chat")
        said[lang] = reply["error"]["message"]
    assert said == {
        "sr-Latn": "Započnite razgovor porukom 'hello'.",
        "sr-Cyrl": "Започните разговор поруком 'hello'.",  # the event name stays as typed
        "en": "Start the conversation with 'hello' first.",
    }


def test_language_in_a_link_that_redirects_is_kept(client: Any) -> None:
    # "/" sends a logged-in agent on to the console without rendering anything: the ?lang= of
    # such a link (a bookmark, a mail's link) must still be the language of the page it leads to.
    svc = client.application.extensions["helpdesk"]
    add_agent(svc, "mira@helpdesk.localhost")
    token = csrf_token_from(_render(client, "/login", "en"))
    client.post(
        "/login",
        data={"email": "mira@helpdesk.localhost", "password": PASSWORD, "csrf_token": token},
    )
    assert client.get("/?lang=sr-Cyrl").status_code == 302
    page = client.get("/help").get_data(as_text=True)
    assert '<html lang="sr-Cyrl">' in page and "Одјава" in page
