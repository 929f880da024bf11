"""Fixtures: a real PostgreSQL (started by tests/run.py) and moto's real S3 server over HTTP."""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID
from piccolo.apps.user.tables import BaseUser
from piccolo.engine import Engine

import domain.tasks  # noqa: F401 - every feature's tasks on the queue, for the workers tests run
from domain.catalogue.runs import Run
from domain.catalogue.sync import SyncOptions, run_sync
from domain.platform import db
from domain.platform import queue as platform_queue
from domain.platform.policy_gate import GatedMotoServer
from domain.platform.s3 import S3Service, guessed_type
from domain.platform.settings import S3Settings, Settings
from domain.platform.tables import TABLES
from tests.fault_proxy import FaultProxy

if TYPE_CHECKING:
    from tests.processes import Processes  # it imports this module


def worker_database() -> str | None:
    """Under pytest-xdist (`make test` runs three workers) each worker gets a database of its own
    on the run's PostgreSQL, made here before anything reads TEST_DATABASE_URL; processes the
    tests start inherit it. Its schema comes from the migrations, as the one database's did."""
    url = os.environ.get("TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker or os.environ.get("CREATORFLIX_TEST_WORKER") == worker:
        return url
    import psycopg  # the job queue's driver; here only to create the database

    base, _, _ = url.rpartition("/")
    name = f"creatorflix_{worker}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    mine = f"{base}/{name}"
    os.environ.update(TEST_DATABASE_URL=mine, DATABASE_URL=mine, CREATORFLIX_TEST_WORKER=worker)
    return mine


TEST_DB = worker_database()
_bucket_ids = itertools.count(1)
logging.getLogger("werkzeug").setLevel(logging.WARNING)


def pytest_configure(config: pytest.Config) -> None:
    if not TEST_DB:
        raise pytest.UsageError(
            "TEST_DATABASE_URL is not set: run the suite with `make test`, which starts a "
            "throwaway PostgreSQL and sets it."
        )


# The files that take longest, slowest first (seconds a file in a full run, 3 workers), handed
# to the workers before all others (tests/run.py: --dist loadfile --no-loadscope-reorder), so
# that no long file starts last and runs alone while the other workers stand idle. xdist's own
# order (most tests first) left one-test files such as test_convergence (90 s) for the end.
SLOWEST_FIRST = (
    "tests/test_readme_claims.py",
    "tests/test_cli_flags.py",
    "tests/test_convergence.py",
    "tests/test_workers.py",
    "tests/test_route_fuzz.py",
    "tests/test_route_walk.py",
    "tests/browser/test_a11y.py",
    "tests/test_process_tree.py",
    "tests/browser/test_form_errors.py",
    "tests/test_run_changes.py",
    "tests/test_embedded.py",
    "tests/browser/test_jobs_page.py",
    "tests/browser/test_staged.py",
    "tests/test_sign_in_guard.py",
    "tests/test_faults.py",
    "tests/test_audit_filters.py",
    "tests/test_access.py",
    "tests/test_media.py",
    "tests/test_sync.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: n for n, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))  # stable


TEARDOWN_TIMEOUT_S = 15.0


def teardown_warning(what: str) -> None:
    """A resource that would not close in time: say so, and let the session end anyway."""
    print(f"\n[teardown] {what} did not finish in {TEARDOWN_TIMEOUT_S:.0f} s", file=sys.stderr)


async def bounded(awaitable: Awaitable[Any], what: str) -> bool:
    """Await a close/stop, at most TEARDOWN_TIMEOUT_S; False (and a warning) if it hung."""
    try:
        await asyncio.wait_for(awaitable, TEARDOWN_TIMEOUT_S)
    except TimeoutError:
        teardown_warning(what)
        return False
    return True


def bounded_call(function: Callable[[], Any], what: str) -> bool:
    """Run a blocking stop in a daemon thread, at most TEARDOWN_TIMEOUT_S."""
    worker = threading.Thread(target=function, name=f"teardown: {what}", daemon=True)
    worker.start()
    worker.join(TEARDOWN_TIMEOUT_S)
    if worker.is_alive():
        teardown_warning(what)
        return False
    return True


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A temporary directory that other users can traverse: the embedded PostgreSQL runs as
    its own user when the tests run as root, and pytest keeps its tmp_path root private (it
    resets that to 0700 whenever another pytest starts on the machine)."""
    path = Path(tempfile.mkdtemp(prefix="creatorflix-test-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 server, refusing browser POSTs their policy forbids as S3 does (moto alone
    would store them). Unsigned requests other than POSTs to a bucket pass: the fault proxies
    rewrite what they forward (Host, max-keys), which breaks signatures; the embedded S3 is
    signed-only (tests/test_upload_trust.py)."""
    server = GatedMotoServer(port=0, secrets={"test": "test"}, signed_only=False)
    endpoint = server.start()
    LOCAL_MOTO.add(endpoint)
    yield endpoint
    bounded_call(server.stop, "stopping moto's S3 server")


@pytest.fixture(scope="session")
def settings(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    s3 = S3Settings(
        endpoint=moto_endpoint,
        region="us-east-1",
        key="test",
        secret="test",
        bucket="unused",
        cdn_url="https://cdn.example.test/media",
    )
    return Settings(
        database_url=TEST_DB,
        s3=s3,
        demo=False,
        data_dir=tmp_path_factory.mktemp("data"),
        secret_key="t" * 64,
    )


@pytest.fixture(scope="session")
async def pg_engine(settings: Settings) -> AsyncIterator[Engine]:
    assert settings.database_url
    engine = db.make_engine(settings.database_url)
    db.install_engine(engine)
    await db.start(engine)
    await db.migrate()
    yield engine
    # A connection still checked out (a leaked task) would make close() wait forever.
    if not await bounded(db.stop(engine), "closing the test database pool") and engine.pool:
        engine.pool.terminate()


# Not procrastinate_workers: worker processes that outlive a test stay registered. In the order
# a periodic defer writes them (procrastinate_defer_periodic_job), which wipe() locks them in.
QUEUE_TABLES = ("procrastinate_periodic_defers", "procrastinate_jobs", "procrastinate_events")
# A live server's worker defers its periodic jobs at any moment: a job written between the probe
# and the TRUNCATE outlived a wipe, its id taken again after the RESTART, and the worker's
# deferrer died on the duplicate key (seen in a full run: every later live test of that worker
# failed). Writes to the queue wait from before the probe to the commit.
LOCK_QUEUE = f"LOCK TABLE {', '.join(QUEUE_TABLES)} IN EXCLUSIVE MODE;"


@dataclass(frozen=True)
class _Wipe:
    """What wipe() runs, read from the catalogue once per engine."""

    tables: tuple[str, ...]
    probe: str  # the names of the tables that hold a row
    reset: str  # every owned sequence back to 1, the schedule's row as its migration made it


_WIPES: dict[int, _Wipe] = {}


async def _wipe_plan(connection: Any) -> _Wipe:
    tables = [t._meta.tablename for t in TABLES if t._meta.tablename != "sync_schedule"]
    tables += [*QUEUE_TABLES, "piccolo_user"]
    owned = await connection.fetch(
        "SELECT s.relname AS name FROM pg_class s JOIN pg_depend d ON d.objid = s.oid "
        "JOIN pg_class t ON t.oid = d.refobjid "
        "WHERE s.relkind = 'S' AND t.relname = ANY($1::text[])",
        tables,
    )
    probe = " UNION ALL ".join(
        f"SELECT '{name}' AS name WHERE EXISTS (SELECT 1 FROM \"{name}\")" for name in tables
    )
    restarts = "".join(f'ALTER SEQUENCE "{row["name"]}" RESTART;' for row in owned)
    schedule = (  # one row, no expression (a test may delete or change it)
        "UPDATE sync_schedule SET expression = '', last_tick_at = NULL;"
        "INSERT INTO sync_schedule (expression) SELECT '' WHERE NOT EXISTS "
        "(SELECT 1 FROM sync_schedule);"
    )
    return _Wipe(tuple(tables), probe, restarts + schedule)


async def wipe(engine: Engine) -> None:
    """Every table empty and every id back at 1, as a freshly migrated database.

    Only the tables that hold a row are truncated: TRUNCATE makes each table's files anew (a
    few ms a table), and a test writes to a few. Not DELETE: its dead rows slowed the later
    tests of a run several times over (a run page 4 s alone, 49 s late in a full run)."""
    assert engine.pool is not None, "the test engine has no pool: start it first"
    async with engine.pool.acquire() as connection:
        plan = _WIPES.get(id(engine)) or _WIPES.setdefault(id(engine), await _wipe_plan(connection))
        await connection.execute(f"BEGIN;{LOCK_QUEUE}")  # the simple protocol: one round trip
        try:
            full = [row["name"] for row in await connection.fetch(plan.probe)]
            names = ", ".join(f'"{name}"' for name in full)
            truncate = f"TRUNCATE {names} CASCADE;" if full else ""
            await connection.execute(f"{truncate}{plan.reset}COMMIT;")
        except BaseException:
            await connection.execute("ROLLBACK")
            raise


@pytest.fixture
async def database(pg_engine: Engine) -> AsyncIterator[Engine]:
    """A clean PostgreSQL database for one test."""
    db.install_engine(pg_engine)
    await wipe(pg_engine)
    yield pg_engine


LOCAL_MOTO: set[str] = set()  # the endpoint of the moto server this process serves


async def store_object(s3: S3Service, key: str, body: bytes) -> None:
    """An object put in the bucket as S3Service.upload puts it (its type guessed from the name).

    On this process's own moto server, straight into moto's store: arranging a test, not the
    S3 path under test, which the app still takes through moto's HTTP server. Through HTTP,
    each object cost this process about 5 ms of CPU (a full run puts thousands)."""
    if s3.settings.endpoint not in LOCAL_MOTO:
        await s3.upload(key, body)
        return
    store = get_backend("s3")[DEFAULT_ACCOUNT_ID]["aws"]
    fake = store.put_object(s3.settings.bucket, key, body)
    fake.set_metadata({"Content-Type": guessed_type(key)})


class Bucket:
    """A fresh bucket on moto's server, driven through our own S3Service."""

    def __init__(self, service: S3Service) -> None:
        self.s3 = service

    @property
    def public_base(self) -> str:
        return self.s3.settings.public_base

    async def put(self, *keys: str, body: bytes = b"data") -> None:
        for key in keys:
            await store_object(self.s3, key, body)

    async def delete(self, *keys: str) -> None:
        for key in keys:
            await self.s3.delete(key)

    async def sync(self, **options: Any) -> Run:
        opts = SyncOptions(public_base=self.public_base, **options)
        return await run_sync(self.s3, opts)


@pytest.fixture
async def bucket(settings: Settings) -> AsyncIterator[Bucket]:
    assert settings.s3 is not None
    s3_settings = replace(settings.s3, bucket=f"test-bucket-{next(_bucket_ids)}")
    async with S3Service(s3_settings, ttl=600, max_attempts=2, timeout=5) as service:
        await service.create_bucket()
        yield Bucket(service)


@dataclass
class Proxied:
    """A bucket, a fault proxy in front of moto, and an S3Service that talks through it."""

    bucket: Bucket
    proxy: FaultProxy
    s3: S3Service


@pytest.fixture
async def proxied(bucket: Bucket) -> AsyncIterator[Proxied]:
    proxy = await FaultProxy(bucket.s3.settings.endpoint).start()
    through = replace(bucket.s3.settings, endpoint=proxy.endpoint)
    try:
        async with S3Service(through, max_attempts=3, timeout=1.5) as s3:
            yield Proxied(bucket, proxy, s3)
    finally:
        await bounded(proxy.stop(), "stopping the fault proxy")


@pytest.fixture
async def signed_in(
    database: Any, bucket: Bucket, settings: Settings, pg_engine: Engine
) -> AsyncIterator[Any]:
    """A browser signed in as the admin, on the app served in this process."""
    from tests.web import admin, browser, running_app  # tests.web imports this module

    await admin()
    async with running_app(settings, bucket, pg_engine) as app, browser(app) as b:
        await b.sign_in()
        yield b


@pytest.fixture
async def admin_app(
    database: Any, bucket: Bucket, settings: Settings, pg_engine: Engine
) -> AsyncIterator[Any]:
    """The app served in this process, no worker, with the superuser "tester" (signed out)."""
    from tests.web import admin, running_app  # tests.web imports this module

    await admin()
    async with running_app(settings, bucket, pg_engine, worker=False) as application:
        yield application


def cli_env(s3: S3Settings, **extra: str) -> dict[str, str]:
    """The environment for running the app or CLI as a process against the test services."""
    return {
        **os.environ,
        "DATABASE_URL": os.environ["TEST_DATABASE_URL"],
        "DO_SPACES_ENDPOINT": s3.endpoint,
        "DO_SPACES_KEY": s3.key,
        "DO_SPACES_SECRET": s3.secret,
        "DO_SPACES_BUCKET": s3.bucket,
        # Three test processes share two cores: a worker in the idle class (the default) would
        # wait behind every one of them. tests/test_worker_priority.py checks the default.
        "WORKER_NICE": "10",
        **extra,
    }


# The tests' own admins are stored with a cheap hash: sign-in checks a password with the
# iteration count stored beside it (domain/accounts/admins.authenticate), so every sign-in stays
# the real path, without 0.3 s of PBKDF2 per admin made and per sign-in (hundreds per run).
SEED_ITERATIONS = 1_000
PRODUCT_ITERATIONS = BaseUser._pbkdf2_iteration_count  # Piccolo's 600,000


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashes() -> Iterator[None]:
    """In the test processes, admins made or reset and a sign-in's unknown-user check hash with
    SEED_ITERATIONS too: 0.3 s of CPU each otherwise, about 40 s a run (sign-in throttling,
    admins, fuzzing). The app's own processes keep Piccolo's count, and a test that needs it
    sets PRODUCT_ITERATIONS back (tests/test_admins.py checks what a new admin is stored with)."""
    BaseUser._pbkdf2_iteration_count = SEED_ITERATIONS
    try:
        yield
    finally:
        BaseUser._pbkdf2_iteration_count = PRODUCT_ITERATIONS


@functools.cache
def _seed_hash(password: str) -> str:
    return BaseUser.hash_password(password, iterations=SEED_ITERATIONS)


async def seed_admin(username: str, email: str, password: str) -> None:
    """An active superuser with this password, made or reset (as upsert_admin does)."""
    await db.fetch(
        "INSERT INTO piccolo_user (username, password, email, active, admin, superuser) "
        "VALUES ($1, $2, $3, true, true, true) ON CONFLICT (username) DO UPDATE SET "
        "password = EXCLUDED.password, email = EXCLUDED.email, active = true, admin = true, "
        "superuser = true",
        username,
        _seed_hash(password),
        email,
    )


async def rows(sql: str, *args: Any) -> list[dict[str, Any]]:
    return await db.fetch(sql, *args)


async def count(table: str) -> int:
    return int((await db.fetch(f"SELECT COUNT(*) AS n FROM {table}"))[0]["n"])


async def eventually(probe: Callable[[], Awaitable[Any]], want: Any, timeout: float = 30) -> None:
    """Wait until `await probe()` equals `want` (work done by a worker, not the request), at most
    `timeout` s (keep it below the test's own timeout), then fail naming what was awaited."""
    got = None
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        got = await probe()
        if got == want:
            return
        await asyncio.sleep(0.1)
    name = getattr(probe, "__name__", "probe")
    raise AssertionError(f"waited {timeout} s for {name}() to be {want!r}; last saw {got!r}")


@pytest.fixture
async def procs(database: Any, tmp_path: Path) -> AsyncIterator[Processes]:
    """Processes started by the test; all of them stopped (SIGKILL at worst) and waited for."""
    from tests.processes import Processes

    started = Processes(tmp_path)
    try:
        yield started
    finally:
        await started.stop_all()
        print(started.report())  # shown by pytest when the test failed


@pytest.fixture
async def queue(database: Any) -> AsyncIterator[None]:
    """The job queue opened in the test process, to defer jobs as the web would."""
    platform_queue.connect(os.environ["TEST_DATABASE_URL"])
    await platform_queue.app.open_async()
    try:
        yield
    finally:
        await platform_queue.app.close_async()
