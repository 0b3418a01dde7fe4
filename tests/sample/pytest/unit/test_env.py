"""What shoal gives every test process (sample suite for shoal)."""
import os
import time

import pytest


@pytest.mark.skipif("SHOAL_SESSION" not in os.environ, reason="not run by shoal")
def test_shoal_environment():
    time.sleep(0.109)
    assert os.environ.get("SHOAL_NODE")
    assert os.environ.get("SHOAL_SLOT", "").isdigit()


def test_cwd_is_suite_root():
    time.sleep(0.6)
    assert os.path.exists("pytest.ini")
