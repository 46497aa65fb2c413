"""The trainers' registration hook (models/common/register.py), with a fake command runner and a fake
registry probe: when it runs, the exact command, and what a failure does to the training run."""
import argparse
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from register import REPO_ROOT, add_register_arguments, register_command, register_trained_model, tracking_server_problem  # noqa: E402

URI = "http://127.0.0.1:8198"


class FakeRunner:
    def __init__(self, returncode=0, stdout="", stderr="", raises=None):
        self.calls = []
        self.result = (returncode, stdout, stderr)
        self.raises = raises

    def __call__(self, cmd, **kwargs):
        self.calls.append((cmd, kwargs))
        if self.raises:
            raise self.raises
        code, out, err = self.result
        return subprocess.CompletedProcess(cmd, code, out, err)


def hook(tmp_path, *, flag=None, required=False, env=None, runner=None, probe=lambda uri: None):
    said = []
    ok = register_trained_model("vision", tmp_path, flag=flag, required=required, env=env if env is not None else {},
                                run=runner or FakeRunner(), probe=probe, say=said.append)
    return ok, said


def test_nothing_runs_without_the_variable_or_the_flag_and_the_line_says_how(tmp_path):
    runner = FakeRunner()
    ok, said = hook(tmp_path, runner=runner)
    assert ok is False and runner.calls == []
    assert "MLFLOW_TRACKING_URI is unset and --register not given" in said[0]
    assert f"node bin/streamscore.mjs models register vision {tmp_path.resolve()}" in said[0]


def test_the_variable_registers_with_the_cli_command_in_the_repo_root(tmp_path):
    runner = FakeRunner(stdout="uploading...\npcb-qc-mobilenetv2 version 4 (2026-12-06.1), run abc\n")
    probed = []
    ok, said = hook(tmp_path, env={"MLFLOW_TRACKING_URI": URI, "PATH": "/usr/bin"}, runner=runner, probe=lambda uri: probed.append(uri))
    assert ok is True and probed == [URI]
    [(cmd, kwargs)] = runner.calls
    assert cmd == register_command("vision", tmp_path)
    assert cmd[1:] == [str(REPO_ROOT / "bin" / "streamscore.mjs"), "models", "register", "vision", str(tmp_path.resolve())]
    assert kwargs["cwd"] == str(REPO_ROOT) and kwargs["env"]["MLFLOW_TRACKING_URI"] == URI
    assert "pcb-qc-mobilenetv2 version 4" in said[-1]


def test_no_register_wins_over_the_variable(tmp_path):
    runner = FakeRunner()
    ok, said = hook(tmp_path, flag=False, env={"MLFLOW_TRACKING_URI": URI}, runner=runner)
    assert ok is False and runner.calls == [] and "--no-register" in said[0]


def test_the_flag_without_a_uri_leaves_the_endpoint_to_the_cli(tmp_path):
    runner = FakeRunner(stdout="legal-ner-minilm version 2 (x), run r\n")
    probed = []
    ok, _ = hook(tmp_path, flag=True, runner=runner, probe=lambda uri: probed.append(uri))
    assert ok is True and probed == [] and len(runner.calls) == 1


def test_a_registry_that_does_not_answer_is_one_line_and_no_command(tmp_path):
    runner = FakeRunner()
    ok, said = hook(tmp_path, env={"MLFLOW_TRACKING_URI": URI}, runner=runner, probe=lambda uri: "Connection refused")
    assert ok is False and runner.calls == []
    assert f"no MLflow tracking server answers at {URI} (Connection refused)" in said[0]
    assert "infra up" in said[0] and "models register vision" in said[0]


def test_a_failed_registration_does_not_fail_the_run_and_names_the_cli_error(tmp_path):
    runner = FakeRunner(returncode=1, stderr="upload model-meta.json\nmodels register: the loader refused the folder: no model-meta.json\n")
    ok, said = hook(tmp_path, flag=True, runner=runner)
    assert ok is False
    assert "exited 1" in said[-1] and "the loader refused the folder" in said[-1]


def test_a_missing_node_or_a_hang_is_reported_too(tmp_path):
    ok, said = hook(tmp_path, flag=True, runner=FakeRunner(raises=FileNotFoundError(2, "No such file", "node")))
    assert ok is False and "cannot start" in said[-1] and "npm install" in said[-1]
    ok, said = hook(tmp_path, flag=True, runner=FakeRunner(raises=subprocess.TimeoutExpired("node", 900)))
    assert ok is False and "ran over 900 s" in said[-1]


def test_require_registration_fails_the_run_when_not_registered(tmp_path):
    with pytest.raises(SystemExit, match="exited 2.*--require-registration"):
        hook(tmp_path, required=True, runner=FakeRunner(returncode=2, stderr="boom"))
    with pytest.raises(SystemExit, match="no MLflow tracking server answers"):
        hook(tmp_path, required=True, env={"MLFLOW_TRACKING_URI": URI}, probe=lambda uri: "timed out")
    ok, _ = hook(tmp_path, required=True, runner=FakeRunner(stdout="x version 1 (v), run r\n"))
    assert ok is True, "required alone asks for the registration"


def test_the_arguments(tmp_path):
    ap = argparse.ArgumentParser()
    add_register_arguments(ap)
    assert (ap.parse_args([]).register, ap.parse_args([]).require_registration) == (None, False)
    assert ap.parse_args(["--register"]).register is True
    assert ap.parse_args(["--no-register"]).register is False
    assert ap.parse_args(["--require-registration"]).require_registration is True


def test_the_probe_says_why_a_closed_port_does_not_answer():
    # Port 9 (discard) on localhost: nothing listens in the test environment, so the connection is refused.
    problem = tracking_server_problem("http://127.0.0.1:9", timeout_s=1.0)
    assert problem is not None and problem != ""


def test_an_unfinished_folder_is_not_registered_and_the_line_says_what_to_run_first(tmp_path):
    # models/documents/export.py without --keep-thresholds: placeholder thresholds until evaluate.py chooses them.
    runner = FakeRunner()
    said = []
    ok = register_trained_model("ner", tmp_path, env={"MLFLOW_TRACKING_URI": URI}, run=runner, probe=lambda uri: None,
                                say=said.append, pending="its thresholds are placeholders until evaluate.py --choose-thresholds")
    assert ok is False and runner.calls == []
    assert "thresholds are placeholders" in said[0] and f"then: node bin/streamscore.mjs models register ner {tmp_path.resolve()}" in said[0]
    with pytest.raises(SystemExit, match="placeholders"):
        register_trained_model("ner", tmp_path, required=True, run=runner, probe=lambda uri: None, say=said.append, pending="its thresholds are placeholders")
    assert runner.calls == []
