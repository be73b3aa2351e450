from dataclasses import dataclass

from billing_core.enums import Role


@dataclass(frozen=True)
class Actor:
    """Who performs a write: `bot`, a staff username or a customer reference, with a role."""

    id: str
    role: Role

    @classmethod
    def bot(cls) -> "Actor":
        return cls(id="bot", role=Role.bot)

    @classmethod
    def system(cls) -> "Actor":
        return cls(id="system", role=Role.system)
