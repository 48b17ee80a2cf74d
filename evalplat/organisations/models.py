"""Regions, legal-aid agencies, law firms, lawyers and the reviewer pool."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evalplat.db import enum_column, utcnow
from evalplat.extensions import Model

if TYPE_CHECKING:
    from evalplat.accounts.models import User


class RegionLevel(enum.StrEnum):
    NATION = "nation"
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"


#: The code of the one nation region, the root of the jurisdiction tree (nation → province → city → county).
NATION_CODE = "000000"
NATION_NAME = "全国"


class CaseType(enum.StrEnum):
    CRIMINAL = "criminal"
    CIVIL = "civil"
    ADMINISTRATIVE = "administrative"
    NON_LITIGATION = "non_litigation"


class ReviewerKind(enum.StrEnum):
    PEER = "peer"
    EVALUATOR = "evaluator"


class Region(Model):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(12), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    level: Mapped[RegionLevel] = mapped_column(enum_column(RegionLevel))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("regions.id"), index=True)

    parent: Mapped[Region | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Region]] = relationship(back_populates="parent")

    @property
    def is_nation(self) -> bool:
        return self.level == RegionLevel.NATION

    @property
    def display_name(self) -> str:
        """The name shown to users: the nation by its translated label (全国 / Nation), any other region by its
        name."""
        from evalplat.labels import label

        return str(label("nation")) if self.is_nation else self.name

    def __repr__(self) -> str:
        return f"<Region {self.id} {self.code} {self.level}>"

    def city(self) -> Region:
        """The prefecture-level city this region belongs to (itself for a city or province)."""
        region: Region = self
        while region.level == RegionLevel.COUNTY and region.parent is not None:
            region = region.parent
        return region


class Agency(Model):
    """A legal-aid agency (法律援助机构), attached to a city or county."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(128), unique=True)
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)

    region: Mapped[Region] = relationship(foreign_keys=[region_id])
    city: Mapped[Region] = relationship(foreign_keys=[city_id])


class Firm(Model):
    __tablename__ = "firms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128), unique=True)
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id"), index=True)

    region: Mapped[Region] = relationship(foreign_keys=[region_id])
    city: Mapped[Region] = relationship(foreign_keys=[city_id])


class Lawyer(Model):
    __tablename__ = "lawyers"
    __table_args__ = (sa.CheckConstraint("years_of_practice >= 0", name="years_nonnegative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    licence_no: Mapped[str] = mapped_column(sa.String(32), unique=True)
    firm_id: Mapped[int | None] = mapped_column(sa.ForeignKey("firms.id"), index=True)
    years_of_practice: Mapped[int] = mapped_column(default=0)
    case_types: Mapped[list[str]] = mapped_column(default=list)

    firm: Mapped[Firm | None] = relationship()


class ReviewerProfile(Model):
    """A member of the reviewer pool: a peer lawyer or a third-party evaluator."""

    __tablename__ = "reviewer_profiles"
    __table_args__ = (
        sa.CheckConstraint("capacity > 0", name="capacity_positive"),
        sa.CheckConstraint(
            "kind = 'peer' OR (firm_id IS NULL AND lawyer_id IS NULL)", name="evaluator_has_no_firm"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    kind: Mapped[ReviewerKind] = mapped_column(enum_column(ReviewerKind))
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    # The jurisdiction whose pool the reviewer belongs to (a province's expert team, a city's bar committee):
    # its organisers manage the reviewer, and campaigns of it and of its descendants may draw on the reviewer.
    jurisdiction_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    firm_id: Mapped[int | None] = mapped_column(sa.ForeignKey("firms.id"), index=True)
    lawyer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("lawyers.id"), unique=True)
    organisation: Mapped[str | None] = mapped_column(sa.String(128))
    licence_no: Mapped[str | None] = mapped_column(sa.String(32))
    years_of_practice: Mapped[int] = mapped_column(default=0)
    case_types: Mapped[list[str]] = mapped_column(default=list)
    specialties: Mapped[str] = mapped_column(sa.Text, default="")
    capacity: Mapped[int] = mapped_column(default=10)
    available_from: Mapped[datetime | None]
    available_until: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="reviewer_profile")
    region: Mapped[Region] = relationship(foreign_keys=[region_id])
    city: Mapped[Region] = relationship(foreign_keys=[city_id])
    jurisdiction: Mapped[Region] = relationship(foreign_keys=[jurisdiction_id])
    firm: Mapped[Firm | None] = relationship()
    lawyer: Mapped[Lawyer | None] = relationship()

    def can_manage(self, user: User) -> bool:
        """The organisers of the pool's jurisdiction and of the jurisdictions above it manage the reviewer."""
        return user.manages_region(self.jurisdiction_id)

    def as_engine_fields(self) -> dict[str, Any]:
        """Plain fields for the assignment engine."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "region": self.city_id,
            "firm": self.firm_id,
            "lawyer": self.lawyer_id,
            "case_types": frozenset(self.case_types or ()),
            "capacity": self.capacity,
        }
