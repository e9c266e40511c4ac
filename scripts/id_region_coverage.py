"""How many of python-stdnum's region codes accept a resident born in a given year (default 1970), with
stdnum's ``ric.validate`` (the code must have existed at birth) and with ``accounts.validators``.

    .venv/bin/python scripts/id_region_coverage.py [YEAR]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gigmarket.settings.test")

import django

django.setup()

from django.core.exceptions import ValidationError  # noqa: E402
from stdnum import exceptions as stdnum_errors  # noqa: E402
from stdnum import numdb  # noqa: E402
from stdnum.cn import ric  # noqa: E402

from accounts.validators import id_check_digit, id_region_codes, normalize_id_number  # noqa: E402


def main(year: int) -> None:
    table = numdb.get("cn/loc")
    # stdnum's own table only (our list adds the 830000 residence permits)
    codes = sorted(c for c in id_region_codes() if any("county" in props for _p, props in table.info(c)))
    before = after = 0
    for code in codes:
        body = f"{code}{year}0615001"
        number = body + id_check_digit(body)
        try:
            ric.validate(number)
            before += 1
        except stdnum_errors.ValidationError:
            pass
        try:
            normalize_id_number(number)
            after += 1
        except ValidationError:
            pass
    print(f"region codes in python-stdnum's cn/loc: {len(codes)}; born {year}-06-15")
    print(f"  accepted by stdnum ric.validate: {before} ({before / len(codes):.1%})")
    print(f"  accepted by accounts.validators: {after} ({after / len(codes):.1%})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1970)
