"""Synthetic texts for the demo history: inquiries, names and replies (no real person's data)."""

from __future__ import annotations

# (category, subject, body) in Serbian Latin; Cyrillic and ASCII-only variants are derived.
SR_INQUIRIES = [
    (
        "account_login",
        "Ne mogu da se prijavim na portal",
        "Pokušavam da se prijavim na eUprava ali mi piše da je lozinka pogrešna. Resetovao sam je dva puta.",
    ),
    (
        "account_login",
        "Nalog zaključan",
        "Posle tri pokušaja nalog mi je zaključan. Kako da ga otključam?",
    ),
    (
        "eid_certificates",
        "Kvalifikovani elektronski sertifikat",
        "Čitač ne prepoznaje moju ličnu kartu sa čipom, potreban mi je sertifikat za potpisivanje.",
    ),
    (
        "eid_certificates",
        "ConsentID aplikacija",
        "Aplikacija ConsentID ne šalje kod za potvrdu prijave na telefon.",
    ),
    (
        "payments_fees",
        "Plaćanje takse nije prošlo",
        "Platio sam taksu karticom, novac je skinut ali status zahteva i dalje kaže da nije plaćeno.",
    ),
    (
        "payments_fees",
        "Povraćaj novca za dupli uplatu",
        "Greškom sam dva puta platio taksu za pasoš. Kako da dobijem novac nazad?",
    ),
    (
        "personal_documents",
        "Zakazivanje termina za ličnu kartu",
        "Želim da zakažem termin za novu ličnu kartu u policijskoj upravi, ali nema slobodnih termina.",
    ),
    (
        "personal_documents",
        "Pasoš za dete",
        "Koja dokumenta su potrebna za izdavanje pasoša za maloletno dete?",
    ),
    (
        "personal_documents",
        "Vozačka dozvola istekla",
        "Vozačka dozvola mi je istekla prošle nedelje, da li mogu da je produžim preko portala?",
    ),
    (
        "taxes",
        "Poreska prijava za imovinu",
        "Kako da podnesem poresku prijavu za porez na imovinu za stan koji sam kupio?",
    ),
    (
        "social_benefits",
        "Dečiji dodatak",
        "Podneo sam zahtev za dečiji dodatak pre dva meseca i nemam nikakav odgovor.",
    ),
    (
        "health_vaccination",
        "Zakazivanje vakcinacije",
        "Kako da zakažem vakcinaciju protiv gripa za roditelje preko portala?",
    ),
    (
        "technical_portal",
        "Stranica se ne učitava",
        "Kada kliknem na Moji zahtevi stranica se beskonačno učitava, probao sam i drugi pregledač.",
    ),
    (
        "technical_portal",
        "Greška 500 pri slanju zahteva",
        "Prilikom slanja zahteva dobijam grešku i sve što sam uneo se izgubi.",
    ),
    (
        "complaints",
        "Žalba na rad šaltera",
        "Hitno! Tri puta sam dolazio na šalter i niko nije hteo da mi pomogne. Ovo je nedopustivo.",
    ),
    ("other", "Pitanje", "Da li portal radi vikendom i praznicima?"),
]
EN_INQUIRIES = [
    (
        "account_login",
        "Cannot log in to the portal",
        "I reset my password twice and the portal still says it is wrong.",
    ),
    (
        "eid_certificates",
        "Certificate for electronic signature",
        "My card reader does not see the chip on my ID card; I need a certificate to sign.",
    ),
    (
        "payments_fees",
        "Payment charged twice",
        "The fee for my application was charged twice to my card. Please refund one.",
    ),
    (
        "personal_documents",
        "Passport appointment",
        "How do I book an appointment for a new passport? I live abroad.",
    ),
    (
        "taxes",
        "Property tax return",
        "Where do I file the property tax return for an apartment I bought?",
    ),
    (
        "social_benefits",
        "Child allowance status",
        "I applied for child allowance two months ago and have heard nothing.",
    ),
    (
        "health_vaccination",
        "Vaccination certificate",
        "How can I download my vaccination certificate in English?",
    ),
    (
        "technical_portal",
        "Page keeps loading",
        "My requests page never finishes loading, in any browser.",
    ),
    (
        "complaints",
        "Complaint about service",
        "Urgent: nobody answered my three emails. I want to file a formal complaint.",
    ),
    ("other", "Opening hours", "Is the support center open on public holidays?"),
]
FIRST_NAMES = [
    "Milica",
    "Nikola",
    "Jovana",
    "Stefan",
    "Marija",
    "Luka",
    "Ana",
    "Đorđe",
    "Ivana",
    "Miloš",
    "Teodora",
    "Vuk",
    "Sara",
    "Petar",
    "Dragana",
    "John",
    "Emma",
    "Lazar",
    "Nevena",
    "Bojan",
]
LAST_NAMES = [
    "Jovanović",
    "Petrović",
    "Nikolić",
    "Marković",
    "Đorđević",
    "Stojanović",
    "Ilić",
    "Stanković",
    "Pavlović",
    "Milošević",
    "Popović",
    "Smith",
    "Kovačević",
    "Todorović",
]
CHANNEL_WEIGHTS = {"phone": 35, "email": 30, "chat": 25, "web": 10}
REPLIES = {
    "sr": "Poštovani, hvala na poruci. Proverili smo Vaš zahtev i problem je rešen. Srdačan pozdrav.",
    "en": "Dear citizen, thank you for your message. We checked your request and the issue is solved.",
}
