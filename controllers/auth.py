"""Sign in and out. Failed sign-ins are audited and throttled per account and per address."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import HTTPException
from litestar.params import FromQuery
from litestar.plugins.htmx import HTMXTemplate
from litestar.response import Redirect

from controllers.forms import EmptyBody, LoginBody, safe_next
from controllers.security import ROTATE
from controllers.templating import client_ip, render, user_of
from domain import audit
from domain.accounts import authenticate


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
        throttle = await audit.sign_in_throttle(username, ip)
        if throttle:
            raise HTTPException(
                status_code=429,
                headers={"Retry-After": str(throttle.retry_after)},
                detail=f"{throttle.reason.capitalize()}: try again in {throttle.retry_after} s.",
            )
        user_id = await authenticate(username, data.password[:1024])
        if user_id is None:
            await audit.record(username, "sign_in_failed", username, "wrong credentials", ip)
            return render(
                request,
                "auth/login.html",
                status_code=400,
                next=safe_next(data.next),
                error="Wrong username or password, or the account is not an active admin.",
                username=username,
            )
        request.set_session({"uid": user_id, "username": username, ROTATE: True})
        await audit.record(username, "sign_in", username, "", ip)
        return Redirect(safe_next(data.next), status_code=303)

    @post("/logout")
    async def logout(self, request: Request[Any, Any, Any], data: EmptyBody) -> Redirect:
        user = user_of(request)
        await audit.record(user["username"], "sign_out", user["username"], "", client_ip(request))
        request.clear_session()
        return Redirect("/login", status_code=303)
