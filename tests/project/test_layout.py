"""The project's own shape: the design card's folders, the README's two commands, CI, compose, ignore rules."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_top_level_layout() -> None:
    for name in ("labs", "graders", "env", "tests", "benchmarks", "docker-compose.yml", "README.md", ".ci/run",
                 "requirements.lock", "pyproject.toml", "Makefile", ".gitignore", "SECURITY.md", "ARCHITECTURE.md"):
        assert (ROOT / name).exists(), name


def test_readme_quick_start_is_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines() if line.strip()]
    assert commands == ["make lab", "make test"]
    assert "make test" in (ROOT / ".ci/run").read_text()


def test_env_folder_is_not_ignored() -> None:
    """The stock Python .gitignore ignores env/; ours must not."""
    out = subprocess.run(["git", "check-ignore", "-q", "env/jupyter/jupyter_server_config.py"], cwd=ROOT)
    assert out.returncode == 1, "env/ is ignored by .gitignore"


def test_compose_file_is_valid() -> None:
    """No Docker engine here: validate the structure compose needs (services, images/builds, ports on loopback)."""
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = data["services"]
    assert {"lab", "localstack"} <= set(services)
    for name, svc in services.items():
        assert "image" in svc or "build" in svc, name
        for port in svc.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
        if "build" in svc:
            assert (ROOT / svc["build"]["context"] / svc["build"]["dockerfile"]).exists()
    assert services["localstack"]["profiles"] == ["localstack"]
    assert "jupyter" in services["lab"]["command"]
    for vol in data.get("volumes", {}):
        assert isinstance(vol, str)


def test_lock_pins_every_dependency() -> None:
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert "==" in line, line


def _unsafe_calls(source: str) -> list[str]:
    """Calls that deserialize or execute untrusted data, found with the AST (docstrings may mention them)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else (
            f"{getattr(func.value, 'id', '?')}.{func.attr}" if isinstance(func, ast.Attribute) else "")
        if name in ("eval", "exec", "pickle.load", "pickle.loads", "marshal.load", "marshal.loads",
                    "yaml.unsafe_load", "yaml.full_load", "dill.load", "dill.loads"):
            found.append(f"line {node.lineno}: {name}")
        if name == "yaml.load":
            loader = next((k.value for k in node.keywords if k.arg == "Loader"), None)
            safe = (isinstance(loader, ast.Attribute) and "Safe" in loader.attr) or (
                isinstance(loader, ast.Name) and "Safe" in loader.id)
            if not safe:
                found.append(f"line {node.lineno}: yaml.load without a safe loader")
    return found


def test_no_unsafe_deserialisation_in_project_code() -> None:
    problems = []
    for folder in ("seclab", "graders", "labs", "env"):
        for path in (ROOT / folder).rglob("*.py"):
            problems += [f"{path.relative_to(ROOT)} {p}" for p in _unsafe_calls(path.read_text())]
    assert not problems, problems


def test_the_unsafe_call_finder_finds() -> None:
    assert _unsafe_calls("import yaml\nyaml.load(x)\n") and _unsafe_calls("eval('1')")
    assert not _unsafe_calls('import yaml\nyaml.load(x, Loader=yaml.SafeLoader)\n"yaml.load(x)"\n')
