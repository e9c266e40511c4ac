"""Mutation testing of the modules that hold the rules (mutmut), one module at a time.

For each module: copy the working tree (uncommitted changes included) to ``.mutation/<module>/``, point
mutmut at that one file and at the tests that cover it, run it, and print the share of mutants the tests
kill, with every survivor's diff. A mutant counts as killed when a test failed or timed out on it; one that
no selected test reaches counts as a survivor (a rule nobody tests is not pinned). Exits 1 when a module
scores under ``--min`` (default 90).

    scripts/mutation                       # every module in TARGETS
    scripts/mutation jobs/rules.py         # one module
    scripts/mutation --min 0               # never fails
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".mutation"
ALSO_COPY = ["templates", "static", "manage.py", "bench", "scripts"]
# every top-level package (the Django apps and the project), so a new app needs no edit here
APPS = sorted(p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name not in ("tests", *ALSO_COPY))

# module -> the tests that pin its rules. mutmut runs them all once to learn which test reaches which
# function, then each mutant runs only the tests that reach its function; still, keep the list to the tests
# written for the module (a slow test reaching a hot function runs once per mutant of it).
TARGETS: dict[str, list[str]] = {
    "notifications/ratelimit.py": [
        "tests/notifications/test_ratelimit.py",
        "tests/notifications/test_rate_bucket_edges.py",
    ],
    "insurance/premiums.py": ["tests/insurance/test_premiums.py", "tests/insurance/test_premium_edges.py"],
    "matching/scoring.py": ["tests/matching/test_scoring.py", "tests/matching/test_scoring_edges.py"],
    "core/ratelimit.py": ["tests/core/test_ratelimit_edges.py"],
    "jobs/rules.py": ["tests/jobs/test_rules.py"],
    "accounts/validators.py": ["tests/accounts/test_validators.py", "tests/accounts/test_validator_edges.py"],
    "core/masking.py": ["tests/core/test_masking.py"],
    "wallet/ledger.py": ["tests/wallet/test_ledger.py", "tests/wallet/test_ledger_edges.py"],
}
# modules whose listed tests store nothing in the database or the cache (pure functions): two mutants may run
# at once
NO_SHARED_STATE = {"matching/scoring.py"}
TIMEOUT_CONSTANT = 10  # seconds added to a mutant's expected test time before ×15 (mutmut's multiplier)
KILLED = {"killed", "timeout", "caught by type check", "segfault"}
IGNORED = {"skipped", "not checked"}


# The mutants of one module run one at a time against one test database, made by the first run and kept
# (pytest-django's --reuse-db; tests/conftest.py reads its name): migrating a fresh database for every
# mutant would cost more than the tests. It is dropped at the end.
_BASE_URL = os.environ.get("GIGMARKET_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gigmarket")


def _database_name(module: str) -> str:
    return "test_gigmarket_mutation_" + re.sub(r"\W", "_", module.removesuffix(".py"))


def _drop_database(name: str) -> None:
    try:
        conn = psycopg2.connect(_BASE_URL.rsplit("/", 1)[0] + "/postgres", connect_timeout=3)
    except psycopg2.Error:
        return  # no PostgreSQL: the tests ran on SQLite
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def _copy_tree(dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    ignore = shutil.ignore_patterns(
        ".git", ".venv", ".mutation", "mutants", "__pycache__", "media", ".test-media", "test-artifacts"
    )
    dest.mkdir(parents=True)
    for name in [*APPS, *ALSO_COPY, "tests", "pyproject.toml"]:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        elif src.exists():
            shutil.copy2(src, dest / name)
    (dest / ".venv").symlink_to(ROOT / ".venv")


def _configure(dest: Path, module: str, tests: list[str]) -> None:
    def toml_list(items: list[str]) -> str:
        return "[" + ", ".join(f'"{item}"' for item in items) + "]"

    with (dest / "pyproject.toml").open("a", encoding="utf-8") as fh:
        fh.write(
            "\n[tool.mutmut]\n"
            f"source_paths = {toml_list(APPS)}\n"
            f"only_mutate = {toml_list([module])}\n"
            f"also_copy = {toml_list(ALSO_COPY)}\n"
            f"pytest_add_cli_args_test_selection = {toml_list(tests)}\n"
            'pytest_add_cli_args = ["-q", "-p", "no:randomly", "-x", "--reuse-db"]\n'
            # Starting Django and opening the kept test database is not counted in the tests' own
            # durations: without some slack, every mutant a database test reaches would "time out" on a
            # busy machine.
            f"timeout_constant = {TIMEOUT_CONSTANT}\n"
        )


def _results(dest: Path) -> dict[str, str]:
    out = subprocess.run(
        [str(dest / ".venv/bin/mutmut"), "results", "--all", "true"],
        cwd=dest,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(re.findall(r"^\s*(\S+): (.+?)\s*$", out, flags=re.MULTILINE))


def _show(dest: Path, name: str) -> str:
    out = subprocess.run(
        [str(dest / ".venv/bin/mutmut"), "show", name], cwd=dest, capture_output=True, text=True, check=False
    ).stdout
    return "\n".join(line for line in out.splitlines() if line[:1] in "+-" and line[:3] not in ("---", "+++"))


def run_module(module: str, tests: list[str], jobs: int) -> tuple[int, int, list[tuple[str, str, str]]]:
    dest = WORK / module.replace("/", "__").removesuffix(".py")
    _copy_tree(dest)
    _configure(dest, module, tests)
    started = time.monotonic()
    database = _database_name(module)
    _drop_database(database)  # a run stopped half-way may have left one
    log = dest / "mutmut.log"
    with log.open("w") as fh:
        proc = subprocess.run(
            [str(dest / ".venv/bin/mutmut"), "run", "--max-children", str(jobs)],
            cwd=dest,
            stdout=fh,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                "PYTHONDONTWRITEBYTECODE": "1",
                "GIGMARKET_TEST_DB_NAME": database,
            },
            check=False,
        )
    _drop_database(database)
    if proc.returncode != 0:
        print(f"mutmut failed on {module} (exit {proc.returncode}); see {log}", file=sys.stderr)
        return 0, 0, []
    results = _results(dest)
    counted = {name: status for name, status in results.items() if status not in IGNORED}
    killed = sum(status in KILLED for status in counted.values())
    survivors = [
        (name, status, _show(dest, name)) for name, status in counted.items() if status not in KILLED
    ]
    print(f"  {module}: {len(counted)} mutants in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return killed, len(counted), survivors


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("modules", nargs="*", help="modules to mutate (default: all targets)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="parallel mutants (default 2 for the modules whose tests store nothing, else 1: mutants"
        " share one test database)",
    )
    parser.add_argument("--min", type=float, default=90.0, help="lowest acceptable score, in percent")
    args = parser.parse_args()
    modules = args.modules or list(TARGETS)
    unknown = [m for m in modules if m not in TARGETS]
    if unknown:
        parser.error(
            f"no tests are listed for {', '.join(unknown)}; add them to TARGETS in scripts/mutation.py"
        )

    rows, failed = [], False
    for module in modules:
        jobs = args.jobs or (2 if module in NO_SHARED_STATE else 1)
        killed, total, survivors = run_module(module, TARGETS[module], jobs)
        score = 100.0 * killed / total if total else 0.0
        failed |= score < args.min
        rows.append((module, killed, total, score))
        for name, status, diff in survivors:
            print(f"\nsurvived ({status}): {name}\n{diff}")
    print("\n| module | killed | mutants | score |\n|---|---|---|---|")
    for module, killed, total, score in rows:
        print(f"| {module} | {killed} | {total} | {score:.0f}% |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
