"""The mutation targets stay true to the code: the modules and tests exist, the issue's areas are aimed at."""

from __future__ import annotations

import pytest

from tests.mutation import ROOT, TARGETS, WEAK_SPOTS

# Where a silent mistake costs money, privacy or a missed alert (issue 21), and the module that
# holds each. A module moved or renamed fails here rather than dropping out of the habit.
AREAS = {
    "the ledger and point rules": "core/ledger.py",
    "task lifecycle and capacity": "core/tasks.py",
    "access checks": "core/access.py",
    "care duty checks": "plugins/care_visits/access.py",
    "coupons and redemption": "plugins/anti_fraud/coupons.py",
    "patrol scan judgement": "plugins/patrol/scans.py",
    "care visit alerts (missed, late, behind plan, follow-ups)": "plugins/care_visits/alerts.py",
    "patrol gap alert": "plugins/patrol/coverage.py",
    "crossing-guard reminders, no-shows, cover requests": "plugins/crossing_guard/jobs.py",
    "the care visit review": "plugins/care_visits/visits.py",
}


def _file(test: str) -> str:
    return test.split("::")[0]


@pytest.mark.parametrize("module", sorted(TARGETS))
def test_each_target_and_its_tests_exist(module):
    assert (ROOT / module).is_file(), module
    assert TARGETS[module], f"{module} has no tests"
    for test in TARGETS[module]:
        assert (ROOT / _file(test)).is_file(), test


@pytest.mark.parametrize("area", sorted(AREAS))
def test_every_area_of_the_issue_is_targeted(area):
    assert AREAS[area] in TARGETS


def test_every_job_that_tells_someone_is_targeted():
    # The worker's jobs, core's and each plugin's: one whose module sends a notification is an
    # alert or a reminder, and a mistake in it goes unnoticed by whoever was not told.
    from core.defaults import wardens_scheduled_jobs
    from plugins.care_visits.jobs import JOBS as care
    from plugins.crossing_guard.jobs import JOBS as crossing
    from plugins.patrol.jobs import JOBS as patrol

    for job in [*wardens_scheduled_jobs(), *care, *crossing, *patrol]:
        module = job.function.__module__.replace(".", "/") + ".py"
        if "notify(" in (ROOT / module).read_text():
            assert module in TARGETS, (job.name, module)


@pytest.mark.parametrize("spot", WEAK_SPOTS, ids=lambda s: s.name)
def test_each_weak_spot_still_applies_to_its_module(spot):
    source = (ROOT / spot.module).read_text()
    assert spot.apply(source) != source
    for test in spot.tests:
        assert (ROOT / _file(test)).is_file(), test
        if "::" in test:
            assert f"def {test.split('::')[1]}(" in (ROOT / _file(test)).read_text(), test


def test_the_testing_guide_keeps_a_score_row_per_target():
    guide = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    table = guide.split("SCORES", 1)[1]
    for module in TARGETS:
        assert f"\n| {module} |" in table, f"docs/testing.md has no score row for {module}"
