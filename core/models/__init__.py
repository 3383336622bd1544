"""Core tables; importing this module registers them all on ``core.db.Base.metadata``."""

from core.models.accounts import (
    AuthSession,
    CodePurpose,
    Device,
    IdempotencyKey,
    IdentityLink,
    PhoneCode,
    User,
)
from core.models.audit import AuditEvent
from core.models.jobs import JobRun, RetentionMark
from core.models.notifications import (
    Notice,
    NoticeAudience,
    Notification,
    NotificationDelivery,
    ProviderToken,
    SendBudget,
    TextMessage,
)
from core.models.points import AdjustmentStatus, PendingAdjustment, PointsBalance, PointsEntry, PointsRule
from core.models.stations import Group, GroupMember, Membership, Role, Station, StationPlugin
from core.models.tasks import Assignment, AssignmentStatus, Checkin, Task, TaskStatus

__all__ = [
    "AdjustmentStatus",
    "Assignment",
    "AssignmentStatus",
    "AuditEvent",
    "AuthSession",
    "Checkin",
    "CodePurpose",
    "Device",
    "Group",
    "GroupMember",
    "IdempotencyKey",
    "IdentityLink",
    "JobRun",
    "Membership",
    "Notice",
    "NoticeAudience",
    "Notification",
    "NotificationDelivery",
    "PendingAdjustment",
    "PhoneCode",
    "PointsBalance",
    "PointsEntry",
    "PointsRule",
    "ProviderToken",
    "RetentionMark",
    "Role",
    "SendBudget",
    "Station",
    "StationPlugin",
    "Task",
    "TaskStatus",
    "TextMessage",
    "User",
]
