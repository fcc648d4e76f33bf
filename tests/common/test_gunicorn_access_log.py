"""gunicorn, configured as every HTTP role starts it (`--config` fabrikam.server.gunicorn_hooks),
keeps no access log of its own: RequestLogMiddleware logs each request. Given a logging config,
gunicorn would otherwise build an access record for every request (the environ, the log atoms, a
LogRecord) only for `gunicorn.access`'s handler to discard it."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import Application

from fabrikam.runtime import processes


class HooksConfig(Application):
    """gunicorn's configuration as the command line in fabrikam.runtime.processes loads it."""

    def init(self, parser: Any, opts: Any, args: Any) -> None:
        return None

    def load_config(self) -> None:
        command = processes.gunicorn("127.0.0.1", 8000, 1)
        location = command[command.index("--config") + 1]
        self.load_config_from_module_name_or_filename(location)

    def load(self) -> Any:
        raise AssertionError("not served")


def test_gunicorn_builds_no_access_log_record():
    config = HooksConfig().cfg
    assert config.logconfig_dict  # gunicorn's own lines keep the project's log format …
    log = config.logger_class(config)
    assert log.access_log_enabled is False  # … and no request is logged by gunicorn itself
