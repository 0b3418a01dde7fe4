"""An imaginary job queue (sample suite for shoal)."""
import collections
import time


def test_fifo():
    time.sleep(0.065)
    q = collections.deque([1, 2])
    assert q.popleft() == 1


def test_empty():
    time.sleep(0.012)
    assert not collections.deque()


def test_priority():
    time.sleep(0.057)
    assert sorted([3, 1, 2])[0] == 1


def test_batch_of_ten():
    time.sleep(0.548)
    assert len(list(range(10))) == 10


def test_retry_counter():
    time.sleep(0.066)
    assert sum(1 for _ in range(3)) == 3


def test_requeue():
    time.sleep(0.223)
    q = collections.deque([1])
    q.rotate()
    assert list(q) == [1]


def test_drain():
    time.sleep(0.101)
    q = collections.deque(range(5))
    q.clear()
    assert len(q) == 0
