"""Care-visit tables: recipients, their sensitive details apart, consents, visits and what they found."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.db import Base, JSONType


class Category(enum.StrEnum):
    DISABLED = "disabled"
    ELDERLY_ALONE = "elderly_alone"
    HARDSHIP = "hardship"
    OTHER = "other"


class Basis(enum.StrEnum):
    """The legal ground a recipient's data is processed on."""

    CONSENT = "consent"  # the recipient agreed
    GUARDIAN_CONSENT = "guardian_consent"  # a guardian agreed for them
    LEGAL_OBLIGATION = "legal_obligation"
    PUBLIC_TASK = "public_task"
    VITAL_INTERESTS = "vital_interests"


class Scope(enum.StrEnum):
    VISITS = "visits"
    SENSITIVE_DETAILS = "sensitive_details"


class ConsentState(enum.StrEnum):
    NONE = "none"
    GIVEN = "given"
    WITHDRAWN = "withdrawn"


class ServiceType(enum.StrEnum):
    HOME_VISIT = "home_visit"
    FESTIVAL_VISIT = "festival_visit"
    SUPPLIES_DELIVERY = "supplies_delivery"
    FOLLOW_UP = "follow_up"


class VisitStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    MISSED = "missed"
    CANCELLED = "cancelled"


class Review(enum.StrEnum):
    NOT_NEEDED = "not_needed"
    PENDING = "pending"  # flagged: an officer decides whether it counts
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class VisitSource(enum.StrEnum):
    PLAN = "plan"
    CAMPAIGN = "campaign"
    MANUAL = "manual"


class FollowUpStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Recipient(Base):
    """A resident the station visits: what a visit needs. Sensitive details live apart."""

    __tablename__ = "care_visits_recipient"
    __table_args__ = (sa.Index("ix_care_visits_recipient_station", "station_id", "id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    phone: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    address: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    lat: so.Mapped[float | None]
    lon: so.Mapped[float | None]
    categories: so.Mapped[list[str]] = so.mapped_column(default=list)
    needs: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    emergency_name: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    emergency_phone: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    emergency_relation: so.Mapped[str] = so.mapped_column(sa.String(60), default="")
    # Visits per year when it differs from the station's default for the categories.
    visits_per_year: so.Mapped[int | None]
    care_group_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("station_group.id", ondelete="SET NULL"), index=True)
    # The current consent, kept beside the record so every query can filter on it.
    consent_state: so.Mapped[ConsentState] = so.mapped_column(default=ConsentState.NONE)
    consent_scope: so.Mapped[list[str]] = so.mapped_column(default=list)
    # The recipient's own app account, if any: erasing that account erases this record.
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    created_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    erased_at: so.Mapped[dt.datetime | None]


class SensitiveDetails(Base):
    """Disability, health and identity: a table of its own, read only by care officers."""

    __tablename__ = "care_visits_sensitive"
    __table_args__ = (sa.UniqueConstraint("station_id", "recipient_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    recipient_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("care_visits_recipient.id"))
    disability_type: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    disability_grade: so.Mapped[str] = so.mapped_column(sa.String(20), default="")
    health_notes: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    id_number: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    updated_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class Consent(Base):
    """A consent or legal basis as recorded; withdrawal is marked on it, the row is kept."""

    __tablename__ = "care_visits_consent"
    __table_args__ = (sa.Index("ix_care_visits_consent_recipient", "station_id", "recipient_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    recipient_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("care_visits_recipient.id"))
    basis: so.Mapped[Basis]
    scope: so.Mapped[list[str]] = so.mapped_column(default=list)
    version: so.Mapped[str] = so.mapped_column(sa.String(40))
    # Who gave it when it is not the recipient (a guardian, a family member).
    given_by: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    recorded_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    withdrawn_at: so.Mapped[dt.datetime | None]
    withdrawn_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    withdrawal_note: so.Mapped[str] = so.mapped_column(sa.Text, default="")


class NamedVisitor(Base):
    """A person named to visit one recipient, whether or not in the recipient's care team."""

    __tablename__ = "care_visits_named_visitor"
    __table_args__ = (sa.UniqueConstraint("station_id", "recipient_id", "user_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    recipient_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("care_visits_recipient.id"))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class Campaign(Base):
    """A round of visits in a window (e.g. before the Spring Festival), supplies per household."""

    __tablename__ = "care_visits_campaign"
    __table_args__ = (sa.UniqueConstraint("station_id", "name"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    starts_at: so.Mapped[dt.datetime]
    ends_at: so.Mapped[dt.datetime]
    # Empty: every category.
    categories: so.Mapped[list[str]] = so.mapped_column(default=list)
    # [{"item": "rice", "quantity": 10, "unit": "kg"}, ...] planned per household.
    supplies: so.Mapped[list[Any]] = so.mapped_column(JSONType(), default=list)
    service_type: so.Mapped[ServiceType] = so.mapped_column(default=ServiceType.FESTIVAL_VISIT)
    created_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class Visit(Base):
    """One visit: a core task of the private kind ``care_visit`` plus its verified record.

    The six facts of electronic visit verification: ``service_type``, ``recipient_id``, the
    date and ``began_at``/``ended_at`` (from core check-in/out), the position checked in at,
    and ``visitor_ids``.
    """

    __tablename__ = "care_visits_visit"
    __table_args__ = (
        sa.UniqueConstraint("station_id", "task_id"),
        # One visit per recipient per campaign, however often the campaign is run.
        sa.UniqueConstraint("station_id", "campaign_id", "recipient_id"),
        sa.Index("ix_care_visits_visit_recipient_year", "station_id", "recipient_id", "year"),
        sa.Index("ix_care_visits_visit_status", "station_id", "status", "ends_at"),
        # The retention job walks a station's visits by the time they began.
        sa.Index("ix_care_visits_visit_began", "station_id", "began_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    task_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("task.id"))
    recipient_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("care_visits_recipient.id"))
    campaign_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("care_visits_campaign.id"))
    source: so.Mapped[VisitSource]
    service_type: so.Mapped[ServiceType] = so.mapped_column(default=ServiceType.HOME_VISIT)
    status: so.Mapped[VisitStatus] = so.mapped_column(default=VisitStatus.PLANNED)
    # The plan year (station time zone) the visit counts towards.
    year: so.Mapped[int]
    starts_at: so.Mapped[dt.datetime]
    ends_at: so.Mapped[dt.datetime]
    # Past this without a completed visit it is late; past ends_at it is missed.
    due_at: so.Mapped[dt.datetime]
    care_group_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("station_group.id", ondelete="SET NULL"), index=True)
    began_at: so.Mapped[dt.datetime | None]
    ended_at: so.Mapped[dt.datetime | None]
    # Where the first visitor checked in; cleared by the core's retention job after the
    # station's tasks.position_retention_days.
    lat: so.Mapped[float | None]
    lon: so.Mapped[float | None]
    distance_m: so.Mapped[float | None]
    positions_cleared_at: so.Mapped[dt.datetime | None]
    visitor_ids: so.Mapped[list[int]] = so.mapped_column(JSONType(), default=list)
    flags: so.Mapped[list[str]] = so.mapped_column(default=list)
    review: so.Mapped[Review] = so.mapped_column(default=Review.NOT_NEEDED)
    reviewed_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    review_note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    observations: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    ack_method: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    ack_code_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    ack_sent_to: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    ack_sent_at: so.Mapped[dt.datetime | None]
    # Tries at the code and codes texted, for the whole visit: a new code never resets them.
    ack_attempts: so.Mapped[int] = so.mapped_column(default=0)
    ack_sends: so.Mapped[int] = so.mapped_column(default=0)
    acknowledged_at: so.Mapped[dt.datetime | None]
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)

    @property
    def counts(self) -> bool:
        """Whether it counts as a visit made (done, and not rejected on review)."""
        return self.status == VisitStatus.DONE and self.review in (Review.NOT_NEEDED,
                                                                   Review.ACCEPTED)


class AckTextBudget(Base):
    """Acknowledgement codes texted to one phone on one station day, whatever the visit.

    The phone is kept as a digest: the count needs no number in clear.
    """

    __tablename__ = "care_visits_ack_text_budget"
    __table_args__ = (sa.UniqueConstraint("station_id", "phone_digest", "day"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    phone_digest: so.Mapped[str] = so.mapped_column(sa.String(64))
    day: so.Mapped[dt.date]
    sent: so.Mapped[int] = so.mapped_column(default=0)


class Signature(Base):
    """A recipient's signature image acknowledging a visit; kept apart, deleted on erasure."""

    __tablename__ = "care_visits_signature"
    __table_args__ = (sa.UniqueConstraint("station_id", "visit_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    visit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("care_visits_visit.id"))
    content_type: so.Mapped[str] = so.mapped_column(sa.String(32))
    data: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)
    created_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class SupplyDelivery(Base):
    """Supplies handed over at a visit; append-only (a correction is a negative quantity)."""

    __tablename__ = "care_visits_supply"
    __table_args__ = (
        sa.UniqueConstraint("station_id", "client_id"),
        sa.Index("ix_care_visits_supply_campaign", "station_id", "campaign_id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    visit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("care_visits_visit.id"), index=True)
    campaign_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("care_visits_campaign.id"))
    item: so.Mapped[str] = so.mapped_column(sa.String(60))
    quantity: so.Mapped[int]
    unit: so.Mapped[str] = so.mapped_column(sa.String(20), default="")
    client_id: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    recorded_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class FollowUp(Base):
    """A need found on a visit: an item a care officer must close."""

    __tablename__ = "care_visits_follow_up"
    __table_args__ = (
        sa.UniqueConstraint("station_id", "client_id"),
        sa.Index("ix_care_visits_follow_up_status", "station_id", "status", "opened_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    visit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("care_visits_visit.id"), index=True)
    recipient_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("care_visits_recipient.id"), index=True)
    need: so.Mapped[str] = so.mapped_column(sa.Text)
    category: so.Mapped[str] = so.mapped_column(sa.String(40), default="other")
    status: so.Mapped[FollowUpStatus] = so.mapped_column(default=FollowUpStatus.OPEN)
    client_id: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    opened_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    opened_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    closed_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    closed_at: so.Mapped[dt.datetime | None]
    resolution: so.Mapped[str] = so.mapped_column(sa.Text, default="")


class Alert(Base):
    """An alert already sent, so a daily job tells the care team once, not every day."""

    __tablename__ = "care_visits_alert"
    __table_args__ = (sa.UniqueConstraint("station_id", "kind", "subject_id", "period"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(40))
    subject_id: so.Mapped[int]
    # e.g. "2026-03" for a monthly reminder; "" for a once-only alert.
    period: so.Mapped[str] = so.mapped_column(sa.String(16), default="")
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
