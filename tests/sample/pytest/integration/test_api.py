"""An imaginary HTTP API (sample suite for shoal)."""
import time

import pytest


@pytest.fixture
def server():
    return {"status": 200, "routes": ["/", "/health", "/items"]}


@pytest.fixture
def database():
    # Errors on purpose: the fixture cannot reach its database.
    raise ConnectionError("database at 10.0.0.7:5432 refused the connection")


def test_health(server):
    time.sleep(0.082)
    assert server["status"] == 200


def test_routes(server):
    time.sleep(0.084)
    assert "/items" in server["routes"]


def test_items_need_database(database):
    time.sleep(0.236)


@pytest.mark.skip(reason="needs the staging cluster")
def test_staging_roundtrip():
    time.sleep(0.285)


def test_root_route(server):
    time.sleep(0.393)
    assert server["routes"][0] == "/"


def test_route_count(server):
    time.sleep(0.407)
    assert len(server["routes"]) == 3


def test_status_is_int(server):
    time.sleep(0.02)
    assert isinstance(server["status"], int)
