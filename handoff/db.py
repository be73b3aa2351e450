"""The handoff store: its own metadata and migrations, with the billing core's conventions."""
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from billing_core.db import NAMING_CONVENTION, Base as BillingBase


class HandoffBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = BillingBase.type_annotation_map
