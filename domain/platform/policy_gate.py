"""A WSGI layer in front of moto's S3 server that refuses browser POSTs their policy forbids
(moto itself checks none), as real S3 and Spaces do. The embedded S3 and the tests use it."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from domain.platform.post_policy import PolicyRefused, check

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
SPOOL_BYTES = 8 * 1024 * 1024


class PolicyGate:
    """Wraps moto's WSGI app; `secrets` maps access keys to their secrets."""

    def __init__(self, app: WSGIApp, secrets: Mapping[str, str]) -> None:
        self.app = app
        self.secrets = dict(secrets)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not self._is_browser_post(environ):
            return self.app(environ, start_response)
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
            check(form.to_dict(), size, self._bucket(environ), self.secrets)
        except PolicyRefused as refused:
            body.close()
            payload = refused.xml()
            start_response(
                f"{refused.status} {'Forbidden' if refused.status == 403 else 'Bad Request'}",
                [("Content-Type", "application/xml"), ("Content-Length", str(len(payload)))]
                + _cors(environ),
            )
            return [payload]
        body.seek(0)  # moto reads the form again
        environ["wsgi.input"] = body
        return self.app(environ, start_response)

    @staticmethod
    def _is_browser_post(environ: dict[str, Any]) -> bool:
        """A form POST to a bucket (path-style `/bucket`), not a DeleteObjects call."""
        path = environ.get("PATH_INFO", "").strip("/")
        return (
            environ.get("REQUEST_METHOD") == "POST"
            and environ.get("CONTENT_TYPE", "").startswith("multipart/form-data")
            and bool(path)
            and "/" not in path
            and "delete" not in environ.get("QUERY_STRING", "")
        )

    @staticmethod
    def _bucket(environ: dict[str, Any]) -> str:
        return str(environ.get("PATH_INFO", "")).strip("/")


def _cors(environ: dict[str, Any]) -> list[tuple[str, str]]:
    """Let the page read the refusal, as moto's server answers any origin."""
    origin = environ.get("HTTP_ORIGIN")
    return [("Access-Control-Allow-Origin", origin)] if origin else []


class GatedMotoServer:
    """moto's S3 server on a loopback thread, behind the PolicyGate (moto's own
    ThreadedMotoServer, with the gate around its app)."""

    def __init__(self, port: int, secrets: Mapping[str, str], host: str = "127.0.0.1") -> None:
        self.host, self.port, self.secrets = host, port, secrets
        self._server: Any = None
        self._thread: Any = None

    def start(self) -> str:
        """Serve; returns the endpoint URL."""
        import threading

        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        app = PolicyGate(DomainDispatcherApplication(create_backend_app), self.secrets)
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
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._thread.join()
            self._server = None
