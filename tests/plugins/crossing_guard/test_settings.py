"""Settings: plugins.toml defaults are checked at start-up; a station's override applies at once."""

from __future__ import annotations

import pytest

from core.plugins import StartupError, validate_settings
from plugins.crossing_guard import settings


def test_a_bad_setting_in_plugins_toml_stops_start_up_naming_the_key(deployment):
    info = deployment.plugins["crossing_guard"].info
    with pytest.raises(StartupError, match="withdrawal_cutoff_hours"):
        validate_settings(info, {"withdrawal_cutoff_hours": -3}, where="plugins.toml")
    with pytest.raises(StartupError, match="evening_reminder_at"):
        validate_settings(info, {"evening_reminder_at": "7pm"}, where="plugins.toml")
    with pytest.raises(StartupError, match="surprise"):
        validate_settings(info, {"surprise": 1}, where="plugins.toml")


def test_defaults_and_a_station_override(crossing):
    rules = settings.for_station(crossing.session, crossing.station.id)
    assert (rules.cutoff_hours, rules.no_show_grace.total_seconds(),
            rules.evening_reminder_at.isoformat(), rules.cover_alert.total_seconds()) == \
        (12, 600, "19:00:00", 86400)
    crossing.settings(evening_reminder_at="18:30", cover_alert_hours=6)
    rules = settings.for_station(crossing.session, crossing.station.id)
    assert rules.evening_reminder_at.isoformat() == "18:30:00"
    assert rules.cover_alert.total_seconds() == 6 * 3600 and rules.cutoff_hours == 12
