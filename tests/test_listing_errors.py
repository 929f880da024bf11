"""What a listing does with S3's error answers, without a server: the error an admin reads (which
setting to fix), which answers are retried and how often, and the request it signs. The same
paths through moto and a fault proxy are in test_retry_statuses.py; these pin each rule."""

from __future__ import annotations

import contextlib
import gzip
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import aiohttp
import pytest
from aiohttp import web
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from domain.platform import s3_listing
from domain.platform.s3_listing import FastLister, backoff, client_error
from domain.platform.s3_types import S3BucketMissing, S3CredentialsError, S3Error, explain
from domain.platform.settings import S3Settings

SETTINGS = S3Settings(
    endpoint="https://s3.example.test", key="k", secret="s", bucket="media", region="r"
)
EMPTY_PAGE = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    b"<Name>media</Name><IsTruncated>false</IsTruncated></ListBucketResult>"
)


def s3_error(code: str, message: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
        f"<Message>{message}</Message><RequestId>r1</RequestId></Error>"
    ).encode()


def test_an_s3_error_page_becomes_the_error_botocore_would_raise() -> None:
    error = client_error(404, s3_error("NoSuchBucket", "The specified bucket does not exist"))
    assert error.response["Error"] == {
        "Code": "NoSuchBucket",
        "Message": "The specified bucket does not exist",
    }
    assert error.response["ResponseMetadata"] == {"HTTPStatusCode": 404}
    assert error.operation_name == "ListObjectsV2"
    worded = explain(error, SETTINGS)
    assert isinstance(worded, S3BucketMissing)
    assert str(worded) == (
        "bucket 'media' does not exist at https://s3.example.test: "
        "check DO_SPACES_BUCKET and DO_SPACES_ENDPOINT."
    )


def test_refused_credentials_name_the_settings_to_fix() -> None:
    error = client_error(403, s3_error("SignatureDoesNotMatch", "The signature does not match"))
    worded = explain(error, SETTINGS)
    assert isinstance(worded, S3CredentialsError)
    assert "(SignatureDoesNotMatch)" in str(worded)
    assert "check DO_SPACES_KEY and DO_SPACES_SECRET" in str(worded)


def test_an_answer_that_is_not_xml_keeps_its_status_and_its_first_200_characters() -> None:
    """A proxy's HTML page: the code is the HTTP status, the message the body's start (invalid
    UTF-8 replaced, never an exception of its own)."""
    body = b"<html><body>Bad gateway \xff" + b"x" * 300
    error = client_error(502, body)
    assert error.response["Error"]["Code"] == "502"
    assert error.response["Error"]["Message"] == body[:200].decode("utf-8", "replace")
    assert len(error.response["Error"]["Message"]) == 200
    assert "\ufffd" in error.response["Error"]["Message"]


def test_an_xml_answer_without_code_or_message_is_named_by_its_status() -> None:
    error = client_error(403, b"<Error><RequestId>r1</RequestId></Error>")
    assert error.response["Error"] == {"Code": "403", "Message": ""}
    assert isinstance(explain(error, SETTINGS), S3CredentialsError)


def test_an_error_answer_never_expands_its_own_entities() -> None:
    """An answer that defines an entity for its Code is read without expanding it: it cannot
    pass itself off as another error (or grow by expansion); its status names it."""
    body = (
        b'<?xml version="1.0"?><!DOCTYPE Error [<!ENTITY c "NoSuchBucket">]>'
        b"<Error><Code>&c;</Code><Message>m</Message></Error>"
    )
    assert client_error(403, body).response["Error"] == {"Code": "403", "Message": "m"}


def test_another_s3_error_is_named_with_its_code_and_bucket() -> None:
    error = client_error(400, s3_error("InvalidArgument", "max-keys is bad"))
    worded = explain(error, SETTINGS)
    assert type(worded) is S3Error
    assert str(worded).startswith("S3 error InvalidArgument on bucket 'media': ")
    assert "max-keys is bad" in str(worded)


def test_backoff_doubles_with_each_attempt_up_to_twenty_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(random, "random", lambda: 0.75)
    assert [backoff(n) for n in (1, 2, 3, 4, 5, 6, 9)] == [0.75, 1.5, 3.0, 6.0, 12.0, 20.0, 20.0]
    monkeypatch.setattr(random, "random", lambda: 0.0)
    assert backoff(4) == 0.0


class Answers:
    """A FastLister whose GETs answer from a script instead of the network."""

    def __init__(self, answers: list[tuple[int, bytes] | BaseException], attempts: int) -> None:
        self.lister = FastLister(
            Credentials("AKIDEXAMPLE", "secret"),
            "https://s3.example.test/",
            "us-east-1",
            "my bucket",
            attempts=attempts,
            timeout=5,
        )
        self.answers = iter(answers)
        self.urls: list[str] = []
        self.headers: list[dict[str, str]] = []

        async def get(url: str) -> tuple[int, bytes]:
            self.urls.append(url)
            self.headers.append(self.lister._signed(url))
            answer = next(self.answers)
            if isinstance(answer, BaseException):
                raise answer
            return answer

        self.lister._get = get  # type: ignore[method-assign]


@pytest.fixture
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Backoff without the wait; records each attempt number it was asked for."""
    asked: list[int] = []

    def fake(attempt: int) -> float:
        asked.append(attempt)
        return 0.0

    monkeypatch.setattr(s3_listing, "backoff", fake)
    yield asked


@pytest.mark.parametrize(
    ("status", "code"),
    [(500, "InternalError"), (502, "502"), (503, "SlowDown"), (504, "504"), (400, "SlowDown"),
     (400, "RequestTimeout"), (429, "TooManyRequestsException")],
)  # fmt: skip
async def test_transient_answers_are_retried_until_one_succeeds(
    status: int, code: str, no_waiting: list[int]
) -> None:
    body = s3_error(code, "try again") if code != str(status) else b"<html>Bad gateway</html>"
    script = Answers([(status, body), (status, body), (200, EMPTY_PAGE)], 3)
    try:
        page = await script.lister.page(prefix="m/")
    finally:
        await script.lister.close()
    assert page.objects == [] and page.next_token is None
    assert len(script.urls) == 3 and no_waiting == [1, 2]


@pytest.mark.parametrize(
    ("status", "code"), [(403, "AccessDenied"), (404, "NoSuchBucket"), (400, "InvalidArgument")]
)
async def test_a_refusal_is_raised_at_once_without_a_retry(
    status: int, code: str, no_waiting: list[int]
) -> None:
    script = Answers([(status, s3_error(code, "no")), (200, EMPTY_PAGE)], 5)
    try:
        with pytest.raises(ClientError) as raised:
            await script.lister.page()
    finally:
        await script.lister.close()
    assert raised.value.response["Error"]["Code"] == code
    assert len(script.urls) == 1 and no_waiting == []


async def test_the_last_attempt_raises_its_own_error(no_waiting: list[int]) -> None:
    """Three attempts: two 503s then a dropped connection; the error is the last one's."""
    dropped = aiohttp.ServerDisconnectedError()
    script = Answers([(503, s3_error("SlowDown", "a")), (503, b""), dropped], 3)
    try:
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await script.lister.page()
    finally:
        await script.lister.close()
    assert len(script.urls) == 3 and no_waiting == [1, 2]
    timeouts = Answers([TimeoutError(), TimeoutError(), (503, s3_error("SlowDown", "b"))], 3)
    try:
        with pytest.raises(ClientError) as raised:
            await timeouts.lister.page()
    finally:
        await timeouts.lister.close()
    assert raised.value.response["Error"] == {"Code": "SlowDown", "Message": "b"}


async def test_one_attempt_is_made_even_when_asked_for_none(no_waiting: list[int]) -> None:
    script = Answers([(200, EMPTY_PAGE)], 0)
    try:
        await script.lister.page()
    finally:
        await script.lister.close()
    assert len(script.urls) == 1


async def test_the_request_asks_for_url_encoded_keys_with_only_the_parameters_given() -> None:
    """The query is sorted and RFC 3986 encoded exactly as SigV4 signs it: a space is %20, a
    slash in a value %2F, and no empty parameter is sent."""
    script = Answers([(200, EMPTY_PAGE)] * 2, 1)
    try:
        await script.lister.page(
            prefix="Ann Lee/", delimiter="/", start_after="Ann Lee/a~b", token="t+1", max_keys=7
        )
        await script.lister.page()
    finally:
        await script.lister.close()
    assert script.urls == [
        "https://s3.example.test/my%20bucket?continuation-token=t%2B1&delimiter=%2F"
        "&encoding-type=url&list-type=2&max-keys=7&prefix=Ann%20Lee%2F&start-after=Ann%20Lee%2Fa~b",
        "https://s3.example.test/my%20bucket?encoding-type=url&list-type=2&max-keys=1000",
    ]
    signed = script.headers[0]
    assert signed["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/us-east-1/s3/aws4_request" in signed["Authorization"]
    assert script.lister.requests == 0  # counted by the real GET only


async def test_a_lister_without_credentials_says_so() -> None:
    lister = FastLister(None, "https://s3.example.test", "r", "b", attempts=1, timeout=1)
    try:
        with pytest.raises(S3Error) as raised:
            try:
                await lister.page()
            except Exception as exc:  # noqa: BLE001 - worded as the S3 client words it
                raise explain(exc, SETTINGS) from exc
    finally:
        await lister.close()
    assert isinstance(raised.value, S3CredentialsError)
    assert str(raised.value) == "no S3 credentials: set DO_SPACES_KEY and DO_SPACES_SECRET."


async def test_one_attempt_means_no_retry(no_waiting: list[int]) -> None:
    script = Answers([(503, s3_error("SlowDown", "busy")), (200, EMPTY_PAGE)], 1)
    try:
        with pytest.raises(ClientError):
            await script.lister.page()
    finally:
        await script.lister.close()
    assert len(script.urls) == 1 and no_waiting == []


@contextlib.asynccontextmanager
async def lister_against(
    handler: Callable[[web.Request], Awaitable[web.Response]], endpoint_end: str = ""
) -> AsyncIterator[FastLister]:
    """A FastLister (one attempt) whose bucket `b` is answered by `handler` on a real HTTP
    server on loopback; `endpoint_end` is appended to the endpoint (a trailing "/")."""
    app = web.Application()
    app.router.add_get("/{bucket}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    lister = FastLister(
        Credentials("AKIDEXAMPLE", "secret"), f"http://127.0.0.1:{port}{endpoint_end}", "r", "b",
        attempts=1, timeout=5,
    )  # fmt: skip
    try:
        yield lister
    finally:
        await lister.close()
        await runner.cleanup()


async def test_each_request_goes_out_signed_with_its_query_exactly_as_signed() -> None:
    """Through a real HTTP server: the Authorization header is sent, and the query arrives byte
    for byte as it was signed (%20 and %2F not re-encoded or decoded on the way)."""
    seen: list[tuple[str, str | None]] = []

    async def listing(request: web.Request) -> web.Response:
        seen.append((request.raw_path, request.headers.get("Authorization")))
        return web.Response(body=EMPTY_PAGE, content_type="application/xml")

    async with lister_against(listing, endpoint_end="/") as lister:
        await lister.page(prefix="Ann Lee/", token="a/b+c")
    assert lister.requests == 1
    ((path, authorization),) = seen
    assert path == (
        "/b?continuation-token=a%2Fb%2Bc&encoding-type=url&list-type=2&max-keys=1000"
        "&prefix=Ann%20Lee%2F"
    )
    assert authorization is not None and authorization.startswith("AWS4-HMAC-SHA256 ")


async def test_an_answer_without_an_s3_error_body_is_named_by_its_status(
    no_waiting: list[int],
) -> None:
    script = Answers([(502, b"<html>Bad gateway</html>")], 1)
    try:
        with pytest.raises(ClientError) as raised:
            await script.lister.page()
    finally:
        await script.lister.close()
    assert raised.value.response["Error"]["Code"] == "502"


async def test_the_listers_connections_are_bounded() -> None:
    """At most 64 connections at once, a connect given at most 10 s (or the read timeout if
    shorter), a read the configured timeout, DNS answers kept five minutes."""
    for timeout, connect in ((30.0, 10.0), (4.0, 4.0)):
        lister = FastLister(None, "https://s3.example.test", "r", "b", attempts=3, timeout=timeout)
        try:
            session = lister._session
            assert (session.timeout.sock_connect, session.timeout.sock_read) == (connect, timeout)
            assert session.timeout.total is None  # a long listing page is bounded per read
            connector = session.connector
            assert isinstance(connector, aiohttp.TCPConnector)
            assert (connector.limit, connector._cached_hosts._ttl) == (64, 300)
        finally:
            await lister.close()


async def test_a_gzipped_answer_is_read() -> None:
    """A store or proxy that compresses its answers: the page is decompressed, then parsed."""
    page = EMPTY_PAGE.replace(
        b"<IsTruncated>", b"<Contents><Key>m/p/x.jpg</Key><Size>3</Size></Contents><IsTruncated>"
    )

    async def listing(request: web.Request) -> web.Response:
        return web.Response(
            body=gzip.compress(page), headers={"Content-Encoding": "gzip"},
            content_type="application/xml",
        )  # fmt: skip

    async with lister_against(listing) as lister:
        found = await lister.page()
    assert [(o.key, o.size) for o in found.objects] == [("m/p/x.jpg", 3)]
