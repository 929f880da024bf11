"""What handlers are given (Litestar `Provide`): the runtime, its S3 signer, the signed-in admin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide

from controllers.security import SignedInAdmin
from domain.accounts import audit
from domain.platform.runtime import Runtime
from domain.platform.s3 import S3Service

RuntimeDep = NamedDependency[Runtime]
S3Dep = NamedDependency[S3Service]
AddressDep = NamedDependency[str]


@dataclass(frozen=True)
class Actor:
    """Who acts, as the audit log names them: the signed-in admin and the client's address."""

    username: str
    address: str

    async def record(
        self, action: str, target: str, detail: str = "", model: int | None = None
    ) -> None:
        await audit.record(self.username, action, target, detail, self.address, model)


ActorDep = NamedDependency[Actor]


def provide_address(request: Request[Any, Any, Any]) -> str:
    """The client's address (behind trusted proxies: see controllers/boundary.py)."""
    return request.client.host if request.client else ""


def provide_actor(request: Request[SignedInAdmin, Any, Any], address: AddressDep) -> Actor:
    return Actor(request.user.username, address)


def provide_s3(runtime: RuntimeDep) -> S3Service:
    """The S3 client, which signs the media URLs pages show."""
    return runtime.s3


def dependencies(runtime: Runtime) -> dict[str, Provide]:
    def provide_runtime() -> Runtime:
        return runtime

    return {
        "runtime": Provide(provide_runtime, use_cache=True, sync_to_thread=False),
        "s3": Provide(provide_s3, sync_to_thread=False),
        "address": Provide(provide_address, sync_to_thread=False),
        "actor": Provide(provide_actor, sync_to_thread=False),
    }
