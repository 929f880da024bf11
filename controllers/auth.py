"""Sign in and out. Failed sign-ins are audited and throttled per account and per address."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import HTTPException
from litestar.params import FromQuery
from litestar.plugins.htmx import HTMXTemplate
from litestar.response import Redirect

from controllers.csrf import SESSION_KEY, fresh_token
from controllers.forms import EmptyBody, LoginBody, safe_next
from controllers.security import ROTATE
from controllers.templating import client_ip, render, user_of
from domain.accounts import audit
from domain.accounts.admins import authenticate


class AuthController(Controller):
    include_in_schema = False

    @get("/login")
    async def login_page(
        self, request: Request[Any, Any, Any], next: FromQuery[str] = "/"
    ) -> HTMXTemplate:
        return render(request, "auth/login.html", next=safe_next(next), error=None)

    @post("/login")
    async def login(self, request: Request[Any, Any, Any], data: LoginBody) -> Any:
        ip = client_ip(request)
        username = data.username.strip()[:150]
        attempt = await audit.begin_sign_in(username, ip)  # before the slow hash
        throttle = await audit.sign_in_throttle(username, ip, attempt)
        if throttle:
            await audit.end_sign_in(attempt, None)
            raise HTTPException(
                status_code=429,
                headers={"Retry-After": str(throttle.retry_after)},
                detail=f"{throttle.reason.capitalize()}: try again in {throttle.retry_after} s.",
            )
        user_id = await authenticate(username, data.password[:1024])
        await audit.end_sign_in(attempt, user_id is not None)
        if user_id is None:
            return render(
                request,
                "auth/login.html",
                status_code=400,
                next=safe_next(data.next),
                error="Wrong username or password, or the account is not an active admin.",
                username=username,
            )
        # A new session id and a new CSRF token, both kept server-side (controllers/csrf.py).
        request.set_session(
            {"uid": user_id, "username": username, SESSION_KEY: fresh_token(), ROTATE: True}
        )
        return Redirect(safe_next(data.next), status_code=303)

    @post("/logout")
    async def logout(self, request: Request[Any, Any, Any], data: EmptyBody) -> Redirect:
        user = user_of(request)
        await audit.record(user["username"], "sign_out", user["username"], "", client_ip(request))
        request.clear_session()
        return Redirect("/login", status_code=303)
