"""Admin accounts on Piccolo's BaseUser: only active admins get in; superusers manage the rest."""

from __future__ import annotations

import asyncio
import hmac
import unicodedata
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from piccolo.apps.user.tables import BaseUser
from piccolo.columns.combination import WhereRaw
from piccolo.query.functions.string import Lower

from domain.accounts import sessions, sql
from domain.errors import Conflict, Invalid, NotFound
from domain.platform import db, unique

MIN_PASSWORD = 8
MAX_USERNAME = 100  # piccolo_user.username is VARCHAR(100)
MAX_EMAIL = 255
FIELDS = (
    BaseUser.id,
    BaseUser.username,
    BaseUser.email,
    BaseUser.active,
    BaseUser.superuser,
    BaseUser.last_login,
)


@dataclass(frozen=True)
class Admin(db.FromRow):
    """An admin account as the admins page lists it (never its password)."""

    id: int
    username: str
    email: str
    active: bool
    superuser: bool
    last_login: datetime | None


@dataclass(frozen=True)
class SignedIn:
    """What every request needs to know about its admin."""

    superuser: bool


def check_password(password: str) -> None:
    """The rules for a new password; the message never repeats it."""
    if len(password) < MIN_PASSWORD:
        raise Invalid(
            f"the password has {len(password)} characters: use at least {MIN_PASSWORD}.",
            field="password",
        )
    if len(password) > BaseUser._max_password_length:
        raise Invalid(
            f"the password has {len(password)} characters: use at most "
            f"{BaseUser._max_password_length}.",
            field="password",
        )
    if password.startswith("pbkdf2_sha256"):
        raise Invalid(
            "the password starts with 'pbkdf2_sha256' (a stored hash): choose another.",
            field="password",
        )


def check_username(username: str) -> str:
    name = username.strip()
    if not name:
        raise Invalid("the username is empty: enter a name such as 'alice'.", field="username")
    if len(name) > MAX_USERNAME:
        raise Invalid(
            f"the username {name[:20]!r}… has {len(name)} characters: use at most {MAX_USERNAME}.",
            field="username",
        )
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise Invalid(
            f"the username {name!r} holds control or invisible characters: remove them.",
            field="username",
        )
    return name


def check_email(email: str) -> str:
    address = email.strip()
    local, _, domain = address.partition("@")
    if not local or not domain or len(address) > MAX_EMAIL or any(c.isspace() for c in address):
        raise Invalid(
            f"the email {address!r} is not an address: enter one like alice@example.com.",
            field="email",
        )
    return address


async def _hash(password: str) -> str:
    """PBKDF2 takes a good tenth of a second: off the event loop."""
    return await asyncio.to_thread(BaseUser.hash_password, password)


async def upsert_admin(username: str, email: str, password: str) -> str:
    """Create the admin, or reset its password and make it an active admin again. The operator's
    command line makes superusers: it is how the first admin, who manages the others, is made."""
    check_password(password)
    user = await BaseUser.objects().get(BaseUser.username == username)
    if user is None:
        await BaseUser.create_user(
            username=username,
            password=password,
            email=email,
            active=True,
            admin=True,
            superuser=True,
        )
        return f"created admin {username!r}"
    await BaseUser.update_password(user.id, password)
    await BaseUser.update(
        {
            BaseUser.active: True,
            BaseUser.admin: True,
            BaseUser.superuser: True,
            BaseUser.email: email,
        }
    ).where(BaseUser.id == user.id)
    return f"updated admin {username!r}"


async def authenticate(username: str, password: str) -> int | None:
    """The user id for valid credentials of an active admin, else None.

    Mirrors BaseUser.login (which returns ids of inactive users too, and hashes on the event
    loop): the PBKDF2 check runs in a thread, and `active` and `admin` are checked here.
    """
    if len(username) > 100 or len(password) > BaseUser._max_password_length:
        return None
    row = (
        await BaseUser.select(BaseUser.id, BaseUser.password, BaseUser.active, BaseUser.admin)
        .where(BaseUser.username == username)
        .first()
    )
    if row is None:
        await asyncio.to_thread(BaseUser.hash_password, password)  # same timing as a miss
        return None
    _, iterations, salt, _ = BaseUser.split_stored_password(row["password"])
    hashed = await asyncio.to_thread(BaseUser.hash_password, password, salt, int(iterations))
    if not hmac.compare_digest(hashed, row["password"]) or not (row["active"] and row["admin"]):
        return None
    await BaseUser.update({BaseUser.last_login: datetime.now()}).where(BaseUser.id == row["id"])
    return int(row["id"])


async def signed_in(user_id: int) -> SignedIn | None:
    """Checked on every request (a deactivated admin is out at once): one indexed lookup."""
    superuser = await sql.signed_in(user_id)
    return None if superuser is None else SignedIn(superuser)


async def admins() -> list[Admin]:
    """Every admin account, active or not, by name."""
    rows = await db.select(
        BaseUser.select(*FIELDS)
        .where(BaseUser.admin.eq(True))
        .order_by(Lower(BaseUser.username), BaseUser.id)
    )
    return [Admin.from_row(r) for r in rows]


async def admin(admin_id: int) -> Admin:
    row = await db.first(
        BaseUser.select(*FIELDS).where((BaseUser.id == admin_id) & BaseUser.admin.eq(True))
    )
    if row is None:
        raise _no_admin(admin_id)
    return Admin.from_row(row)


def _no_admin(admin_id: int) -> NotFound:
    return NotFound(f"there is no admin #{admin_id}: reload the list of admins.")


async def create_admin(username: str, email: str, password: str, superuser: bool) -> Admin:
    """A new active admin; a username or email already taken is a conflict naming it."""
    username, email = check_username(username), check_email(email)
    check_password(password)
    hashed = await _hash(password)
    try:
        async with db.transaction() as tx:
            await sql.lock_new_admins(tx)
            taken = await tx.run(
                BaseUser.select(BaseUser.username, BaseUser.email).where(
                    WhereRaw(
                        "lower(username) = lower({}) OR lower(email) = lower({})", username, email
                    )
                )
            )
            for row in taken:
                _refuse_taken(row["username"], username, email)
            new = BaseUser.from_dict(
                {
                    "username": username,
                    "password": hashed,  # already hashed: BaseUser keeps it as it is
                    "email": email,
                    "active": True,
                    "admin": True,
                    "superuser": superuser,
                }
            )
            rows = await tx.run(BaseUser.insert(new).returning(*FIELDS))
    except asyncpg.UniqueViolationError as exc:  # created meanwhile (the CLI takes no lock)
        raise unique.conflict(exc, "another admin") from None
    return Admin.from_row(rows[0])


def _refuse_taken(holder: str, username: str, email: str) -> None:
    """`holder`: the username of the admin who has the username or the email asked for."""
    if holder.lower() == username.lower():
        raise Conflict(
            f"the username {username!r} is taken (by {holder!r}): choose another, "
            "or reactivate that admin in the list.",
            field="username",
        )
    raise Conflict(
        f"the email {email!r} belongs to {holder!r}: use another address.", field="email"
    )


async def set_active(admin_id: int, active: bool, by: int | None) -> tuple[Admin, bool]:
    """Deactivate or reactivate an admin (`by`: the admin doing it); whether it changed.

    A deactivated admin's sessions end in the same transaction. Nobody deactivates themself,
    and the last active superuser stays, so someone can always manage the admins. Admin rows
    are locked first, so two superusers deactivating each other at once cannot both succeed.
    """
    async with db.transaction() as tx:
        rows = await sql.lock_admins(tx)
        every = [Admin.from_row(r) for r in rows]
        target = next((a for a in every if a.id == admin_id), None)
        if target is None:
            raise _no_admin(admin_id)
        if target.active == active:
            return target, False
        if not active:
            if admin_id == by:
                raise Conflict("you cannot deactivate yourself: ask another superuser to do it.")
            others = [a for a in every if a.superuser and a.active and a.id != admin_id]
            if target.superuser and not others:
                raise Conflict(
                    f"{target.username!r} is the last active superuser: make another admin "
                    "a superuser first, so someone can still manage the admins."
                )
        fresh = await tx.run(
            BaseUser.update({BaseUser.active: active})
            .where(BaseUser.id == admin_id)
            .returning(*FIELDS)
        )
        if not active:
            await sessions.end(tx, admin_id)
        return Admin.from_row(fresh[0]), True


async def reset_password(admin_id: int, password: str, keep_session: str | None = None) -> int:
    """Set an admin's password and end their sessions but `keep_session` (the one doing it,
    resetting their own); how many sessions ended."""
    check_password(password)
    hashed = await _hash(password)
    async with db.transaction() as tx:
        rows = await tx.run(
            BaseUser.update({BaseUser.password: hashed})
            .where((BaseUser.id == admin_id) & BaseUser.admin.eq(True))
            .returning(BaseUser.id)
        )
        if not rows:
            raise _no_admin(admin_id)
        return await sessions.end(tx, admin_id, keep=keep_session)
