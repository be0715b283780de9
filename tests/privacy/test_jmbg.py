"""JMBG recognition: checksum, date of birth and region, on real-shaped numbers."""

from __future__ import annotations

import pytest

from helpdesk.privacy import jmbg


def with_check(first12: str) -> str:
    return first12 + str(jmbg.check_digit(first12))


@pytest.mark.parametrize(
    "number",
    [
        "0101990710008",  # 1 Jan 1990, Belgrade (71)
        with_check("290298480012"),  # 29 Feb 1984 (a leap day), Novi Sad (80)
        with_check("311299917050"),  # 31 Dec 1999, Belgrade, a woman's serial (500-999)
        with_check("150500582345"),  # 15 May 2005, Subotica (82)
        with_check("010195003000"),  # 1 Jan 1950, foreigners (03)
        with_check("070797760001"),  # temporary residence (60-69)
        with_check("121296591001"),  # Kosovo and Metohija (91)
    ],
)
def test_valid_numbers_are_recognized_and_masked(number: str) -> None:
    assert jmbg.is_valid(number)
    assert jmbg.find(f"JMBG: {number}.") == [number]
    assert jmbg.mask(f"moj JMBG je {number}, hvala") == f"moj JMBG je {number[:7]}••••••, hvala"


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("0101990710006", "bad check digit"),
        ("0101990710009", "bad check digit"),
        (with_check("310299071000"), "31 February"),
        (with_check("290298171000"), "29 Feb 1981: no leap day"),
        (with_check("011399071000"), "month 13"),
        (with_check("000199071000"), "day 0"),
        (with_check("010199020000"), "region 20 is not in use"),
        (with_check("010199040000"), "region 40 is not in use"),
        (with_check("010179971000"), "born in 2799: in the future"),
    ],
)
def test_invalid_numbers_are_left_alone(number: str, why: str) -> None:
    assert not jmbg.is_valid(number), why
    text = f"broj {number} ostaje"
    assert jmbg.mask(text) == text and jmbg.find(text) == []


def test_only_whole_13_digit_runs_count() -> None:
    valid = "0101990710008"
    assert jmbg.find("kartica 4" + valid + "21") == []  # inside a card number
    assert jmbg.mask("x" + valid + "y") == "x0101990••••••y"  # letters around are fine
    assert jmbg.find(f"{valid} i opet {valid}") == [valid]  # each once
    assert jmbg.mask("") == "" and jmbg.find(None) == []


def test_check_digit_rule_ten_and_eleven_give_zero() -> None:
    # A prefix whose weighted sum is 0 mod 11 (m = 11) or 1 mod 11 (m = 10) takes 0.
    seen = set()
    for serial in range(1000):
        first12 = f"010199071{serial:03d}"
        total = sum(w * int(d) for w, d in zip((7, 6, 5, 4, 3, 2) * 2, first12, strict=True))
        if total % 11 in (0, 1):
            assert jmbg.check_digit(first12) == 0
            seen.add(total % 11)
        else:
            assert jmbg.check_digit(first12) == 11 - total % 11
    assert seen == {0, 1}
