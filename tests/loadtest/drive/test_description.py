"""A run's description (loadtest/drive/description.py): the options, the workload and its defaults
resolved once into one immutable value; `portalsim run` plans the world once and hands both to
Locust in plan.json, whose master then reads neither the workload file nor the catalogue."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

import loadtest.drive.description
import loadtest.model.workload
import loadtest.model.world
from loadtest.drive.description import PlannedRun, RunDescription, describe_run
from loadtest.drive.processes import LOCUSTFILE, PROJECT_ROOT
from loadtest.drive.run import RunOptions, prepare
from loadtest.model.thresholds import ThresholdError
from loadtest.model.workload import DEFAULT_WORKLOAD, StepShape, WorkloadError, load_workload
from portalsim.cli import app

runner = CliRunner()


def _described(**given: Any) -> RunDescription:
    options: dict[str, Any] = {
        "workload": DEFAULT_WORKLOAD,
        "scale": None,
        "speed": None,
        "duration": None,
        "seed": None,
        "shape": None,
        "thresholds": None,
        "staffing": None,
        "out": Path("reports"),
        "run_id": "",
        "force": False,
        "gateway": "http://127.0.0.1:8001/",
    }
    return describe_run(**{**options, **given})


def test_an_option_left_out_takes_the_workload_s_value() -> None:
    workload = load_workload(DEFAULT_WORKLOAD)
    described = _described()
    assert (described.scale, described.seed, described.speed) == (
        workload.run.scale,
        workload.run.seed,
        workload.run.speed,
    )
    assert described.real_seconds == 120.0  # [run] duration = "120s"
    assert described.thresholds == workload.thresholds
    assert described.officers is None
    assert described.gateway == "http://127.0.0.1:8001"
    assert described.run_id  # the instant it was described


def test_a_shape_s_own_speed_and_length_apply_unless_given() -> None:
    described = _described(shape="step:steps=3,step_duration=20s,speed=600")
    assert isinstance(described.shape, StepShape)
    assert (described.speed, described.real_seconds) == (600.0, 60.0)
    assert _described(shape="step", speed=1200).speed == 1200


def test_a_running_portal_s_clock_sets_the_speed_and_refuses_another() -> None:
    assert _described(read_clock_speed=lambda: 7200.0).speed == 7200.0
    with pytest.raises(WorkloadError, match=r"--speed 1200, but the portal's clock runs at 7200"):
        _described(speed=1200, read_clock_speed=lambda: 7200.0)


def test_the_options_are_checked_before_the_target_is_asked() -> None:
    def unreachable() -> float:
        raise AssertionError("the clock was read before the options were checked")

    with pytest.raises(WorkloadError, match="duration 'soon'"):
        _described(duration="soon", read_clock_speed=unreachable)


@pytest.mark.parametrize(
    ("given", "error", "says"),
    [
        ({"scale": 0.0}, WorkloadError, "--scale and --speed must be positive"),
        ({"speed": -1.0}, WorkloadError, "--scale and --speed must be positive"),
        ({"shape": "spike"}, WorkloadError, "--shape 'spike': one of diurnal, surge, soak, step"),
        ({"shape": "step", "duration": "60s"}, WorkloadError, "a step run lasts steps x"),
        ({"thresholds": "nowhere.toml"}, ThresholdError, "thresholds file nowhere.toml"),
        ({"staffing": "nowhere.json"}, WorkloadError, "--staffing nowhere.json"),
    ],
)
def test_a_bad_option_is_one_error_naming_it(
    given: dict[str, Any], error: type[Exception], says: str
) -> None:
    with pytest.raises(error, match=re.escape(says)) as raised:
        _described(**given)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["--shape", "spike"], "--shape 'spike': one of diurnal, surge, soak, step"),
        (["--thresholds", "nowhere.toml"], "thresholds file nowhere.toml: not found"),
        (["--staffing", "nowhere.json"], "--staffing nowhere.json"),
        (["--shape", "step", "--duration", "60s"], "a step run lasts steps x step_duration"),
    ],
)
def test_portalsim_run_refuses_a_bad_option_in_one_line_with_exit_2(
    arguments: list[str], says: str
) -> None:
    result = runner.invoke(app, ["run", *arguments])
    assert result.exit_code == 2
    assert says in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_the_description_is_immutable() -> None:
    described = _described()
    with pytest.raises(ValidationError):
        described.scale = 2.0  # type: ignore[misc]


def test_portalsim_run_reads_the_workload_and_builds_the_world_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = {"load_workload": 0, "build_world": 0}

    def counted(module: Any, name: str) -> None:
        real = getattr(module, name)

        def counting(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, counting)

    for module in (loadtest.model.workload, loadtest.drive.description):
        counted(module, "load_workload")
    for module in (loadtest.model.world, loadtest.drive.description):
        counted(module, "build_world")
    planned = prepare(RunOptions(scale=0.01, speed=1200))
    assert calls == {"load_workload": 1, "build_world": 1}
    assert planned.world.require_plan().scale == 0.01


def test_plan_json_gives_back_the_same_run(tmp_path: Path) -> None:
    """Read back, the workload and world are the ones written, to the last bit: a worker's
    schedule is the master's."""
    planned = prepare(RunOptions(scale=0.01, speed=1200, shape="surge"))
    again = PlannedRun.read(planned.write(tmp_path / "plan.json"))
    assert again.description == planned.description
    assert again.world.as_message() == planned.world.as_message()


def test_the_locust_master_takes_the_plan_as_written(tmp_path: Path) -> None:
    """Plain Locust given `portalsim run`'s plan.json (its workload file gone, no portal up)
    prints that plan: it read neither the workload file nor a catalogue."""
    workload = tmp_path / "gone.toml"
    workload.write_text(DEFAULT_WORKLOAD.read_text(encoding="utf-8"), encoding="utf-8")
    planned = prepare(RunOptions(workload=workload, scale=0.01, speed=1200, out=tmp_path))
    plan_file = planned.write(tmp_path / "plan.json")
    workload.unlink()
    done = subprocess.run(
        [
            *(sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"),
            *("-H", "http://127.0.0.1:9", "--run-plan", str(plan_file), "--plan-only"),
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout[done.stdout.index("{") :])
    assert printed == planned.world.require_plan().model_dump(mode="json")


def test_plain_locust_refuses_a_bad_option_in_one_line_with_exit_2() -> None:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"),
            *("-H", "http://127.0.0.1:9", "--scale", "0"),
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    refusals = [line for line in done.stderr.splitlines() if "cannot start the run" in line]
    assert refusals == ["cannot start the run: --scale and --speed must be positive"]
