"""The names an install starts with: the standard queues and the triage model's categories.

Administrators rename them (helpdesk/admin, `helpdesk queue rename`, `helpdesk category rename`);
these are only what a fresh install or the demo data starts from. sr-Cyrl is derived.
"""

from __future__ import annotations

TRIAGE_QUEUE = "triage"

# queue name -> (sr-Latn, en)
DEFAULT_QUEUE_NAMES: dict[str, tuple[str, str]] = {
    "triage": ("Trijaža", "Triage"),
    "accounts": ("eUprava nalozi i eID", "eGovernment accounts and eID"),
    "payments": ("Plaćanja i porezi", "Payments and taxes"),
    "documents": ("Lična dokumenta", "Personal documents"),
    "social": ("Socijalna davanja i zdravstvo", "Social benefits and health"),
    "technical": ("Tehnička podrška", "Technical support"),
    "complaints": ("Žalbe", "Complaints"),
}

# category key -> (sr-Latn, en); the keys are the triage model's labels
DEFAULT_CATEGORY_NAMES: dict[str, tuple[str, str]] = {
    "account_login": ("Nalog i prijava", "Account and login"),
    "eid_certificates": ("Elektronska identifikacija i sertifikati", "eID and certificates"),
    "payments_fees": ("Plaćanja i takse", "Payments and fees"),
    "taxes": ("Porezi", "Taxes"),
    "personal_documents": ("Lična dokumenta", "Personal documents"),
    "social_benefits": ("Socijalna davanja", "Social benefits"),
    "health_vaccination": ("Zdravstvo i vakcinacija", "Health and vaccination"),
    "technical_portal": ("Tehnički problemi portala", "Technical problems with the portal"),
    "complaints": ("Žalbe", "Complaints"),
    "other": ("Ostalo", "Other"),
}


# Where transliteration would spell a Latin acronym in Cyrillic letters ("eID" -> "еИД").
DEFAULT_CYRILLIC: dict[str, str] = {
    "accounts": "еУправа налози и eID",
}


def default_names(pair: tuple[str, str], key: str | None = None) -> dict[str, str]:
    names = {"sr-Latn": pair[0], "en": pair[1]}
    if key in DEFAULT_CYRILLIC:
        names["sr-Cyrl"] = DEFAULT_CYRILLIC[key]
    return names
