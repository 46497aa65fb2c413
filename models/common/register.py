"""Register what a Python trainer produced, through the project CLI (the training hook of
docs/models.md "Registering and seeding"; `plant train` and `churn train` do the same in TypeScript
with cli/models.ts registerAfterTraining):

    from register import add_register_arguments, register_trained_model
    add_register_arguments(ap)
    ...
    register_trained_model('vision', out_dir, flag=args.register, required=args.require_registration)

It runs `node bin/streamscore.mjs models register KIND DIR`, so the folder goes through the same
loader checks, MLflow run, sha256 tags and REGISTERED event as a registration by hand. It runs
only when asked: --register, or MLFLOW_TRACKING_URI set (--no-register wins over the variable). A
registry that does not answer, or a registration that fails, is one line saying why and the command
to run later; the training run still succeeds unless --require-registration was given.
"""
from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable, Mapping

REPO_ROOT = Path(__file__).resolve().parents[2]
TRACKING_ENV = "MLFLOW_TRACKING_URI"
# An upload is one request per file with a 300 s timeout (register.ts); the NER folder is ~140 MB.
REGISTER_TIMEOUT_S = 900


def add_register_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--register", action=argparse.BooleanOptionalAction, default=None,
                    help=f"register the model at the end with `streamscore models register` (default: when {TRACKING_ENV} is set)")
    ap.add_argument("--require-registration", action="store_true",
                    help="fail the run when the model could not be registered (default: say why and go on)")


def node_binary(repo_root: Path = REPO_ROOT) -> str:
    """Node 24 of the project (node_modules/.bin/node), else `node` on PATH (bin/streamscore.mjs re-runs itself on Node 24)."""
    bundled = repo_root / "node_modules" / ".bin" / "node"
    return str(bundled) if bundled.exists() else "node"


def register_command(kind: str, model_dir: Path, repo_root: Path = REPO_ROOT) -> list[str]:
    return [node_binary(repo_root), str(repo_root / "bin" / "streamscore.mjs"), "models", "register", kind, str(Path(model_dir).resolve())]


def tracking_server_problem(uri: str, timeout_s: float = 3.0) -> str | None:
    """None when an MLflow server answers at `uri` (any HTTP answer under 500), else why not."""
    url = f"{uri.rstrip('/')}/api/2.0/mlflow/experiments/get-by-name?{urllib.parse.urlencode({'experiment_name': 'Default'})}"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s):
            return None
    except urllib.error.HTTPError as e:
        return None if e.code < 500 else f"HTTP {e.code}"
    except (urllib.error.URLError, OSError, ValueError) as e:
        return str(getattr(e, "reason", e))


def _tail(text: str | None, lines: int = 5) -> str:
    kept = [line for line in (text or "").strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept) or "(no output)"


def register_trained_model(kind: str, model_dir: Path | str, *, flag: bool | None = None, required: bool = False,
                           env: Mapping[str, str] | None = None, run: Callable[..., subprocess.CompletedProcess] = subprocess.run,
                           probe: Callable[[str], str | None] = tracking_server_problem, say: Callable[[str], None] = print,
                           repo_root: Path = REPO_ROOT, pending: str | None = None) -> bool:
    """Registers `model_dir` as `kind` when asked (see the module doc); True when a version exists for it afterwards.

    `pending`: why the folder is not a finished model yet (and what to run first), e.g. thresholds
    still to be chosen; it is then not registered, and the line gives the command for afterwards.
    `run` and `probe` are subprocess.run and the HTTP check; tests pass fakes. Raises SystemExit only
    when `required` and the model was not registered.
    """
    env = dict(os.environ if env is None else env)
    model_dir = Path(model_dir)
    cmd = register_command(kind, model_dir, repo_root)
    later = shlex.join(["node", "bin/streamscore.mjs", *cmd[2:]])
    uri = env.get(TRACKING_ENV, "").strip()
    wanted = required or (flag if flag is not None else bool(uri))

    def not_registered(why: str) -> bool:
        line = f"model in {model_dir} not registered: {why}"
        if required:
            raise SystemExit(f"{line} (--require-registration)")
        say(line)
        return False

    if pending is not None and wanted:
        return not_registered(f"{pending}; then: {later}")
    if not wanted:
        reason = "--no-register" if flag is False else f"{TRACKING_ENV} is unset and --register not given"
        say(f"model in {model_dir} not registered ({reason}); to register it: {later}")
        return False
    # Without a URI the CLI uses the embedded stack's; it says itself when that does not answer.
    if uri:
        problem = probe(uri)
        if problem is not None:
            return not_registered(f"no MLflow tracking server answers at {uri} ({problem}); start it (node bin/streamscore.mjs infra up), then: {later}")
    say(f"registering {model_dir} as {kind}: {later}")
    try:
        done = run(cmd, cwd=str(repo_root), env=env, capture_output=True, text=True, timeout=REGISTER_TIMEOUT_S)
    except FileNotFoundError as e:
        return not_registered(f"cannot start {cmd[0]} ({e}); install the project (npm install), then: {later}")
    except subprocess.TimeoutExpired:
        return not_registered(f"`models register` ran over {REGISTER_TIMEOUT_S} s; run it again: {later}")
    if done.returncode != 0:
        return not_registered(f"`models register` exited {done.returncode}: {_tail(done.stderr or done.stdout)}; once fixed: {later}")
    say(_tail(done.stdout, lines=2))
    return True
