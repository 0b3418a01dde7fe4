"""An imaginary key-value store (sample suite for shoal)."""
import time

import pytest

STORE = {"a": 1, "b": 2, "c": 3}


@pytest.mark.parametrize(
    "key,expected,delay",
    [("a", 1, 0.214), ("b", 2, 0.046), ("c", 3, 0.054), ("a", 1, 0.208), ("b", 2, 0.14),
     ("c", 3, 0.02)],
)
def test_get(key, expected, delay):
    time.sleep(delay)
    assert STORE[key] == expected


def test_missing_key():
    time.sleep(0.024)
    with pytest.raises(KeyError):
        STORE["zz"]


def test_size():
    # Fails on purpose: the store has 3 keys.
    time.sleep(0.043)
    assert len(STORE) == 4
