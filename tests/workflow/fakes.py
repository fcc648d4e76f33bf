"""The three services as the saga sees them: an object with the functions of
`fabrikam.apps.workflow.clients`, keeping in memory what the real services would store and
answering their errors (`TransientError`, `PermanentError` with the problem type). A fake at our
own boundary, for fast unit tests of the saga; tests/workflow/test_saga.py runs the real path."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from fabrikam.interservice.http import DownstreamError, PermanentError, TransientError
from fabrikam.web.problems import TYPE_BASE

SERVICE_OF = {
    "put_package": "package",
    "mark_package": "package",
    "assign_drone": "dronescheduler",
    "replan_drone": "dronescheduler",
    "release_drone": "dronescheduler",
    "put_delivery": "delivery",
    "reschedule_delivery": "delivery",
    "cancel_delivery": "delivery",
}


def transient(call: str, status: int | None = 503) -> TransientError:
    return TransientError(SERVICE_OF[call], "CALL", f"/{call}", status, "unavailable")


def shed(call: str) -> TransientError:
    """What the HTTP client raises for a call its open circuit breaker refused to send."""
    error = TransientError(
        SERVICE_OF[call], "CALL", f"/{call}", None, f"circuit to {SERVICE_OF[call]} is open"
    )
    error.shed = True
    return error


def refused(
    call: str, status: int, slug: str = "refused", detail: str = "", **members: Any
) -> PermanentError:
    detail = detail or f"{call} refused it"
    return PermanentError(
        SERVICE_OF[call],
        "CALL",
        f"/{call}",
        status,
        detail,
        problem_type=TYPE_BASE + slug,
        problem={"type": TYPE_BASE + slug, "status": status, "detail": detail, **members},
    )


@dataclass
class Fault:
    error: DownstreamError
    times: int | None  # None: every time


@dataclass
class FakeServices:
    drones: list[str] = field(default_factory=lambda: ["drone-1", "drone-2"])
    packages: dict[str, dict[str, Any]] = field(default_factory=dict)
    assignments: dict[str, dict[str, Any]] = field(default_factory=dict)
    deliveries: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: Counter = field(default_factory=Counter)  # function name → times called
    faults: dict[str, list[Fault]] = field(default_factory=dict)

    def fail(self, call: str, error: DownstreamError, times: int | None = None) -> None:
        assert call in SERVICE_OF, call
        self.faults.setdefault(call, []).append(Fault(error, times))

    def heal(self) -> None:
        self.faults.clear()

    def _enter(self, call: str) -> None:
        self.calls[call] += 1
        for fault in self.faults.get(call, []):
            if fault.times is None or fault.times > 0:
                if fault.times is not None:
                    fault.times -= 1
                raise fault.error

    # --- packages ---
    def put_package(self, package_id: str, body: dict[str, Any]) -> None:
        self._enter("put_package")
        self.packages[package_id] = dict(body)

    def mark_package(self, package_id: str, owner_id: str, delivery_state: str) -> bool:
        self._enter("mark_package")
        assert owner_id, "the saga names the package's owner"
        if package_id not in self.packages:
            return False
        self.packages[package_id]["deliveryState"] = delivery_state
        return True

    # --- drone scheduler ---
    def assign_drone(self, delivery_id: str, body: dict[str, Any]) -> dict[str, Any]:
        self._enter("assign_drone")
        if delivery_id in self.assignments:
            assignment = self.assignments[delivery_id]
            if assignment["released"]:
                raise refused("assign_drone", 410, "assignment-released")
            return self._answer(assignment)
        busy = {a["droneId"] for a in self.assignments.values() if not a["released"]}
        free = [drone for drone in self.drones if drone not in busy]
        if not free:
            raise refused("assign_drone", 409, "no-drone-available", "no drone free now")
        self.assignments[delivery_id] = {"droneId": free[0], "released": False, "route": body}
        return self._answer(self.assignments[delivery_id])

    @staticmethod
    def _answer(assignment: dict[str, Any]) -> dict[str, Any]:
        return {
            "droneId": assignment["droneId"],
            "pickupETA": "2026-12-03T10:05:00Z",
            "deliveryETA": "2026-12-03T10:20:00Z",
        }

    def replan_drone(self, delivery_id: str, body: dict[str, Any]) -> dict[str, Any]:
        self._enter("replan_drone")
        assignment = self.assignments.get(delivery_id)
        if assignment is None:
            raise refused("replan_drone", 404, "drone-delivery-not-found")
        assignment["route"] = {**assignment["route"], **body}
        return self._answer(assignment)

    def release_drone(self, delivery_id: str) -> bool:
        self._enter("release_drone")
        if delivery_id not in self.assignments:
            return False
        self.assignments[delivery_id]["released"] = True
        return True

    def busy_drones(self) -> list[str]:
        return [a["droneId"] for a in self.assignments.values() if not a["released"]]

    # --- deliveries ---
    def put_delivery(self, delivery_id: str, body: dict[str, Any]) -> None:
        self._enter("put_delivery")
        stored = self.deliveries.get(delivery_id)
        if body.get("stage") == "Cancelled":
            if stored is None:
                self.deliveries[delivery_id] = {**body, "events": ["Created", "Cancelled"]}
            else:
                self._cancel(stored, body["reason"])
            return
        if stored is not None and stored["stage"] in ("Cancelled", "Completed"):
            raise refused("put_delivery", 409, "delivery-closed", stage=stored["stage"])
        events = stored["events"] if stored else ["Created"]
        self.deliveries[delivery_id] = {**body, "stage": "Created", "reason": "", "events": events}

    def reschedule_delivery(self, delivery_id: str, body: dict[str, Any]) -> None:
        self._enter("reschedule_delivery")
        stored = self.deliveries.get(delivery_id)
        if stored is None:
            raise refused("reschedule_delivery", 404, "delivery-not-found")
        if stored["stage"] in ("Cancelled", "Completed"):
            raise refused("reschedule_delivery", 409, "delivery-closed")
        stored.update(body, stage="Rescheduled")
        stored["events"].append("Rescheduled")

    def cancel_delivery(self, delivery_id: str, reason: str = "") -> bool:
        self._enter("cancel_delivery")
        stored = self.deliveries.get(delivery_id)
        if stored is None:
            return False
        if stored["stage"] == "Completed":
            raise refused("cancel_delivery", 409, "delivery-closed")
        self._cancel(stored, reason)
        return True

    @staticmethod
    def _cancel(stored: dict[str, Any], reason: str) -> None:
        if stored["stage"] != "Cancelled":
            stored.update(stage="Cancelled", reason=reason)
            stored["events"].append("Cancelled")
