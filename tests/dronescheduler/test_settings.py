"""The scheduler's configuration is checked when settings load, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.live import ROOT


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FLIGHT_TICK_SECONDS", "0"),
        ("FLIGHT_TIME_SCALE", "-5"),
        ("DRONE_FULL_CHARGE_MINUTES", "0"),
        ("DRONE_BATTERY_RESERVE", "1.5"),
    ],
)
def test_a_meaningless_setting_stops_the_process_and_names_the_variable(name, value, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "fabrikam.settings.production",
            "DEBUG": "true",
            "FABRIKAM_DATA_DIR": str(tmp_path),
            name: value,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert f"ImproperlyConfigured: {name}" in result.stderr
