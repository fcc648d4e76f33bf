"""The workflow: the saga's retries and time limits, the Celery worker that runs it, and how it
reaches the package, drone scheduler and delivery services."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from fabrikam import roles
from fabrikam.settings import env
from fabrikam.settings.runtime import FABRIKAM_ROLE
from fabrikam.settings.stores import DATABASE_CONN_MAX_AGE

# --- The worker ---
CELERY_WORKER_PREFETCH_MULTIPLIER = env.integer("WORKFLOW_PREFETCH", 1)
CELERY_WORKER_CONCURRENCY = env.integer("WORKFLOW_CONCURRENCY", 2)
# solo where the saga computes in process (role all, `make run`): WORKFLOW_CONCURRENCY one-slot
# worker processes side by side, each taking its messages from the broker itself, with no prefork
# parent handing them over through pipes (fabrikam/runtime/processes.py); the time limit is then
# enforced by the attempt itself (fabrikam/apps/workflow/time_limit.py). prefork for one pod's
# worker (the workflow role); threads for a saga that mostly waits on HTTP calls, where a higher
# WORKFLOW_CONCURRENCY costs little memory (its time limit is not enforced).
CELERY_WORKER_POOL = env.string(
    "WORKFLOW_POOL", "solo" if FABRIKAM_ROLE == roles.ALL else "prefork"
)
if CELERY_WORKER_POOL not in ("prefork", "threads", "solo"):
    raise ImproperlyConfigured(
        f"WORKFLOW_POOL={CELERY_WORKER_POOL!r}: choose prefork, threads or solo"
    )
# Celery's Django fixup closes every database connection around every task unless this is set;
# with DATABASE_CONN_MAX_AGE the worker keeps them as a request does instead (fabrikam/celery.py).
CELERY_DB_REUSE_MAX = 2**62 if DATABASE_CONN_MAX_AGE else None
CELERY_WORKER_CONSUMER = "fabrikam.apps.workflow.consumer:DeadLetteringConsumer"
# The stalled-consumer watchdog (fabrikam/apps/workflow/watchdog.py): a worker that has had messages
# waiting, a free slot and nothing received for this long exits to be restarted; 0 turns it off.
WORKFLOW_STALL_SECONDS = env.number("WORKFLOW_STALL_SECONDS", 30.0)

# --- The saga (issue 4) ---
# These must agree with each other and with the queue's lock duration (Service Bus: at most 5 min):
# one attempt's worst case = 3 steps x HTTP_RETRY_ATTEMPTS x (HTTP_CLIENT_TIMEOUT + backoff)
# + compensation, which the task time limit bounds; a retry is re-scheduled with a countdown of at
# most WORKFLOW_RETRY_MAX_DELAY, and the message is reserved meanwhile, so time limit + that delay
# must stay under the lock duration (messaging.py: BROKER_VISIBILITY_TIMEOUT). README "Workflow".
# Transient failures count towards WORKFLOW_MAX_ATTEMPTS; waiting for a free drone does not, it is
# bounded by WORKFLOW_NO_DRONE_DEADLINE_SECONDS alone (README "Which rule ends a retry").
WORKFLOW_MAX_ATTEMPTS = env.integer("WORKFLOW_MAX_ATTEMPTS", 10)
WORKFLOW_RETRY_BASE_DELAY = env.number("WORKFLOW_RETRY_BASE_DELAY", 2.0)
WORKFLOW_RETRY_MAX_DELAY = env.number("WORKFLOW_RETRY_MAX_DELAY", 60.0)
WORKFLOW_NO_DRONE_DEADLINE_SECONDS = env.number("WORKFLOW_NO_DRONE_DEADLINE_SECONDS", 900.0)
WORKFLOW_TASK_TIME_LIMIT = env.integer("WORKFLOW_TASK_TIME_LIMIT", 180)
# A delivery's lock lives this long and its worker renews it every third of it while it works:
# a crashed worker's deliveries are free again within this time (README "Recovery").
WORKFLOW_LOCK_SECONDS = env.number("WORKFLOW_LOCK_SECONDS", 15.0)
CELERY_TASK_TIME_LIMIT = WORKFLOW_TASK_TIME_LIMIT
CELERY_TASK_SOFT_TIME_LIMIT = max(1, WORKFLOW_TASK_TIME_LIMIT - 15)

# --- The other services, reached over HTTP (fabrikam/interservice/http.py) ---
SERVICE_URL_PACKAGE = env.string("SERVICE_URL_PACKAGE", "http://127.0.0.1:8000")
SERVICE_URL_DRONESCHEDULER = env.string("SERVICE_URL_DRONESCHEDULER", "http://127.0.0.1:8000")
SERVICE_URL_DELIVERY = env.string("SERVICE_URL_DELIVERY", "http://127.0.0.1:8000")
# Where this process also serves a service (role `all`), the workflow calls it in process
# (fabrikam/roles.py calls_in_process); false keeps HTTP for every call.
WORKFLOW_IN_PROCESS_CALLS = env.boolean("WORKFLOW_IN_PROCESS_CALLS", True)
HTTP_CLIENT_TIMEOUT = env.number("HTTP_CLIENT_TIMEOUT", 5.0)
HTTP_RETRY_ATTEMPTS = env.integer("HTTP_RETRY_ATTEMPTS", 3)
HTTP_RETRY_BASE_DELAY = env.number("HTTP_RETRY_BASE_DELAY", 0.2)
HTTP_RETRY_MAX_DELAY = env.number("HTTP_RETRY_MAX_DELAY", 2.0)
CIRCUIT_BREAKER_FAILURES = env.integer("CIRCUIT_BREAKER_FAILURES", 5)
CIRCUIT_BREAKER_BREAK_SECONDS = env.number("CIRCUIT_BREAKER_BREAK_SECONDS", 30.0)
BULKHEAD_MAX_CONCURRENT = env.integer("BULKHEAD_MAX_CONCURRENT", 10)
BULKHEAD_WAIT_SECONDS = env.number("BULKHEAD_WAIT_SECONDS", 1.0)
