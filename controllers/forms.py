"""Form bodies: URL-encoded dataclasses, so a wrong or missing field is a 400 that names it."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Annotated
from urllib.parse import quote

from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

from controllers.numbers import MAX_ID
from domain.errors import Invalid

Form = Body(media_type=RequestEncodingType.URL_ENCODED)
URL_SAFE = "/?&=%#:;@!$'()*+,~-._"


@dataclass
class Checked:
    """Every form: a NUL byte in any field is a 400 naming the field (PostgreSQL text cannot
    hold one; it used to be a 500)."""

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            for text in value if isinstance(value, list) else [value]:
                if isinstance(text, str) and "\x00" in text:
                    raise Invalid(f"{item.name} holds a NUL byte (%00)", field=item.name)


@dataclass
class LoginForm(Checked):
    username: str
    password: str
    next: str = "/"


@dataclass
class SelectionForm(Checked):
    """Staged models picked with the checkboxes ("name" repeated), or with `matching` set,
    every staged model matching the list's filters `q` and `status`."""

    # One ticked box arrives as a string, several as a list: a bare list[str] was a 400.
    name: list[str] | str = field(default_factory=list)
    matching: str = ""
    q: str = ""
    status: str = ""
    draft: str = ""  # "1": activate without publishing

    def names(self) -> list[str]:
        return [self.name] if isinstance(self.name, str) else list(self.name)


@dataclass
class ActivateForm(Checked):
    """Activate one staged model; with draft=1 its production model stays unpublished."""

    draft: str = ""


@dataclass
class EmptyForm(Checked):
    """Actions that carry only the CSRF token."""

    confirm: str = ""


# Integer path and query parameters: their bounds are what controllers.numbers.strict_integers
# (every controller's guard) checks the written value against; a type without bounds is refused.
# A list's size and page are its ListSpec's (controllers/lists.py).
RowId = Annotated[int, Parameter(ge=1, le=MAX_ID, description="A row id.")]
OptionalRowId = Annotated[int | None, Parameter(ge=1, le=MAX_ID)]
LoginBody = Annotated[LoginForm, Form]
SelectionBody = Annotated[SelectionForm, Form]
ActivateBody = Annotated[ActivateForm, Form]
EmptyBody = Annotated[EmptyForm, Form]


def safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a signed-in admin to another host. What goes into
    the Location header is ASCII: names, spaces and control characters percent-encoded."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return quote(target, safe=URL_SAFE)
