"""Mutation testing of the modules where a silent mistake costs money, privacy or an alert."""

# Run by hand, never in CI (docs/testing.md):
#     make mutate MODULE=core/ledger.py [ARGS="--again --jobs 2"]
#     .venv/bin/python -m tests.mutation --weak-spots
# Each module gets a work folder of its own, build/mutate/<slug>/, holding links to the repository
# and a setup.cfg whose [mutmut] section mutates that one module and runs only the tests that
# cover it: a run stays small, and mutmut's results for one module survive runs of another.

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "mutate"
MUTMUT = Path(sys.executable).parent / "mutmut"

# What mutmut copies next to the mutated module: the app, its migrations, its plugins.toml.
LINKED = ("core", "api", "console", "plugins", "migrations", "tests", "plugins.toml",
          "pyproject.toml")
MARKERS = "not postgres_only and not firebase_emulator and not fuzz and not browser"

# module -> the test files that cover it. Keep each list tight: every test that touches a
# mutated function runs for each of its mutants. Changing a list (or the module) makes mutmut
# judge that module's mutants again.
TARGETS: dict[str, list[str]] = {
    # money: the ledger and point rules, coupons and their redemption
    "core/ledger.py": ["tests/test_points.py", "tests/test_points_approval.py",
                       "tests/test_task_lifecycle.py",
                       "tests/plugins/care_visits/test_visit_flow.py",
                       "tests/plugins/patrol/test_patrol_flow.py"],
    "plugins/anti_fraud/coupons.py": ["tests/plugins/anti_fraud/test_coupons.py",
                                      "tests/plugins/anti_fraud/test_full_path.py"],
    # access: roles and duties
    "core/access.py": ["tests/test_access.py", "tests/test_stations.py", "tests/test_points.py"],
    "plugins/care_visits/access.py": ["tests/plugins/care_visits/test_access.py",
                                      "tests/plugins/care_visits/test_rights.py"],
    # alerts and reminders: every job that tells someone
    "plugins/care_visits/alerts.py": ["tests/plugins/care_visits/test_planning.py"],
    "plugins/patrol/coverage.py": ["tests/plugins/patrol/test_coverage.py"],
    "plugins/crossing_guard/jobs.py": ["tests/plugins/crossing_guard/test_on_the_day.py",
                                       "tests/plugins/crossing_guard/test_daylight_saving.py"],
    # the care visit review, patrol scan judgement, task lifecycle and capacity
    "plugins/care_visits/visits.py": ["tests/plugins/care_visits/test_visit_flow.py",
                                      "tests/plugins/care_visits/test_visit_records.py",
                                      "tests/plugins/care_visits/test_records.py"],
    "plugins/patrol/scans.py": ["tests/plugins/patrol/test_scan_rules.py",
                                "tests/plugins/patrol/test_patrol_flow.py"],
    "core/tasks.py": ["tests/test_tasks.py", "tests/test_task_lifecycle.py"],
}


@dataclass(frozen=True)
class WeakSpot:
    """A mistake made by hand that the named tests must catch."""

    name: str
    module: str
    changes: tuple[tuple[str, str], ...]  # (before, after), each found exactly once
    tests: tuple[str, ...]

    def apply(self, source: str) -> str:
        for before, after in self.changes:
            if source.count(before) != 1:
                raise SystemExit(f"{self.name}: {before!r} is not once in {self.module}; "
                                 "update WEAK_SPOTS")
            source = source.replace(before, after)
        return source


# The three mutations of issue 21 that once passed every test.
_REPORTS_TESTS = ("tests/plugins/anti_fraud/test_console.py::"
                  "test_still_missed_ranks_by_share_wrong_not_by_id_in_the_api_and_the_page",)
WEAK_SPOTS = (
    WeakSpot("still-missed questions sorted by question id", "plugins/anti_fraud/reports.py",
             (('return sorted(items, key=lambda i: (-(i["wrong_share"] or 0), i["question_id"]))',
               'return sorted(items, key=lambda i: i["question_id"])'),), _REPORTS_TESTS),
    WeakSpot("still-missed wrong_share hard-coded to 0", "plugins/anti_fraud/reports.py",
             (('"wrong": int(r[4] or 0), "wrong_share": _share(int(r[4] or 0), r[3])}',
               '"wrong": int(r[4] or 0), "wrong_share": 0}'),), _REPORTS_TESTS),
    WeakSpot("crossing-guard hours without the term filter", "plugins/crossing_guard/records.py",
             (("Shift.station_id == who.station.id, Shift.term_id == term.id,\n"
               "                    Assignment.status",
               "Shift.station_id == who.station.id,\n                    Assignment.status"),),
             ("tests/plugins/crossing_guard/test_console.py::"
              "test_each_terms_hours_count_only_that_terms_shifts",)),
    # Both the look-up of what was sent and the record of the sending carry the day.
    WeakSpot("care follow-up alert keyed by day (so it repeats daily)",
             "plugins/care_visits/alerts.py",
             (('FollowUp, "follow_up_overdue")\n',
               'FollowUp, "follow_up_overdue", now.date().isoformat())\n'),
              ('follow_up_id=item.id), follow_up_id=item.id,',
               'follow_up_id=item.id), period=now.date().isoformat(), follow_up_id=item.id,')),
             ("tests/plugins/care_visits/test_planning.py::"
              "test_a_follow_up_open_too_long_is_alerted_once_however_often_the_job_runs",)),
)


def slug(module: str) -> str:
    return module.removesuffix(".py").replace("/", "-")


def _environment(reuse: bool = False) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("FIREBASE_AUTH_EMULATOR_HOST", None)  # firebase-admin would skip signatures
    env.pop("WARDENS_TEST_DATABASE_URL", None)  # SQLite: each fork gets its own copy
    if reuse:
        env["WARDENS_TEST_REUSE"] = "1"  # the database and app built once per run
    return env


def prepare(module: str, fresh: bool) -> Path:
    """The module's work folder: links to the repository and its [mutmut] section."""
    folder = WORK / slug(module)
    if fresh and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        link = folder / name
        if not link.is_symlink():
            link.symlink_to(ROOT / name)
    package = module.split("/")[0]
    # tests/ and pyproject.toml are copied by mutmut anyway; the mutated package is its source.
    copied = [name for name in LINKED if name not in (package, "tests", "pyproject.toml")]
    lines = ["[mutmut]", f"source_paths = {package}", f"only_mutate = {module}",
             "also_copy =", *(f"    {name}" for name in copied),
             "pytest_add_cli_args_test_selection =", *(f"    {t}" for t in TARGETS[module]),
             # unraisableexception's gc.collect() at every session's end costs seconds on an
             # app-sized heap; a mutation run starts a session per mutant.
             "pytest_add_cli_args =", "    -p", "    no:cacheprovider", "    -p",
             "    no:unraisableexception", "    -m", f"    {MARKERS}",
             ""]
    (folder / "setup.cfg").write_text("\n".join(lines))
    return folder


def results(folder: Path) -> dict[str, str]:
    """mutant name -> mutmut's verdict (killed, survived, timeout, no tests, ...)."""
    out = subprocess.run([str(MUTMUT), "results", "--all", "true"], cwd=folder, env=_environment(),
                         capture_output=True, text=True, check=True).stdout
    verdicts = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            verdicts[name] = status
    return verdicts


def score(module: str, verdicts: dict[str, str]) -> str:
    counts = Counter(verdicts.values())
    caught = counts["killed"] + counts["timeout"]
    total = len(verdicts)
    share = f"{100 * caught / total:.1f}%" if total else "-"
    rest = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())
                     if status not in ("killed", "survived"))
    return (f"{module}: killed {caught} / {total} ({share}), survived {counts['survived']}"
            + (f" ({rest})" if rest else ""))


def mutate(module: str, *, again: bool, fresh: bool, jobs: int) -> int:
    if module not in TARGETS:
        raise SystemExit(f"{module} is not in TARGETS of tests/mutation.py: "
                         + ", ".join(sorted(TARGETS)))
    folder = prepare(module, fresh)
    names: list[str] = []
    if again:
        names = [n for n, status in results(folder).items()
                 if status in ("survived", "not checked", "suspicious")]
        if not names:
            print(score(module, results(folder)))
            return 0
    command = [str(MUTMUT), "run", "--max-children", str(jobs), *names]
    code = subprocess.run(command, cwd=folder, env=_environment(reuse=True)).returncode
    verdicts = results(folder)
    for name, status in sorted(verdicts.items()):
        if status != "killed":
            print(f"    {name}: {status}")
    print(score(module, verdicts))
    return code


def weak_spots() -> int:
    """Apply each hand mutation in place, run its tests, expect a failure, restore the file."""
    missed = []
    for spot in WEAK_SPOTS:
        path = ROOT / spot.module
        original = path.read_text()
        try:
            path.write_text(spot.apply(original))
            code = subprocess.run(
                [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", MARKERS,
                 *spot.tests], cwd=ROOT, env=_environment(), capture_output=True).returncode
        finally:
            path.write_text(original)
        caught = code == 1
        print(f"{'caught' if caught else 'MISSED'}: {spot.name} ({', '.join(spot.tests)})")
        if not caught:
            missed.append(spot.name)
    return 1 if missed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("modules", nargs="*", help="module paths from TARGETS (all when none)")
    parser.add_argument("--again", action="store_true", help="rerun only the surviving mutants")
    parser.add_argument("--fresh", action="store_true", help="forget earlier results")
    parser.add_argument("--jobs", type=int, default=1, help="mutants tested at once")
    parser.add_argument("--weak-spots", action="store_true",
                        help="check that the issue's hand mutations each fail a test")
    args = parser.parse_args(argv)
    if args.weak_spots:
        return weak_spots()
    code = 0
    for module in args.modules or list(TARGETS):
        code = mutate(module, again=args.again, fresh=args.fresh, jobs=args.jobs) or code
    return code


if __name__ == "__main__":
    sys.exit(main())
