"""Consent or legal basis: recorded, required before processing, withdrawn (visits to come cancelled)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock
from core.access import Actor
from core.errors import Conflict, Invalid
from core.models import Task, TaskStatus
from core.tasks import cancel_task
from plugins.care_visits.access import get_recipient, record_read, require_care_officer
from plugins.care_visits.models import Consent, ConsentState, Recipient, Scope, Visit, VisitStatus


def require_consent(recipient: Recipient, scope: Scope) -> None:
    """Processing needs a standing consent or legal basis covering ``scope``.

    422 ``consent_required`` without one; 409 ``consent_withdrawn`` once withdrawn, 409
    ``recipient_erased`` once the record is anonymised.
    """
    if recipient.erased_at is not None:
        raise Conflict("recipient_erased")
    if recipient.consent_state == ConsentState.WITHDRAWN:
        raise Conflict("consent_withdrawn", scope=scope.value)
    if recipient.consent_state != ConsentState.GIVEN or scope.value not in recipient.consent_scope:
        raise Invalid("consent_required", scope=scope.value)


def current_consents(session: so.Session, station_id: int,
                     recipient_ids: Sequence[int]) -> dict[int, Consent]:
    """The newest consent record of each recipient."""
    newest = (sa.select(sa.func.max(Consent.id)).where(
        Consent.station_id == station_id, Consent.recipient_id.in_(recipient_ids))
        .group_by(Consent.recipient_id))
    rows = session.scalars(sa.select(Consent).where(Consent.id.in_(newest)))
    return {c.recipient_id: c for c in rows}


def consent_dict(consent: Consent | None, recipient: Recipient) -> dict[str, Any]:
    result: dict[str, Any] = {"state": str(recipient.consent_state),
                              "scope": list(recipient.consent_scope)}
    if consent is not None:
        result.update(id=consent.id, basis=str(consent.basis), version=consent.version,
                      recorded_by=consent.recorded_by, recorded_at=consent.recorded_at,
                      withdrawn_at=consent.withdrawn_at)
    return result


def record_consent(session: so.Session, who: Actor, recipient: Recipient, *, basis: str,
                   scope: Sequence[str], version: str, given_by: str = "",
                   note: str = "") -> Consent:
    """Record a consent or legal basis (care officers): who recorded it, when, scope, version.

    A new record replaces the previous one as the current basis, after a withdrawal too.
    """
    require_care_officer(session, who)
    if recipient.erased_at is not None:
        raise Conflict("recipient_erased")
    scopes = sorted({Scope(s).value for s in scope})
    if not scopes:
        raise Invalid("validation_error", field="scope")
    consent = Consent(station_id=recipient.station_id, recipient_id=recipient.id, basis=basis,
                      scope=scopes, version=version, given_by=given_by, note=note,
                      recorded_by=who.user.id, recorded_at=clock.now())
    session.add(consent)
    recipient.consent_state = ConsentState.GIVEN
    recipient.consent_scope = scopes
    recipient.updated_at = clock.now()
    session.flush()
    audit.record(session, actor=who.user, role=who.role, action="care_visits.consent_recorded",
                 record=recipient, consent_id=consent.id, basis=str(basis), scope=scopes,
                 version=version)
    return consent


def withdraw_consent(session: so.Session, who: Actor, recipient_id: int,
                     note: str = "") -> Consent:
    """Withdraw the current consent: planned visits are cancelled, records kept.

    :raises Conflict: ``consent_not_given`` when there is none standing.
    """
    recipient, _ = get_recipient(session, who, recipient_id, officer=True)
    if recipient.consent_state != ConsentState.GIVEN:
        raise Conflict("consent_not_given", state=str(recipient.consent_state))
    consent = current_consents(session, recipient.station_id, [recipient.id])[recipient.id]
    now = clock.now()
    consent.withdrawn_at = now
    consent.withdrawn_by = who.user.id
    consent.withdrawal_note = note
    recipient.consent_state = ConsentState.WITHDRAWN
    recipient.updated_at = now
    cancelled = cancel_planned_visits(session, recipient, reason="consent_withdrawn")
    audit.record(session, actor=who.user, role=who.role, action="care_visits.consent_withdrawn",
                 record=recipient, consent_id=consent.id, visits_cancelled=cancelled)
    return consent


def cancel_planned_visits(session: so.Session, recipient: Recipient, *, reason: str) -> int:
    """Cancel the recipient's visits not yet begun, and their tasks (assignees are told)."""
    rows = session.execute(
        sa.select(Visit, Task).join(Task, Task.id == Visit.task_id)
        .where(Visit.station_id == recipient.station_id, Visit.recipient_id == recipient.id,
               Visit.status == VisitStatus.PLANNED)
    ).all()
    for visit, task in rows:
        visit.status = VisitStatus.CANCELLED
        visit.updated_at = clock.now()
        if task.status == TaskStatus.OPEN:
            cancel_task(session, task, reason=reason)
    session.flush()
    return len(rows)


def consent_history(session: so.Session, who: Actor, recipient_id: int) -> list[Consent]:
    """Every consent recorded for the recipient (care officers); the read is audited."""
    recipient, _ = get_recipient(session, who, recipient_id, officer=True)
    record_read(session, who, recipient, ("consents",))
    return list(session.scalars(sa.select(Consent).where(
        Consent.station_id == recipient.station_id, Consent.recipient_id == recipient.id)
        .order_by(Consent.id)))
