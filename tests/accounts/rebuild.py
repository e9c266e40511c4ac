"""What an attacker holding a database dump (but not the keys) can do with a person's stored plaintext:
count the resident ID numbers consistent with it.

The candidate space is every region code that ever existed (the attacker has python-stdnum's table too)
× every date in the stored birth year × every sequence number × the check digit, filtered by the
characters the masks reveal. ``id_index`` is an HMAC-SHA256 under ``BLIND_INDEX_KEY``: without the key it
cannot test a candidate, so it is not counted as plaintext (the key lives outside the database).

Counting is exact without listing 10⁸ numbers: the ISO 7064 check digit depends only on the weighted sum
mod 11 of the 17 digits, so the count is a convolution of three residue histograms (region, date,
sequence). ``enumerate_candidates`` lists them naively for small spaces, to check the convolution.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Iterator

from accounts.validators import id_check_digit, id_region_codes

WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
MASK = re.compile(r"(?<![\w*])([0-9A-Z]*)(\*{6,})([0-9A-Z]*)(?![\w*])")


def revealed_positions(masks: Iterable[str]) -> dict[int, str]:
    """Character positions of an 18-character ID that the masks give away. A mask of 18 characters is
    aligned as is; a longer one (a certificate number with a prefix such as ``T``) by its end."""
    known: dict[int, str] = {}
    for mask in masks:
        offset = len(mask) - 18
        if offset < 0:
            continue
        for i, ch in enumerate(mask):
            position = i - offset
            if ch != "*" and 0 <= position < 18 and (offset == 0 or i >= offset):
                known[position] = ch
    return known


def masks_in(text: str) -> list[str]:
    return ["".join(m.groups()) for m in MASK.finditer(text)]


def _residue(digits: str, start: int) -> int:
    return sum(int(d) * WEIGHTS[start + i] for i, d in enumerate(digits)) % 11


def _fits(value: str, start: int, known: dict[int, str]) -> bool:
    return all(known.get(start + i, ch) == ch for i, ch in enumerate(value))


def _regions(known) -> list[str]:
    return [c for c in sorted(id_region_codes()) if _fits(c, 0, known)]


def _dates(years: Iterable[int], known) -> list[str]:
    out = []
    for year in years:
        day = dt.date(year, 1, 1)
        while day.year == year:
            text = f"{day:%Y%m%d}"
            if _fits(text, 6, known):
                out.append(text)
            day += dt.timedelta(days=1)
    return out


def _sequences(known, gender: str | None) -> list[str]:
    parity = {"male": 1, "female": 0}.get(gender or "")
    return [
        f"{n:03d}"
        for n in range(1000)
        if _fits(f"{n:03d}", 14, known) and (parity is None or n % 2 == parity)
    ]


def count_candidates(*, known: dict[int, str], birth_years: Iterable[int], gender: str | None = None) -> int:
    regions, dates, seqs = _regions(known), _dates(birth_years, known), _sequences(known, gender)
    hist = [
        Counter(_residue(v, start) for v in values)
        for values, start in ((regions, 0), (dates, 6), (seqs, 14))
    ]
    check = known.get(17)
    total = 0
    for r1, n1 in hist[0].items():
        for r2, n2 in hist[1].items():
            for r3, n3 in hist[2].items():
                digit = "X" if (12 - (r1 + r2 + r3) % 11) % 11 == 10 else str((12 - (r1 + r2 + r3) % 11) % 11)
                if check is None or digit == check:
                    total += n1 * n2 * n3
    return total


def enumerate_candidates(
    *, known: dict[int, str], birth_years: Iterable[int], gender: str | None = None
) -> Iterator[str]:
    for region in _regions(known):
        for date in _dates(birth_years, known):
            for seq in _sequences(known, gender):
                body = region + date + seq
                number = body + id_check_digit(body)
                if _fits(number, 0, known):
                    yield number
