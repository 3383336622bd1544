"""The care-visits plugin's scheduled jobs: visits planned, alerts sent, daily."""

from __future__ import annotations

import datetime as dt

from core.jobs import Job
from plugins.care_visits.alerts import alert_station
from plugins.care_visits.planning import plan_station

DAILY = dt.timedelta(days=1)

JOBS = [Job("plan_visits", DAILY, plan_station), Job("alerts", DAILY, alert_station)]
