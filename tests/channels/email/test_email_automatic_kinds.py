"""Survey links and chat transcripts by email: in the citizen's language, never empty."""

from __future__ import annotations

from pathlib import Path

from channels.email.sender import EmailSender
from helpdesk.outbound import TranscriptLine
from tests.channels.email.test_email_sender import envelope
from tests.conftest import make_settings


def test_survey_mail_carries_the_link_in_the_citizens_script(tmp_path: Path) -> None:
    sender = EmailSender(make_settings(tmp_path))
    msg, _, _ = sender.build(envelope(kind="survey", language="sr", script="cyrl", text="",
                                      links={"survey": "http://127.0.0.1:5000/survey/abc"}))
    body = msg.get_content()
    assert "http://127.0.0.1:5000/survey/abc" in body and "оцените" in body
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Subject"].startswith("Како смо вам помогли?")


def test_transcript_mail_lists_the_conversation(tmp_path: Path) -> None:
    sender = EmailSender(make_settings(tmp_path))
    lines = (TranscriptLine("Milica", "2026-11-23T09:01:00Z", "Ne radi mi prijava."),
             TranscriptLine("Jelena", "2026-11-23T09:02:30Z", "Pokušajte ponovo sada."))
    msg, _, _ = sender.build(envelope(kind="transcript", language="en", script="latn", text="",
                                      transcript=lines))
    body = msg.get_content()
    assert "[23.11.2026 10:01] Milica: Ne radi mi prijava." in body  # Belgrade time (CET)
    assert "Jelena: Pokušajte ponovo sada." in body
    assert msg["Subject"].startswith("Your chat transcript")
