"""Users, their roles and the record of login attempts."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evalplat.db import enum_column, utcnow
from evalplat.extensions import Model
from evalplat.files.encrypted_type import EncryptedText

if TYPE_CHECKING:
    from evalplat.campaigns.models import Campaign
    from evalplat.organisations.models import Agency, Region, ReviewerProfile
    from evalplat.reviews.models import RubricVersion


class Role(enum.StrEnum):
    ORGANISER = "organiser"
    AGENCY_STAFF = "agency_staff"
    PEER_REVIEWER = "peer_reviewer"
    EVALUATOR = "evaluator"
    ADJUDICATOR = "adjudicator"
    # second level of the closing-file review (结案档案二级审查): the agency's reviewer (with an agency) or
    # the bureau's (without one); see evalplat.closing
    SECOND_CHECKER = "second_checker"
    # national read-only role (司法部): reads what every province publishes, manages nothing
    MINISTRY = "ministry"


REVIEWER_ROLES = frozenset({Role.PEER_REVIEWER, Role.EVALUATOR, Role.ADJUDICATOR})


class UserRole(Model):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[Role] = mapped_column(enum_column(Role), primary_key=True)


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("length(username) >= 2", name="username_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(64))
    email: Mapped[str | None] = mapped_column(sa.String(128))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    # The jurisdiction (a region of the tree nation → province → city → county) an organiser works for, or that
    # the national read-only role reads: everything it manages lies in this region's subtree.
    jurisdiction_id: Mapped[int | None] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    # Changing the token ends every session that carries the old one (logout everywhere, password change,
    # deactivation): Flask-Login's user id is "<id>:<token>".
    session_token: Mapped[str] = mapped_column(sa.String(64), default=new_session_token)
    # The second factor's secret is personal data: encrypted at rest with the key ring, like parties' names.
    # A secret being set up waits here (not in the signed session cookie) until the user proves a code.
    totp_secret: Mapped[str | None] = mapped_column("totp_secret_ciphertext", EncryptedText("users.totp_secret"))
    totp_pending: Mapped[str | None] = mapped_column(EncryptedText("users.totp_pending"))
    # The 30-second step of the last code accepted: a code is good once only.
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by=UserRole.role
    )
    agency: Mapped[Agency | None] = relationship()
    jurisdiction: Mapped[Region | None] = relationship()
    reviewer_profile: Mapped[ReviewerProfile | None] = relationship(back_populates="user")

    # Flask-Login -----------------------------------------------------------------------------------
    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    # Roles -----------------------------------------------------------------------------------------
    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(r.role for r in self.role_rows)

    def has_role(self, *roles: Role | str) -> bool:
        mine = self.roles
        return any(Role(r) in mine for r in roles)

    def set_roles(self, roles: set[Role] | frozenset[Role] | list[Role]) -> None:
        wanted = {Role(r) for r in roles}
        self.role_rows = [r for r in self.role_rows if r.role in wanted]
        have = {r.role for r in self.role_rows}
        for role in sorted(wanted - have):
            self.role_rows.append(UserRole(role=role))

    @property
    def is_organiser(self) -> bool:
        return Role.ORGANISER in self.roles

    @property
    def is_reviewer(self) -> bool:
        return bool(self.roles & REVIEWER_ROLES)

    def renew_session_token(self) -> None:
        self.session_token = new_session_token()

    # Object-level permissions ----------------------------------------------------------------------
    def can_manage_users(self) -> bool:
        return self.is_organiser and self.jurisdiction_id is not None

    def can_view_agency(self, agency_id: int | None) -> bool:
        if agency_id is None:
            return False
        if self.is_organiser:
            return self.manages_agency(agency_id)
        return Role.AGENCY_STAFF in self.roles and self.agency_id == agency_id

    # Jurisdiction (evalplat.organisations.jurisdiction) ----------------------------------------------
    @property
    def is_ministry(self) -> bool:
        return Role.MINISTRY in self.roles

    def manages_region(self, region_id: int | None) -> bool:
        """Whether the region lies in this organiser's jurisdiction (its subtree, the jurisdiction included)."""
        from evalplat.organisations.jurisdiction import is_within

        if not self.is_organiser or self.jurisdiction_id is None or region_id is None:
            return False
        return is_within(region_id, self.jurisdiction_id)

    def manages_agency(self, agency_id: int | None) -> bool:
        """Whether the agency's region lies in this organiser's jurisdiction."""
        from evalplat.organisations.jurisdiction import agency_region_id

        return agency_id is not None and self.manages_region(agency_region_id(agency_id))

    def can_manage_campaign(self, campaign: Campaign) -> bool:
        """Only organisers of the campaign's own jurisdiction run it (not its parent, not its children)."""
        return (self.is_organiser and self.jurisdiction_id is not None
                and campaign.jurisdiction_id == self.jurisdiction_id)

    def can_use_rubric(self, version: RubricVersion) -> bool:
        """Whether the organiser sees and may pin a rubric version: its jurisdiction's or an ancestor's."""
        from evalplat.organisations.jurisdiction import ancestor_region_ids

        return (self.is_organiser and self.jurisdiction_id is not None
                and version.jurisdiction_id in ancestor_region_ids(self.jurisdiction_id))

    def can_manage_rubric(self, version: RubricVersion) -> bool:
        """Only its owner's organisers revise a version in place (anyone who uses it may derive a new one)."""
        return (self.is_organiser and self.jurisdiction_id is not None
                and version.jurisdiction_id == self.jurisdiction_id)

    def can_read_campaign(self, campaign: Campaign) -> bool:
        """Its own jurisdiction's campaigns in any state; a sub-jurisdiction's once published (a higher level
        reads what a lower one publishes); the national read-only role every published campaign. Never an
        ancestor's or a sibling's campaign as a whole (a city sees a province's results for its own agencies
        through the results queries, not the campaign)."""
        if self.can_manage_campaign(campaign):
            return True
        if not campaign.results_published:
            return False
        if self.is_ministry:
            return True
        return self.manages_region(campaign.jurisdiction_id)


class LoginAttempt(Model):
    """Every login attempt, kept in the database so throttling holds across worker processes."""

    __tablename__ = "login_attempts"
    __table_args__ = (sa.Index("ix_login_attempts_username_at", "username", "at"),
                      sa.Index("ix_login_attempts_address_at", "address", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64))
    address: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    success: Mapped[bool] = mapped_column(default=False)
    # Refused unexamined because the account or address was still waiting (evalplat.accounts.throttle):
    # kept on record, not counted as a failure.
    throttled: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # An organiser cleared the throttle: the failure stays on record but no longer counts.
    cleared: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
