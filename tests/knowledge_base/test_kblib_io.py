"""Import and export formats, and the starter articles shipped as demo data."""

import json
from pathlib import Path

import pytest

from knowledge_base import KbDocument, KbIndex, markdown_to_text, render_markdown
from knowledge_base.io import ImportError_, parse_jsonl, parse_markdown, read_articles, to_markdown

STARTER = Path(__file__).resolve().parents[2] / "knowledge_base" / "data" / "starter_articles.jsonl"


def test_jsonl_rows_are_read_with_defaults():
    rows = list(
        parse_jsonl(
            [
                json.dumps({"title": "Lozinka", "body": "Tekst", "language": "sr-Cyrl"}),
                "",
                json.dumps({"title": "Fees", "body": "Pay", "language": "en", "tags": ["a"]}),
            ]
        )
    )
    assert rows[0].language == "sr" and rows[0].script == "cyrl" and rows[0].status == "published"
    assert rows[1].tags == ["a"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line.jsonl:1: not valid JSON"),
        ('{"body": "x"}', "missing title"),
        ('{"title": "x", "body": "y", "language": "de"}', "language must be"),
        ('{"title": "x", "body": "y", "tags": [1]}', "tags must be"),
        ("[1, 2]", "expected a JSON object"),
    ],
)
def test_bad_jsonl_is_refused_with_the_line(line, message):
    with pytest.raises(ImportError_, match=message):
        list(parse_jsonl([line], "line.jsonl"))


def test_markdown_front_matter_round_trip(tmp_path):
    text = (
        '---\ntitle: "Porez: rokovi"\nlanguage: sr\ntags: [porez, rok]\n'
        "category: porezi\n---\n# Rok\nTrideset dana.\n"
    )
    record = parse_markdown(text, "a.md")
    assert record.title == "Porez: rokovi" and record.tags == ["porez", "rok"]
    (tmp_path / "a.md").write_text(to_markdown(record), encoding="utf-8")
    again = read_articles(tmp_path)[0]
    assert again == record


def test_markdown_without_front_matter_is_refused(tmp_path):
    (tmp_path / "x.md").write_text("# Just a heading\n", encoding="utf-8")
    with pytest.raises(ImportError_, match="x.md: no front matter"):
        read_articles(tmp_path)


def test_markdown_rendering_is_sanitized():
    html = render_markdown("# Naslov\n\n<script>alert(1)</script> [veza](javascript:alert(1))")
    assert "<script>" not in html and "href" not in html and "<h2>Naslov</h2>" in html
    assert 'href="https://euprava.gov.rs"' in render_markdown("[x](https://euprava.gov.rs)")
    assert markdown_to_text("**Jako** i _kurziv_") == "Jako i kurziv"


def test_starter_articles_cover_three_scripts_and_are_marked_as_samples():
    records = read_articles(STARTER)
    kinds = {(r.language, r.script or "latn") for r in records}
    assert {("sr", "latn"), ("sr", "cyrl"), ("en", "")} <= kinds | {("en", "")}
    assert any(r.language == "en" for r in records)
    assert all(r.sample for r in records)
    ix = KbIndex(None)
    ix.rebuild(
        KbDocument(str(i), r.title, r.body, r.language, r.script, r.tags) for i, r in enumerate(records)
    )
    # A Latin question without diacritics finds the Cyrillic tax article.
    top = ix.search("prijava poreza na imovinu")[0]
    assert top.title == "Пријава пореза на имовину"
    ix.close()
