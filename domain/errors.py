"""Failures meant for the user: the web maps each kind to its status, the message is shown as is."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal the user can act on; the message names what is wrong and what to do, and
    `field` the form field it is about, if one (a form marks that field with the message)."""

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(DomainError, LookupError):
    """The thing asked for does not exist (HTTP 404)."""


class Invalid(DomainError, ValueError):
    """The input cannot be used (HTTP 400)."""


class Conflict(DomainError, RuntimeError):
    """The request clashes with the current state, such as a sync already going (HTTP 409)."""


class SessionEnded(DomainError, PermissionError):
    """The request's session ended (sign-out, password reset, deactivation) while it ran: its
    action is refused and the admin signs in again (HTTP 401)."""
