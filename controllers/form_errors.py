"""A refused form: its errors by field, and the form sent back with the admin's values kept.

A domain refusal names the field it is about (`DomainError.field`); `form_errors` files its
message under that field when the form has it, else as a message about the whole form. The
page shows each next to its field (`ui.field` in templates/_macros.html) and all of them in a
summary at the top (`ui.error_summary`). `refused` answers the refusal's own 4xx with the page,
or for htmx the form's partial, retargeted at the form it replaces (app.js swaps a 4xx that
names its target instead of toasting it)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

from litestar.plugins.htmx import HTMXHeaders, HTMXRequest, HTMXTemplate

from controllers.errors import DOMAIN_STATUS
from controllers.responses import is_fragment, render_context
from domain.errors import DomainError


def sentence(message: str) -> str:
    """Domain messages start in lower case ("slug 'x' is taken ..."): shown alone, a capital;
    but a field as written stays so ("schedule='x' ...", "display_order=...")."""
    if re.match(r"[a-z]+ ", message):
        return message[:1].upper() + message[1:]
    return message


class FormErrors:
    """Messages by field name, and those about no one field of the form (under "")."""

    def __init__(self, by_field: Mapping[str, str] | None = None) -> None:
        self._by_field = dict(by_field or {})

    def __bool__(self) -> bool:
        return bool(self._by_field)

    def __contains__(self, name: object) -> bool:
        return name in self._by_field

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_field)

    def get(self, name: str, default: str = "") -> str:
        return self._by_field.get(name, default)

    def items(self) -> list[tuple[str, str]]:
        """For the summary: the form-wide messages first, then the fields' in form order."""
        return sorted(self._by_field.items(), key=lambda item: item[0] != "")


NO_ERRORS = FormErrors()


def form_errors(
    exc: DomainError, fields: Iterable[str], aliases: Mapping[str, str] | None = None
) -> FormErrors:
    """`exc`'s message under its field if the form has it (`aliases` maps a domain's name for
    a field to the form's: "file" -> "files"), else under "" (about the whole form)."""
    name = exc.field or ""
    name = (aliases or {}).get(name, name)
    return FormErrors({name if name in set(fields) else "": sentence(str(exc))})


def status_of(exc: DomainError) -> int:
    """The refusal's status, as the error pages answer it: 400 invalid, 409 conflict, ..."""
    return next((s for kind, s in DOMAIN_STATUS.items() if isinstance(exc, kind)), 400)


def refused(
    request: HTMXRequest,
    exc: DomainError,
    *,
    page: str,
    partial: str,
    target: str,
    **context: object,
) -> HTMXTemplate:
    """The page again with `context` (the form's errors and values kept), at the refusal's
    status; for htmx only `partial`, swapped over `target` (a CSS selector of its element)."""
    response = render_context(request, page, partial, context, status_code=status_of(exc))
    if is_fragment(request):
        response.headers[HTMXHeaders.RE_TARGET.value] = target
        response.headers[HTMXHeaders.RE_SWAP.value] = "outerHTML"
    return response
