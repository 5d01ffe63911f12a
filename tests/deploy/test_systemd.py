"""deploy/systemd: the units pass ``systemd-analyze verify`` (with the ExecStart binary
made this venv's tokend, as verify requires it to exist) and keep their sandbox."""

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.proxy import ROOT

SYSTEMD = ROOT / "deploy" / "systemd"
UNITS = ("tokend.service", "tokend-migrate.service")
SHIPPED_BINARY = "/opt/tokend/bin/tokend"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"
TOKEND = Path(sys.executable).parent / "tokend"

# What a unit running tokend must say, whatever else it says.
SANDBOX = {
    "DynamicUser": "yes",
    "StateDirectory": "tokend",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "NoNewPrivileges": "yes",
    "PrivateMounts": "yes",
    "PrivateUsers": "yes",
    "CapabilityBoundingSet": "",
    "AmbientCapabilities": "",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "RestrictNamespaces": "yes",
    "RestrictSUIDSGID": "yes",
    "LockPersonality": "yes",
    "SystemCallArchitectures": "native",
    "EnvironmentFile": "/etc/tokend/tokend.env",
}


def service_section(unit: str) -> dict[str, list[str]]:
    """The [Service] keys of a unit, each with every value it is given (in order)."""
    values: dict[str, list[str]] = {}
    section = None
    for line in (SYSTEMD / unit).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line
        elif section == "[Service]":
            key, _, value = line.partition("=")
            values.setdefault(key, []).append(value)
    return values


def verify(folder: Path, *units: str) -> subprocess.CompletedProcess[str]:
    if not Path(SYSTEMD_ANALYZE).exists():
        pytest.skip(f"{SYSTEMD_ANALYZE} is missing")
    return subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", "--generators=no",
         *(str(folder / unit) for unit in units)],
        capture_output=True, text=True, timeout=60, check=False, cwd=folder,
    )  # fmt: skip


def installed(tmp_path: Path, edit: tuple[str, str] | None = None) -> Path:
    """The units in tmp_path with ExecStart on this venv's tokend (and one more edit)."""
    assert TOKEND.exists(), f"{TOKEND} is missing: install tokend into this venv"
    for unit in UNITS:
        text = (SYSTEMD / unit).read_text()
        assert text.count(SHIPPED_BINARY) == 1, f"{unit} must name {SHIPPED_BINARY} once"
        text = text.replace(SHIPPED_BINARY, str(TOKEND))
        if edit is not None and unit == "tokend.service":
            assert edit[0] in text
            text = text.replace(*edit)
        (tmp_path / unit).write_text(text)
    return tmp_path


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    folder = installed(tmp_path)
    checked = verify(folder, *UNITS)
    # verify exits 0 on unknown keys and bad values: it only warns. Any word is a defect.
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr.strip() == "", checked.stderr
    assert checked.stdout.strip() == "", checked.stdout


BROKEN = {
    "bad value": ("ProtectHome=yes", "ProtectHome=yess"),
    "unknown key": ("NoNewPrivileges=yes", "NoNewPrivilege=yes"),
    "missing unit": ("Requires=tokend-migrate.service", "Requires=tokend-migrat.service"),
}


@pytest.mark.parametrize("edit", BROKEN.values(), ids=BROKEN.keys())
def test_verify_as_run_here_catches_a_broken_unit(tmp_path: Path, edit: tuple[str, str]) -> None:
    # The test above would pass on anything if verify said nothing about mistakes.
    checked = verify(installed(tmp_path, edit), *UNITS)
    assert checked.returncode != 0 or checked.stderr.strip(), "a broken unit passed verify"


@pytest.mark.parametrize("unit", UNITS)
def test_systemd_scores_each_unit_s_exposure_low(tmp_path: Path, unit: str) -> None:
    # systemd's own measure of a sandbox, from 0 (nothing exposed) to 10; 1.1 now. What
    # is left: the network (tokend serves it), AF_UNIX (PostgreSQL's socket), the host's
    # root directory, no IP allow list, and writable code pages (see the unit).
    folder = installed(tmp_path)
    if not Path(SYSTEMD_ANALYZE).exists():
        pytest.skip(f"{SYSTEMD_ANALYZE} is missing")
    scored = subprocess.run(
        [SYSTEMD_ANALYZE, "security", "--offline=yes", "--no-pager", "--threshold=15",
         str(folder / unit)],
        capture_output=True, text=True, timeout=60, check=False, cwd=folder,
    )  # fmt: skip
    if "--offline" in scored.stderr:
        pytest.skip("this systemd-analyze cannot score a unit file offline (systemd < 250)")
    overall = re.search(r"Overall exposure level for \S+: ([0-9.]+)", scored.stdout)
    assert overall is not None, scored.stdout + scored.stderr
    assert float(overall.group(1)) <= 1.5, overall.group(0)
    assert scored.returncode == 0, scored.stdout[-2000:]


@pytest.mark.parametrize("unit", UNITS)
def test_each_unit_runs_tokend_in_its_sandbox(unit: str) -> None:
    service = service_section(unit)
    for key, value in SANDBOX.items():
        assert service.get(key) == [value], f"{unit}: {key}={service.get(key)}, not {value!r}"
    assert service["SystemCallFilter"][0] == "@system-service"
    command = "serve" if unit == "tokend.service" else "db upgrade"
    assert service["ExecStart"] == [f"{SHIPPED_BINARY} {command}"]
    # The SQLite default lives in the state directory, the only writable place.
    assert service["Environment"] == ["TOKEND_DATABASE_URL=sqlite:////var/lib/tokend/tokend.db"]
    assert service["WorkingDirectory"] == ["/var/lib/tokend"]
    # Environment= before EnvironmentFile=, so the file's settings win.
    keys = [line.partition("=")[0] for line in (SYSTEMD / unit).read_text().splitlines()]
    assert keys.index("Environment") < keys.index("EnvironmentFile")


def test_the_environment_file_holds_only_tokend_settings() -> None:
    parser = configparser.ConfigParser()
    text = (SYSTEMD / "tokend.env").read_text()
    parser.read_string("[env]\n" + text)
    assert parser["env"], "tokend.env sets nothing"
    for key in parser["env"]:
        assert key.upper().startswith("TOKEND_"), key
    # The failure limit is doubled behind nginx, which checks a refused request twice.
    assert parser["env"]["tokend_rate_limit_failures"] == "60"
