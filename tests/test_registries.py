"""Each registry's own login, as the generated workflows write it: the push identity where an image
is pushed or tagged, the read-only one where it is only read. The shared behaviour of every
registry (permissions, settings, validators) is test_workflows.py's and test_deploy_workflows.py's."""

from helpers import bake


def logins(project, workflow: str, job: str) -> list[dict]:
    steps = project.yaml(f".github/workflows/{workflow}")["jobs"][job]["steps"]
    return [s["with"] for s in steps if s.get("uses", "").startswith("docker/login-action@")]


def test_quay_logs_in_with_a_robot_account_write_to_push_read_only_elsewhere(cookies):
    project = bake(cookies, container_registry="quay.io", deploy_target="kubernetes")
    push = {"registry": "quay.io", "username": "${{ vars.QUAY_ROBOT }}", "password": "${{ secrets.QUAY_ROBOT_TOKEN }}"}
    read = {
        "registry": "quay.io",
        "username": "${{ vars.QUAY_READ_ROBOT }}",
        "password": "${{ secrets.QUAY_READ_ROBOT_TOKEN }}",
    }
    assert logins(project, "ci.yml", "build") == [push]
    assert logins(project, "release.yml", "release") == [push]
    assert logins(project, "security.yml", "trivy-image") == [read]
    assert logins(project, "deploy.yml", "check") == [read]
    # The image is named in the robot accounts' namespace; the deploys get the read token passed.
    assert (
        project.yaml(".github/workflows/ci.yml")["env"]["IMAGE"] == "quay.io/${{ vars.QUAY_NAMESPACE }}/flask-service"
    )
    deploy = project.yaml(".github/workflows/ci.yml")["jobs"]["deploy-staging"]
    assert deploy["secrets"]["QUAY_READ_ROBOT_TOKEN"] == "${{ secrets.QUAY_READ_ROBOT_TOKEN }}"
    # The push robot's token only in the jobs that push, from the environment that the deploy
    # branches and v* tags alone may use (test_setup_github.py runs setup_github.sh for it).
    for workflow in ("ci.yml", "release.yml", "security.yml", "deploy.yml", "manual-deploy.yml"):
        for name, job in project.yaml(f".github/workflows/{workflow}")["jobs"].items():
            holds_push_token = "secrets.QUAY_ROBOT_TOKEN" in str(job)
            assert holds_push_token == ((workflow, name) in {("ci.yml", "build"), ("release.yml", "release")})
            assert not holds_push_token or job["environment"] == "quay"
