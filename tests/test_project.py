"""The project's promises about itself: pixi, pyproject, README, CI and Dockerfile agree, the code is ruff-clean.

These run under plain pytest without pixi or Docker (neither can run here): they parse the files instead.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
REQUIRED_TASKS = {"serve", "test", "build-warehouse", "train-scorer", "train-protovit", "bench"}


def load_toml(name: str) -> dict:
    return tomllib.loads((ROOT / name).read_text(encoding="utf-8"))


def project_requirements() -> dict[str, Requirement]:
    project = load_toml("pyproject.toml")["project"]
    requirements = [Requirement(r) for r in project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        requirements += [Requirement(r) for r in extra]
    return {r.name.lower(): r for r in requirements}


def quick_start_commands() -> list[str]:
    """The shell commands in the README's 'Quick start' section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", section, flags=re.S)
    return [
        line.strip()
        for block in blocks
        for line in block.splitlines()
        if line.strip() and not line.startswith("#")
    ]


def task_command(name: str) -> str:
    task = load_toml("pixi.toml")["tasks"][name]
    return task if isinstance(task, str) else task["cmd"]


def test_pixi_has_the_required_tasks_pointing_at_existing_scripts() -> None:
    tasks = load_toml("pixi.toml")["tasks"]
    assert set(tasks) >= REQUIRED_TASKS
    for name, task in tasks.items():
        assert isinstance(task, dict) and len(task.get("description", "")) > 20, (
            f"task {name} needs a description"
        )
        words = shlex.split(task_command(name))
        assert words[0] == "python", f"task {name} should run the project's Python scripts"
        if words[1] == "-m":
            assert words[2] == "pytest"
        else:
            assert (ROOT / words[1]).is_file(), f"task {name} runs {words[1]}, which does not exist"


def test_pixi_python_satisfies_requires_python() -> None:
    pixi_python = load_toml("pixi.toml")["dependencies"]["python"]
    requires = SpecifierSet(load_toml("pyproject.toml")["project"]["requires-python"])
    assert pixi_python == "3.11.*"
    assert Version("3.11.0") in requires and Version("3.11.99") in requires


def test_pixi_installs_the_project_itself_and_pins_nothing_differently() -> None:
    pixi = load_toml("pixi.toml")
    project = load_toml("pyproject.toml")["project"]
    own = pixi["pypi-dependencies"][project["name"]]
    assert own["path"] == "." and own["editable"] is True
    assert set(own.get("extras", [])) <= set(project["optional-dependencies"])
    requirements = project_requirements()
    tables = [pixi.get(table, {}) for table in ("dependencies", "pypi-dependencies")]
    for target in pixi.get("target", {}).values():
        tables += [target.get(table, {}) for table in ("dependencies", "pypi-dependencies")]
    for table in tables:
        for name, spec in table.items():
            if name in (project["name"], "python"):
                continue
            version = spec if isinstance(spec, str) else spec["version"]
            assert name.lower() in requirements, f"pixi declares {name}, which pyproject does not"
            assert SpecifierSet(version) == requirements[name.lower()].specifier, f"{name} pinned differently"


def test_pixi_platforms_have_torch_wheels_and_linux_gets_cpu_torch() -> None:
    pixi = load_toml("pixi.toml")
    platforms = pixi["workspace"]["platforms"]
    assert "linux-64" in platforms and "osx-64" not in platforms, "PyTorch ships no Intel macOS wheels"
    assert "project" not in pixi, "current pixi reads [workspace]"
    linux = pixi["target"]["linux-64"]["pypi-dependencies"]
    for name in ("torch", "torchvision"):
        assert linux[name]["index"] == "https://download.pytorch.org/whl/cpu"
    assert "download.pytorch.org/whl/cpu" in (ROOT / "scripts/setup_env.sh").read_text()


def test_torch_and_torchvision_are_pinned_together_everywhere() -> None:
    requirements = project_requirements()
    constraints = {
        Requirement(line).name: Requirement(line)
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    }
    for name, version in (("torch", "2.13.0"), ("torchvision", "0.28.0")):
        assert str(requirements[name].specifier) == f"=={version}"
        assert str(constraints[name].specifier) == f"=={version}"


def test_readme_quick_start_is_two_commands_matching_pixi_and_ci() -> None:
    commands = quick_start_commands()
    assert commands == ["./scripts/serve.sh", "./scripts/test.sh"]
    for command in commands:
        script = ROOT / command.removeprefix("./")
        assert script.is_file() and script.stat().st_mode & 0o111, f"{command} must be an executable file"
    assert "python scripts/serve.py" in (ROOT / "scripts/serve.sh").read_text()
    assert task_command("serve") == "python scripts/serve.py"
    assert "python -m pytest" in (ROOT / "scripts/test.sh").read_text()
    assert task_command("test") == "python -m pytest"
    ci = (ROOT / ".ci/run").read_text()
    assert "scripts/test.sh" in ci and "set -euo pipefail" in ci


def test_dockerfile_serves_as_non_root_with_a_liveness_health_check() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and re.search(
        r"^ARG PYTHON_IMAGE=python:3\.11[.\d]*-slim", dockerfile, re.M
    )
    users = re.findall(r"^USER (\S+)", dockerfile, flags=re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/liveness", dockerfile, flags=re.M)
    for variable in (
        "CREDIT_WAREHOUSE",
        "CREDIT_MODEL_DIR",
        "PROTOVIT_RUN",
        "PORT",
        "PANEL_ALLOW_WEBSOCKET_ORIGIN",
    ):
        assert f"{variable}=" in dockerfile
    for copied in re.findall(r"^COPY (?!--from)(\S+)", dockerfile, flags=re.M):
        assert (ROOT / copied).exists(), f"Dockerfile copies {copied}, which does not exist"
    assert "torch==2.13.0 torchvision==0.28.0" in dockerfile


def test_dockerfile_is_multi_stage_pinned_and_carries_no_data() -> None:
    """Reproducible base, dependency layer cached across code changes, data prepared in a volume at first start."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)", dockerfile, re.M).group(1)
    assert re.fullmatch(r"python:3\.11[\w.-]*-slim[\w.-]*@sha256:[0-9a-f]{64}", base), base
    stages = re.findall(r"^FROM (\S+) AS (\w+)", dockerfile, re.M)
    assert [image for image, _ in stages] == ["${PYTHON_IMAGE}"] * 2 and len(stages) == 2
    lines = dockerfile.splitlines()
    first_code_copy = next(
        i for i, line in enumerate(lines) if re.match(r"COPY (dashboard|warehouse|models)", line)
    )
    dependency_install = next(i for i, line in enumerate(lines) if "pip install -c constraints.txt" in line)
    assert dependency_install < first_code_copy
    runtime = dockerfile.split(" AS runtime", 1)[1]
    assert "COPY --from=dependencies /opt/venv /opt/venv" in runtime and "pip install" not in runtime
    assert "download.pytorch.org/whl/cpu" in dockerfile  # CPU torch
    assert "--prepare-only" not in dockerfile and 'VOLUME ["/data"]' in dockerfile  # no data baked in
    start_period = re.search(r"--start-period=(\d+)m", dockerfile)
    assert start_period and int(start_period.group(1)) >= 10  # first start builds the data
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", "data", "runs", "*.duckdb", "tests"):
        assert entry in ignored, f".dockerignore lacks {entry}"
    copied = [
        path for line in re.findall(r"^COPY (?!--from)(.+)", dockerfile, re.M) for path in line.split()[:-1]
    ]
    assert not any(path in ignored for path in copied), (
        "the Dockerfile copies something .dockerignore excludes"
    )


def test_torchvision_workaround_lives_in_one_place() -> None:
    needle = "Library(" + '"torchvision"'  # built so that this file does not match itself
    definers = [
        path.relative_to(ROOT).as_posix()
        for folder in ("dashboard", "warehouse", "models", "protovit", "scripts", "tests")
        for path in (ROOT / folder).rglob("*.py")
        if needle in path.read_text(encoding="utf-8")
    ]
    assert definers == ["protovit/_torchvision_compat.py"]


def test_dependency_direction() -> None:
    """warehouse and protovit import nothing of ours; models imports only warehouse."""
    allowed = {"warehouse": set(), "protovit": set(), "models": {"warehouse"}}
    pattern = re.compile(r"^\s*(?:from|import)\s+(dashboard|warehouse|models|protovit)\b", flags=re.M)
    for package, may_use in allowed.items():
        for path in (ROOT / package).rglob("*.py"):
            used = set(pattern.findall(path.read_text(encoding="utf-8"))) - {package}
            assert used <= may_use, f"{path.relative_to(ROOT)} imports {used - may_use}"


def test_views_talk_only_to_the_cockpit() -> None:
    """Views import the façade, i18n, charts and their own package, never a lower layer or the session plumbing;
    the shell and the benchmark reach views only for their classes, and data only through the cockpit."""
    pattern = re.compile(r"^\s*(?:from|import)\s+((?:dashboard|warehouse|models|protovit)[\w.]*)", flags=re.M)
    allowed = ("dashboard.cockpit", "dashboard.i18n", "dashboard.charts", "dashboard.views")
    for path in (ROOT / "dashboard" / "views").rglob("*.py"):
        if path.name == "base.py":  # the views' own base passes on the session and page widgets they build on
            assert not re.search(
                r"^\s*(?:from|import)\s+(?:warehouse|models|protovit)\b", path.read_text(), re.M
            )
            continue
        for module in pattern.findall(path.read_text(encoding="utf-8")):
            assert module.startswith(allowed) or module == "dashboard", (
                f"{path.relative_to(ROOT)} imports {module}"
            )
    for path in (
        ROOT / "dashboard" / "shell.py",
        ROOT / "dashboard" / "app.py",
        ROOT / "scripts" / "bench_dashboard.py",
    ):
        text = path.read_text(encoding="utf-8")
        names = re.findall(r"^from dashboard\.views\.(?!base\b)\w+ import ([\w, ]+)$", text, flags=re.M)
        assert all(name.strip()[0].isupper() for line in names for name in line.split(",")), path
        assert not re.search(r"^\s*(?:from|import)\s+(?:warehouse|models|protovit)\b", text, flags=re.M), path


def test_sql_and_lightgbm_stay_in_their_packages() -> None:
    for package in ("dashboard", "models", "protovit"):
        for path in (ROOT / package).rglob("*.py"):
            assert "import duckdb" not in path.read_text(encoding="utf-8"), f"{path} uses DuckDB directly"
    for package in ("dashboard", "warehouse", "protovit"):
        for path in (ROOT / package).rglob("*.py"):
            assert "import lightgbm" not in path.read_text(encoding="utf-8"), f"{path} uses LightGBM directly"
    access_store = {ROOT / "dashboard" / "access" / "audit.py", ROOT / "dashboard" / "access" / "users.py"}
    for package in ("dashboard", "models", "warehouse", "protovit"):
        for path in set((ROOT / package).rglob("*.py")) - access_store:
            text = path.read_text(encoding="utf-8")
            assert "import sqlite3" not in text and "psycopg" not in text, f"{path} opens the access store"


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (Path(sys.executable).parent / "ruff").exists(),
    reason="ruff not installed (pip install -e .[test])",
)
def test_ruff_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    result = subprocess.run([ruff, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    formatted = subprocess.run([ruff, "format", "--check", "."], cwd=ROOT, capture_output=True, text=True)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_console_entry_points_and_scripts_run_the_same_main() -> None:
    scripts = load_toml("pyproject.toml")["project"]["scripts"]
    assert {"pad-build-warehouse", "pad-train-scorer", "pad-serve"} <= set(scripts)
    for command, target in scripts.items():
        module_name, function = target.split(":")
        assert callable(getattr(importlib.import_module(module_name), function)), command
        script = ROOT / "scripts" / (command.removeprefix("pad-").replace("-", "_") + ".py")
        assert f"from {module_name} import {function}" in script.read_text(), (
            f"{script.name} must call {target}"
        )


# Declared but never imported, on purpose: Panel's OAuth/OIDC sign-in imports cryptography itself.
USED_WITHOUT_IMPORT = {"cryptography"}


def _third_party_imports(folders: list[str]) -> set[str]:
    """Distribution names (normalised) of every third-party module imported under ``folders``."""
    distributions = importlib.metadata.packages_distributions()
    found = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if (
                        top in sys.stdlib_module_names
                        or top in OWN_PACKAGES
                        or top in ("tests", "scripts", "benchmarks_doc")
                    ):
                        continue
                    assert top in distributions, (
                        f"{path.relative_to(ROOT)} imports {top}, which nothing installs"
                    )
                    found |= {_normalise(name) for name in distributions[top]}
    return found


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


OWN_PACKAGES = ("dashboard", "warehouse", "models", "protovit")


def test_every_import_is_declared_and_every_dependency_imported() -> None:
    project = load_toml("pyproject.toml")["project"]
    runtime = {_normalise(Requirement(r).name) for r in project["dependencies"]}
    test_extra = {_normalise(Requirement(r).name) for r in project["optional-dependencies"]["test"]}
    used_at_run_time = _third_party_imports(list(OWN_PACKAGES))
    # The scripts are thin command wrappers and benchmarks; benchmarks may use the test extra (browser, psutil).
    used_by_tests = _third_party_imports(["tests", "scripts"])
    assert used_at_run_time <= runtime, f"imported but not declared: {sorted(used_at_run_time - runtime)}"
    assert used_by_tests <= runtime | test_extra, (
        f"undeclared test imports: {sorted(used_by_tests - runtime - test_extra)}"
    )
    assert runtime - used_at_run_time == USED_WITHOUT_IMPORT, "declared but never imported at run time"
    assert test_extra - used_by_tests <= {"ruff"}, (
        "a test extra that no test imports (ruff runs as a command)"
    )


def _torch_index_args(index: str) -> subprocess.CompletedProcess[str]:
    script = f'source scripts/setup_env.sh; torch_index_args "{sys.executable}"'
    return subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        env={**os.environ, "PAD_SETUP_FUNCTIONS_ONLY": "1", "PAD_TORCH_INDEX": index},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.skipif(sys.platform != "linux", reason="the CPU index is only added on Linux")
def test_setup_adds_the_cpu_torch_index_only_when_it_answers(tmp_path: Path) -> None:
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "index.html").write_text("<html></html>")
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        port = re.search(r"port (\d+)", server.stdout.readline()).group(1)
        reachable = _torch_index_args(f"http://127.0.0.1:{port}/")
        assert reachable.stdout.strip() == f"--extra-index-url http://127.0.0.1:{port}/", reachable.stderr
    finally:
        server.terminate()
        server.wait(timeout=10)
    with socket.socket() as probe:  # a port nobody listens on: what an offline machine sees
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    offline = _torch_index_args(f"http://127.0.0.1:{closed}/")
    assert offline.returncode == 0 and offline.stdout == "" and "does not answer" in offline.stderr
    opted_out = _torch_index_args("none")
    assert opted_out.returncode == 0 and opted_out.stdout == "" and opted_out.stderr == ""
