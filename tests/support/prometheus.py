"""Reading a Prometheus exposition (the text /metrics answers) in tests."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families


def sample(text: str, name: str, absent: float | None = None, **labels: str) -> float:
    """The value of the sample `name{labels}`. An absent sample fails the test, unless the caller
    says what absence means (`absent=0.0` for a labelled counter that has not counted yet)."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return found.value
    if absent is None:
        pytest.fail(f"no sample {name}{labels} in the exposition:\n{text}")
    return absent
