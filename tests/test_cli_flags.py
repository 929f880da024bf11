"""The README's command line, run as real processes against PostgreSQL and moto's S3 server.

Each flag is checked by what an operator would notice: the exit code, the one line on stderr,
and what the staged tables (or the bucket, or a sign-in) look like afterwards.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest

from domain.platform.settings import S3Settings
from harness.ports import free_port, wait_port
from harness.processes import run_command, spawn
from tests.conftest import Bucket, cli_env, count, rows
from tests.served import cli, one_error_line, served, stop_group

MODELS = ["Ann", "Bea", "Cid", "Dee", "Eve"]


def keys_for(models: list[str]) -> list[str]:
    return [f"{m}/Post {p}/{i}.jpg" for m in models for p in range(2) for i in range(2)]


def litestar(s3: S3Settings, *args: str, stdin: str | None = None, **env: str) -> Any:
    return cli(cli_env(s3, **env), *args, stdin=stdin)


def stats(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


async def staged_names() -> set[str]:
    return {r["folder_name"] for r in await rows("SELECT folder_name FROM whitelabel_models")}


async def catalogue() -> tuple[int, int, int]:
    return (
        await count("whitelabel_models"),
        await count("whitelabel_posts"),
        await count("whitelabel_media"),
    )


def held(s3: S3Settings) -> int:
    """`litestar sync` stopping for confirmation: exit 3, one line naming the run to confirm."""
    done = litestar(s3, "sync")
    line = one_error_line(done)
    assert done.returncode == 3, done.stderr
    assert "Nothing was deleted" in line
    match = re.search(r"`litestar sync --confirm (\d+)`", line)
    assert match, line
    return int(match.group(1))


async def test_dry_run_reports_changes_and_writes_nothing(database: Any, bucket: Bucket) -> None:
    await bucket.put(*keys_for(MODELS))
    s3 = bucket.s3.settings
    dry = litestar(s3, "sync", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    report = stats(dry)
    assert report["dry_run"] and report["status"] == "succeeded"
    assert (report["models_inserted"], report["media_inserted"]) == (5, 20)
    assert await catalogue() == (0, 0, 0)
    assert litestar(s3, "sync").returncode == 0
    before = await catalogue()
    await bucket.delete(*keys_for(MODELS[:3]))  # a real run would hold these deletions
    await bucket.put("Eve/Post 9/new.jpg")
    dry = litestar(s3, "sync", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    report = stats(dry)
    assert (report["models_deleted"], report["media_deleted"], report["media_inserted"]) == (
        3,
        12,
        1,
    )
    assert "would stop for confirmation" in dry.stderr
    assert await catalogue() == before and await staged_names() == set(MODELS)


async def test_allow_mass_delete_applies_what_would_wait_for_confirmation(
    database: Any, bucket: Bucket
) -> None:
    await bucket.put(*keys_for(MODELS))
    s3 = bucket.s3.settings
    assert litestar(s3, "sync").returncode == 0
    await bucket.delete(*keys_for(MODELS[:3]))
    held(s3)
    assert await staged_names() == set(MODELS)
    done = litestar(s3, "sync", "--allow-mass-delete", "--json")
    assert done.returncode == 0, done.stderr
    assert (stats(done)["status"], stats(done)["models_deleted"]) == ("succeeded", 3)
    assert await staged_names() == {"Dee", "Eve"}


async def test_confirm_applies_exactly_the_held_plan_once(database: Any, bucket: Bucket) -> None:
    await bucket.put(*keys_for(MODELS))
    s3 = bucket.s3.settings
    assert litestar(s3, "sync").returncode == 0
    await bucket.delete(*keys_for(["Ann", "Bea"]))
    run_id = held(s3)
    await bucket.delete(*keys_for(["Cid"]))  # later bucket changes are not part of the plan
    await bucket.put("Zed/P/z.jpg")
    done = litestar(s3, "sync", "--confirm", str(run_id), "--json")
    assert done.returncode == 0, done.stderr
    assert stats(done)["models_deleted"] == 2
    assert await staged_names() == {"Cid", "Dee", "Eve"}
    again = litestar(s3, "sync", "--confirm", str(run_id))
    assert f"#{run_id} is not waiting for confirmation" in one_error_line(again)
    assert await staged_names() == {"Cid", "Dee", "Eve"}


@pytest.fixture
def auth_s3() -> Iterator[S3Settings]:
    """A moto server that checks credentials (IAM on), with one user allowed on one bucket."""
    port = free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"}
    moto_server = str(Path(sys.executable).parent / "moto_server")
    process = spawn([moto_server, "-H", "127.0.0.1", "-p", str(port)], env, None)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        wait_port(port, 20.0, "moto's server (IAM on)")
        iam = boto3.client(
            "iam",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bootstrap",
            aws_secret_access_key="bootstrap",
        )
        iam.create_user(UserName="operator")  # the three unauthenticated calls
        iam.put_user_policy(
            UserName="operator",
            PolicyName="s3",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
                }
            ),
        )
        key = iam.create_access_key(UserName="operator")["AccessKey"]
        settings = S3Settings(
            endpoint=endpoint,
            region="us-east-1",
            key=key["AccessKeyId"],
            secret=key["SecretAccessKey"],
            bucket="auth-bucket",
        )
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=settings.key,
            aws_secret_access_key=settings.secret,
        )
        s3.create_bucket(Bucket=settings.bucket)
        s3.put_object(Bucket=settings.bucket, Key="Ann/P/a.jpg", Body=b"x")
        yield settings
    finally:
        stop_group(process)  # type: ignore[arg-type]


async def test_bad_credentials_fail_with_one_line(database: Any, auth_s3: S3Settings) -> None:
    good = litestar(auth_s3, "sync", "--json")
    assert good.returncode == 0, good.stderr  # the server accepts the right key
    for wrong in (replace(auth_s3, secret="wrong-secret"), replace(auth_s3, key="AKIAWRONGKEY")):
        line = one_error_line(litestar(wrong, "sync"))
        assert "refused the credentials" in line
        assert "DO_SPACES_KEY" in line and "DO_SPACES_SECRET" in line
        assert wrong.secret not in line


async def test_failures_exit_non_zero_with_one_line(database: Any, bucket: Bucket) -> None:
    await bucket.put("Ann/P/a.jpg")
    s3 = bucket.s3.settings
    assert litestar(s3, "sync").returncode == 0
    missing_bucket = one_error_line(litestar(s3, "sync", DO_SPACES_BUCKET="no-such-bucket"))
    assert (
        "'no-such-bucket' does not exist" in missing_bucket and "DO_SPACES_BUCKET" in missing_bucket
    )
    unknown_model = one_error_line(litestar(s3, "sync", "--model", "Nope"))
    assert "'Nope' is not in the bucket" in unknown_model
    unknown_run = one_error_line(litestar(s3, "sync", "--confirm", "424242"))
    assert "#424242 is not waiting for confirmation" in unknown_run
    ghost = one_error_line(litestar(s3, "activate", "Ghost"))
    assert "Ghost" in ghost
    neither = litestar(s3, "activate")
    assert "--all-new" in one_error_line(neither) and neither.returncode == 2
    assert await staged_names() == {"Ann"} and await count("models") == 0


async def test_activate_all_new_promotes_only_the_new_models(database: Any, bucket: Bucket) -> None:
    await bucket.put(*keys_for(["Ann", "Bea", "Cid"]))
    s3 = bucket.s3.settings
    assert litestar(s3, "sync").returncode == 0
    one = litestar(s3, "activate", "Ann")
    assert one.returncode == 0 and "activated 1 model(s)" in one.stdout
    rest = litestar(s3, "activate", "--all-new")
    assert rest.returncode == 0, rest.stderr
    assert "activated 2 model(s): 2 new, 4 posts created" in rest.stdout
    names = {r["name"] for r in await rows("SELECT name FROM models")}
    assert names == {"Ann", "Bea", "Cid"} and await count("posts") == 6
    none_left = litestar(s3, "activate", "--all-new")
    assert none_left.returncode == 0 and "activated 0 model(s)" in none_left.stdout


async def test_demo_bucket_fills_the_configured_bucket(database: Any, bucket: Bucket) -> None:
    s3 = bucket.s3.settings
    done = litestar(s3, "demo-bucket")
    assert done.returncode == 0, done.stderr
    uploaded = int(re.fullmatch(r"uploaded (\d+) demo objects", done.stdout.strip()).group(1))  # type: ignore[union-attr]
    prefixes, loose = await bucket.s3.list_top()
    listed = len(loose)
    for prefix in prefixes:
        async for page in bucket.s3.list_pages(prefix):
            listed += len(page)
    assert listed == uploaded and len(prefixes) == 8
    synced = litestar(s3, "sync", "--json")
    assert synced.returncode == 0 and stats(synced)["models_inserted"] == 8


async def test_create_admin_asks_for_a_password_then_the_admin_signs_in(
    database: Any, bucket: Bucket
) -> None:
    s3 = bucket.s3.settings
    made = litestar(
        s3,
        "create-admin",
        "--username",
        "alice",
        "--email",
        "a@example.com",
        stdin="pw-alice-123\npw-alice-123\n",
    )
    assert made.returncode == 0, made.stderr
    assert "created admin 'alice'" in made.stdout
    short = litestar(
        s3, "create-admin", "--username", "bob", "--email", "b@example.com", stdin="short\nshort\n"
    )
    assert short.returncode == 1  # after the prompts, one line says why
    assert short.stderr.strip().splitlines()[-1] == (
        "error: the password has 5 characters: use at least 8."
    )
    async with served(cli_env(s3, SECRET_KEY="k" * 64)) as app:
        b = app.browser
        signed_in = await b.sign_in("alice", "pw-alice-123")
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
        home = await b.client.get("/")
        assert home.status_code == 200
        assert 'href="/admins"' in home.text  # the command line makes superusers
        assert (await b.client.get("/admins")).status_code == 200
        refused = await b.post("/login", {"username": "bob", "password": "short"})
        assert refused.status_code == 400
        wrong = await b.post("/login", {"username": "alice", "password": "not-her-password"})
        assert wrong.status_code == 400


def piccolo(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Piccolo's own command line, as the README shows it."""
    return run_command([str(Path(sys.executable).parent / "piccolo"), *args], env)


async def test_piccolo_user_create_makes_an_admin_who_signs_in(
    database: Any, bucket: Bucket
) -> None:
    env = cli_env(bucket.s3.settings, SECRET_KEY="k" * 64)
    made = piccolo(
        env,
        "user",
        "create",
        "--username=carol",
        "--email=carol@example.com",
        "--password=pw-carol-123",
        "--is_admin=true",
        "--is_superuser=false",
        "--is_active=true",
    )
    assert made.returncode == 0, made.stderr
    async with served(env) as app:
        signed_in = await app.browser.sign_in("carol", "pw-carol-123")
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
        assert (await app.browser.client.get("/")).status_code == 200
