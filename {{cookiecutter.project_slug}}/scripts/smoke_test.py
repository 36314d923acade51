#!/usr/bin/env python3
"""Smoke-test a deployed release: is it ready, and does it run the right commit?

    python scripts/smoke_test.py https://staging.example.com --commit 1a2b3c4

Polls /readyz until it answers 200 (for --wait seconds at most), then asks /version for
the commit the image was built from. The deploy workflow runs it after every deploy and
rolls back when it fails; it needs nothing but Python, so a person can run it too.
Exit status: 0 passed, 1 failed (one line on stderr says why), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import urllib.error
import urllib.parse
from urllib.request import urlopen

COMMIT = re.compile(r"[0-9a-f]{7,40}")


class SmokeTestFailed(Exception):
    """The release is not ready, or runs another commit; the message says which."""


def fetch(url: str, timeout: float) -> tuple[int, bytes]:
    """GET `url`: the status and body, error statuses included."""
    # http(s) only: parse_args refuses any other scheme.
    try:
        with urlopen(url, timeout=timeout) as response:  # noqa: S310  # nosec B310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def describe(status: int, body: bytes) -> str:
    """'503 (failing: database)' when the body names failing checks, else the status."""
    try:
        failing = json.loads(body).get("failing")
    except (ValueError, AttributeError):
        failing = None
    return (
        f"{status} (failing: {', '.join(map(str, failing))})"
        if failing
        else str(status)
    )


def wait_until_ready(
    base_url: str,
    wait: float,
    interval: float,
    timeout: float,
    clock=time.monotonic,
    sleep=time.sleep,
) -> int:
    """Poll /readyz until it answers 200; return the number of tries."""
    deadline = clock() + wait
    tries = 0
    while True:
        tries += 1
        try:
            status, body = fetch(f"{base_url}/readyz", timeout)
        except (OSError, ValueError) as error:  # refused, reset, timed out, bad TLS
            last = f"did not answer ({getattr(error, 'reason', error)})"
        else:
            if status == 200:
                return tries
            last = f"answered {describe(status, body)}"
        if clock() + interval > deadline:
            raise SmokeTestFailed(
                f"{base_url}/readyz {last}; gave up after {tries} tries in {wait:g} s"
            )
        sleep(interval)


def check_commit(base_url: str, expected: str, timeout: float) -> str:
    """The commit /version reports; it must be `expected` (or share its short form)."""
    try:
        status, body = fetch(f"{base_url}/version", timeout)
    except (OSError, ValueError) as error:
        raise SmokeTestFailed(f"{base_url}/version did not answer ({error})") from None
    if status != 200:
        raise SmokeTestFailed(f"{base_url}/version answered {status}")
    try:
        reported = str(json.loads(body)["commit"])
    except (ValueError, KeyError, TypeError):
        raise SmokeTestFailed(
            f"{base_url}/version did not answer JSON with a commit"
        ) from None
    shortest = min(len(reported), len(expected))
    same = shortest >= 7 and reported[:shortest] == expected[:shortest]
    if not same:
        raise SmokeTestFailed(
            f"{base_url}/version reports commit {reported!r}, expected {expected!r}:"
            " the release is not running"
        )
    return reported


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="base URL of the deployed service")
    parser.add_argument(
        "--commit", required=True, help="commit the release was built from"
    )
    parser.add_argument(
        "--wait", type=float, default=180, help="seconds to wait for /readyz (180)"
    )
    parser.add_argument(
        "--interval", type=float, default=5, help="seconds between tries (5)"
    )
    parser.add_argument(
        "--timeout", type=float, default=5, help="seconds per request (5)"
    )
    args = parser.parse_args(argv)
    if urllib.parse.urlsplit(args.url).scheme not in {"http", "https"}:
        parser.error(f"url must start with http:// or https://, not {args.url!r}")
    if not COMMIT.fullmatch(args.commit):
        parser.error(f"--commit must be 7 to 40 hex digits, not {args.commit!r}")
    args.url = args.url.rstrip("/")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started = time.monotonic()
    try:
        tries = wait_until_ready(args.url, args.wait, args.interval, args.timeout)
        commit = check_commit(args.url, args.commit, args.timeout)
    except SmokeTestFailed as failure:
        print(f"smoke test failed: {failure}", file=sys.stderr)
        return 1
    elapsed = time.monotonic() - started
    print(
        f"smoke test passed: {args.url} is ready (try {tries}, {elapsed:.1f} s)"
        f" and runs commit {commit}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
