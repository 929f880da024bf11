"""Form bodies: URL-encoded dataclasses, so a wrong or missing field is a 400 that names it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

Form = Body(media_type=RequestEncodingType.URL_ENCODED)


@dataclass
class LoginForm:
    username: str
    password: str
    next: str = "/"


@dataclass
class SelectionForm:
    """Staged models picked with the checkboxes ("name" repeated)."""

    name: list[str] = field(default_factory=list)


@dataclass
class EmptyForm:
    """Actions that carry only the CSRF token."""

    confirm: str = ""


MAX_ID = 2_147_483_647
RowId = Annotated[int, Parameter(ge=1, le=MAX_ID, description="A row id.")]
OptionalRowId = Annotated[int | None, Parameter(ge=1, le=MAX_ID)]
LoginBody = Annotated[LoginForm, Form]
SelectionBody = Annotated[SelectionForm, Form]
EmptyBody = Annotated[EmptyForm, Form]


def safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a signed-in admin to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]
