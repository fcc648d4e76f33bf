"""Calls from one service to another: the HTTP client and its resilience primitives."""
