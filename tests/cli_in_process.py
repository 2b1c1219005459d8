"""Run an ``urbanos`` command line inside the test process, as a process of its own would run it.

A process of its own costs a Python start and the imports of every component (about a second, several under
load) before the command does anything. Where what is tested is the command itself (its exit code, its output, what
it leaves in the database), :func:`invoke` runs the same command line through click in the test process: the
environment holds exactly the ``URBANOS_*`` variables given (the test process's own are unset meanwhile, as
``start_server`` and the suite's subprocess helpers drop them), ``sys.exit`` becomes the exit code, and standard
output and error are captured apart. An unexpected exception fails the test (a process of its own would have
printed its traceback and exited 1). Every command keeps at least one test that starts it as a real process.
"""

from __future__ import annotations

import os
import subprocess


def invoke(argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``urbanos ARGV`` in process, with the variables ``env``: its exit code, standard output and error."""
    from click.testing import CliRunner

    from urbanos.cli.main import cli

    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("URBANOS_")}
    result = CliRunner().invoke(cli, argv, env={**unset, **(env or {})}, catch_exceptions=False)
    return subprocess.CompletedProcess(argv, result.exit_code, result.stdout, result.stderr)
