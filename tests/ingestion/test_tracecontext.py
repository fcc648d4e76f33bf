"""W3C trace context on the messages: the caller's trace continues, a bad header starts anew."""

from __future__ import annotations

import re

import pytest

from fabrikam.apps.ingestion.tracecontext import message_headers

TRACE = "0af7651916cd43dd8448eb211c80319c"
PARENT = "b7ad6b7169203331"
VALID = re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")


@pytest.mark.parametrize("flags", ["01", "00"])
def test_a_valid_traceparent_is_continued_under_a_new_parent(flags):
    headers = message_headers(f"00-{TRACE}-{PARENT}-{flags}", "vendor=abc")

    version, trace, parent, kept_flags = headers["traceparent"].split("-")
    assert (version, trace, kept_flags) == ("00", TRACE, flags)
    assert re.fullmatch(r"[0-9a-f]{16}", parent)
    assert parent != PARENT
    assert headers["tracestate"] == "vendor=abc"


def test_a_later_version_is_read_by_its_version_00_fields():
    headers = message_headers(f"01-{TRACE}-{PARENT}-01-what-comes-next")
    assert headers["traceparent"].split("-")[1] == TRACE


@pytest.mark.parametrize(
    "traceparent",
    [
        None,
        "",
        "garbage",
        f"00-{TRACE}-{PARENT}",  # no flags
        f"00-{TRACE.upper()}-{PARENT}-01",  # upper case is invalid
        f"00-{'0' * 32}-{PARENT}-01",  # all-zero trace id
        f"00-{TRACE}-{'0' * 16}-01",  # all-zero parent id
        f"ff-{TRACE}-{PARENT}-01",  # forbidden version
        f"00-{TRACE}-{PARENT}-01-extra",  # version 00 has exactly four fields
    ],
)
def test_a_missing_or_invalid_traceparent_starts_a_new_trace(traceparent):
    headers = message_headers(traceparent, "vendor=abc")

    assert VALID.fullmatch(headers["traceparent"])
    assert headers["traceparent"].split("-")[1] != TRACE
    assert "tracestate" not in headers  # it belonged to the trace that was not continued


def test_new_traces_are_distinct():
    assert message_headers(None)["traceparent"] != message_headers(None)["traceparent"]
