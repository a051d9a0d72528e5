"""docker/compose.yaml, checked without a Docker engine (none runs on the development machines).

The file is interpolated as Compose does (`${VAR:-default}` and friends, in values only), then
validated with `jsonschema` against the Compose Specification's JSON schema (draft-07).
The other tests assert what a load run relies on: one image, the start-up order, shared secrets,
as many Locust workers as the master expects, loopback-only ports, a default for every variable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
COMPOSE_FILE = DOCKER / "compose.yaml"
DOCKERFILE = DOCKER / "Dockerfile"
# Apache-2.0, (c) the Compose Specification authors: schema/compose-spec.json of github.com/compose-spec/compose-spec at 170098ba07d9f53c383a41bfd4c5166b0a4529a6.  # noqa: E501
SCHEMA_FILE = Path(__file__).parent / "data" / "compose-spec.json"

IMAGE = "portalsim:local"
PORTALSIM_SERVICES = ("migrate", "portal", "gateway", "locust-master", "locust-worker")
ALL_SERVICES = {"postgres", *PORTALSIM_SERVICES}
REPORTS_IN_CONTAINER = "/srv/portalsim/reports"


# --- interpolation, as Compose does it -----------------------------------------------------


class MissingVariableError(KeyError):
    """A variable without a default is unset (Compose would warn and substitute "")."""


_SUBSTITUTION = re.compile(
    r"\$(?:"
    r"(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<operator>:?[-?+])(?P<argument>[^${}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<invalid>)"
    r")"
)


@dataclass(frozen=True)
class Substitution:
    name: str
    operator: str  # "" for $NAME and ${NAME}; else one of :- - :? ? :+ +
    argument: str


def substitutions(text: str) -> list[Substitution]:
    """The substitutions in one value; nested ones (`${A:-${B}}`) are refused, as unused."""
    found = []
    for match in _SUBSTITUTION.finditer(text):
        if match["invalid"] is not None:
            raise ValueError(f"invalid or nested interpolation in {text!r}")
        if match["escaped"] is None:
            name = match["braced"] or match["named"]
            found.append(Substitution(name, match["operator"] or "", match["argument"] or ""))
    return found


def interpolate(text: str, env: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match["invalid"] is not None:
            raise ValueError(f"invalid or nested interpolation in {text!r}")
        if match["escaped"] is not None:
            return "$"
        name = match["braced"] or match["named"]
        operator, argument = match["operator"] or "", match["argument"] or ""
        value = env.get(name)
        set_, non_empty = value is not None, bool(value)
        if operator in (":-", "-"):
            return (value or "") if (non_empty if operator == ":-" else set_) else argument
        if operator in (":?", "?"):
            if not (non_empty if operator == ":?" else set_):
                raise MissingVariableError(f"{name}: {argument}")
            return value or ""
        if operator in (":+", "+"):
            return argument if (non_empty if operator == ":+" else set_) else ""
        if value is None:
            raise MissingVariableError(name)
        return value

    return _SUBSTITUTION.sub(replace, text)


def interpolated(node: Any, env: Mapping[str, str]) -> Any:
    """The document with every string value interpolated (keys are left alone, as in Compose)."""
    if isinstance(node, dict):
        return {key: interpolated(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolated(item, env) for item in node]
    if isinstance(node, str):
        return interpolate(node, env)
    return node


def string_values(node: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from string_values(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from string_values(item, f"{path}[{index}]")
    elif isinstance(node, str):
        yield path, node


def keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from keys(item)


# --- fixtures and helpers ----------------------------------------------------------------


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def compose(raw: dict[str, Any]) -> dict[str, Any]:
    """The file as Compose sees it with no variable set: every default taken."""
    document: dict[str, Any] = interpolated(raw, {})
    return document


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert "draft-07" in schema["$schema"]  # an https URL, which `validator_for` does not know
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


def service(document: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = document["services"][name]
    return found


def environment(document: dict[str, Any], name: str) -> dict[str, str | None]:
    value = service(document, name).get("environment", {})
    if isinstance(value, list):
        pairs = (item.partition("=") for item in value)
        return {key: (val if sep else None) for key, sep, val in pairs}
    return {key: None if val is None else str(val) for key, val in value.items()}


def command(document: dict[str, Any], name: str) -> list[str]:
    value = service(document, name)["command"]
    assert isinstance(value, list), f"{name}: use the exec (list) form of command"
    return [str(item) for item in value]


def option(arguments: list[str], name: str) -> str:
    assert arguments.count(name) == 1, f"{name} in {arguments}"
    return arguments[arguments.index(name) + 1]


def depends_on(document: dict[str, Any], name: str) -> dict[str, str]:
    value = service(document, name).get("depends_on", {})
    assert isinstance(value, dict), f"{name}: use the long form of depends_on, with conditions"
    return {dependency: spec["condition"] for dependency, spec in value.items()}


# --- the schema --------------------------------------------------------------------------

OVERRIDES = {
    "SECRET_KEY": "another-secret",
    "PORTAL_WORKERS": "4",
    "LOCUST_WORKERS": "6",
    "LOAD_SCALE": "0.5",
    "LOAD_DURATION": "1h",
    "CLOCK_MODE": "accelerated",
    "CLOCK_SPEED": "3600",
    "CLOCK_START": "2026-03-02T07:30:00+07:00",
    "CLOCK_ANCHOR": "2026-06-01T00:00:00Z",
    "GATEWAY_FAULTS": "ipn_drop=0.1",
    "REPORTS_UID": "1234",
}


@pytest.mark.parametrize("env", [{}, OVERRIDES], ids=["defaults", "overrides"])
def test_compose_file_matches_the_compose_spec_schema(
    raw: dict[str, Any], validator: Draft7Validator, env: dict[str, str]
) -> None:
    validator.validate(interpolated(raw, env))


def test_compose_file_matches_the_schema_before_interpolation(
    raw: dict[str, Any], validator: Draft7Validator
) -> None:
    validator.validate(raw)


@pytest.mark.parametrize(
    "document",
    [
        {"services": {"a": {"image": "x", "depend_on": ["b"]}}},
        {"services": {"a": {"image": "x", "depends_on": {"b": {"condition": "healthy"}}}}},
        {"services": {"a": {"image": "x", "deploy": {"replicas": [2]}}}},
        {"services": {"a": {"image": "x", "restart": False}}},
        {"services": {"a": {"environment": {"K": {"nested": 1}}}}},
        {"services": {"a": {"ports": [["8000"]]}}},
        {"service": {}},
    ],
)
def test_the_schema_rejects_what_compose_would(
    validator: Draft7Validator, document: dict[str, Any]
) -> None:
    assert not validator.is_valid(document)
    validator.validate({"services": {"a": {"image": "x"}}})  # each case is this plus one fault


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("${A:-x}", {}, "x"),
        ("${A:-x}", {"A": ""}, "x"),
        ("${A-x}", {"A": ""}, ""),
        ("${A:-x}", {"A": "y"}, "y"),
        ("a$${A}b", {}, "a${A}b"),
        ("${A:+on}", {"A": "1"}, "on"),
        ("${A:+on}", {}, ""),
        ("$A/${B:-2}", {"A": "1"}, "1/2"),
    ],
)
def test_interpolation(text: str, env: dict[str, str], expected: str) -> None:
    assert interpolate(text, env) == expected


@pytest.mark.parametrize("text", ["${A}", "$A", "${A:?needed}"])
def test_interpolation_of_an_unset_variable_without_default_fails(text: str) -> None:
    with pytest.raises(MissingVariableError):
        interpolate(text, {})


@pytest.mark.parametrize("text", ["${A:-${B}}", "${}", "${A", "$ "])
def test_invalid_interpolation_fails(text: str) -> None:
    with pytest.raises(ValueError, match="invalid"):
        substitutions(text)


# --- what a run relies on ----------------------------------------------------------------


def test_every_variable_has_a_default_and_is_documented(raw: dict[str, Any]) -> None:
    readme = (DOCKER / "README.md").read_text(encoding="utf-8")
    found = {s for _, text in string_values(raw) for s in substitutions(text)}
    assert found, "no substitution found: the parser is broken"
    assert {s.name for s in found if s.operator != ":-"} == set()
    assert {s.name for s in found if f"`{s.name}`" not in readme} == set()
    assert not [key for key in keys(raw) if "$" in key]  # Compose does not interpolate keys


def test_every_service_runs_the_image_built_from_the_dockerfile(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == ALL_SERVICES
    assert service(compose, "postgres")["image"] == "postgres:16"
    assert "build" not in service(compose, "postgres")
    assert {service(compose, name)["image"] for name in PORTALSIM_SERVICES} == {IMAGE}
    builders = [name for name in PORTALSIM_SERVICES if "build" in service(compose, name)]
    assert builders == ["portal"]  # built once; the others run the same tag
    build = service(compose, "portal")["build"]
    context = (COMPOSE_FILE.parent / build["context"]).resolve()
    assert context == ROOT
    assert (context / build["dockerfile"]).resolve() == DOCKERFILE.resolve()


def test_start_up_order(compose: dict[str, Any]) -> None:
    assert depends_on(compose, "migrate") == {"postgres": "service_healthy"}
    assert depends_on(compose, "portal") == {
        "postgres": "service_healthy",
        "migrate": "service_completed_successfully",
    }
    assert depends_on(compose, "locust-master") == {
        "portal": "service_healthy",
        "gateway": "service_healthy",
    }
    assert depends_on(compose, "locust-worker") == {"locust-master": "service_started"}
    assert service(compose, "migrate")["restart"] == "no"
    assert command(compose, "migrate") == ["portalsim", "migrate"]


def test_what_is_waited_for_has_a_healthcheck_of_its_own(compose: dict[str, Any]) -> None:
    probes = {"postgres": "pg_isready", "portal": ":8000/readyz", "gateway": ":8001/healthz"}
    waited = {
        dependency
        for name in compose["services"]
        for dependency, condition in depends_on(compose, name).items()
        if condition == "service_healthy"
    }
    assert waited == set(probes)
    for name, probe in probes.items():
        healthcheck = service(compose, name)["healthcheck"]
        assert not healthcheck.get("disable", False)
        assert probe in " ".join(healthcheck["test"]), name
    # The image's HEALTHCHECK probes the portal's port: off where nothing listens there.
    for name in ("migrate", "locust-master", "locust-worker"):
        assert service(compose, name)["healthcheck"] == {"disable": True}


SHARED = {
    "SECRET_KEY",
    "VNPAY_TMN_CODE",
    "VNPAY_HASH_SECRET",
    "VNPAY_GATEWAY_URL",
    "VNPAY_IPN_URL",
    "PUBLIC_URL",
    "CATALOGUE_SEED",
    "COMMUNES_PER_PROVINCE",
    "CLOCK_MODE",
    "CLOCK_SPEED",
    "CLOCK_START",
    "CLOCK_ANCHOR",
}


@pytest.mark.parametrize("variable", sorted(SHARED))
def test_every_portalsim_service_has_the_same(raw: dict[str, Any], variable: str) -> None:
    values = {name: environment(raw, name).get(variable, "<unset>") for name in PORTALSIM_SERVICES}
    assert len(set(values.values())) == 1, values
    assert "<unset>" not in values.values()


def test_shared_secrets_and_clock_defaults(raw: dict[str, Any]) -> None:
    env = environment(raw, "portal")
    secret = substitutions(env["SECRET_KEY"] or "")
    assert [(s.name, s.operator) for s in secret] == [("SECRET_KEY", ":-")]
    assert "demo" in secret[0].argument
    assert env["VNPAY_HASH_SECRET"] == (
        "${VNPAY_HASH_SECRET:-portalsim-demo-vnpay-hash-secret-0123456789}"
    )
    assert env["VNPAY_TMN_CODE"] == "${VNPAY_TMN_CODE:-PORTALSIM}"
    assert env["CLOCK_MODE"] == "${CLOCK_MODE:-real}"
    assert env["CLOCK_SPEED"] == "${CLOCK_SPEED:-1}"
    # Passed through when set, absent otherwise: "" would not parse as a datetime.
    assert env["CLOCK_START"] is None
    assert env["CLOCK_ANCHOR"] is None
    assert "SECRET_KEY" not in environment(raw, "postgres")


def test_portal_gateway_and_database_point_at_each_other(compose: dict[str, Any]) -> None:
    portal, gateway = environment(compose, "portal"), environment(compose, "gateway")
    database = (
        "postgresql://postgres@postgres:5432/"
        + service(compose, "postgres")["environment"]["POSTGRES_DB"]
    )
    assert portal["DATABASE_URL"] == database
    assert environment(compose, "migrate")["DATABASE_URL"] == database
    assert portal["HOST"] == "0.0.0.0"
    assert portal["PUBLIC_URL"] == "http://portal:8000"
    assert portal["VNPAY_GATEWAY_URL"] == "http://gateway:8001"
    assert gateway["GATEWAY_HOST"] == "0.0.0.0"
    assert gateway["VNPAY_IPN_URL"] == "http://portal:8000/api/v1/payments/vnpay/ipn"
    assert "DATABASE_URL" not in gateway  # its ledger: the SQLite default under var/
    assert command(compose, "gateway") == ["portalsim", "gateway"]
    assert command(compose, "portal") == ["portalsim", "serve", "--workers", "2"]


def test_postgres_has_a_named_volume(compose: dict[str, Any]) -> None:
    assert "postgres-data:/var/lib/postgresql/data" in service(compose, "postgres")["volumes"]
    assert "postgres-data" in compose["volumes"]
    assert service(compose, "postgres")["environment"]["POSTGRES_HOST_AUTH_METHOD"] == "trust"


def test_the_master_expects_as_many_workers_as_run(raw: dict[str, Any]) -> None:
    expression = option(command(raw, "locust-master"), "--expect-workers")
    assert expression == "${LOCUST_WORKERS:-2}"
    assert service(raw, "locust-worker")["deploy"]["replicas"] == expression
    for env, expected in (({}, "2"), ({"LOCUST_WORKERS": "6"}, "6")):
        document = interpolated(raw, env)
        assert option(command(document, "locust-master"), "--expect-workers") == expected
        assert service(document, "locust-worker")["deploy"]["replicas"] == expected


def test_the_locust_commands(compose: dict[str, Any]) -> None:
    master, worker = command(compose, "locust-master"), command(compose, "locust-worker")
    assert master[:2] == worker[:2] == ["locust", "-f"]
    assert option(master, "-f") == option(worker, "-f") == "loadtest/locustfile.py"
    assert {"--master", "--headless"} <= set(master)
    assert option(master, "--host") == "http://portal:8000"
    assert option(master, "--gateway") == "http://gateway:8001"
    assert option(master, "--workload") == "loadtest/workload.toml"
    assert option(master, "--scale") == "0.01"
    assert option(master, "--speed") == "1"
    assert option(master, "--duration") == "10m"
    assert option(master, "--out") == REPORTS_IN_CONTAINER
    assert "--worker" in worker
    assert option(worker, "--master-host") == "locust-master"


def test_the_harness_speed_is_the_clock_speed(raw: dict[str, Any]) -> None:
    speed = option(command(raw, "locust-master"), "--speed")
    assert speed == environment(raw, "portal")["CLOCK_SPEED"]


def test_reports_land_in_the_repository_reports_dir(compose: dict[str, Any]) -> None:
    volumes = service(compose, "locust-master")["volumes"]
    mounts = [volume.split(":") for volume in volumes]
    [host] = [source for source, target, *_ in mounts if target == REPORTS_IN_CONTAINER]
    assert (COMPOSE_FILE.parent / host).resolve() == ROOT / "reports"


def test_ports_are_published_on_loopback_only(compose: dict[str, Any]) -> None:
    published: dict[str, list[tuple[str, int, int]]] = {}
    for name, spec in compose["services"].items():
        for port in spec.get("ports", []):
            assert isinstance(port, str), (
                f"{name}: quote {port!r} (YAML reads 8000:8000 as a number)"
            )
            match = re.fullmatch(r"(?P<ip>[0-9.]+):(?P<host>\d+):(?P<container>\d+)", port)
            assert match, f"{name}: {port!r} is not HOST_IP:HOST:CONTAINER"
            mapping = (match["ip"], int(match["host"]), int(match["container"]))
            published.setdefault(name, []).append(mapping)
    assert published == {
        "portal": [("127.0.0.1", 8000, 8000)],
        "gateway": [("127.0.0.1", 8001, 8001)],
        "locust-master": [("127.0.0.1", 8089, 8089)],
    }


# --- the Dockerfile ----------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, list[str]]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split()[0].upper(), line.split()[1:])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_the_dockerfile_copies_the_harness_and_the_portal() -> None:
    instructions = dockerfile_instructions()
    copies = {tuple(arguments) for keyword, arguments in instructions if keyword == "COPY"}
    for directory in ("app", "migrations", "loadtest", "portalsim"):
        assert (directory, f"./{directory}") in copies, copies
    assert ("alembic.ini", "./") in copies
    [workdir] = [arguments for keyword, arguments in instructions if keyword == "WORKDIR"]
    # Relative paths in the commands (loadtest/locustfile.py) and --out resolve against it.
    assert PurePosixPath(workdir[0]) == PurePosixPath(REPORTS_IN_CONTAINER).parent


def test_the_files_the_commands_name_exist(compose: dict[str, Any]) -> None:
    if not (ROOT / "loadtest").is_dir():
        pytest.skip("loadtest/ is not in this tree yet")
    master = command(compose, "locust-master")
    for path in (option(master, "-f"), option(master, "--workload")):
        assert (ROOT / path).is_file(), path
