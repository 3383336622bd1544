"""The visit policy: how many visits a recipient needs a year."""

from __future__ import annotations

from plugins.care_visits.models import Category, Recipient
from plugins.care_visits.settings import CareSettings


def required_visits(recipient: Recipient, station_settings: CareSettings) -> int:
    """Visits a year: the recipient's own number, else the largest of its categories' defaults."""
    if recipient.visits_per_year is not None:
        return recipient.visits_per_year
    per_category = station_settings.visits_per_year
    categories = recipient.categories or [Category.OTHER.value]
    return max(per_category.get(c, per_category["other"]) for c in categories)
