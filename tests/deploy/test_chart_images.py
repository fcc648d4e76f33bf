"""Which version of the one image each workload runs: the global `image`, a role's own
`roles.<role>.image` (how the pipeline rolls some roles and not others), and the migration Job's."""

from __future__ import annotations

import pytest

from tests.deploy.conftest import container, name, values
from tests.deploy.test_chart_workloads import ROLE_NAMES, deployments_by_role

pytestmark = pytest.mark.helm

REPO = "acrfab.azurecr.io/fabrikam/drone-delivery"
REGISTRY = "image.registry=acrfab.azurecr.io"
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


def images_by_role(manifest) -> dict[str, str]:
    return {role: container(d)["image"] for role, d in deployments_by_role(manifest).items()}


def migration_images(manifest) -> set[str]:
    pod = manifest.get("Job", name("migrate"))["spec"]["template"]["spec"]
    return {c["image"] for c in pod["initContainers"] + pod["containers"]}


def test_every_role_and_the_migration_have_an_empty_image_override_by_default():
    defaults = values()
    for role in ROLE_NAMES:
        assert defaults["roles"][role]["image"] == {"tag": "", "digest": ""}, role
    assert defaults["migration"]["image"] == {"tag": "", "digest": ""}


@pytest.mark.parametrize("env_name", ["default", "dev", "prod"])
def test_a_role_tag_moves_that_role_only(render, env_name):
    manifest = render(
        env_name,
        REGISTRY,
        "image.tag=1.0.0",
        "roles.delivery.image.tag=2.0.0",
        "migration.image.tag=2.0.0",
    )
    images = images_by_role(manifest)
    assert images.pop("delivery") == f"{REPO}:2.0.0"
    assert set(images) == ROLE_NAMES - {"delivery"}
    assert set(images.values()) == {f"{REPO}:1.0.0"}


def test_a_role_digest_wins_over_its_tag_and_either_wins_over_the_global_image(render):
    manifest = render(
        "prod",
        REGISTRY,
        "image.tag=1.0.0",
        f"image.digest={DIGEST_B}",
        "roles.delivery.image.tag=2.0.0",
        f"roles.delivery.image.digest={DIGEST_A}",
        "roles.ingestion.image.tag=3.0.0",
        "migration.image.tag=3.0.0",
    )
    images = images_by_role(manifest)
    assert images.pop("delivery") == f"{REPO}@{DIGEST_A}"
    assert images.pop("ingestion") == f"{REPO}:3.0.0", "a role's tag replaces the global digest"
    assert set(images.values()) == {f"{REPO}@{DIGEST_B}"}


def test_the_migration_runs_with_the_version_the_pipeline_names(render):
    """migration.image is the newest version being deployed, whatever the roles run."""
    manifest = render(
        "prod",
        REGISTRY,
        "image.tag=1.0.0",
        "roles.delivery.image.tag=2.0.0",
        "migration.image.tag=2.0.0",
    )
    assert migration_images(manifest) == {f"{REPO}:2.0.0"}
    manifest = render(
        "prod",
        REGISTRY,
        "roles.delivery.image.tag=2.0.0",
        "migration.image.tag=2.0.0",
        f"migration.image.digest={DIGEST_A}",
    )
    assert migration_images(manifest) == {f"{REPO}@{DIGEST_A}"}


def test_without_migration_image_the_migration_runs_with_the_image_every_role_shares(render):
    every_role_rolled = [f"roles.{role}.image.tag=2.0.0" for role in sorted(ROLE_NAMES)]
    manifest = render("prod", REGISTRY, "image.tag=1.0.0", *every_role_rolled)
    assert set(images_by_role(manifest).values()) == {f"{REPO}:2.0.0"}
    assert migration_images(manifest) == {f"{REPO}:2.0.0"}, "not the global 1.0.0 no role runs"


def test_the_chart_refuses_to_guess_which_role_image_is_newest(render, render_fails):
    error = render_fails("prod", REGISTRY, "image.tag=1.0.0", "roles.delivery.image.tag=2.0.0")
    assert "set migration.image.tag" in error
    assert f"{REPO}:1.0.0" in error
    assert f"{REPO}:2.0.0" in error
    # Nothing to guess when the Job is off.
    manifest = render(
        "prod",
        REGISTRY,
        "image.tag=1.0.0",
        "roles.delivery.image.tag=2.0.0",
        "migration.enabled=false",
    )
    assert images_by_role(manifest)["delivery"] == f"{REPO}:2.0.0"


def test_an_image_for_a_role_the_chart_does_not_have_is_refused(render_fails):
    """A misspelt role would otherwise be a key nothing reads, and the rollout a silent no-op."""
    error = render_fails("prod", "roles.deliveries.image.tag=2.0.0")
    assert "roles.deliveries is not a role of this chart" in error
