"""Version tags compare as numbers within their family, never as strings."""

import pytest

from lambda_glibc_gate.versions import (
    exceeds,
    family_of,
    glibc_key,
    glibc_release,
    is_glibc_abi_tag,
    parse_tag,
)


def test_glibc_tags_compare_numerically_not_as_strings():
    # GIVEN tags whose string order differs from their numeric order
    tags = ["GLIBC_2.34", "GLIBC_2.2.5", "GLIBC_2.17", "GLIBC_2.9", "GLIBC_2.3.4"]
    # WHEN sorted by their parsed value
    ordered = sorted(tags, key=parse_tag)
    # THEN 2.2.5 < 2.3.4 < 2.9 < 2.17 < 2.34
    assert ordered == ["GLIBC_2.2.5", "GLIBC_2.3.4", "GLIBC_2.9", "GLIBC_2.17", "GLIBC_2.34"]


@pytest.mark.parametrize(
    ("tag", "release"),
    [("GLIBC_2.38", "2.38"), ("GLIBC_2.2.5", "2.2.5"), ("GLIBC_ABI_DT_RELR", "2.36"),
     ("GLIBC_PRIVATE", None), ("GLIBCXX_3.4.30", None), ("GLIBC_ABI_SOMETHING_NEW", None)],
)
def test_glibc_release_of_a_tag(tag, release):
    assert glibc_release(tag) == release


def test_abi_tags_are_recognised():
    assert is_glibc_abi_tag("GLIBC_ABI_DT_RELR")
    assert not is_glibc_abi_tag("GLIBC_2.36")


@pytest.mark.parametrize(
    ("tag", "maximum", "expected"),
    [("GLIBCXX_3.4.30", "3.4.29", True), ("GLIBCXX_3.4.29", "3.4.29", False),
     ("GLIBCXX_3.4.9", "3.4.29", False), ("CXXABI_1.3.15", "1.3.13", True),
     ("GCC_11.0", "7.0.0", True), ("GCC_4.2.0", "7.0.0", False), ("CXXABI_TM_1", "1.3.13", False)],
)
def test_exceeds_within_a_family(tag, maximum, expected):
    assert exceeds(tag, maximum) is expected


def test_family_prefers_the_longest_prefix():
    assert family_of("GLIBCXX_3.4.30") == "GLIBCXX"
    assert family_of("GLIBC_2.38") == "GLIBC"
    assert family_of("CXXABI_TM_1") == "CXXABI"
    assert family_of("OPENSSL_3.0.0") is None


def test_glibc_key_orders_releases():
    assert sorted(["2.34", "2.4", "2.26", "2.17"], key=glibc_key) == ["2.4", "2.17", "2.26", "2.34"]
