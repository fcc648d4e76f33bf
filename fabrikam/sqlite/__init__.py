"""The SQLite database backend: Django's, with its writers taking turns (see base.py)."""
