"""The drone scheduler (issue 7): the fleet, and the flight simulation the `scheduler` role runs."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from fabrikam.settings import env

DRONE_BATTERY_RESERVE = env.number("DRONE_BATTERY_RESERVE", 0.2)  # fraction kept in reserve
FLIGHT_TIME_SCALE = env.number("FLIGHT_TIME_SCALE", 1.0)  # >1 flies faster than real time (demos)
FLIGHT_TICK_SECONDS = env.number("FLIGHT_TICK_SECONDS", 2.0)
FLIGHT_QUEUE = env.string("FLIGHT_QUEUE", "flights")
DRONE_FULL_CHARGE_MINUTES = env.number("DRONE_FULL_CHARGE_MINUTES", 60.0)
for _name in ("FLIGHT_TICK_SECONDS", "FLIGHT_TIME_SCALE", "DRONE_FULL_CHARGE_MINUTES"):
    if globals()[_name] <= 0:
        raise ImproperlyConfigured(f"{_name} must be greater than 0")
del _name
if not 0 <= DRONE_BATTERY_RESERVE < 1:
    raise ImproperlyConfigured("DRONE_BATTERY_RESERVE is a fraction: 0 <= it < 1, e.g. 0.2")
# The `scheduler` role is a Celery worker with beat embedded: beat sends a tick to FLIGHT_QUEUE
# and the same process runs it. A tick older than one interval is dropped, not queued up.
CELERY_TASK_ROUTES = {"dronescheduler.advance_flights": {"queue": FLIGHT_QUEUE}}
CELERY_BEAT_SCHEDULE = {
    "advance-flights": {
        "task": "dronescheduler.advance_flights",
        "schedule": FLIGHT_TICK_SECONDS,
        "options": {"queue": FLIGHT_QUEUE, "expires": FLIGHT_TICK_SECONDS},
    }
}
