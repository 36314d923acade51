#!/usr/bin/env python3
"""Delivery metrics from GitHub's APIs: build health and the four DORA metrics.

    GITHUB_TOKEN=... python scripts/dora_metrics.py --repo OWNER/NAME \\
        --workflow ci.yml --environment staging --environment production \\
        --days 30 --json metrics.json

Builds, from the workflow's completed runs: success rate and average duration
(cancelled runs count for neither). Deployments, per environment, from the deployments
API and each deployment's statuses: deployment frequency (successful deploys a day),
lead time for changes (median, deployed commit to successful deploy), change failure
rate (deploys that failed, so were rolled back) and time to restore (median, failed
deploy to the next successful one). The table goes to the job summary in GitHub
Actions (else stdout), the figures to --json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, urlopen

API = "https://api.github.com"
FAILED_RUNS = {"failure", "timed_out", "startup_failure"}
COUNTED_RUNS = FAILED_RUNS | {"success"}
FAILED_DEPLOYS = {"failure", "error"}
MAX_PAGES = 50
NEXT_LINK = re.compile(r'<([^>]+)>;\s*rel="next"')
# The seed proposal's success metrics, shown beside the figures.
TARGETS = {
    "frequency": "daily (staging)",
    "lead_time": "minutes, not hours",
    "change_failure_rate": "below 15 %",
    "time_to_restore": "under 1 hour",
}


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class GitHub:
    """The REST API, read-only: one GET at a time, following pagination links."""

    def __init__(self, token: str, api: str = API) -> None:
        if urlsplit(api).scheme not in {"http", "https"}:
            raise ValueError(f"the API URL must be http(s), not {api!r}")
        self.api = api.rstrip("/")
        self.headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {token}",
            "User-Agent": "dora-metrics",
            "X-GitHub-Api-Version": "2022-11-28",
        }

    def get(self, path: str, params: dict | None = None) -> tuple[object, str | None]:
        """The decoded body and the next page's URL, if any."""
        url = path if "://" in path else self.api + path
        if params:
            url += "?" + urlencode(params)
        request = Request(url, headers=self.headers)  # noqa: S310 - scheme checked
        with urlopen(request, timeout=30) as response:  # noqa: S310  # nosec B310
            link = NEXT_LINK.search(response.headers.get("Link") or "")
            return json.load(response), link and link.group(1)

    def pages(self, path: str, params: dict, key: str | None = None) -> Iterator:
        """Every item of every page (a bounded number of pages)."""
        url: str | None = path
        for _ in range(MAX_PAGES):
            body, url = self.get(url, params)
            params = None  # the next link carries them
            yield from body[key] if key else body
            if not url:
                return


@dataclass(frozen=True)
class Deploy:
    """A finished deployment: whether it succeeded, when it ended, its commit's time."""

    environment: str
    sha: str
    succeeded: bool
    finished_at: datetime
    committed_at: datetime


def outcome(statuses: list[dict]) -> tuple[bool, datetime] | None:
    """The first final status (success, failure or error) and its time, if any.

    A later successful deploy adds "inactive" to this one: the outcome stays.
    """
    for status in sorted(statuses, key=lambda s: s["created_at"]):
        if status["state"] == "success" or status["state"] in FAILED_DEPLOYS:
            return status["state"] == "success", parse_time(status["created_at"])
    return None


def fetch_runs(github: GitHub, repo: str, workflow: str, since: datetime) -> list:
    params = {"status": "completed", "created": f">={since:%Y-%m-%d}", "per_page": 100}
    path = f"/repos/{repo}/actions/workflows/{workflow}/runs"
    return list(github.pages(path, params, "workflow_runs"))


def fetch_deploys(
    github: GitHub, repo: str, environment: str, since: datetime
) -> list[Deploy]:
    """The environment's finished deployments created since `since`."""
    commit_times: dict[str, datetime] = {}
    deploys = []
    params = {"environment": environment, "per_page": 100}
    for deployment in github.pages(f"/repos/{repo}/deployments", params):
        if parse_time(deployment["created_at"]) < since:
            break  # newest first: the rest are older still
        statuses, _ = github.get(
            f"/repos/{repo}/deployments/{deployment['id']}/statuses", {"per_page": 100}
        )
        finished = outcome(statuses)
        if finished is None:
            continue
        sha = deployment["sha"]
        if sha not in commit_times:
            commit, _ = github.get(f"/repos/{repo}/commits/{sha}")
            commit_times[sha] = parse_time(commit["commit"]["committer"]["date"])
        deploys.append(Deploy(environment, sha, *finished, commit_times[sha]))
    return deploys


def build_metrics(runs: list[dict]) -> dict:
    counted = [run for run in runs if run["conclusion"] in COUNTED_RUNS]
    succeeded = sum(run["conclusion"] == "success" for run in counted)
    durations = [
        (
            parse_time(run["updated_at"]) - parse_time(run["run_started_at"])
        ).total_seconds()
        for run in counted
    ]
    return {
        "runs": len(counted),
        "succeeded": succeeded,
        "failed": len(counted) - succeeded,
        "success_rate": succeeded / len(counted) if counted else None,
        "average_duration_seconds": statistics.mean(durations) if durations else None,
    }


def deploy_metrics(deploys: list[Deploy], days: float) -> dict:
    deploys = sorted(deploys, key=lambda deploy: deploy.finished_at)
    succeeded = [deploy for deploy in deploys if deploy.succeeded]
    lead_times = [
        (deploy.finished_at - deploy.committed_at).total_seconds()
        for deploy in succeeded
    ]
    restores, unrestored = [], 0
    for index, deploy in enumerate(deploys):
        if deploy.succeeded:
            continue
        fix = next((later for later in deploys[index + 1 :] if later.succeeded), None)
        if fix is None:
            unrestored += 1
        else:
            restores.append((fix.finished_at - deploy.finished_at).total_seconds())
    return {
        "deploys": len(deploys),
        "succeeded": len(succeeded),
        "failed": len(deploys) - len(succeeded),
        "per_day": len(succeeded) / days,
        "lead_time_seconds": statistics.median(lead_times) if lead_times else None,
        "change_failure_rate": (
            (len(deploys) - len(succeeded)) / len(deploys) if deploys else None
        ),
        "time_to_restore_seconds": statistics.median(restores) if restores else None,
        "unrestored": unrestored,
    }


def duration(seconds: float | None) -> str:
    """'4 min 54 s', '1 h 5 min', '2 d 3 h'; 'n/a' for None."""
    if seconds is None:
        return "n/a"
    seconds = round(seconds)
    for unit, size, smaller, smaller_size in (
        ("d", 86400, "h", 3600),
        ("h", 3600, "min", 60),
        ("min", 60, "s", 1),
    ):
        if seconds >= size:
            rest = (seconds % size) // smaller_size
            return f"{seconds // size} {unit}" + (f" {rest} {smaller}" if rest else "")
    return f"{seconds} s"


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} % ({part} of {whole})" if whole else "n/a"


def restore_time(metrics: dict) -> str:
    text = duration(metrics["time_to_restore_seconds"])
    if metrics["unrestored"]:
        text += f", {metrics['unrestored']} not yet"
    return text


def markdown(report: dict) -> str:
    window = report["window"]
    builds = report["builds"]
    lines = [
        f"## Delivery metrics: {window['days']:g} days to {window['until'][:10]}",
        "",
        f"| builds ({report['workflow']}) | |",
        "| --- | --- |",
        f"| success rate | {share(builds['succeeded'], builds['runs'])} |",
        f"| average duration | {duration(builds['average_duration_seconds'])} |",
    ]
    environments = report["deployments"]
    if environments:
        rows: dict[str, Callable[[dict], str]] = {
            "frequency": lambda m: f"{m['per_day']:.2f} a day ({m['succeeded']})",
            "lead_time": lambda m: duration(m["lead_time_seconds"]),
            "change_failure_rate": lambda m: share(m["failed"], m["deploys"]),
            "time_to_restore": restore_time,
        }
        names = {
            "frequency": "deployment frequency",
            "lead_time": "lead time for changes (median)",
            "change_failure_rate": "change failure rate",
            "time_to_restore": "time to restore (median)",
        }
        lines += [
            "",
            "| deployments | " + " | ".join(environments) + " | target |",
            "| --- |" + " --- |" * (len(environments) + 1),
        ]
        for key, cell in rows.items():
            cells = " | ".join(cell(metrics) for metrics in environments.values())
            lines.append(f"| {names[key]} | {cells} | {TARGETS[key]} |")
    return "\n".join(lines) + "\n"


def report(
    github: GitHub,
    repo: str,
    workflow: str,
    environments: list[str],
    until: datetime,
    days: float,
) -> dict:
    since = until - timedelta(days=days)
    runs = [
        run
        for run in fetch_runs(github, repo, workflow, since)
        if since <= parse_time(run["created_at"]) <= until
    ]
    deployments = {}
    for environment in environments:
        deploys = fetch_deploys(github, repo, environment, since)
        in_window = [deploy for deploy in deploys if deploy.finished_at <= until]
        deployments[environment] = deploy_metrics(in_window, days)
    return {
        "repository": repo,
        "workflow": workflow,
        "window": {
            "since": since.isoformat(),
            "until": until.isoformat(),
            "days": days,
        },
        "builds": build_metrics(runs),
        "deployments": deployments,
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", default=os.environ.get("GITHUB_REPOSITORY"))
    parser.add_argument(
        "--workflow", default="ci.yml", help="file name of the CI workflow"
    )
    parser.add_argument(
        "--environment", action="append", default=[], help="repeat for each"
    )
    parser.add_argument("--days", type=float, default=30, help="window length (30)")
    parser.add_argument("--until", type=parse_time, help="window end (default: now)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument(
        "--summary",
        type=Path,
        default=os.environ.get("GITHUB_STEP_SUMMARY") or None,
        help="append the table here (default: the job summary, else stdout)",
    )
    args = parser.parse_args(argv)
    if not args.repo:
        parser.error("--repo OWNER/NAME is required outside GitHub Actions")
    if args.days <= 0:
        parser.error("--days must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
    if not token:
        print("dora_metrics: set GITHUB_TOKEN (or GH_TOKEN)", file=sys.stderr)
        return 2
    github = GitHub(token, os.environ.get("GITHUB_API_URL", API))
    until = args.until or datetime.now().astimezone()
    figures = report(
        github, args.repo, args.workflow, args.environment, until, args.days
    )
    table = markdown(figures)
    if args.summary:
        with args.summary.open("a", encoding="utf-8") as summary:
            summary.write(table)
    else:
        print(table, end="")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
