"""Typed errors of the handoff service; `api.errors` maps them (and billing errors) to HTTP."""


class HandoffError(Exception):
    status_code = 400


class NotFound(HandoffError):
    status_code = 404


class Conflict(HandoffError):
    """E.g. a conversation another agent already claimed."""

    status_code = 409


class Forbidden(HandoffError):
    status_code = 403


class BotUnavailable(HandoffError):
    """Rasa or the action server did not answer in time."""

    status_code = 503
