"""Accounts: registration, sign-in (password, texted code, provider), sessions, reset, erasure."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock, events, notifications, passwords, phone_codes, phones, stations
from core.db import flushed
from core.errors import Conflict, Invalid, NotFound, Unauthenticated
from core.hookspecs import Identity
from core.models import (
    AuthSession,
    Checkin,
    CodePurpose,
    Device,
    GroupMember,
    IdempotencyKey,
    IdentityLink,
    Membership,
    User,
)

# A phone that retries the same refresh this soon gets the same new pair, not a logout.
REFRESH_GRACE = dt.timedelta(seconds=30)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_password(password: str, field: str = "password") -> passwords.Hashed:
    """Check and hash a chosen password; call it before the write transaction (it is slow)."""
    if len(password) < passwords.MIN_LENGTH:
        raise Invalid("weak_password", field=field, min_length=passwords.MIN_LENGTH)
    return passwords.Hashed(passwords.hash_password(password))


def find_by_phone(session: so.Session, phone: str) -> User | None:
    return session.scalar(sa.select(User).where(User.phone == phone))


def create_user(
    session: so.Session,
    *,
    phone: str,
    display_name: str,
    password: str | passwords.Hashed | None = None,
    locale: str = "zh-CN",
    phone_verified: bool = False,
    is_superuser: bool = False,
) -> User:
    """Create a person and hand them the memberships that were waiting for their phone."""
    phone = phones.normalize(phone)
    if isinstance(password, str):
        password = new_password(password)
    if find_by_phone(session, phone) is not None:
        raise Conflict("phone_taken", field="phone")
    user = User(
        phone=phone,
        display_name=display_name.strip() or phones.mask(phone),
        locale=locale,
        password_hash=password.value if password else None,
        phone_verified=phone_verified,
        is_superuser=is_superuser,
    )
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError:
        raise Conflict("phone_taken", field="phone") from None
    if phone_verified:
        claim_pending_memberships(session, user)
    return user


def claim_pending_memberships(session: so.Session, user: User) -> list[Membership]:
    """Memberships an admin created for this phone before it registered become the user's.

    Only for a verified phone: a seat (an admin's, say) waiting for a number must not go to
    whoever registers that number first with a password.
    """
    if not user.phone or not user.phone_verified:
        return []
    pending = session.scalars(
        sa.select(Membership).where(Membership.pending_phone == user.phone)
    ).all()
    for membership in pending:
        membership.user_id = user.id
        membership.pending_phone = None
    session.flush()
    for membership in pending:
        events.membership_created(session, membership)
    return list(pending)


def authenticate_password(session: so.Session, phone: str, password: str) -> User:
    """The account ``phone`` and ``password`` open; run it in a read transaction (it is slow).

    An unknown number costs the same hashing as a wrong password, so timing tells nothing.
    """
    try:
        phone = phones.normalize(phone)
    except Invalid:
        raise Unauthenticated("invalid_credentials") from None
    user = find_by_phone(session, phone)
    matches = passwords.check_password(user.password_hash if user else None, password)
    if user is None or not matches:
        raise Unauthenticated("invalid_credentials")
    return user


@dataclass(frozen=True)
class IssuedSession:
    """A session and the plain refresh token the client keeps (only its hash is stored)."""

    session: AuthSession
    refresh_token: str


def start_session(session: so.Session, user: User, provider: str = "password") -> IssuedSession:
    token = secrets.token_urlsafe(32)
    auth = AuthSession(
        user_id=user.id, refresh_hash=_digest(token), rotated_at=clock.now(), provider=provider
    )
    session.add(auth)
    session.flush()
    return IssuedSession(auth, token)


def _next_refresh_token(secret: str, token: str) -> str:
    # Derived, not random: a retry of the same refresh can be answered with the same pair.
    return hmac.new(secret.encode(), b"refresh:" + token.encode(), "sha256").hexdigest()


def rotate_session(session: so.Session, refresh_token: str, secret: str) -> IssuedSession:
    """Exchange a refresh token for the next one.

    The old token stays good for ``REFRESH_GRACE`` after it was used, returning the same new
    token; used later than that it is a stolen copy and the session is revoked.
    """
    now = clock.now()
    old_hash = _digest(refresh_token)
    new_token = _next_refresh_token(secret, refresh_token)
    result = session.execute(
        sa.update(AuthSession)
        .where(AuthSession.refresh_hash == old_hash, AuthSession.revoked_at.is_(None))
        .values(refresh_hash=_digest(new_token), previous_hash=old_hash, rotated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        rotated = session.scalars(
            sa.select(AuthSession).where(AuthSession.refresh_hash == _digest(new_token))
        ).one()
        _check_user_active(session, rotated)
        return IssuedSession(rotated, new_token)
    auth = session.scalar(sa.select(AuthSession).where(AuthSession.previous_hash == old_hash))
    if auth is None or auth.revoked_at is not None:
        raise Unauthenticated("invalid_refresh_token")
    if now - auth.rotated_at <= REFRESH_GRACE and auth.refresh_hash == _digest(new_token):
        _check_user_active(session, auth)
        return IssuedSession(auth, new_token)
    auth.revoked_at = now
    session.flush()
    # The revocation must stick although the request answers with an error.
    session.info["commit_on_error"] = True
    raise Unauthenticated("refresh_token_reused")


def _check_user_active(session: so.Session, auth: AuthSession) -> None:
    user = session.get(User, auth.user_id)
    if user is None or user.erased_at is not None:
        raise Unauthenticated("invalid_refresh_token")


def revoke_sessions(session: so.Session, user_id: int, *, keep: int | None = None) -> int:
    """End every session of a person (but ``keep``); their push devices go with them."""
    now = clock.now()
    query = sa.update(AuthSession).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
    )
    devices = sa.delete(Device).where(Device.user_id == user_id)
    if keep is not None:
        query = query.where(AuthSession.id != keep)
        devices = devices.where(sa.or_(Device.session_id.is_(None), Device.session_id != keep))
    session.execute(devices)
    return session.execute(query.values(revoked_at=now)).rowcount  # type: ignore[attr-defined]


def end_session(session: so.Session, auth_session_id: int) -> None:
    """Log out one device: its session ends and its push registration goes."""
    session.execute(sa.delete(Device).where(Device.session_id == auth_session_id))
    session.execute(
        sa.update(AuthSession)
        .where(AuthSession.id == auth_session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


def check_password_change(user: User, current: str, new: str) -> passwords.Hashed:
    """The new password hashed, if ``current`` is right; before the write transaction (slow)."""
    if not passwords.check_password(user.password_hash, current):
        raise Invalid("wrong_password", field="current_password")
    return new_password(new, field="new_password")


def change_password(session: so.Session, user: User, new: passwords.Hashed, *,
                    keep_session: int | None) -> None:
    """Set a password checked by ``check_password_change``; the other sessions end."""
    user.password_hash = new.value
    revoke_sessions(session, user.id, keep=keep_session)
    audit.record(session, actor=user, action="user.password_changed", record=user)


def erase_user(session: so.Session, user: User) -> None:
    """Account deletion: personal data anonymised, sessions revoked; counts and ledgers kept."""
    if user.erased_at is not None:
        raise NotFound("account_erased")
    for station_id in session.scalars(sa.select(Membership.station_id).where(
            Membership.user_id == user.id)).all():
        stations.withdraw_future_sign_ups(session, station_id, user.id)
    events.user_erased(session, user)
    # Where they stood is theirs: their check-ins stay (completions, counts), positions go.
    session.execute(sa.update(Checkin).where(Checkin.user_id == user.id)
                    .values(lat=None, lon=None).execution_options(synchronize_session=False))
    notifications.forget_name(session, user)
    user.phone = None
    user.display_name = f"erased-{user.id}"
    user.password_hash = None
    user.phone_verified = False
    user.erased_at = clock.now()
    revoke_sessions(session, user.id)
    session.execute(sa.delete(IdentityLink).where(IdentityLink.user_id == user.id))
    session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.user_id == user.id))
    session.execute(sa.delete(GroupMember).where(GroupMember.user_id == user.id))
    session.execute(sa.delete(Membership).where(Membership.user_id == user.id))
    audit.record(session, actor=user, action="user.erased", record=user)


# Proven phones: a texted code or an identity provider ---------------------------------------------


def sign_in_proven_phone(session: so.Session, phone: str, *, provider: str,
                         display_name: str = "") -> User:
    """The account of a person who just proved they hold ``phone`` (E.164).

    An unknown number gets a new, verified account. A number held by an account that never
    proved it (someone registered it by password) moves to a new verified account for the
    prover: the old account keeps its records but loses the number and its sessions, so a
    squatter can neither sign in to it again nor keep the seats meant for the number. Seats
    waiting for the number go to the prover.
    """
    user = find_by_phone(session, phone)
    squatter = None
    if user is not None and not user.phone_verified:
        moved = session.execute(
            sa.update(User)
            .where(User.id == user.id, User.phone == phone, User.phone_verified.is_(False))
            .values(phone=None)
        )
        if moved.rowcount:  # type: ignore[attr-defined]
            squatter = user
            revoke_sessions(session, user.id)
        user = find_by_phone(session, phone)  # None, or what a parallel prover made
    if user is None:
        try:
            user = create_user(session, phone=phone, display_name=display_name,
                               phone_verified=True)
        except Conflict:
            # A parallel first sign-in of the same number created the account: use it.
            user = find_by_phone(session, phone)
            if user is None or not user.phone_verified:
                raise
        else:
            audit.record(session, actor=user, action="user.registered", record=user,
                         provider=provider)
    if squatter is not None:
        audit.record(session, actor=user, action="user.phone_reclaimed", record=squatter,
                     provider=provider)
    return user


def sign_in_identity(session: so.Session, identity: Identity) -> tuple[User, IssuedSession]:
    """Sign in a person an identity provider vouched for; the first time creates the account.

    A subject the provider linked before (``identity_link``) opens its account, whatever the
    phone. Otherwise the phone decides: a provider that proved it (Firebase phone auth, WeChat's
    phone-number code) counts as a proven sign-in (``sign_in_proven_phone``: the same person
    by texted code is the same account, and seats waiting for the number are claimed); one that
    did not may only create an account for an unknown number, never open an existing one.
    The subject (and the provider's other ids of the person) are then linked to the account.
    """
    user = linked_user(session, identity.provider, identity.subject) if identity.subject else None
    if user is None:
        if not identity.phone:
            raise Unauthenticated("identity_phone_required", provider=identity.provider)
        phone = phones.normalize(identity.phone)
        if identity.phone_verified:
            user = sign_in_proven_phone(session, phone, provider=identity.provider,
                                        display_name=identity.display_name)
        else:
            if find_by_phone(session, phone) is not None:
                raise Unauthenticated("phone_not_proven")
            user = create_user(session, phone=phone, display_name=identity.display_name)
            audit.record(session, actor=user, action="user.registered", record=user,
                         provider=identity.provider)
    if identity.subject:
        for provider, subject in ((identity.provider, identity.subject), *identity.also):
            link_identity(session, user, provider, subject)
    return user, start_session(session, user, provider=identity.provider)


def linked_user(session: so.Session, provider: str, subject: str | None) -> User | None:
    """The account a provider's subject is linked to (never an erased one: erasure unlinks)."""
    if not subject:
        return None
    return session.scalar(sa.select(User).join(IdentityLink, IdentityLink.user_id == User.id)
                          .where(IdentityLink.provider == provider,
                                 IdentityLink.subject == subject))


def link_identity(session: so.Session, user: User, provider: str, subject: str) -> bool:
    """Link a provider's subject to ``user``; one linked to another account stays with it.

    Returns whether the subject is now the user's (new or already theirs).
    """
    link = session.scalar(sa.select(IdentityLink).where(
        IdentityLink.provider == provider, IdentityLink.subject == subject))
    if link is None:
        link = IdentityLink(user_id=user.id, provider=provider, subject=subject)
        if not flushed(session, link):  # a parallel first sign-in linked it
            link = session.scalars(sa.select(IdentityLink).where(
                IdentityLink.provider == provider, IdentityLink.subject == subject)).one()
        else:
            audit.record(session, actor=user, action="user.identity_linked", record=user,
                         provider=provider)
    if link.user_id != user.id:
        return False
    link.last_used_at = clock.now()
    return True


def identities_of(session: so.Session, user: User) -> list[IdentityLink]:
    return list(session.scalars(sa.select(IdentityLink).where(IdentityLink.user_id == user.id)
                                .order_by(IdentityLink.provider, IdentityLink.id)))


def unlink_identity(session: so.Session, user: User, provider: str) -> int:
    """The person unlinks a provider (every subject of it); they keep another way in.

    Refused (409 ``last_sign_in_method``) when the account would keep no way to sign in: no
    password, no proven phone to text a code to, no other provider.
    """
    links = identities_of(session, user)
    gone = [link for link in links if link.provider == provider]
    if not gone:
        raise NotFound("identity_not_linked")
    others = {link.provider for link in links} - {provider}
    if not (others or user.password_hash or (user.phone and user.phone_verified)):
        raise Conflict("last_sign_in_method")
    for link in gone:
        session.delete(link)
    session.flush()
    audit.record(session, actor=user, action="user.identity_unlinked", record=user,
                 provider=provider)
    return len(gone)


def send_sign_in_code(session: so.Session, phone: str, purpose: CodePurpose, secret: str,
                      locale: str = "zh-CN") -> dt.timedelta:
    """Text a sign-in or password-reset code to ``phone``, registered or not.

    The answer is the same either way (only the text's language follows the account), so
    nobody learns which numbers have accounts. Returns how long the code is good for.
    """
    phone = phones.normalize(phone)
    user = find_by_phone(session, phone)
    return phone_codes.send(session, phone, purpose, secret, user.locale if user else locale)


def sign_in_with_code(session: so.Session, phone: str, code: str,
                      secret: str) -> tuple[User, IssuedSession]:
    """Sign in with a texted code; a first sign-in creates the account (see sign_in_proven_phone)."""
    phone = phones.normalize(phone)
    phone_codes.redeem(session, phone, CodePurpose.SIGN_IN, code, secret)
    user = sign_in_proven_phone(session, phone, provider="sms")
    return user, start_session(session, user, provider="sms")


def reset_password(session: so.Session, phone: str, code: str, new: passwords.Hashed,
                   secret: str) -> tuple[User, IssuedSession]:
    """Set a new password with a texted code; every session of the account ends but the new one."""
    phone = phones.normalize(phone)
    phone_codes.redeem(session, phone, CodePurpose.PASSWORD_RESET, code, secret)
    user = sign_in_proven_phone(session, phone, provider="sms")
    user.password_hash = new.value
    revoke_sessions(session, user.id)
    audit.record(session, actor=user, action="user.password_reset", record=user)
    return user, start_session(session, user, provider="sms")


# Phone verification of a signed-in person -------------------------------------------------------


def send_phone_code(session: so.Session, user: User, secret: str) -> dt.timedelta:
    """Text a verification code to the person's phone; returns how long it is good for."""
    if user.phone_verified:
        raise Conflict("phone_already_verified")
    assert user.phone is not None
    return phone_codes.send(session, user.phone, CodePurpose.VERIFY_PHONE, secret, user.locale)


def confirm_phone(session: so.Session, user: User, code: str, secret: str) -> list[Membership]:
    """Mark the phone verified when ``code`` is the one texted; the waiting memberships follow."""
    if user.phone_verified:
        raise Conflict("phone_already_verified")
    assert user.phone is not None
    phone_codes.redeem(session, user.phone, CodePurpose.VERIFY_PHONE, code, secret)
    user.phone_verified = True
    audit.record(session, actor=user, action="user.phone_verified", record=user, provider="sms")
    return claim_pending_memberships(session, user)
