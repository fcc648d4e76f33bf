"""The fast paths write their Redis commands in RESP themselves (`redis_batches.packed`): byte for
byte what redis-py's `pack_commands` writes, or nothing (redis-py then packs them)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio.connection import Connection

from fabrikam.server.redis_batches import packed

ARGUMENT = st.one_of(
    st.text(),
    st.binary(),
    st.integers(min_value=-(2**63), max_value=2**63),
)
COMMAND = st.tuples(st.sampled_from(["EVALSHA", "HMGET", "SCRIPT", "GET"])).flatmap(
    lambda name: st.lists(ARGUMENT, max_size=8).map(lambda args: (*name, *args))
)


@given(st.lists(COMMAND, min_size=1, max_size=6))
def test_commands_are_packed_as_redis_py_packs_them(commands):
    found = packed(commands)
    assert found is not None
    assert b"".join(found) == b"".join(Connection().pack_commands(commands))


@given(st.one_of(st.floats(allow_nan=False), st.booleans(), st.none()))
def test_other_arguments_are_left_to_redis_py(argument):
    assert packed([("HMGET", "key", argument)]) is None


def test_a_command_redis_py_splits_is_left_to_it():
    assert packed([("CONFIG GET", "maxmemory")]) is None
