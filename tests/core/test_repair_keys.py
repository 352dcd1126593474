"""The key a repair delivers a document again under: new, free, readable and short enough."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.documents import MAX_KEY_LENGTH
from core.sync.repair import repair_key

KEYS = st.text(alphabet="abcdefghij0123456789:.-", min_size=1, max_size=MAX_KEY_LENGTH)


@given(key=KEYS, taken=st.sets(KEYS, max_size=20), used=st.integers(0, 12))
def test_a_repair_key_is_free_new_and_within_the_limit(
    key: str, taken: set[str], used: int
) -> None:
    taken = taken | {key} | {f"{key}:r{n}" for n in range(1, used + 1)}  # earlier repairs
    new = repair_key(key, taken)
    if new is None:
        assert len(key) >= MAX_KEY_LENGTH - 3  # only a key at the limit has no room left
        return
    assert new not in taken and new != key and len(new) <= MAX_KEY_LENGTH


@given(key=st.text(alphabet="abc:0123456789", min_size=1, max_size=60), times=st.integers(1, 5))
def test_repairing_again_counts_on_and_never_reuses_a_key(key: str, times: int) -> None:
    taken = {key}
    current = key
    for _ in range(times):
        new = repair_key(current, taken)
        assert new is not None and new not in taken
        taken.add(new)
        current = new
    assert current.endswith(f":r{int(current.rsplit(':r', 1)[1])}")


def test_the_first_repair_is_r1_and_the_next_r2() -> None:
    assert repair_key("hitpay:charge:ch_1:invoice", set()) == "hitpay:charge:ch_1:invoice:r1"
    assert repair_key("hitpay:charge:ch_1:invoice:r1", set()) == "hitpay:charge:ch_1:invoice:r2"
