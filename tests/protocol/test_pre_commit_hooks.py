"""The pre-commit hooks of .pre-commit-hooks.yaml, as a user's repository
runs them: `pre-commit try-repo` on a scratch git repository, with the
built `cim-nix` first on PATH (the hooks are `language: system`)."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

from conftest import REPO_ROOT, SERVER_BIN

BROKEN = "{\n  a = 1\n  b = 2;\n}\n"
UNFORMATTED = "{ a=1;\n    b = [1 2];}\n"


def git(cwd: pathlib.Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def try_repo(repo: pathlib.Path, hook: str, *files: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PATH"] = f"{SERVER_BIN.parent}{os.pathsep}{env.get('PATH', '')}"
    env["PRE_COMMIT_HOME"] = str(repo.parent / "pre-commit-home")
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(REPO_ROOT), hook,
         "--files", *files],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def scratch_repo(tmp_path: pathlib.Path) -> pathlib.Path:
    repo = tmp_path / "project"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "test@example.org")
    git(repo, "config", "user.name", "test")
    (repo / "broken.nix").write_text(BROKEN)
    (repo / "messy.nix").write_text(UNFORMATTED)
    (repo / "clean.nix").write_text("{ a = 1; }\n")
    git(repo, "add", ".")
    return repo


def test_check_hook_fails_on_a_syntax_error_and_passes_a_clean_file(tmp_path):
    repo = scratch_repo(tmp_path)
    failed = try_repo(repo, "cim-nix-check", "broken.nix")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "broken.nix:3:3: error[syntax-error]: unexpected `b`, expected `;`" in failed.stdout
    passed = try_repo(repo, "cim-nix-check", "clean.nix")
    assert passed.returncode == 0, passed.stdout + passed.stderr


def test_fmt_hook_formats_the_file_and_reports_the_change(tmp_path):
    repo = scratch_repo(tmp_path)
    run = try_repo(repo, "cim-nix-fmt", "messy.nix")
    # pre-commit fails a hook that changed files, so the user re-stages them.
    assert run.returncode == 1, run.stdout + run.stderr
    assert "files were modified by this hook" in run.stdout
    assert (repo / "messy.nix").read_text() == "{\n  a = 1;\n  b = [ 1 2 ];\n}\n"
    again = try_repo(repo, "cim-nix-fmt", "messy.nix")
    assert again.returncode == 0, again.stdout + again.stderr
