"""Sign in and out. Failed sign-ins are audited and throttled per account and per address."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.exceptions import HTTPException
from litestar.params import FromQuery
from litestar.plugins.htmx import ClientRedirect, HTMXRequest, HTMXTemplate
from litestar.response import Redirect

from controllers.csrf import SESSION_KEY, fresh_token
from controllers.deps import ActorDep, AddressDep
from controllers.forms import EmptyBody, LoginBody, safe_next
from controllers.responses import render
from controllers.sessions import ROTATE
from domain.accounts import audit
from domain.accounts.admins import authenticate


class AuthController(Controller):
    include_in_schema = False

    @get("/login", name="login")
    async def login_page(self, request: HTMXRequest, next: FromQuery[str] = "/") -> HTMXTemplate:
        return render(request, "accounts/auth/login.html", next=safe_next(next), error=None)

    @post("/login", name="login.submit")
    async def login(
        self, request: HTMXRequest, address: AddressDep, data: LoginBody
    ) -> Response[Any]:
        username = data.username.strip()[:150]
        attempt = await audit.begin_sign_in(username, address)  # before the slow hash
        throttle = await audit.sign_in_throttle(username, address, attempt)
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
                "accounts/auth/login.html",
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

    @get("/logout", name="logout.confirm")
    async def confirm_logout(self, request: HTMXRequest) -> HTMXTemplate:
        """Where "Sign out" leads without JavaScript: the question htmx asks with confirm()."""
        return render(request, "accounts/auth/logout.html")

    @post("/logout", name="logout")
    async def logout(
        self, request: HTMXRequest, actor: ActorDep, data: EmptyBody
    ) -> Redirect | ClientRedirect:
        await actor.record("sign_out", actor.username)
        request.clear_session()
        login = request.app.route_reverse("login")
        if request.htmx:  # the whole page goes to sign-in, not a swap of the button
            redirect = ClientRedirect(login)
            redirect.status_code = 200  # 201 on a @post otherwise
            return redirect
        return Redirect(login, status_code=303)
