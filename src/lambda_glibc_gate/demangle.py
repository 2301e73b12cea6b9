"""Readable C++ and Rust symbol names for messages: `_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE`
is `std::condition_variable::wait(std::unique_lock<std::mutex>&)`.

Why not a dependency: `cxxfilt` calls libstdc++'s `__cxa_demangle` through ctypes (absent on
musl, macOS and Windows Pythons), `itanium_demangler` has had no release since 2022 and no Rust,
and the symbols a message names are few and plain (libstdc++'s and glibc's exported API, the odd
Rust symbol). So this is a small demangler for that subset — the Itanium C++ ABI's names, types,
templates and substitutions, Rust's legacy (`_ZN…17h<hash>E`) and v0 (`_R…`) paths — that gives
up (returns None) on everything else rather than guess.

Symbol names come from the package under test: untrusted. `demangle` never raises, bounds the
input length, the recursion depth and the work, and only ever returns printable ASCII from
a fixed alphabet (no backticks, no markup, no controls), so it cannot smuggle anything into a
sink; every sink still escapes it (text.py) like any other name.
"""

from __future__ import annotations

import re

__all__ = ["MANGLED_SHOWN", "demangle", "in_message", "readable"]

MAX_SYMBOL = 1024  # longer names are not for reading anyway
MAX_OUTPUT = 400
_MAX_DEPTH = 64
_MAX_STEPS = 4096  # parse steps per symbol: bounds hostile substitution chains

_IDENTIFIER = re.compile(r"[A-Za-z_$.][A-Za-z0-9_$.]*\Z", re.ASCII)
_RUST_HASH = re.compile(r"h[0-9a-f]{16}\Z", re.ASCII)
_CLONE = re.compile(r"\.[A-Za-z_]+(\.[0-9]+)?", re.ASCII)


class _Fail(Exception):
    """Not a name this demangler reads: the caller shows the mangled name."""


def demangle(symbol: str) -> str | None:
    """The readable form of a C++ (Itanium) or Rust symbol, or None (a C name, or one this
    does not read). Never raises."""
    if not isinstance(symbol, str) or len(symbol) > MAX_SYMBOL or not symbol.isascii():
        return None
    try:
        if symbol.startswith("_R"):
            out = _RustV0(symbol).symbol()
        elif symbol.startswith("_Z"):
            out = _Itanium(symbol).symbol()
        else:
            return None
    except (_Fail, RecursionError, IndexError, ValueError):
        return None
    if not out or len(out) > MAX_OUTPUT or not out.isprintable() or "`" in out:
        return None
    return out


MANGLED_SHOWN = 16  # of a demangled name's mangled form in a message, the start: enough for `nm | grep`


def readable(symbol: str) -> str:
    """`demangled  (mangled)` for a mangled name (the summary's symbol list), the name itself
    otherwise. `symbol` may carry its version: `_ZNSt…E@GLIBCXX_3.4.30`."""
    name = symbol.rpartition("@")[0] if "@" in symbol else symbol
    text = demangle(name)
    return f"{text}  ({symbol})" if text else symbol


def in_message(symbol: str) -> str:
    """A symbol as a message quotes it: `strlcpy`; a C++ or Rust name readable first, then the
    start of the mangled one (the JSON report's `symbols` keeps it whole):
    `std::condition_variable::wait(std::unique_lock<std::mutex>&)` (`_ZNSt18condition…`)."""
    text = demangle(symbol)
    if text is None:
        return f"`{symbol}`"
    mangled = symbol if len(symbol) <= MANGLED_SHOWN + 4 else symbol[:MANGLED_SHOWN] + "…"
    return f"`{text}` (`{mangled}`)"


# -- Itanium C++ ABI (https://itanium-cxx-abi.github.io/cxx-abi/abi.html#mangling) ----------------
_BUILTIN = {
    "v": "void", "w": "wchar_t", "b": "bool", "c": "char", "a": "signed char", "h": "unsigned char",
    "s": "short", "t": "unsigned short", "i": "int", "j": "unsigned int", "l": "long",
    "m": "unsigned long", "x": "long long", "y": "unsigned long long", "n": "__int128",
    "o": "unsigned __int128", "f": "float", "d": "double", "e": "long double", "g": "__float128",
    "z": "...",
}
_BUILTIN_D = {"i": "char32_t", "s": "char16_t", "u": "char8_t", "n": "decltype(nullptr)", "a": "auto"}
_STD_ABBREVIATIONS = {
    # spelt out, as c++filt does
    "t": "std", "a": "std::allocator", "b": "std::basic_string",
    "s": "std::basic_string<char, std::char_traits<char>, std::allocator<char> >",
    "i": "std::basic_istream<char, std::char_traits<char> >",
    "o": "std::basic_ostream<char, std::char_traits<char> >",
    "d": "std::basic_iostream<char, std::char_traits<char> >",
}
_OPERATORS = {
    "nw": "new", "na": "new[]", "dl": "delete", "da": "delete[]", "ps": "+", "ng": "-", "ad": "&",
    "de": "*", "co": "~", "pl": "+", "mi": "-", "ml": "*", "dv": "/", "rm": "%", "an": "&",
    "or": "|", "eo": "^", "aS": "=", "pL": "+=", "mI": "-=", "mL": "*=", "dV": "/=", "rM": "%=",
    "aN": "&=", "oR": "|=", "eO": "^=", "ls": "<<", "rs": ">>", "lS": "<<=", "rS": ">>=",
    "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">=", "ss": "<=>", "nt": "!",
    "aa": "&&", "oo": "||", "pp": "++", "mm": "--", "cm": ",", "pm": "->*", "pt": "->", "cl": "()",
    "ix": "[]",
}
_SPECIAL = {"TV": "vtable for ", "TT": "VTT for ", "TI": "typeinfo for ", "TS": "typeinfo name for "}


class _Itanium:
    def __init__(self, symbol: str) -> None:
        self.s = symbol
        self.i = 2  # after "_Z"
        self.subs: list[str] = []
        self.template_args: list[str] = []
        self.steps = 0
        self.depth = 0

    # parsing primitives
    def _peek(self, n: int = 1) -> str:
        return self.s[self.i:self.i + n]

    def _take(self, text: str) -> bool:
        if self.s.startswith(text, self.i):
            self.i += len(text)
            return True
        return False

    def _tick(self) -> None:
        self.steps += 1
        if self.steps > _MAX_STEPS:
            raise _Fail

    def _number(self) -> int:
        start = self.i
        while self._peek().isdigit():
            self.i += 1
        if start == self.i or self.i - start > 6:
            raise _Fail
        return int(self.s[start:self.i])

    def _seq_id(self, end: str) -> int:
        """`_` is 0, else base-36 digits then `_` is that + 1 (S_, S0_, T_, T0_)."""
        if self._take(end):
            return 0
        start = self.i
        while self._peek() and self._peek() in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ":
            self.i += 1
        if start == self.i or self.i - start > 6 or not self._take(end):
            raise _Fail
        return int(self.s[start:self.i - 1], 36) + 1

    # grammar
    def symbol(self) -> str:
        special = self._peek(2)
        if special in _SPECIAL:
            self.i += 2
            out = _SPECIAL[special] + self._type()
        elif special == "GV":
            self.i += 2
            out = "guard variable for " + self._name()[0]
        else:
            out = self._encoding()
        if self.i != len(self.s):
            rest = self.s[self.i:]
            if not _CLONE.fullmatch(rest):  # one clone suffix (.cold, .isra.0), as c++filt shows it
                raise _Fail
            out += f" [clone {rest}]"
        return out

    def _encoding(self) -> str:
        name, templated, is_structor, cv = self._name()
        if self.i == len(self.s) or self._peek() == ".":
            return name  # a variable
        returns = ""
        if templated and not is_structor:
            returns = self._type() + " "
        params = []
        while self.i < len(self.s) and self._peek() not in (".", "E"):
            params.append(self._type())
        if params == ["void"]:
            params = []
        return f"{returns}{name}({', '.join(params)}){cv}"

    def _name(self) -> tuple[str, bool, bool, str]:
        """(name, ends in template args, is a constructor or destructor, trailing cv)."""
        self._tick()
        if self._take("N"):
            return self._nested()
        if self._peek() == "Z":
            raise _Fail  # local names (a function's static): rare in dynamic symbols
        if self._take("St"):
            text, structor = self._unqualified("std")
            text = "std::" + text
        elif self._peek() == "S":  # a substitution naming a template: S_<int>, Sa<char>
            text = self._substitution()
            structor = False
            if self._peek() != "I":
                raise _Fail
        else:
            text, structor = self._unqualified("")
        if self._peek() == "I":
            self.subs.append(text)
            args = self._template_args(after=text)
            return text + args, True, structor, ""
        return text, False, structor, ""

    def _nested(self) -> tuple[str, bool, bool, str]:
        rust = self._rust_legacy()
        if rust is not None:
            return rust, False, False, ""
        cv = self._cv()
        if self._take("R"):
            cv += " &"
        elif self._take("O"):
            cv += " &&"
        parts: list[str] = []
        templated = structor = False
        while not self._take("E"):
            self._tick()
            char = self._peek()
            templated = False
            if char != "I":
                structor = False  # a constructor's own template arguments keep it one
            if char == "S" and self._peek(2) != "St":
                if parts:
                    raise _Fail
                parts.append(self._substitution())  # already a candidate: not added again
                continue
            if char == "I":
                if not parts:
                    raise _Fail
                parts[-1] += self._template_args(after=parts[-1])
                templated = True
            elif char == "T":
                parts.append(self._template_param())
            elif self._take("St"):
                if parts:
                    raise _Fail
                parts.append("std::" + self._unqualified("std")[0])
            else:
                text, structor = self._unqualified(parts[-1] if parts else "")
                parts.append(text)
            if sum(map(len, parts)) > MAX_OUTPUT:
                raise _Fail
            if self._peek() != "E":  # every prefix is a candidate, the whole name is not
                self.subs.append("::".join(parts))
        if not parts:
            raise _Fail
        return "::".join(parts), templated, structor, cv

    def _rust_legacy(self) -> str | None:
        """A legacy Rust symbol is an Itanium nested name whose last part is `h` + 16 hex digits
        (rustc's hash): its parts read as Rust, without the hash (as rustc-demangle's `{:#}`)."""
        start = self.i
        parts: list[str] = []
        try:
            while self._peek().isdigit():
                parts.append(self._source_name())
        except _Fail:
            parts = []
        if parts and len(parts) > 1 and _RUST_HASH.match(parts[-1]) and self._take("E"):
            if self._peek() == ".":  # .llvm.123: not shown, as rustc-demangle
                self.i = len(self.s)
            return _rust_legacy(parts[:-1])
        self.i = start
        return None

    def _unqualified(self, enclosing: str) -> tuple[str, bool]:
        """A source name, an operator, or a constructor / destructor (named after its class)."""
        char = self._peek()
        if char.isdigit():
            text = self._source_name()
            structor = False
        elif char == "C" and self._peek(2)[1:] in ("1", "2", "3", "4", "5"):
            self.i += 2
            text, structor = self._class_name(enclosing), True
        elif char == "D" and self._peek(2)[1:] in ("0", "1", "2", "4", "5"):
            self.i += 2
            text, structor = "~" + self._class_name(enclosing), True
        elif self._peek(2) in _OPERATORS:
            text = "operator" + _OPERATORS[self._peek(2)]
            if text[8].isalpha():
                text = "operator " + text[8:]
            self.i += 2
            structor = False
        elif self._take("cv"):
            text, structor = "operator " + self._type(), False
        else:
            raise _Fail
        while self._take("B"):  # ABI tags: std::__cxx11 strings carry [abi:cxx11]
            text += f"[abi:{self._source_name()}]"
        return text, structor

    def _class_name(self, enclosing: str) -> str:
        name = enclosing.split("<", 1)[0].split("[", 1)[0].rsplit("::", 1)[-1]  # no arguments, no tags
        if not name:
            raise _Fail
        return name

    def _source_name(self) -> str:
        length = self._number()
        text = self.s[self.i:self.i + length]
        if len(text) != length or not _IDENTIFIER.match(text):
            raise _Fail
        self.i += length
        if text.startswith("_GLOBAL__N"):
            return "(anonymous namespace)"
        return text

    def _substitution(self) -> str:
        if not self._take("S"):
            raise _Fail
        char = self._peek()
        if char in _STD_ABBREVIATIONS and char != "t":
            self.i += 1
            return _STD_ABBREVIATIONS[char]
        index = self._seq_id("_")
        if index >= len(self.subs):
            raise _Fail
        return self.subs[index]

    def _template_args(self, after: str = "") -> str:
        if not self._take("I"):
            raise _Fail
        args = []
        while not self._take("E"):
            self._tick()
            args.append(self._template_arg())
        if self.depth == 0:  # the entity's own arguments, which T_ in its signature means
            self.template_args = args
        text = ", ".join(args)
        if len(text) > MAX_OUTPUT:  # substitutions can double a name per step: stop early
            raise _Fail
        opening = " <" if after.endswith("<") else "<"  # operator<< <T>, as c++filt
        return f"{opening}{text}{' ' if text.endswith('>') else ''}>"

    def _template_arg(self) -> str:
        if self._take("L"):
            return self._literal()
        if self._take("J"):  # a pack
            parts = []
            while not self._take("E"):
                self._tick()
                parts.append(self._template_arg())
            return ", ".join(parts)
        if self._peek() == "X":
            raise _Fail  # expressions: not for messages
        return self._type()

    def _literal(self) -> str:
        if self._take("_Z"):
            raise _Fail
        kind = self._peek()
        if kind not in _BUILTIN:
            raise _Fail
        self.i += 1
        negative = self._take("n")
        start = self.i
        while self._peek().isdigit():
            self.i += 1
        digits = self.s[start:self.i]
        if not digits or not self._take("E") or len(digits) > 20:
            raise _Fail
        value = ("-" if negative else "") + digits
        if kind == "b":
            return {"0": "false", "1": "true"}.get(value, f"(bool){value}")
        suffix = {"i": "", "j": "u", "l": "l", "m": "ul", "x": "ll", "y": "ull"}
        if kind in suffix:
            return value + suffix[kind]
        return f"({_BUILTIN[kind]}){value}"

    def _template_param(self) -> str:
        if not self._take("T"):
            raise _Fail
        index = self._seq_id("_")
        if index >= len(self.template_args):
            raise _Fail
        return self.template_args[index]

    def _cv(self) -> str:
        cv = ""
        if self._take("r"):
            cv += " restrict"
        if self._take("V"):
            cv += " volatile"
        if self._take("K"):
            cv += " const"
        return cv

    def _type(self) -> str:
        self._tick()
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise _Fail
        try:
            return self._type_inner()
        finally:
            self.depth -= 1

    def _type_inner(self) -> str:
        char = self._peek()
        if not char:
            raise _Fail
        if char in _BUILTIN:
            self.i += 1
            return _BUILTIN[char]
        if char == "D" and self._peek(2)[1:] in _BUILTIN_D:
            text = _BUILTIN_D[self._peek(2)[1]]
            self.i += 2
            return text
        if char in "rVK":
            cv = self._cv()
            inner = self._type()
            text = self._qualified(inner, cv.strip())
            self.subs.append(text)
            return text
        if char in "PRO":
            self.i += 1
            mark = {"P": "*", "R": "&", "O": "&&"}[char]
            if self._peek() == "F":  # a pointer to a function: void (*)(int)
                returns, params = self._function_type()
                text = f"{returns} ({mark})({params})"
                self.subs.append(text)
                return text
            inner = self._type()
            text = inner + mark
            self.subs.append(text)
            return text
        if char == "S" and self._peek(2) != "St":
            text = self._substitution()
            if self._peek() == "I":  # a template's substitution + its arguments: a new candidate
                text += self._template_args()
                self.subs.append(text)
            return text
        if char == "T":
            text = self._template_param()
            if self._peek() == "I":
                self.subs.append(text)
                text += self._template_args()
            self.subs.append(text)
            return text
        if char == "N" or char.isdigit() or self._peek(2) == "St":
            name, _, _, cv = self._name()
            if cv:
                raise _Fail
            self.subs.append(name)
            return name
        raise _Fail  # arrays, function types, pointers to members, decltype, vendor types

    def _function_type(self) -> tuple[str, str]:
        """F [Y] <return type> <parameter types> E, itself a substitution candidate."""
        if not self._take("F"):
            raise _Fail
        self._take("Y")
        returns = self._type()
        params = []
        while not self._take("E"):
            if self._peek() in ("R", "O") and self._peek(2)[1:] == "E":
                raise _Fail  # ref-qualified function types: not for messages
            params.append(self._type())
        text = ", ".join(p for p in params if p != "void" or len(params) > 1)
        self.subs.append(f"{returns} ({text})")
        return returns, text

    @staticmethod
    def _qualified(inner: str, cv: str) -> str:
        return f"{inner} {cv}" if cv else inner


# -- Rust v0 (https://doc.rust-lang.org/rustc/symbol-mangling/v0.html) ----------------------------
_RUST_BASIC = {
    "a": "i8", "b": "bool", "c": "char", "d": "f64", "e": "str", "f": "f32", "h": "u8", "i": "isize",
    "j": "usize", "l": "i32", "m": "u32", "n": "i128", "o": "u128", "s": "i16", "t": "u16",
    "u": "()", "v": "...", "x": "i64", "y": "u64", "z": "!", "p": "_",
}
_BASE62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


class _RustV0:
    def __init__(self, symbol: str) -> None:
        self.s = symbol
        self.i = 2
        self.steps = 0
        self.depth = 0

    def _peek(self) -> str:
        return self.s[self.i:self.i + 1]

    def _take(self, char: str) -> bool:
        if self._peek() == char:
            self.i += 1
            return True
        return False

    def _tick(self) -> None:
        self.steps += 1
        self.depth += 1
        if self.steps > _MAX_STEPS or self.depth > _MAX_DEPTH:
            raise _Fail

    def _bounded(self, text: str) -> str:
        if len(text) > MAX_OUTPUT:  # backrefs can double a path per step: stop early
            raise _Fail
        return text

    def symbol(self) -> str:
        if self._peek().isdigit():
            raise _Fail  # an encoding version other than the first
        out = self._path(in_value=True)
        if self.i < len(self.s) and self._peek().isupper():
            self._path(in_value=False)  # the instantiating crate: not shown
        rest = self.s[self.i:]
        if rest and not re.fullmatch(r"\.[A-Za-z0-9_.$]*", rest):
            raise _Fail
        return out

    def _base62(self) -> int:
        """`_` is 0, else base-62 digits then `_` is that + 1."""
        if self._take("_"):
            return 0
        value = 0
        count = 0
        while not self._take("_"):
            char = self._peek()
            if not char or char not in _BASE62 or count > 10:
                raise _Fail
            value = value * 62 + _BASE62.index(char)
            self.i += 1
            count += 1
        return value + 1

    def _disambiguator(self) -> int:
        return self._base62() + 1 if self._take("s") else 0

    def _identifier(self) -> str:
        self._disambiguator()
        return self._identifier_after_disambiguator()

    def _backref(self, parse) -> str:
        target = self._base62() + 2  # offsets count from after "_R"
        if target >= self.i - 1:
            raise _Fail  # must point backwards
        saved = self.i
        self.i = target
        try:
            return parse()
        finally:
            self.i = saved

    def _path(self, in_value: bool) -> str:
        self._tick()
        try:
            char = self._peek()
            self.i += 1
            if char == "C":
                return self._identifier()
            if char == "N":
                namespace = self._peek()
                self.i += 1
                if not namespace.isalpha():
                    raise _Fail
                parent = self._path(in_value)
                disambiguator = self._disambiguator()
                name = self._identifier_after_disambiguator()
                if namespace.isupper():
                    kind = {"C": "closure", "S": "shim"}.get(namespace, namespace)
                    return f"{parent}::{{{kind}{':' + name if name else ''}#{disambiguator}}}"
                return f"{parent}::{name}" if name else parent
            if char == "M":  # inherent impl
                self._impl_path()
                return f"<{self._type()}>"
            if char == "X":  # trait impl
                self._impl_path()
                own = self._type()
                return self._bounded(f"<{own} as {self._path(in_value=False)}>")
            if char == "Y":
                own = self._type()
                return f"<{own} as {self._path(in_value=False)}>"
            if char == "I":
                base = self._path(in_value)
                args = []
                while not self._take("E"):
                    args.append(self._generic_arg())
                return self._bounded(f"{base}{'::' if in_value else ''}<{', '.join(args)}>")
            if char == "B":
                return self._backref(lambda: self._path(in_value))
            raise _Fail
        finally:
            self.depth -= 1

    def _identifier_after_disambiguator(self) -> str:
        if self._take("u"):
            raise _Fail
        start = self.i
        while self._peek().isdigit():
            self.i += 1
        if start == self.i or self.i - start > 4:
            raise _Fail
        length = int(self.s[start:self.i])
        self._take("_")
        text = self.s[self.i:self.i + length]
        if len(text) != length or (text and not _IDENTIFIER.match(text)):
            raise _Fail
        self.i += length
        return text

    def _impl_path(self) -> None:
        self._disambiguator()
        self._path(in_value=False)

    def _generic_arg(self) -> str:
        if self._take("L"):
            self._base62()
            return "'_"
        if self._take("K"):
            return self._const()
        return self._type()

    def _const(self) -> str:
        self._tick()
        try:
            char = self._peek()
            self.i += 1
            if char == "B":
                return self._backref(self._const)
            if char == "p":
                return "_"
            if char in "hjmtyoabilnsx":
                negative = self._take("n")
                start = self.i
                while self._peek() and self._peek() in "0123456789abcdef":
                    self.i += 1
                digits = self.s[start:self.i]
                if not self._take("_") or len(digits) > 32:
                    raise _Fail
                return ("-" if negative else "") + str(int(digits or "0", 16))
            if char == "b":
                value = self.s[self.i:self.i + 2]
                self.i += 2
                return {"0_": "false", "1_": "true"}.get(value) or _fail()
            raise _Fail
        finally:
            self.depth -= 1

    def _type(self) -> str:
        self._tick()
        try:
            char = self._peek()
            if char in _RUST_BASIC:
                self.i += 1
                return _RUST_BASIC[char]
            self.i += 1
            if char in "RQ":
                if self._take("L"):
                    self._base62()
                return ("&" if char == "R" else "&mut ") + self._type()
            if char in "PO":
                return ("*const " if char == "P" else "*mut ") + self._type()
            if char == "A":
                inner = self._type()
                return f"[{inner}; {self._const()}]"
            if char == "S":
                return f"[{self._type()}]"
            if char == "T":
                items = []
                while not self._take("E"):
                    items.append(self._type())
                return self._bounded(f"({', '.join(items)}{',' if len(items) == 1 else ''})")
            if char == "B":
                return self._backref(self._type)
            if char in "CNMXYI":
                self.i -= 1
                return self._path(in_value=False)
            raise _Fail  # fn pointers, dyn traits: not for messages
        finally:
            self.depth -= 1


def _fail() -> str:
    raise _Fail


# -- Rust legacy: _ZN <len name>... 17h<16 hex> E -------------------------------------------------
_RUST_ESCAPES = {
    "$SP$": "@", "$BP$": "*", "$RF$": "&", "$LT$": "<", "$GT$": ">", "$LP$": "(", "$RP$": ")",
    "$C$": ",", "$u7e$": "~", "$u20$": " ", "$u27$": "'", "$u5b$": "[", "$u5d$": "]",
    "$u7b$": "{", "$u7d$": "}", "$u3b$": ";", "$u2b$": "+", "$u22$": '"', "$u21$": "!",
    "$u3d$": "=", "$u23$": "#",
}
_RUST_ESCAPE = re.compile(r"\$[A-Za-z0-9]+\$", re.ASCII)


def _rust_legacy(parts: list[str]) -> str:
    out = []
    for part in parts:
        if part.startswith("_$"):
            part = part[1:]
        part = part.replace("..", "::")

        def unescape(match: re.Match[str]) -> str:
            return _RUST_ESCAPES.get(match.group(0)) or _fail()

        out.append(_RUST_ESCAPE.sub(unescape, part))
    return "::".join(out)
