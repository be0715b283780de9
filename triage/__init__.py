"""Triage: classify, prioritise and route citizen inquiries (a library; no Flask imports)."""
