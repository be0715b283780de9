"""Generate triage/data/seed.csv: SYNTHETIC seed inquiries for a first triage model.

Every sentence here was written for this project from templates; none is a real citizen's
message. Each Serbian inquiry is emitted in Latin with diacritics and in Cyrillic, and some
also in Latin without diacritics (as citizens type on phones); English inquiries as written.

Run:  python -m triage.data.generate_seed   (rewrites seed.csv deterministically)
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from triage.text import fold, to_cyrillic

OUT = Path(__file__).with_name("seed.csv")
PHRASES = Path(__file__).with_name("phrases.txt")
HEADER = (
    "# SYNTHETIC SEED DATA for the Helpdesk triage model. Written from templates by\n"
    "# triage/data/generate_seed.py; no row is a real citizen's message.\n"
    "# Columns: text,label,language,script\n"
)
_SR_OPEN = ["", "", "", "Poštovani, ", "Dobar dan, ", "Zdravo, ", "Pozdrav, ", "Molim vas, "]
_SR_CLOSE = ["", "", "", " Hvala.", " Hvala unapred.", " Pozdrav.", " Molim za pomoć."]
_EN_OPEN = ["", "", "", "Hello, ", "Hi, ", "Dear support, ", "Good morning, "]
_EN_CLOSE = ["", "", "", " Thanks.", " Thank you in advance.", " Regards.", " Please help."]


def read_phrases(path: Path = PHRASES) -> dict[str, dict[str, list[str]]]:
    """{category: {"sr": [...], "en": [...]}} from the sectioned phrase file."""
    phrases: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = phrases.setdefault(line[1:-1], {"sr": [], "en": []})
        elif current is not None and line[:3] in {"sr:", "en:"}:
            current[line[:2]].append(line[3:].strip())
        else:
            raise ValueError(f"{path.name} line {n}: expected [category], sr: or en:")
    return phrases


def _join(opener: str, body: str, closer: str) -> str:
    # "Dobar dan, kako da ..." — the sentence continues after a greeting with a comma.
    if opener and body[:1].isupper() and not body[1:2].isupper() and not body.startswith("I "):
        body = body[:1].lower() + body[1:]
    return opener + body + closer


def rows(seed: int = 6) -> list[tuple[str, str, str, str]]:
    rng = random.Random(seed)
    out: list[tuple[str, str, str, str]] = []
    for label, groups in read_phrases().items():
        for sr in groups["sr"]:
            text = _join(rng.choice(_SR_OPEN), sr, rng.choice(_SR_CLOSE))
            out.append((text, label, "sr", "latn"))
            out.append((to_cyrillic(text), label, "sr", "cyrl"))
            if rng.random() < 0.5:
                out.append((fold(text).lower(), label, "sr", "latn"))
        for en in groups["en"]:
            text = _join(rng.choice(_EN_OPEN), en, rng.choice(_EN_CLOSE))
            out.append((text, label, "en", "latn"))
    return out


def main() -> None:
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER)
        writer = csv.writer(fh)
        writer.writerow(["text", "label", "language", "script"])
        writer.writerows(rows())


if __name__ == "__main__":
    main()
