"""Running schemathesis's engine (every phase the CLI runs: examples, coverage, fuzzing, stateful)
over one schema as one caller, and summarising what it found the way `st run` does."""

from __future__ import annotations

import sys
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

CONFIG = Path(__file__).with_name("schemathesis.toml")


@dataclass
class Summary:
    label: str
    cases: int = 0
    # (operation, failure code, title) → its message and the first curl that reproduces it
    failures: dict[tuple[str, str, str], str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def by_code(self) -> Counter[str]:
        return Counter(code for _, code, _ in self.failures)

    def line(self) -> str:
        codes = ", ".join(f"{code} {n}" for code, n in sorted(self.by_code().items())) or "none"
        return (
            f"{self.label}: {self.cases} cases, {len(self.failures)} unique failures ({codes}), "
            f"{len(self.errors)} errors"
        )

    def details(self) -> str:
        lines = [self.line()]
        for (operation, code, title), curl in sorted(self.failures.items()):
            lines.append(f"  {code} {title} — {operation}\n    {curl}")
        lines.extend(f"  error: {error}" for error in self.errors)
        return "\n".join(lines)


def run(schema_url: str, token: str, *, label: str, max_examples: int, seed: int) -> Summary:
    """Every check (`--checks all`) over the schema at `schema_url`, sending `token`."""
    settings = tomllib.loads(CONFIG.read_text())
    settings["headers"] = {"Authorization": f"Bearer {token}"}
    settings["seed"] = seed
    settings["workers"] = 1  # hypothesis's lambda-source cache is not thread-safe on 3.11
    settings["request-timeout"] = 10
    settings.setdefault("generation", {})["max-examples"] = max_examples
    config = SchemathesisConfig.from_dict(settings)
    schema = schemathesis.openapi.from_url(schema_url, config=config)
    summary = Summary(label)
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
            _collect(summary, event)
        elif isinstance(event, events.NonFatalError):
            summary.errors.append(f"{event.label}: {event.info.format()}"[:2000])
        elif isinstance(event, events.FatalError):
            summary.errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.PhaseFinished):
            print(f"  {label}: {event.phase.name.value} {event.status.value}", file=sys.stderr)
    return summary


def _collect(summary: Summary, event: events.ScenarioFinished) -> None:
    recorder = event.recorder
    summary.cases += len(recorder.cases)
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.status is Status.FAILURE and check.failure_info is not None:
                failure = check.failure_info.failure
                key = (failure.operation or recorder.label, failure.code, failure.title)
                response = recorder.find_response(case_id=case_id)
                answer = "no response" if response is None else _answer(response)
                curl = check.failure_info.code_sample
                sample = f"{failure.message[:300]}\n    -> {answer}\n    {curl}"
                summary.failures.setdefault(key, sample)


def _answer(response: object) -> str:
    status = getattr(response, "status_code", "?")
    content = getattr(response, "content", b"") or b""
    return f"{status} {content[:300]!r}"
