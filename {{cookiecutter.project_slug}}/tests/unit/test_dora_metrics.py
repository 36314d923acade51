"""scripts/dora_metrics.py against recorded GitHub API answers, served on a local port.

The figures below are worked out by hand from tests/fixtures/github_api.json (acme/shop,
30 days to 2026-11-26 12:00 UTC).
"""

import json
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import dora_metrics
import pytest

RECORDING = Path(__file__).parents[1] / "fixtures" / "github_api.json"
UNTIL = "2026-11-26T12:00:00Z"
HOUR = 3600

# Builds: 11 runs recorded; one is older than the window, one was cancelled. The 9 left:
# 7 succeeded (300, 360, 240, 420, 330, 390, 310 s), 2 failed (120, 180 s).
BUILDS = {
    "runs": 9,
    "succeeded": 7,
    "failed": 2,
    "success_rate": 7 / 9,
    "average_duration_seconds": 2650 / 9,
}
# production: 6 finished deploys (one still running, one older than the window).
# Succeeded: a1 10:06 (commit 08:00), a2 14:05 (13:00), a4 09:46 (09:30), a6 10:05
# (09:00) -> lead times 2 h 6 min, 1 h 5 min, 16 min, 1 h 5 min: median 1 h 5 min.
# Failed: a3 at 09:07, restored by a4 at 09:46 (39 min); a5 at 16:02, restored by a6 the
# next day at 10:05 (18 h 3 min): median 9 h 21 min 30 s.
PRODUCTION = {
    "deploys": 6,
    "succeeded": 4,
    "failed": 2,
    "per_day": 4 / 30,
    "lead_time_seconds": 65 * 60,
    "change_failure_rate": 2 / 6,
    "time_to_restore_seconds": (39 * 60 + (18 * HOUR + 3 * 60)) / 2,
    "unrestored": 0,
}
# staging: a7 finished after the window's end; a3 failed at 17:15, restored by a4 the
# next morning at 09:36 (16 h 21 min); a4 took 6 min from commit, a6 34 min: median
# 20 min.
STAGING = {
    "deploys": 3,
    "succeeded": 2,
    "failed": 1,
    "per_day": 2 / 30,
    "lead_time_seconds": 20 * 60,
    "change_failure_rate": 1 / 3,
    "time_to_restore_seconds": 16 * HOUR + 21 * 60,
    "unrestored": 0,
}
TABLE = """\
## Delivery metrics: 30 days to 2026-11-26

| builds (ci.yml) | |
| --- | --- |
| success rate | 77.8 % (7 of 9) |
| average duration | 4 min 54 s |

| deployments | staging | production | target |
| --- | --- | --- | --- |
| deployment frequency | 0.07 a day (2) | 0.13 a day (4) | daily (staging) |
| lead time for changes (median) | 20 min | 1 h 5 min | minutes, not hours |
| change failure rate | 33.3 % (1 of 3) | 33.3 % (2 of 6) | below 15 % |
| time to restore (median) | 16 h 21 min | 9 h 21 min | under 1 hour |
"""


class Recorded(BaseHTTPRequestHandler):
    """Answers each GET with its recording; anything else is a 404, and noted."""

    def do_GET(self):
        self.server.requests.append((self.path, self.headers.get("Authorization")))
        answer = self.server.recording.get(f"GET {self.path}")
        if answer is None:
            self.server.unexpected.append(self.path)
            self.send_response(404)
            self.end_headers()
            return
        payload = json.dumps(answer["body"]).encode()
        self.send_response(answer["status"])
        self.send_header("Content-Type", "application/json")
        if answer["link"]:
            self.send_header("Link", f'<{self.server.url}{answer["link"]}>; rel="next"')
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        """Keep the test output quiet."""


@pytest.fixture(scope="module")
def github_server(serve):
    server = serve(Recorded)
    recording = json.loads(RECORDING.read_text("utf-8"))["interactions"]
    server.recording = {answer["request"]: answer for answer in recording}
    return server


@pytest.fixture
def github(github_server, monkeypatch):
    """The recorded GitHub API, with the requests of one test noted."""
    server = github_server
    server.requests, server.unexpected = [], []
    monkeypatch.setenv("GITHUB_API_URL", server.url)
    monkeypatch.setenv("GITHUB_TOKEN", "test-token")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    yield server
    assert server.unexpected == [], "requests with no recording"


def run(tmp_path, *environments):
    argv = ["--repo", "acme/shop", "--until", UNTIL, "--days", "30"]
    argv += [arg for name in environments for arg in ("--environment", name)]
    argv += ["--json", str(tmp_path / "metrics.json")]
    argv += ["--summary", str(tmp_path / "summary.md")]
    assert dora_metrics.main(argv) == 0
    return json.loads((tmp_path / "metrics.json").read_text("utf-8"))


def test_figures_match_the_hand_computed_ones(github, tmp_path):
    figures = run(tmp_path, "staging", "production")
    assert figures["builds"] == pytest.approx(BUILDS)
    assert figures["deployments"]["production"] == pytest.approx(PRODUCTION)
    assert figures["deployments"]["staging"] == pytest.approx(STAGING)
    assert figures["window"] == {
        "since": "2026-10-27T12:00:00+00:00",
        "until": "2026-11-26T12:00:00+00:00",
        "days": 30,
    }


def test_the_summary_is_a_markdown_table(github, tmp_path):
    run(tmp_path, "staging", "production")
    assert (tmp_path / "summary.md").read_text("utf-8") == TABLE


def test_follows_pages_and_authenticates(github, tmp_path):
    run(tmp_path)
    paths = [path for path, _ in github.requests]
    assert paths[0].endswith(
        "runs?status=completed&created=%3E%3D2026-10-27&per_page=100"
    )
    assert paths[1].endswith("&page=2")
    assert {auth for _, auth in github.requests} == {"Bearer test-token"}


def test_without_environments_only_builds_are_reported(github, tmp_path):
    assert run(tmp_path)["deployments"] == {}
    assert "deployments" not in (tmp_path / "summary.md").read_text("utf-8")


def test_prints_the_table_without_a_summary_file(github, capsys):
    argv = ["--repo", "acme/shop", "--until", UNTIL, "--environment", "production"]
    assert dora_metrics.main(argv) == 0
    assert (
        "| change failure rate | 33.3 % (2 of 6) | below 15 % |"
        in capsys.readouterr().out
    )


def test_writes_the_job_summary_in_github_actions(github, tmp_path, monkeypatch):
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert dora_metrics.main(["--repo", "acme/shop", "--until", UNTIL]) == 0
    assert summary.read_text("utf-8").startswith("earlier step\n## Delivery metrics")


def at(minutes):
    return dora_metrics.parse_time("2026-01-01T00:00:00Z") + timedelta(minutes=minutes)


def deploy(succeeded, finished, committed=0):
    return dora_metrics.Deploy("prod", "abc", succeeded, at(finished), at(committed))


def test_a_failure_not_yet_restored_is_counted_apart():
    metrics = dora_metrics.deploy_metrics(
        [deploy(True, 10), deploy(False, 20), deploy(False, 30)], days=1
    )
    assert metrics["time_to_restore_seconds"] is None
    assert metrics["unrestored"] == 2
    assert metrics["change_failure_rate"] == pytest.approx(2 / 3)


def test_no_runs_and_no_deploys_give_no_figures():
    assert dora_metrics.build_metrics([])["success_rate"] is None
    empty = dora_metrics.deploy_metrics([], days=7)
    assert (empty["per_day"], empty["lead_time_seconds"]) == (0, None)
    assert empty["change_failure_rate"] is None


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        (["in_progress", "success", "inactive"], (True, 1)),
        (["queued", "failure"], (False, 1)),
        (["in_progress", "error"], (False, 1)),
        (["queued", "in_progress"], None),
    ],
)
def test_the_outcome_is_the_first_final_status(states, expected):
    statuses = [
        {"state": state, "created_at": at(minute).isoformat()}
        for minute, state in enumerate(states)
    ]
    outcome = dora_metrics.outcome(statuses[::-1])  # the API lists newest first
    assert outcome == (expected and (expected[0], at(expected[1])))


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "n/a"),
        (42, "42 s"),
        (294.4, "4 min 54 s"),
        (3600, "1 h"),
        (3900, "1 h 5 min"),
        (2 * 86400 + 3 * 3600 + 59, "2 d 3 h"),
    ],
)
def test_durations_read_naturally(seconds, text):
    assert dora_metrics.duration(seconds) == text


def test_needs_a_token(monkeypatch, capsys):
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    assert dora_metrics.main(["--repo", "acme/shop"]) == 2
    assert "set GITHUB_TOKEN" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["--repo", "a/b", "--days", "0"]])
def test_bad_arguments_exit_2(monkeypatch, argv):
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    with pytest.raises(SystemExit) as exit_:
        dora_metrics.main(argv)
    assert exit_.value.code == 2


def test_only_an_http_api_is_accepted():
    with pytest.raises(ValueError, match="must be http"):
        dora_metrics.GitHub("token", "file:///etc")
