"""Privacy: personal data kept out of sight (DESIGN.md §7).

``jmbg`` recognizes Serbian national ID numbers and masks them; ``vault`` keeps the full numbers
encrypted apart from the text and reveals them, audited, to an agent who may see the ticket.
Nothing here imports Flask except the console's reveal view (``views``).
"""
