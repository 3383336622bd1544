"""Core tables; importing this module registers them all on ``core.db.Base.metadata``."""

from core.models.accounts import AuthSession, Device, IdempotencyKey, User
from core.models.audit import AuditEvent
from core.models.jobs import JobRun, RetentionMark
from core.models.notifications import Notification
from core.models.points import PointsBalance, PointsEntry, PointsRule
from core.models.stations import Group, GroupMember, Membership, Role, Station, StationPlugin
from core.models.tasks import Assignment, AssignmentStatus, Checkin, Task, TaskStatus

__all__ = [
    "Assignment",
    "AssignmentStatus",
    "AuditEvent",
    "AuthSession",
    "Checkin",
    "Device",
    "Group",
    "GroupMember",
    "IdempotencyKey",
    "JobRun",
    "Membership",
    "Notification",
    "PointsBalance",
    "PointsEntry",
    "PointsRule",
    "RetentionMark",
    "Role",
    "Station",
    "StationPlugin",
    "Task",
    "TaskStatus",
    "User",
]
