"""The processes a role runs, and the supervisor and embedded Redis of the local process
tree (`manage.py dev`)."""
