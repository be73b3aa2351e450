"""Enumerations shared across billing domains."""
import enum


class Role(str, enum.Enum):
    """Who acts. Concession limits grow from bot to supervisor."""

    customer = "customer"
    bot = "bot"
    agent = "agent"
    supervisor = "supervisor"
    admin = "admin"
    system = "system"


class Language(str, enum.Enum):
    en = "en"
    nl = "nl"
