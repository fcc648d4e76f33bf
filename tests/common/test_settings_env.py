import pytest
from django.core.exceptions import ImproperlyConfigured

from fabrikam.settings import env


def test_file_variant_is_read_when_the_variable_is_absent(tmp_path, monkeypatch):
    secret = tmp_path / "secret"
    secret.write_text("from-key-vault\n")
    monkeypatch.delenv("SOME_SECRET", raising=False)
    monkeypatch.setenv("SOME_SECRET_FILE", str(secret))
    assert env.string("SOME_SECRET") == "from-key-vault"


def test_booleans_reject_typos(monkeypatch):
    monkeypatch.setenv("FLAG", "ture")
    with pytest.raises(ImproperlyConfigured, match="FLAG"):
        env.boolean("FLAG")


def test_integers_name_the_variable(monkeypatch):
    monkeypatch.setenv("COUNT", "ten")
    with pytest.raises(ImproperlyConfigured, match="COUNT='ten' is not an integer"):
        env.integer("COUNT", 1)


def test_lists_split_on_commas(monkeypatch):
    monkeypatch.setenv("HOSTS", "a.example, b.example,")
    assert env.strings("HOSTS", []) == ["a.example", "b.example"]
