"""What the demo's 90 days of finished orders and cases cost ``scripts/run``'s start: on a copy of a seeded
SQLite database, a re-run of ``seed_demo`` with nothing to add (the baseline) against one a month later,
which plays the ten new history days through the services (``seed_history_deals``), in the same run.

    .venv/bin/python bench/seed_history.py [--db db.sqlite3]   # a database scripts/run already seeded

Prints wall times, the cost per history order and the load average; writes nothing but a temporary copy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

RUN = """
import datetime as dt, io, sys, time, time_machine, django
django.setup()
from django.core.management import call_command
from django.utils import timezone
days = int(sys.argv[1])
with time_machine.travel(timezone.now() + dt.timedelta(days=days)):
    out = io.StringIO()
    start = time.perf_counter()
    call_command("seed_demo", "--no-progress", stdout=out, stderr=io.StringIO())
    print(f"{time.perf_counter() - start:.1f}", [line for line in out.getvalue().splitlines() if "新建" in line][0])
"""


def run(db: Path, days: int) -> tuple[float, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "gigmarket.settings.local",
           "GIGMARKET_DATABASE_URL": f"sqlite:///{db}", "PYTHONPATH": str(ROOT)}  # fmt: skip
    out = (
        subprocess.run(
            [sys.executable, "-c", RUN, str(days)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    seconds, created = out.split(" ", 1)
    return float(seconds), created


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=str(ROOT / "db.sqlite3"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "seeded.sqlite3"
        shutil.copy(args.db, db)
        print(f"load average at start: {os.getloadavg()}")
        t0 = time.time()
        base, created = run(db, 0)
        print(f"re-run, nothing to add: {base:.1f} s ({created})")
        later, created = run(db, 30)
        print(f"a month later (ten history days to add): {later:.1f} s ({created})")
        print(
            f"ratio {later / base:.2f}; about {(later - base) / 10:.2f} s per history order over the baseline"
        )
        print(f"load average at end: {os.getloadavg()} (wall {time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
