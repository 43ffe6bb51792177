"""ServiceProcess reports a server that dies or never answers, quoting its output."""

from __future__ import annotations

import pytest
from taar_testing.services import ServiceProcess, ServiceStartError, free_port


class ShellService(ServiceProcess):
    """A real process running a shell snippet (stands for a broken server)."""

    name = "shell"
    startup_timeout = 1.0

    def __init__(self, script: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.script = script

    def command(self) -> list[str]:
        return ["sh", "-c", self.script]


def test_server_that_exits_early_fails_with_its_log(tmp_path):
    service = ShellService("echo 'bind: address already in use'; exit 3", port=free_port(), log_dir=tmp_path)
    with pytest.raises(ServiceStartError, match=r"(?s)exited with status 3.*address already in use"):
        service.start()
    assert service.process is None


def test_server_that_never_answers_times_out_and_is_killed(tmp_path):
    service = ShellService("echo waiting; exec sleep 60", port=free_port(), log_dir=tmp_path)
    with pytest.raises(ServiceStartError, match=r"(?s)did not answer .* within 1s.*waiting"):
        service.start()
    assert service.process is None
