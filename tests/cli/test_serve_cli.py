"""`hanzicheck serve`'s bad arguments: a usage error or one line on stderr, exit 2, before uvicorn starts."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from fake_artifacts import write_fake_artifacts
from hanzicheck.cli import build_app
from hanzicheck.cli.serve_cmd import LogLevel

pytest.importorskip("uvicorn")

runner = CliRunner()


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return write_fake_artifacts(tmp_path_factory.mktemp("model"))


def test_log_levels_are_uvicorns():
    from uvicorn.config import LOG_LEVELS

    assert [level.value for level in LogLevel] == list(LOG_LEVELS)


def test_unknown_log_level_is_a_usage_error(model):
    result = runner.invoke(build_app(), ["serve", "--model", str(model), "--port", "0", "--log-level", "foo"])
    assert result.exit_code == 2
    assert "'--log-level'" in result.output and "'foo' is not one of" in result.output
    assert "Traceback" not in result.output and "KeyError" not in result.output


def test_port_in_use_is_one_line_naming_the_address(model):
    with socket.socket() as held:  # a free port, held open and listening for the whole run
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        result = runner.invoke(build_app(), ["serve", "--model", str(model), "--host", "127.0.0.1",
                                             "--port", str(port), "--log-level", "warning"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"hanzicheck: cannot listen on 127.0.0.1:{port}: "
                                                  "Address already in use"]
    assert result.stdout == ""
