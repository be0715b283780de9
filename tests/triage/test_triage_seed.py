"""The seed model: categories, spelling invariance, confidence, priority and complaints."""

from __future__ import annotations

from collections import Counter

import pytest

from triage.datasets import Example
from triage.model import TriageClassifier
from triage.priority import assess
from triage.text import detect_script, fold, to_cyrillic
from triage.training import accuracy, split_for_gate

CATEGORIES = {
    "account_login", "eid_certificates", "payments_fees", "personal_documents", "taxes",
    "social_benefits", "health_vaccination", "technical_portal", "complaints", "other",
}  # fmt: skip

# New inquiries (not in the seed file), in Serbian Latin with diacritics.
INQUIRIES = [
    ("Zaboravila sam lozinku i ne mogu da uđem na eUpravu.", "account_login"),
    ("Čitač kartica ne vidi moj elektronski sertifikat.", "eid_certificates"),
    ("Platio sam taksu karticom, a zahtev i dalje čeka uplatu.", "payments_fees"),
    ("Izgubio sam pasoš, kako da dobijem novi?", "personal_documents"),
    ("Rešenje za porez na imovinu ima pogrešan iznos.", "taxes"),
    ("Dečiji dodatak nije isplaćen ovog meseca.", "social_benefits"),
    ("Kako da zakažem vakcinaciju za dete?", "health_vaccination"),
    ("Stranica se ne učitava i javlja grešku 500.", "technical_portal"),
    ("Službenik je bio bezobrazan, želim da se žalim.", "complaints"),
    ("Koje je radno vreme šaltera subotom?", "other"),
]


def test_seed_file_is_marked_synthetic_and_covers_every_category(
    seed_examples: list[Example],
) -> None:
    from triage.datasets import SEED_PATH

    assert "SYNTHETIC" in SEED_PATH.read_text(encoding="utf-8").splitlines()[0]
    counts = Counter(e.label for e in seed_examples)
    assert set(counts) == CATEGORIES
    assert len(seed_examples) >= 500
    assert min(counts.values()) >= 40
    scripts = Counter(detect_script(e.text) for e in seed_examples)
    assert scripts["cyrl"] >= 150 and scripts["latn"] >= 300


def test_seed_model_is_useful_on_held_out_seed(
    seed_examples: list[Example], seed_model: TriageClassifier
) -> None:
    _, gate = split_for_gate(seed_examples, [])
    acc = accuracy(seed_model, gate)
    print(f"\nseed model accuracy on the held-out slice ({len(gate)} examples): {acc:.3f}")
    assert acc >= 0.7


@pytest.mark.parametrize(("text", "category"), INQUIRIES)
def test_same_inquiry_in_every_spelling_gets_the_same_category(
    seed_model: TriageClassifier, text: str, category: str
) -> None:
    spellings = [text, to_cyrillic(text), fold(text), fold(text).lower(), text.upper()]
    preds = seed_model.predict(spellings)
    labels = {p.label for p in preds}
    assert labels == {category}, [(s, p.label) for s, p in zip(spellings, preds, strict=True)]
    # the confidence is the same too: the model sees one normalized text
    assert max(p.confidence for p in preds) - min(p.confidence for p in preds) < 1e-6


def test_english_inquiries(seed_model: TriageClassifier) -> None:
    preds = seed_model.predict(["I forgot my password and cannot log in", "My child allowance was not paid"])
    assert [p.label for p in preds] == ["account_login", "social_benefits"]


def test_confidence_is_a_probability_and_gibberish_is_unsure(seed_model: TriageClassifier) -> None:
    clear, gibberish = seed_model.predict(
        ["Zaboravio sam lozinku za nalog na portalu eUprava", "qwx zzkj plimf"]
    )
    assert 0.0 <= gibberish.confidence < clear.confidence <= 1.0
    assert clear.confidence > 0.6
    assert gibberish.confidence < 0.45
    probs = seed_model.predict_proba(["Izgubio sam ličnu kartu"])
    assert probs.shape == (1, len(CATEGORIES))
    assert abs(float(probs.sum()) - 1.0) < 1e-6


@pytest.mark.parametrize(
    ("text", "priority"),
    [
        ("HITNO! Sutra mi ističe rok za žalbu sudu.", "urgent"),
        ("Хитно ми треба потврда, рок је сутра!", "urgent"),
        ("Urgent: my lawyer says the court deadline is tomorrow", "urgent"),
        ("hitno, ne mogu da se prijavim", "high"),
        ("Advokat mi je rekao da se obratim vama.", "high"),
        ("Vozačka mi ističe za nedelju dana.", "high"),
        ("Imam predlog za poboljšanje portala.", "low"),
        ("Kako da promenim lozinku?", "normal"),
        ("I'd like to know how to change my password.", "normal"),
    ],
)
def test_priority_cues(text: str, priority: str) -> None:
    assert assess(text).priority == priority


def test_complaint_flag() -> None:
    assert assess("Nezadovoljan sam uslugom, niko ne odgovara.").complaint
    assert assess("Незадовољан сам услугом.").complaint
    assert assess("This is unacceptable, I want to complain.").complaint
    assert assess("Anything", category="complaints").complaint
    assert not assess("Kako da platim taksu?").complaint
