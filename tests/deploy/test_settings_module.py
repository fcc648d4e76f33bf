"""What runs in the cluster loads the production settings: the image says so, and so does every
container the chart renders (manage.py alone would pick the checkout's local settings)."""

from __future__ import annotations

import pytest

from tests.deploy.conftest import env_of
from tests.deploy.test_static_analysis import instructions

PRODUCTION = "fabrikam.settings.production"


def test_the_image_runs_the_production_settings():
    steps = instructions()
    runtime = steps[max(i for i, (w, _) in enumerate(steps) if w == "FROM") :]
    env = " ".join(a for w, a in runtime if w == "ENV").split()
    assert f"DJANGO_SETTINGS_MODULE={PRODUCTION}" in env


@pytest.mark.helm
def test_every_container_of_the_chart_runs_the_production_settings(manifest):
    workloads = manifest.of("Deployment") + manifest.of("Job")
    assert workloads
    for workload in workloads:
        spec = workload["spec"]["template"]["spec"]
        for c in spec.get("initContainers", []) + spec["containers"]:
            name = f"{workload['metadata']['name']}/{c['name']}"
            assert env_of(c).get("DJANGO_SETTINGS_MODULE") == PRODUCTION, name
