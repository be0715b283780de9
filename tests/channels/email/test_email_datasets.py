"""The parser, loop detection and quote stripping over public, real-world mail."""

from __future__ import annotations

import json

import pytest

from channels.email.autoreply import AUTOMATIC, BOUNCE, HUMAN, classify
from channels.email.parse import parse_message
from channels.email.quotes import extract_reply, strip_quotes, strip_signature
from tests.channels.email.datasets import dataset_dir, message_files

FOLDERS = [
    "sisimai-bounces",
    "reply-talon",
    "reply-parser-github",
    "python-stdlib-testdata",
    "mikel-mail-fixtures",
    "flanker-fixtures",
]


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_message_parses_and_classifies(folder: str) -> None:
    files = message_files(folder)
    assert files, folder
    failures = []
    for path in files:
        try:
            parsed = parse_message(path.read_bytes())
            classify(parsed.message)
            assert isinstance(parsed.text, str) and isinstance(parsed.subject, str)
            if parsed.html is not None:
                assert "<script" not in parsed.html.lower()
                assert ' src="http' not in parsed.html
        except Exception as exc:  # noqa: BLE001 - collect them all, so one run names every broken file
            failures.append(f"{path.name}: {type(exc).__name__}: {exc}")
    print(f"{folder}: {len(files)} files parsed, {len(failures)} failures")
    assert not failures


def test_sisimai_bounces_and_auto_replies_are_recognized() -> None:
    root = dataset_dir("sisimai-bounces")
    expected = json.loads((root / "expected.json").read_text())
    bounces = hits = auto = auto_hits = 0
    missed = []
    for name, results in sorted(expected.items()):
        parsed = parse_message((root / name).read_bytes())
        verdict = classify(parsed.message)
        # Whatever the detail, none of them may open a ticket or get an acknowledgement.
        assert verdict.kind != HUMAN or name in _KNOWN_HUMAN_LOOKING, (name, verdict)
        if all(r["reason"] == "vacation" for r in results):
            auto += 1
            auto_hits += verdict.kind in (AUTOMATIC, BOUNCE)
        else:
            bounces += 1
            if verdict.kind == BOUNCE:
                hits += 1
            else:
                missed.append(f"{name} -> {verdict.kind} {verdict.reason}")
    rate = hits / bounces
    print(
        f"\nsisimai: bounces recognized {hits}/{bounces} = {rate:.2%}; "
        f"auto-replies {auto_hits}/{auto}; missed: {missed}"
    )
    assert auto == 5 and auto_hits == auto
    assert rate >= 0.99


# A human forwarding a bounce ("Fwd: Returned mail") and two fml mailing-list notices carry no loop
# header and no bounce format; sisimai counts them as bounces, we let the first through as a
# person's mail (which it is) and the fml ones are caught as list mail (X-MLServer).
_KNOWN_HUMAN_LOOKING = {"maildir/bsd/lhost-sendmail-14.eml"}


def test_sisimai_non_bounces_stay_human() -> None:
    root = dataset_dir("sisimai-bounces") / "maildir" / "not"
    for name in ("is-not-bounce-01.eml", "is-not-bounce-02.eml"):
        assert classify(parse_message((root / name).read_bytes()).message).kind == HUMAN, name


def test_sisimai_bounce_names_the_returned_message() -> None:
    root = dataset_dir("sisimai-bounces") / "maildir" / "bsd"
    verdict = classify(parse_message((root / "rfc3464-01.eml").read_bytes()).message)
    assert verdict.kind == BOUNCE
    assert verdict.status and verdict.status.startswith("5.")
    assert verdict.failed_recipients


def test_talon_standard_replies_strip_to_expected_text() -> None:
    root = dataset_dir("reply-talon")
    expected = json.loads((root / "expected_standard_replies.json").read_text())["expected"]
    assert len(expected) == 12
    wrong = {}
    for name, want in expected.items():
        parsed = parse_message((root / "tests/fixtures/standard_replies" / name).read_bytes())
        got = strip_quotes(parsed.text)
        if got != want:
            wrong[name] = got
    assert not wrong


@pytest.mark.parametrize("name", ["camel_case", "sparse", "long", "jeff", "short_url", "johndoeexamplecom"])
def test_talon_signature_splits(name: str) -> None:
    folder = dataset_dir("reply-talon") / "tests/fixtures/signature/emails/stripped"
    # "#sig#" marks signature lines in talon's training data; it is not part of the mail.
    body = (folder / f"{name}_body").read_text().replace("#sig#", "")
    signature = (folder / f"{name}_signature").read_text().replace("#sig#", "")
    sender = (folder / f"{name}_sender").read_text().strip()
    want = body[: len(body) - len(signature)].strip() if signature.strip() else body.strip()
    assert strip_signature(body, sender) == want


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("email_1_3.txt", "Oh thanks.\n\nHaving the function would be great.\n\n-Abhishek Kona"),
        ("email_2_1.txt", "Outlook with a reply"),
        ("email_BlackBerry.txt", "Here is another email"),
        ("correct_sig.txt", "this is an email with a correct -- signature."),
    ],
)
def test_github_reply_parser_bodies(name: str, want: str) -> None:
    # Expected strings as asserted in github/email_reply_parser's test suite.
    text = (dataset_dir("reply-parser-github") / "test" / "emails" / name).read_text()
    assert extract_reply(text) == want
