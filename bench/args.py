"""Command-line pieces the store-backed benches share: the bucket's shape, the paced page
sampler, and extra environment for `python -m app`."""

from __future__ import annotations

import argparse


def parser(prog: str, doc: str | None) -> argparse.ArgumentParser:
    """A bench's parser; its module docstring, as written, is the --help description."""
    return argparse.ArgumentParser(
        prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )


def add_bucket(p: argparse.ArgumentParser, *, models: int, posts: int, media: int) -> None:
    """--models, --posts, --media: the generated bucket; --delay: the store's wait a request."""
    p.add_argument("--models", type=int, default=models, help="model folders in the bucket")
    p.add_argument("--posts", type=int, default=posts, help="posts per model")
    p.add_argument("--media", type=int, default=media, help="media per post (the last one a video)")
    p.add_argument("--delay", type=float, default=0.05, help="store's seconds per request")


def add_sampling(p: argparse.ArgumentParser, path_help: str) -> None:
    """--rate, --idle-seconds, --path: the open-loop page sampler."""
    p.add_argument("--rate", type=float, default=20.0, help="page requests per second")
    p.add_argument("--idle-seconds", type=float, default=15.0, help="idle sampling window")
    p.add_argument("--path", default="/staged", help=path_help)


def sampling_parser(
    prog: str, doc: str | None, bucket: tuple[int, int, int], path_help: str
) -> argparse.ArgumentParser:
    """A page-sampling bench's parser: the bucket (models, posts, media) and the sampler."""
    p = parser(prog, doc)
    models, posts, media = bucket
    add_bucket(p, models=models, posts=posts, media=media)
    add_sampling(p, path_help)
    return p


def add_app_env(p: argparse.ArgumentParser, help_text: str) -> None:
    """--app-env NAME=VALUE, repeatable; `parse` turns it into a dict."""
    p.add_argument("--app-env", action="append", default=[], metavar="NAME=VALUE", help=help_text)


def parse(p: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """`p.parse_args(argv)`, with --app-env (if `p` has it) checked and made a dict."""
    args = p.parse_args(argv)
    if hasattr(args, "app_env"):
        if any("=" not in item for item in args.app_env):
            p.error("--app-env takes NAME=VALUE")
        args.app_env = dict(item.split("=", 1) for item in args.app_env)
    return args
