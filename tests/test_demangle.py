"""Readable C++ and Rust symbols (demangle.py): exact against c++filt where it reads them, the
mangled name where it does not, never an exception, on the real fixtures and on hostile names."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import time

import pytest
from helpers import FIXTURES

from lambda_glibc_gate.cli import main
from lambda_glibc_gate.demangle import MAX_SYMBOL, demangle, in_message, readable
from lambda_glibc_gate.elf import read_elf

CXX = "cxx_condvar-glibcxx3.4.30-x86_64"
RUST = "rust_hello-x86_64"
CONDVAR = "_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE"


def _needed_symbols(fixture: str) -> list[str]:
    info = read_elf((FIXTURES / fixture).read_bytes())
    return [symbol for need in info.version_needs for symbol in need.symbols]


# -- C++ ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("mangled", "expected"), [
    (CONDVAR, "std::condition_variable::wait(std::unique_lock<std::mutex>&)"),
    ("_ZNKSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE7compareEPKc",
     "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::compare(char const*) const"),
    ("_ZSt28__throw_bad_array_new_lengthv", "std::__throw_bad_array_new_length()"),
    ("_ZNSt6thread15_M_start_threadESt10unique_ptrINS_6_StateESt14default_deleteIS1_EEPFvvE",
     "std::thread::_M_start_thread(std::unique_ptr<std::thread::_State, "
     "std::default_delete<std::thread::_State> >, void (*)())"),
    ("_ZTVN10__cxxabiv120__si_class_type_infoE", "vtable for __cxxabiv1::__si_class_type_info"),
    ("_ZNSt18condition_variableD1Ev", "std::condition_variable::~condition_variable()"),
    ("_ZdlPvm", "operator delete(void*, unsigned long)"),
    ("_ZNSsC1IPKcEET_S2_RKSaIcE",  # a constructor template of std::string: no return type
     "std::basic_string<char, std::char_traits<char>, std::allocator<char> >::basic_string<char const*>"
     "(char const*, char const*, std::allocator<char> const&)"),
    ("_ZStlsISt11char_traitsIcEERSt13basic_ostreamIcT_ES5_PKc",
     "std::basic_ostream<char, std::char_traits<char> >& std::operator<< <std::char_traits<char> >"
     "(std::basic_ostream<char, std::char_traits<char> >&, char const*)"),
    ("_Z3foov.cold", "foo() [clone .cold]"),
    ("_Z3foov.isra.0", "foo() [clone .isra.0]"),
    ("_Z3foov.constprop.0.isra.0", None),  # c++filt's two [clone] parts: left mangled
    ("_ZNSt8ios_base7failureB5cxx11C1EPKcRKSt10error_code",
     "std::ios_base::failure[abi:cxx11]::failure(char const*, std::error_code const&)"),
])
def test_cxx_names_read_as_cxxfilt_reads_them(mangled, expected):
    assert demangle(mangled) == expected


def test_every_cxx_name_the_cxx_fixture_needs_is_readable():
    mangled = [symbol for symbol in _needed_symbols(CXX) if symbol.startswith("_Z")]
    assert CONDVAR in mangled and len(mangled) >= 10
    assert all(demangle(symbol) for symbol in mangled), [s for s in mangled if not demangle(s)]


@pytest.mark.skipif(not shutil.which("c++filt"), reason="needs binutils' c++filt")
def test_the_fixtures_names_match_cxxfilt():
    names = [s for fixture in (CXX, RUST) for s in _needed_symbols(fixture)]
    expected = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True,
                              check=True).stdout.splitlines()
    for name, want in zip(names, expected, strict=True):
        assert demangle(name) in (None, want), name
        assert demangle(name) is not None or name == want  # c++filt reads it: so do we


@pytest.mark.skipif(not shutil.which("c++filt"), reason="needs binutils' c++filt")
def test_what_is_read_is_what_cxxfilt_reads_on_libstdcxx():
    # every name libstdc++ exports: read exactly as c++filt, or left mangled; never wrong
    places = ("/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6",
              "/usr/lib/aarch64-linux-gnu/libstdc++.so.6")
    libstdcxx = next((place for place in places if os.path.exists(place)), None)
    if libstdcxx is None or not shutil.which("nm"):
        pytest.skip("no libstdc++ or nm here")
    listing = subprocess.run(["nm", "-D", "--defined-only", libstdcxx], capture_output=True, text=True).stdout
    names = sorted({line.split()[-1].split("@")[0] for line in listing.splitlines() if " _Z" in line})
    expected = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True).stdout.splitlines()
    read = wrong = 0
    for name, want in zip(names, expected, strict=True):
        got = demangle(name)
        read += got is not None
        wrong += got is not None and got != want
    assert wrong == 0
    assert read > 0.9 * len(names)


# -- Rust -----------------------------------------------------------------------------------------
# Real rustc 1.9x output (legacy and -C symbol-mangling-version=v0); expected as c++filt reads
# them without the hash / crate disambiguators (rustc-demangle's alternate form).
@pytest.mark.parametrize(("mangled", "expected"), [
    ("_ZN3std2rt10lang_start28_$u7b$$u7b$closure$u7d$$u7d$17h168e94e611939a97E",
     "std::rt::lang_start::{{closure}}"),
    ("_ZN42_$LT$$RF$T$u20$as$u20$core..fmt..Debug$GT$3fmt17h69af8216c5570b51E", "<&T as core::fmt::Debug>::fmt"),
    ("_ZN1m10W$LT$T$GT$4show17hb4377ce8597676b7E", "m::W<T>::show"),
    ("_ZN9hashbrown3raw21RawTable$LT$T$C$A$GT$14reserve_rehash17hb94c1cf3e3fc6e5bE.llvm.11873320374202355713",
     "hashbrown::raw::RawTable<T,A>::reserve_rehash"),
    ("_RINvMNtCsgEmfK2I1SDS_4core3stre18trim_start_matchesReECsgY6Mt91CT9J_14rustc_demangle",
     "<str>::trim_start_matches::<&str>"),
    ("_RINvMNtCsgEmfK2I1SDS_4core5sliceSh11copy_withinINtNtNtB5_3ops5range14RangeInclusivejEECsfEOYDRpO4Ta_11miniz_oxide",
     "<[u8]>::copy_within::<core::ops::range::RangeInclusive<usize>>"),
    ("_RNvCs15kBYyAo9fc_7mycrate7example", "mycrate::example"),
])
def test_rust_names_read_without_the_hash(mangled, expected):
    assert demangle(mangled) == expected


def test_the_rust_fixture_needs_only_c_names_shown_as_they_are():
    names = _needed_symbols(RUST)
    assert "__libc_start_main" in names
    assert all(demangle(name) is None and in_message(name) == f"`{name}`" for name in names)


# -- how it is shown ------------------------------------------------------------------------------
def test_in_a_message_the_readable_name_comes_first_then_the_start_of_the_mangled_one():
    assert in_message(CONDVAR) == "`std::condition_variable::wait(std::unique_lock<std::mutex>&)` (`_ZNSt18condition…`)"
    assert in_message("_ZdlPvm") == "`operator delete(void*, unsigned long)` (`_ZdlPvm`)"
    assert in_message("strlcpy") == "`strlcpy`"
    assert readable(CONDVAR + "@GLIBCXX_3.4.30") == (
        f"std::condition_variable::wait(std::unique_lock<std::mutex>&)  ({CONDVAR}@GLIBCXX_3.4.30)")
    assert readable("strlcpy@GLIBC_2.38") == "strlcpy@GLIBC_2.38"


def test_the_summary_shows_readable_symbols_and_json_keeps_them_mangled(capsys):
    path = str(FIXTURES / CXX)
    assert main(["scan", path, "--runtime", "provided.al2", "--format", "markdown"]) == 1
    summary = capsys.readouterr().out
    assert f"std::condition_variable::wait(std::unique_lock<std::mutex>&)  ({CONDVAR}@GLIBCXX_3.4.30)" in summary
    assert main(["scan", path, "--runtime", "provided.al2", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    symbols = [s for a in report["artifacts"] for f in a["findings"] for s in f.get("symbols", [])]
    assert f"{CONDVAR}@GLIBCXX_3.4.30" in symbols
    assert not any("::" in symbol for symbol in symbols)


# -- hostile names --------------------------------------------------------------------------------
def _seq(index: int) -> str:
    return "" if index == 0 else format(index - 1, "X")


HOSTILE = [
    "", "_Z", "_R", "_ZN", "_ZNE", "_Z1", "_Z999999999a", "_ZS_", "_ZT_", "_ZSt", "_ZN1aS0_E",
    "_Z" + "N" * 2000, "_Z" + "PK" * 500 + "c", "_ZN1a" + "S_" * 500 + "E", "_R" + "B_" * 500,
    "_RIC1a" + "Ip" * 400, "_Z" + "I" * 1000, "_ZN" + "1aIS_E" * 150 + "E",
    "_ZN3foo\x1b[2J3barEv", "_ZN3foo\u202e3barEv", "_ZN3foo3barEv\n", "_ZN4a`b`3barEv",
    "_ZN3std2rt10lang$u60$17h168e94e611939a97E", "_ZN1a2bc17h0123456789abcdefE",
    # each pair doubles the one before: 2**40 characters if nothing stopped it
    "_Z1fSt4pairIiiE" + "".join(f"St4pairIS{_seq(i)}_S{_seq(i)}_E" for i in range(40)),
    "\udcff_Z", "_Z" + "\udcff" * 3,
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_fall_back_without_raising(name):
    started = time.perf_counter()
    out = demangle(name)
    assert time.perf_counter() - started < 0.5
    assert out is None or (out.isascii() and out.isprintable() and "`" not in out and len(out) <= 400)
    assert in_message(name)  # a string, whatever came in


def test_random_names_never_raise_and_stay_bounded():
    rng = random.Random(20261129)
    alphabet = "NSIET_0123456789KRPOFSt_abcdijlmvxyzC1D0BLpshuY$."
    worst = 0.0
    for _ in range(3000):
        name = rng.choice(("_Z", "_R", "_ZN")) + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        started = time.perf_counter()
        out = demangle(name)
        worst = max(worst, time.perf_counter() - started)
        assert out is None or (out.isprintable() and "`" not in out)
    assert worst < 0.5
    assert demangle("_ZN3fooEv" + "x" * MAX_SYMBOL) is None  # too long to be read


def test_messages_name_the_cxx_symbol_readably_in_every_format(capsys):
    path = str(FIXTURES / CXX)
    shown = "std::condition_variable::wait(std::unique_lock<std::mutex>&)` (`_ZNSt18condition…`)"
    assert main(["scan", path, "--runtime", "provided.al2"]) == 1
    assert shown in capsys.readouterr().out
    assert main(["scan", path, "--runtime", "provided.al2", "--format", "json"]) == 1
    messages = [f["message"] for a in json.loads(capsys.readouterr().out)["artifacts"] for f in a["findings"]]
    assert any(shown in message for message in messages)
    assert main(["scan", path, "--runtime", "provided.al2", "--format", "sarif"]) == 1
    assert "std::condition_variable::wait(" in capsys.readouterr().out
