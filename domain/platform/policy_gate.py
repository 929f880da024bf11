"""A WSGI layer in front of moto's S3 server (which checks neither signatures nor POST
policies), so the embedded S3 and the tests' S3 refuse what S3 and Spaces refuse:

- a browser POST to a bucket (any POST to `/<bucket>` that carries no request signature,
  whatever its query string or type) is checked against its POST policy;
- with `signed_only`, every other request but a CORS preflight must carry a valid SigV4
  signature (Authorization header or presigned URL) from a known key: an anonymous PUT,
  POST (`?delete` included), DELETE or copy is a 403, and so is an anonymous read."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from domain.platform import request_auth

if TYPE_CHECKING:
    import threading

    from werkzeug.serving import BaseWSGIServer
from domain.platform.post_policy import PolicyRefused, check

SPOOL_BYTES = 8 * 1024 * 1024
LOOPBACK = ("127.0.0.1", "::1", "localhost")
MAX_HOSTS = 64  # the hosts whose moto backend is remembered (_dispatcher)


class PolicyGate:
    """Wraps moto's WSGI app; `secrets` maps access keys to their secrets."""

    def __init__(
        self, app: WSGIApplication, secrets: Mapping[str, str], signed_only: bool = True
    ) -> None:
        self.app = app
        self.secrets = dict(secrets)
        self.signed_only = signed_only

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        arrived = datetime.now(UTC)  # S3 judges a policy's expiry when the POST begins
        method = environ.get("REQUEST_METHOD", "")
        try:
            if self._is_browser_post(environ):
                return self._browser_post(environ, start_response, arrived)
            if self.signed_only and method != "OPTIONS":
                request_auth.verify(environ, self.secrets, arrived)
        except PolicyRefused as refused:
            return _refuse(refused, environ, start_response)
        return self.app(environ, start_response)

    def _browser_post(
        self, environ: WSGIEnvironment, start_response: StartResponse, arrived: datetime
    ) -> Iterable[bytes]:
        from werkzeug.formparser import parse_form_data
        from werkzeug.wsgi import get_input_stream

        body = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - handed on
        shutil.copyfileobj(get_input_stream(environ), body)  # Content-Length bytes, no more
        body.seek(0)
        environ["wsgi.input"] = body
        _, form, files = parse_form_data(environ)
        upload = files.get("file")
        size = 0
        if upload is not None:
            upload.stream.seek(0, 2)
            size = upload.stream.tell()
        try:
            if not str(environ.get("CONTENT_TYPE", "")).startswith("multipart/form-data"):
                raise PolicyRefused(
                    403, "AccessDenied", "A browser POST must be multipart/form-data."
                )
            check(form.to_dict(), size, self._bucket(environ), self.secrets, arrived)
        except PolicyRefused:
            body.close()
            raise
        body.seek(0)  # moto reads the form again
        environ["wsgi.input"] = body
        return self.app(environ, start_response)

    @staticmethod
    def _is_browser_post(environ: WSGIEnvironment) -> bool:
        """A POST to a bucket (path-style `/bucket`) with no request signature: moto would take
        it as a form upload (or, with `?delete`, a DeleteObjects) without any check."""
        path = environ.get("PATH_INFO", "").strip("/")
        return (
            environ.get("REQUEST_METHOD") == "POST"
            and bool(path)
            and "/" not in path
            and not request_auth.is_signed(environ)
        )

    @staticmethod
    def _bucket(environ: WSGIEnvironment) -> str:
        return str(environ.get("PATH_INFO", "")).strip("/")


def _refuse(
    refused: PolicyRefused, environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    payload = refused.xml()
    start_response(
        f"{refused.status} {'Forbidden' if refused.status == 403 else 'Bad Request'}",
        [("Content-Type", "application/xml"), ("Content-Length", str(len(payload)))]
        + _cors(environ),
    )
    return [payload]


def _cors(environ: WSGIEnvironment) -> list[tuple[str, str]]:
    """Let the page read the refusal, as moto's server answers any origin."""
    origin = environ.get("HTTP_ORIGIN")
    return [("Access-Control-Allow-Origin", origin)] if origin else []


class GatedMotoServer:
    """moto's S3 server on a loopback thread, behind the PolicyGate (moto's own
    ThreadedMotoServer, with the gate around its app). It listens on loopback only;
    `signed_only=False` lets unsigned requests other than browser POSTs through (the tests'
    fault proxies rewrite the requests they forward, which breaks their signatures)."""

    def __init__(
        self,
        port: int,
        secrets: Mapping[str, str],
        host: str = "127.0.0.1",
        *,
        signed_only: bool = True,
    ) -> None:
        if host not in LOOPBACK:
            raise ValueError(f"the embedded S3 listens on loopback only, not {host!r}")
        self.host, self.port, self.secrets = host, port, secrets
        self.signed_only = signed_only
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Serve; returns the endpoint URL."""
        import threading

        from moto.moto_server.werkzeug_app import MotoRequestHandler
        from werkzeug.serving import make_server

        moto = _dispatcher()
        app = PolicyGate(moto, self.secrets, self.signed_only)
        self._server = make_server(
            self.host, self.port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="embedded-s3", daemon=True
        )
        self._thread.start()
        return self.endpoint

    @property
    def address(self) -> str:
        """The address the server is bound to."""
        return str(self._server.server_address[0]) if self._server else self.host

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            if self._thread is not None:
                self._thread.join()
            self._server = None


def _dispatcher() -> WSGIApplication:
    """moto's dispatcher, routing as it does, without listing moto's package folder (about 150
    entries) on every request to find the service (a fifth of the embedded S3's CPU), nor
    matching the host against every service's URL patterns: each host's backend is looked up
    once. moto's own lookup was 4% of the test processes' CPU in a full run."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    found: dict[str | None, object] = {}

    class Dispatcher(DomainDispatcherApplication):
        def get_backend_for_host(self, host: str | None) -> object:
            # Called under the dispatcher's lock; hosts are service names and the hosts a
            # request's signature names (its region), so the map stays small.
            if host in found:
                return found[host]
            backend = super().get_backend_for_host(host)
            if len(found) < MAX_HOSTS:
                found[host] = backend
            return backend

    return Dispatcher(create_backend_app)
