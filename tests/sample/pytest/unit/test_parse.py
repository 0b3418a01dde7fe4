"""Parsing helpers of an imaginary service (sample suite for shoal)."""
import time


def parse_pair(text):
    key, _, value = text.partition("=")
    return key.strip(), value.strip()


def test_parse_pair_simple():
    time.sleep(0.101)
    assert parse_pair("a=1") == ("a", "1")


def test_parse_pair_spaces():
    time.sleep(0.405)
    assert parse_pair(" a = 1 ") == ("a", "1")


def test_parse_pair_no_value():
    time.sleep(0.123)
    assert parse_pair("a") == ("a", "")


def test_parse_pair_equals_in_value():
    time.sleep(0.044)
    assert parse_pair("a=b=c") == ("a", "b=c")


def test_parse_pair_empty():
    time.sleep(0.314)
    assert parse_pair("") == ("", "")


def test_parse_pair_unicode():
    time.sleep(0.048)
    assert parse_pair("clé=valeur") == ("clé", "valeur")


def test_parse_pair_strips_value_quotes():
    # Fails on purpose: parse_pair keeps quotes.
    time.sleep(0.163)
    assert parse_pair('a="1"') == ("a", "1")
