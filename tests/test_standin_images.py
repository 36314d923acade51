"""scripts/make_standin_images.sh takes Debian from the mirror this machine's apt uses."""

import os
import re
import stat
import subprocess

from helpers import ROOT

SCRIPT = ROOT / "scripts" / "make_standin_images.sh"
# What `apt-cache policy` prints behind a local mirror: the security archive first, then the
# main archive and its updates.
POLICY = """Package files:
 100 /var/lib/dpkg/status
     release a=now
 500 http://mirror.internal:3142/debian-security bookworm-security/main amd64 Packages
     release v=12,o=Debian,a=oldstable-security,n=bookworm-security,l=Debian-Security,c=main,b=amd64
     origin mirror.internal
 500 https://deb.nodesource.com/node_20.x nodistro/main amd64 Packages
     release o=Node Source,n=nodistro,l=Node Source,c=main,b=amd64
     origin deb.nodesource.com
 500 http://mirror.internal:3142/debian bookworm/main amd64 Packages
     release v=12.15,o=Debian,a=oldstable,n=bookworm,l=Debian,c=main,b=amd64
     origin mirror.internal
"""


def mirror(tmp_path, policy: str, **env) -> subprocess.CompletedProcess:
    fake = tmp_path / "apt-cache"
    fake.write_text(f"#!/bin/sh\ncat <<'EOF'\n{policy}EOF\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    environ = {k: v for k, v in os.environ.items() if k != "DEBIAN_MIRROR"}
    environ["PATH"] = f"{tmp_path}{os.pathsep}{environ['PATH']}"
    return subprocess.run(["bash", str(SCRIPT), "--mirror"], env={**environ, **env}, capture_output=True, text=True)


def test_the_mirror_is_the_debian_archive_apt_uses(tmp_path):
    result = mirror(tmp_path, POLICY)
    assert (result.returncode, result.stdout) == (0, "http://mirror.internal:3142/debian\n")


def test_debian_mirror_overrides_it(tmp_path):
    result = mirror(tmp_path, POLICY, DEBIAN_MIRROR="http://other/debian")
    assert result.stdout == "http://other/debian\n"


def test_no_debian_source_is_a_clear_error(tmp_path):
    result = mirror(tmp_path, "Package files:\n 100 /var/lib/dpkg/status\n     release a=now\n")
    assert result.returncode != 0
    assert "DEBIAN_MIRROR" in result.stderr


def test_no_mirror_host_in_the_script():
    assert not re.search(r"[a-z]+://", SCRIPT.read_text("utf-8"))
