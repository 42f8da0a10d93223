"""The quoting functions of every target language, fed hostile strings and checked by the real
interpreter of that language: g++ (string literals, comments, identifiers), tclsh, sh."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from nnhls import quoting
from nnhls.codegen.firmware import NameTable, _input_names, _layer_names

LIB = Path(quoting.__file__).resolve().parent / "hls_lib"

PAYLOAD = 'x" + 0 * [](){ extern int s(const char*) __asm__("system"); return s("touch PWNED"); }() + 0 * sizeof "'
HOSTILE = [
    PAYLOAD,
    'a"b',
    "trailing\\",
    "new\nline",
    "cr\rlf",
    "tab\tx",
    "nul\x00byte",
    "tri??/",
    "??=define",
    "*/ /* //",
    "$(touch PWNED)",
    "`touch PWNED`",
    "[exec touch PWNED]",
    "${x}",
    "{unbalanced",
    "}; puts hi; {",
    "'single' quote",
    "déjà vu ☃ \U0001f600",
    "",
    " ",
    "\\x41\\101",
]


def _gxx() -> str:
    if shutil.which("g++") is None:
        pytest.skip("g++ not installed")
    return "g++"


def test_cpp_string_and_comment_round_trip_through_gxx(tmp_path: Path) -> None:
    """Every hostile string, as a literal and inside // comments, compiles (C++11 with trigraphs and
    C++17) and prints back byte for byte; nothing else runs."""
    lines = ["#include <cstdio>", "int main() {"]
    for text in HOSTILE:
        lines.append(f"  // {quoting.cpp_comment_text(text)}")
        lines.append(f'  std::fwrite({quoting.cpp_string(text)}, 1, sizeof({quoting.cpp_string(text)}) - 1, stdout);')
        lines.append('  std::fputs("\\n--\\n", stdout);')
        lines.append(f"  // {quoting.cpp_comment_text(text)}")
    lines += ["  return 0;", "}"]
    src = tmp_path / "strings.cpp"
    src.write_text("\n".join(lines) + "\n")
    for std in ("c++11", "c++17"):
        exe = tmp_path / f"strings_{std}"
        subprocess.run([_gxx(), f"-std={std}", "-Werror=trigraphs", "-o", str(exe), str(src)], check=True, capture_output=True)
        out = subprocess.run([str(exe)], check=True, capture_output=True, cwd=tmp_path).stdout
        expected = b"".join(t.encode() + b"\n--\n" for t in HOSTILE)
        assert out == expected, std
    assert not (tmp_path / "PWNED").exists()


def test_cpp_string_is_printable_ascii() -> None:
    for text in HOSTILE:
        literal = quoting.cpp_string(text)
        assert all(0x20 <= ord(c) < 0x7F for c in literal)
        assert "??" not in literal and not literal[1:-1].endswith("\\\\\\")


@pytest.mark.parametrize(
    ("text", "stem"),
    [
        ("/0/Gemm", "l_0_Gemm"),
        ("_0_Gemm", "l_0_Gemm"),
        ("/fc1/Gemm", "fc1_Gemm"),
        ("dense/1", "dense_1"),
        ("a__b", "a_b"),
        ("trailing_", "trailing"),
        ("class", "l_class"),
        ("and_eq", "l_and_eq"),
        ("static_cast", "l_static_cast"),
        ("concept", "l_concept"),
        ("INFINITY", "l_INFINITY"),
        ("stdin", "l_stdin"),
        ("ap_fixed", "l_ap_fixed"),
        ("__cplusplus", "cplusplus"),
        ("", "layer"),
        ("///", "layer"),
        ("déjà", "d_j"),
    ],
)
def test_cpp_identifier_stems(text: str, stem: str) -> None:
    assert quoting.cpp_identifier(text) == stem
    assert quoting.is_legal_identifier(stem)


def test_long_names_are_cut_with_a_hash() -> None:
    a, b = quoting.cpp_identifier("x" * 5000 + "a"), quoting.cpp_identifier("x" * 5000 + "b")
    assert a != b and len(a) <= quoting.STEM_KEEP + 12 and a.startswith("x" * 40)


@pytest.mark.parametrize(
    "name",
    ["1abc", "_x", "x__y", "x_", "a-b", "a b", "int", "and_eq", "not_eq", "dynamic_cast", "ap_uint", "stdin",
     "INFINITY", "size_t", "printf", "main", "nnet", "defines", "parameters", "NNHLS_TRACE", "é", "x" * 65, 5, None],
)
def test_user_identifiers_refused(name: object) -> None:
    with pytest.raises(quoting.IdentifierError, match="ProjectName"):
        quoting.check_cpp_identifier(name, "ProjectName")


def test_name_table_avoids_our_names_and_headers() -> None:
    table = NameTable()
    table.take(([], ["myproject", "myproject_predict", "myproject_trace", "MYPROJECT_H_"]))
    fc1 = table.claim("fc1", lambda s: _layer_names(s, 1))
    assert fc1 == "fc1"
    # a layer or input whose names would be fc1's, the standard headers' or another case's
    assert table.claim("fc1_w", _input_names) == "fc1_w_2"
    assert table.claim("size", _input_names) == "size_2"  # size_t
    assert table.claim("in", _input_names) == "l_in"  # the bridge's parameter
    assert table.claim("FC1", lambda s: _layer_names(s, 1)) == "FC1_2"  # N_FC1_OUT
    assert table.claim("myproject", _input_names) == "myproject_2"
    assert table.claim("x", _input_names) == "x"


def test_reserved_list_covers_this_compilers_macros(tmp_path: Path) -> None:
    """Every macro the headers of a generated project define (C++11 to gnu++17) is reserved."""
    src = tmp_path / "all.cpp"
    headers = ["cstdio", "cstdlib", "cstring", "cmath", "cstdint", "fstream", "iomanip", "iostream", "sstream",
               "string", "vector", "algorithm", "pthread.h", "unistd.h"]
    src.write_text("".join(f"#include <{h}>\n" for h in headers)
                   + '#include "ap_fixed.h"\n#include "ap_int.h"\n#include "hls_stream.h"\n#include "nnet/nnet_common.h"\n')
    missing: set[str] = set()
    for std in ("c++11", "c++17", "gnu++17"):
        out = subprocess.run([_gxx(), f"-std={std}", "-dM", "-E", f"-I{LIB / 'ap_types'}", f"-I{LIB}", str(src)],
                             check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            name = line.split()[1].split("(")[0]
            if not name.startswith("_") and not quoting.is_reserved(name):
                missing.add(name)
    assert not missing, f"add to nnhls/cpp_reserved.txt: {sorted(missing)}"


def test_tcl_word_round_trips_through_tclsh(tmp_path: Path) -> None:
    if shutil.which("tclsh") is None:
        pytest.skip("tclsh not installed")
    # Tcl 8.6 strings hold the Basic Multilingual Plane only
    texts = [t for t in HOSTILE if "\x00" not in t and all(ord(c) <= 0xFFFF for c in t)]
    script = "".join(f'set w {quoting.tcl_word(t)}\nputs -nonewline "[string length $w]:$w\\n--\\n"\n' for t in texts)
    (tmp_path / "words.tcl").write_text(script, encoding="ascii")
    out = subprocess.run(["tclsh", "words.tcl"], check=True, capture_output=True, cwd=tmp_path).stdout.decode()
    assert out == "".join(f"{len(t)}:{t}\n--\n" for t in texts)
    assert not (tmp_path / "PWNED").exists()


def test_shell_word_round_trips_through_sh(tmp_path: Path) -> None:
    for text in (t for t in HOSTILE if "\x00" not in t):
        out = subprocess.run(["sh", "-c", f"printf %s {quoting.shell_word(text)}"], check=True, capture_output=True, cwd=tmp_path).stdout
        assert out == text.encode()
    assert not (tmp_path / "PWNED").exists()
