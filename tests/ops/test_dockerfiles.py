"""Rules every service image follows, checked by parsing the Dockerfiles (no Docker needed).

A Dockerfile is split into instructions (continuation lines joined, comments dropped) and then
into stages at each FROM; the rules that matter for what ships apply to the final stage.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKER_DIR = REPO / "deploy" / "docker"
SERVICES = ("orchestrator", "executor", "trigger", "log", "connector_gateway", "studio")

PINNED_PYTHON = re.compile(r"^python:3\.11\.\d+-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?$")
BUILD_TOOLS = re.compile(r"\b(apt-get|apt|apk|gcc|g\+\+|build-essential|make|cc|clang)\b")
SECRET_NAMES = re.compile(r"(PASSWORD|SECRET|TOKEN|_KEY|DSN|CREDENTIAL)", re.IGNORECASE)


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [i.args for i in self.instructions if i.keyword == keyword]


def instructions(text: str) -> list[Instruction]:
    out: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # comment lines inside a continuation are dropped by Docker too
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        out.append(Instruction(keyword.upper(), args.strip()))
    assert not pending, "dangling line continuation"
    return out


def stages(text: str) -> list[Stage]:
    result: list[Stage] = []
    for instruction in instructions(text):
        if instruction.keyword == "FROM":
            words = instruction.args.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            result.append(Stage(words[0], name))
        elif result:
            result[-1].instructions.append(instruction)
    return result


def env_names(args: str) -> list[str]:
    return re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=", args)


def dockerfile(service: str) -> str:
    return (DOCKER_DIR / f"{service}.Dockerfile").read_text(encoding="utf-8")


@pytest.fixture(params=SERVICES)
def service(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_every_service_has_a_dockerfile_and_dockerignore(service: str) -> None:
    assert (DOCKER_DIR / f"{service}.Dockerfile").is_file()
    ignore = (DOCKER_DIR / f"{service}.Dockerfile.dockerignore").read_text(encoding="utf-8")
    assert "**" in ignore.split(), "the build context should be an allow-list"


def test_multi_stage_with_a_uv_builder_from_the_lock(service: str) -> None:
    found = stages(dockerfile(service))
    assert len(found) >= 2
    builder = next(s for s in found if s.name == "builder")
    runs = " ".join(builder.all("RUN"))
    assert "uv sync --locked" in runs
    assert f"--package scenarist-{service.replace('_', '-')}" in runs
    assert any("uv.lock" in c for c in builder.all("COPY"))


def test_every_base_image_is_pinned(service: str) -> None:
    for stage in stages(dockerfile(service)):
        if stage.base in {s.name for s in stages(dockerfile(service))}:
            continue
        assert ":" in stage.base and not stage.base.endswith(":latest"), stage.base
        assert re.search(r":\d+\.\d+\.\d+", stage.base), f"not a full version: {stage.base}"
    assert PINNED_PYTHON.match(stages(dockerfile(service))[-1].base)


def test_final_stage_runs_as_a_numeric_non_root_user(service: str) -> None:
    final = stages(dockerfile(service))[-1]
    users = final.all("USER")
    assert users, "final stage has no USER"
    user = users[-1].split(":")[0]
    assert user.isdigit() and int(user) > 0, users[-1]
    # USER must come after the last RUN that could need root, i.e. be the last of them.
    keywords = [i.keyword for i in final.instructions]
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN")


def test_final_stage_has_no_build_tools(service: str) -> None:
    final = stages(dockerfile(service))[-1]
    for run in final.all("RUN"):
        assert not BUILD_TOOLS.search(run), run
        assert "pip install" not in run and "uv " not in run, run
    copies = final.all("COPY")
    assert all("--from=builder" in c for c in copies), "only the built venv reaches the image"


def test_python_writes_no_bytecode_at_runtime(service: str) -> None:
    final = stages(dockerfile(service))[-1]
    assert "PYTHONDONTWRITEBYTECODE=1" in " ".join(final.all("ENV"))


def test_entrypoint_is_exec_form_python_module(service: str) -> None:
    entry = stages(dockerfile(service))[-1].all("ENTRYPOINT")
    assert len(entry) == 1
    assert json.loads(entry[0]) == ["python", "-m", f"scenarist_{service}"]


def test_healthcheck_probes_livez_with_urllib(service: str) -> None:
    checks = stages(dockerfile(service))[-1].all("HEALTHCHECK")
    assert len(checks) == 1
    _, _, command = checks[0].partition("CMD ")
    argv = json.loads(command)
    assert argv[:2] == ["python", "-c"]
    assert "urllib.request" in argv[2] and "/livez" in argv[2]


def test_no_remote_add_and_no_secrets_in_env(service: str) -> None:
    for stage in stages(dockerfile(service)):
        for add in stage.all("ADD"):
            assert "://" not in add, f"ADD of a URL: {add}"
        for env in stage.all("ENV") + stage.all("ARG"):
            for name in env_names(env) or env.split()[:1]:
                assert not SECRET_NAMES.search(name), f"secret-looking {name} baked into image"


@pytest.mark.parametrize(
    "text",
    [
        "FROM python:latest\nUSER 1000\n",
        "FROM python:3.11-slim\nUSER 1000\n",
    ],
)
def test_the_pin_rule_rejects_floating_tags(text: str) -> None:
    assert not PINNED_PYTHON.match(stages(text)[-1].base)


def test_the_parser_joins_continuations_and_skips_comments() -> None:
    text = "FROM a:1.2.3 AS b\n# c\nRUN x \\\n    # inner\n    && y\nUSER 10\n"
    (stage,) = stages(text)
    assert stage.name == "b"
    assert stage.all("RUN") == ["x && y"]


def test_the_entrypoint_module_exists(service: str) -> None:
    package = REPO / "services" / service / "src" / f"scenarist_{service}"
    assert (package / "__main__.py").is_file(), f"python -m scenarist_{service} has no __main__"
