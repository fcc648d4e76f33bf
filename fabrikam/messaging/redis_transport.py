"""kombu's Redis transport with fewer round trips per message, and one Redis client per channel.

kombu's worker side takes three round trips per message: a BRPOP, then a MULTI recording the
message as unacknowledged (ZADD to the index, HSET of the message: what a dead worker's messages
are restored from after the visibility timeout), and after the task another MULTI for the ack
(ZREM, HDEL). While messages wait, this channel sends one Lua script instead: it removes the
acks of the messages finished since the last fetch, pops the next message and records it as
unacknowledged, atomically (kombu leaves a window between the BRPOP's answer and its MULTI in which
a dead worker loses the message). It is sent on the consuming connection in place of the BRPOP, so
the event loop wakes on its answer as on a BRPOP's. When the script finds the queues empty, the
channel waits for a message without taking it: `BLMOVE key key RIGHT RIGHT` (Redis 6.2+) blocks
until the first queue key in BRPOP's order has a message and leaves the list as it was; the script
then takes it. A BRPOP there would reopen kombu's window for every message that finds its worker
idle (the chaos scenario `worker-sigkilled-redis`, full: 1 of 300 lost). Messages on the other
keys (other queues, priorities) are found by the script when the wait times out, within the
channel's `brpop_timeout` (1 s). A server without BLMOVE gets kombu's BRPOP. The unacknowledged
records are kombu's own (same keys, same JSON), so restoring, rejecting, requeueing and kombu's own
consumers work on them unchanged.

An ack is kept until the next command this channel sends (the next fetch, normally at once: a solo
worker acks at the end of the task, then fetches), and sent right away when no fetch follows in the
same turn of the event loop, before a BRPOP, and when the channel closes. A worker killed between a
task's end and that next command has its message handed out again after the visibility timeout,
as it would with kombu had it died just before its ack: the saga's redelivery rules cover both.

kombu also builds a new `redis.Redis` (≈ 0.1 ms of CPU: its table of ≈ 170 response callbacks) for
every command it sends outside the consuming connection: the LPUSH of every publish, each MULTI.
Here a channel keeps one, built on the channel's connection pool.

Selected by settings (CELERY_BROKER_TRANSPORT, BROKER_REDIS_PIPELINED) for Redis broker URLs,
through `Connection` below (kombu otherwise ignores the transport class for `redis+socket://`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

import kombu
from kombu.transport import redis as kombu_redis
from kombu.transport import virtual
from kombu.utils.json import loads

logger = logging.getLogger(__name__)

# KEYS: the unacked index (zset), the unacked messages (hash), then the queues' keys in the order a
# BRPOP would take them. ARGV: the time to record, the number of acks, the acks' delivery tags.
# Returns {queue key, message, recorded (1/0)} or false. A message without kombu's properties is
# returned unrecorded, for kombu's own code to deal with as it would after a BRPOP.
FETCH = """
local acks = tonumber(ARGV[2])
for i = 3, 2 + acks do
  redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('HDEL', KEYS[2], ARGV[i])
end
for k = 3, #KEYS do
  local item = redis.call('RPOP', KEYS[k])
  if item then
    local ok, message = pcall(cjson.decode, item)
    local props = ok and type(message) == 'table' and message['properties']
    local info = type(props) == 'table' and props['delivery_info']
    local tag = type(props) == 'table' and props['delivery_tag']
    if type(info) ~= 'table' or type(tag) ~= 'string' then
      return {KEYS[k], item, 0}
    end
    redis.call('ZADD', KEYS[1], ARGV[1], tag)
    redis.call('HSET', KEYS[2], tag, '[' .. item .. ', ' .. cjson.encode(info['exchange'])
      .. ', ' .. cjson.encode(info['routing_key']) .. ']')
    return {KEYS[k], item, 1}
  end
end
return false
"""


class QoS(kombu_redis.QoS):
    def append(self, message: Any, delivery_tag: str) -> None:
        if self.channel._recorded.pop(delivery_tag, False):
            virtual.QoS.append(self, message, delivery_tag)  # the script recorded it
        else:
            super().append(message, delivery_tag)

    def ack(self, delivery_tag: str) -> None:
        if self.channel._defers_acks():
            self.channel._pending_acks.append(delivery_tag)
            virtual.QoS.ack(self, delivery_tag)
        else:
            super().ack(delivery_tag)

    def restore_unacked(self, client: Any = None) -> None:
        self.channel._flush_acks()
        super().restore_unacked(client)


class Channel(kombu_redis.Channel):
    QoS = QoS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._pending_acks: list[str] = []  # acked, not yet sent
        self._acks_in_flight: list[str] = []  # sent with the fetch whose answer is awaited
        self._recorded: dict[str, bool] = {}  # delivered by the script, recorded already
        self._fetching = False  # the command awaited on the consuming connection is the script
        self._waiting = False  # ... or the BLMOVE waiting for a message without taking it
        self._blmove_usable = True  # the server knows BLMOVE (Redis 6.2+)
        # the last fetch found a message (or none was made yet): the script first, else a BRPOP
        self._messages_waiting = True
        self._unacked_consumers = False  # a no_ack consumer: kombu's BRPOP only
        self._loop_thread = threading.get_ident()
        self._sync_client: Any = None
        super().__init__(*args, **kwargs)

    # --- one client per channel ---

    def _create_client(self, asynchronous: bool = False) -> Any:
        if asynchronous:
            return super()._create_client(asynchronous=True)
        client = self._sync_client
        if client is None or client.connection_pool is not self.pool:
            client = self._sync_client = super()._create_client()
        return client

    # --- the fetch ---

    def _script_usable(self) -> bool:
        return (
            self.ack_emulation
            and not self.global_keyprefix
            and not self._expires
            and not self._unacked_consumers
        )

    def _defers_acks(self) -> bool:
        """An ack waits for the next command when it is made on the event loop's thread and no
        answer is awaited on the consuming connection (a solo worker's ack at the end of a task
        run from the fetch's answer; a threads pool acks from its threads: at once)."""
        return (
            self._script_usable()
            and not self._in_poll
            and not self._closing
            and threading.get_ident() == self._loop_thread
        )

    def _flush_acks(self) -> None:
        tags, self._pending_acks = self._pending_acks, []
        if not tags:
            return
        try:
            with self.conn_or_acquire() as client, client.pipeline() as pipe:
                for tag in tags:  # kombu's ack (ZREM, HDEL in a MULTI), every tag at once
                    self.qos._remove_from_indices(tag, pipe)
                pipe.execute()
        except Exception:
            self._pending_acks[:0] = tags  # sent with the next command, or restored later
            raise

    def _brpop_start(self, timeout: Any = None) -> None:
        if self._acks_in_flight:  # sent with a fetch never answered (a dropped connection)
            self._pending_acks[:0] = self._acks_in_flight
            self._acks_in_flight = []
        self._fetching = self._waiting = False
        if not self._script_usable() or not (self._messages_waiting or self._blmove_usable):
            self._flush_acks()
            return super()._brpop_start(timeout)
        queues = self._queue_cycle.consume(len(self.active_queues))
        if not queues:
            return
        keys = [self._q_for_pri(queue, pri) for pri in self.priority_steps for queue in queues]
        if not self._messages_waiting:
            self._wait_for_message(keys[0], self.brpop_timeout if timeout is None else timeout)
            return
        acks, self._pending_acks = self._pending_acks, []
        self._in_poll = self.client.connection
        self._brpop_sent_at = kombu_redis.monotonic()
        try:
            self.client.connection.send_command(
                "EVAL", FETCH, 2 + len(keys), self.unacked_index_key, self.unacked_key, *keys,
                time.time(), len(acks), *acks,
            )  # fmt: skip
        except BaseException:
            self._pending_acks[:0] = acks
            self._in_poll = None
            raise
        self._fetching = True
        self._acks_in_flight = acks

    def _wait_for_message(self, key: str, timeout: float) -> None:
        """Block until `key` holds a message, leaving it there (moved from its tail to its tail)."""
        self._flush_acks()
        self._in_poll = self.client.connection
        self._brpop_sent_at = kombu_redis.monotonic()
        self.client.connection.send_command("BLMOVE", key, key, "RIGHT", "RIGHT", timeout or 0)
        self._waiting = True

    def _wait_read(self, **options: Any) -> bool:
        """The wait answered (a message came, or it timed out): the next fetch is the script."""
        self._waiting = False
        try:
            self.client.parse_response(self.client.connection, "BLMOVE", **options)
        except self.connection_errors:
            self.client.connection.disconnect()  # reconnects on the next fetch, as kombu's
            raise
        except self.ResponseError as exc:  # a server before Redis 6.2
            logger.warning("Redis has no BLMOVE, waiting for messages with BRPOP: %s", exc)
            self._blmove_usable = False
        finally:
            self._in_poll = None
            self._flush_brpop_reauth()
        self._messages_waiting = True
        raise kombu_redis.Empty()

    def _brpop_read(self, **options: Any) -> bool:
        if self._waiting:
            return self._wait_read(**options)
        if not self._fetching:
            try:
                delivered = super()._brpop_read(**options)
            except kombu_redis.Empty:
                self._messages_waiting = False
                raise
            self._messages_waiting = True
            return delivered
        self._fetching = False
        acks, self._acks_in_flight = self._acks_in_flight, []
        try:
            reply = self.client.parse_response(self.client.connection, "EVAL", **options)
        except BaseException as exc:
            self._pending_acks[:0] = acks  # not known to have run: sent again (idempotent)
            self._in_poll = None
            self._flush_brpop_reauth()
            if isinstance(exc, self.connection_errors):
                self.client.connection.disconnect()  # reconnects on the next fetch, as kombu's
            elif isinstance(exc, self.ResponseError):
                logger.warning("The fetch script failed, fetching with BRPOP: %s", exc)
                self._messages_waiting = False
                raise kombu_redis.Empty() from None
            raise
        self._in_poll = None  # answered: an ack during the task may wait for the next fetch
        try:
            if not reply:
                self._messages_waiting = False
                raise kombu_redis.Empty()
            dest, item, recorded = reply
            payload = loads(kombu_redis.bytes_to_str(item))
            if recorded:
                self._recorded[payload["properties"]["delivery_tag"]] = True
            dest = kombu_redis.bytes_to_str(dest).rsplit(self.sep, 1)[0]
            self._queue_cycle.rotate(dest)
            self.connection._deliver(payload, dest)
            return True
        finally:
            self._flush_brpop_reauth()

    def basic_consume(self, queue: str, no_ack: bool, *args: Any, **kwargs: Any) -> Any:
        if no_ack:
            self._unacked_consumers = True  # nothing would ack what the script records
        return super().basic_consume(queue, no_ack, *args, **kwargs)

    def close(self) -> None:
        if not self.closed:
            self._closing = True
            try:
                if self._in_poll:
                    with contextlib.suppress(kombu_redis.Empty):
                        self._brpop_read()  # the awaited answer, as kombu's close reads it
                self._flush_acks()
            except self.connection_errors:
                pass  # handed out again after the visibility timeout
        super().close()


class MultiChannelPoller(kombu_redis.MultiChannelPoller):
    def on_poll_start(self) -> None:
        super().on_poll_start()
        for channel in self._channels:  # acks no fetch took along: now
            if channel._pending_acks and not channel._in_poll:
                channel._flush_acks()


class Transport(kombu_redis.Transport):
    Channel = Channel

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cycle = MultiChannelPoller()


class Connection(kombu.Connection):
    """kombu's Connection, except that a transport class given by name is used for a
    `redis+socket://` URL too (kombu takes the transport from the URL's prefix then)."""

    def __init__(self, hostname: Any = "localhost", *args: Any, **kwargs: Any) -> None:
        super().__init__(hostname, *args, **kwargs)
        transport = kwargs.get("transport")
        if isinstance(transport, str) and ":" in transport and self.uri_prefix == "redis":
            self.transport_cls = transport
