"""Formatting helpers (sample suite for shoal): one class, two functions."""
import time


def human_seconds(s):
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.1f} s"


class TestHumanSeconds:
    def test_milliseconds(self):
        time.sleep(0.221)
        assert human_seconds(0.25) == "250 ms"

    def test_seconds(self):
        time.sleep(0.125)
        assert human_seconds(2.5) == "2.5 s"

    def test_zero(self):
        time.sleep(0.063)
        assert human_seconds(0) == "0 ms"

    def test_boundary(self):
        time.sleep(0.031)
        assert human_seconds(1) == "1.0 s"

    def test_large(self):
        time.sleep(0.066)
        assert human_seconds(3600) == "3600.0 s"


def test_padding():
    time.sleep(0.129)
    assert f"{'x':>3}" == "  x"


def test_join():
    time.sleep(0.119)
    assert ", ".join(["a", "b"]) == "a, b"
