from fabrikam.apps.common.management.commands.dev import Command


def test_the_banner_shows_the_demo_admin_login(settings, tmp_path):
    settings.DEBUG = True
    settings.DATA_DIR = tmp_path
    (tmp_path / "demo-admin-password").write_text("s3cret-demo\n")
    banner = Command().banner("http://127.0.0.1:8000")
    assert "  admin      http://127.0.0.1:8000/admin/  (login: admin / s3cret-demo)" in banner
    assert "  API docs   http://127.0.0.1:8000/api/docs/" in banner
    token = "  token      .venv/bin/python manage.py issue_token --owner contoso"
    assert token in banner
    assert "  tracking   http://127.0.0.1:8000/track/<deliveryId>" in banner


def test_the_banner_never_shows_a_password_without_debug(settings, tmp_path):
    settings.DEBUG = False
    settings.DATA_DIR = tmp_path
    (tmp_path / "demo-admin-password").write_text("s3cret-demo\n")
    assert "s3cret-demo" not in Command().banner("http://127.0.0.1:8000")
