"""Precision strings, C++ spellings, the vendor's documented examples, and header hygiene."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from nnhls.dialects.fixed import (
    FixedPrecision,
    Overflow,
    PrecisionError,
    Quant,
    parse_precision,
    quantize,
    to_mantissa,
)

AP_TYPES = Path(__file__).resolve().parents[2] / "nnhls" / "hls_lib" / "ap_types"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fixed<16,6>", FixedPrecision(16, 6)),
        ("ap_fixed<16, 6>", FixedPrecision(16, 6)),
        ("  ufixed < 8 , 3 >  ", FixedPrecision(8, 3, False)),
        ("AP_UFIXED<8,3>", FixedPrecision(8, 3, False)),
        ("int<8>", FixedPrecision.integer_type(8)),
        ("ap_uint<4>", FixedPrecision.integer_type(4, False)),
        ("fixed<18,8,AP_RND,AP_SAT>", FixedPrecision(18, 8, True, Quant.RND, Overflow.SAT)),
        (
            "fixed<16, 6, rnd_conv, sat_sym, 0>",
            FixedPrecision(16, 6, True, Quant.RND_CONV, Overflow.SAT_SYM),
        ),
        (
            "fixed<8,4,Trn_Zero,ap_wrap,2>",
            FixedPrecision(8, 4, True, Quant.TRN_ZERO, Overflow.WRAP, 2),
        ),
        ("fixed<4,8>", FixedPrecision(4, 8)),
        ("fixed<4,-3>", FixedPrecision(4, -3)),
        ("fixed<1024,1>", FixedPrecision(1024, 1)),
    ],
)
def test_parse_precision(text: str, expected: FixedPrecision) -> None:
    assert parse_precision(text) == expected


@pytest.mark.parametrize(
    "text",
    ["fixed<0,0>", "fixed<1025,3>", "int<0>", "uint<1025>", "float<16,6>", "fixed<16>", "int<8,3>",
     "fixed<a,b>", "fixed<16,6,RND_UP>", "fixed<16,6,RND,SATURATE>", "fixed<16,6,RND,SAT,x>",
     "fixed<16,6,RND,SAT,0,1>", "fixed<8,4,TRN,WRAP,9>", "", "garbage"],
)  # fmt: skip
def test_parse_precision_errors(text: str) -> None:
    with pytest.raises(PrecisionError):
        parse_precision(text)


@pytest.mark.parametrize(
    "p",
    [FixedPrecision(16, 6), FixedPrecision(8, 3, False), FixedPrecision.integer_type(8),
     FixedPrecision.integer_type(5, False), FixedPrecision(18, 8, True, Quant.RND, Overflow.SAT),
     FixedPrecision(8, 4, False, Quant.TRN_ZERO, Overflow.WRAP, 2), FixedPrecision(4, -3),
     FixedPrecision(4, 8, True, Quant.TRN, Overflow.SAT_SYM)],
)  # fmt: skip
def test_spellings_round_trip(p: FixedPrecision) -> None:
    assert parse_precision(p.cpp()) == p
    assert parse_precision(str(p)) == p


# The vendor's documented examples (UG1399 quantization / overflow mode tables), as facts.
DOC_EXAMPLES = [
    ("fixed<3,2,RND,SAT>", 1.25, 1.5), ("fixed<3,2,RND,SAT>", -1.25, -1.0),
    ("fixed<3,2,RND_ZERO,SAT>", 1.25, 1.0), ("fixed<3,2,RND_ZERO,SAT>", -1.25, -1.0),
    ("fixed<3,2,RND_MIN_INF,SAT>", 1.25, 1.0), ("fixed<3,2,RND_MIN_INF,SAT>", -1.25, -1.5),
    ("fixed<3,2,RND_INF,SAT>", 1.25, 1.5), ("fixed<3,2,RND_INF,SAT>", -1.25, -1.5),
    ("fixed<3,2,RND_CONV,SAT>", 0.75, 1.0), ("fixed<3,2,RND_CONV,SAT>", -1.25, -1.0),
    ("fixed<3,2,TRN,SAT>", 1.25, 1.0), ("fixed<3,2,TRN,SAT>", -1.25, -1.5),
    ("fixed<3,2,TRN_ZERO,SAT>", 1.25, 1.0), ("fixed<3,2,TRN_ZERO,SAT>", -1.25, -1.0),
    ("fixed<4,4,RND,SAT>", 19.0, 7.0), ("fixed<4,4,RND,SAT>", -19.0, -8.0),
    ("ufixed<4,4,RND,SAT>", 19.0, 15.0), ("ufixed<4,4,RND,SAT>", -19.0, 0.0),
    ("fixed<4,4,RND,SAT_ZERO>", 19.0, 0.0), ("fixed<4,4,RND,SAT_ZERO>", -19.0, 0.0),
    ("ufixed<4,4,RND,SAT_ZERO>", 19.0, 0.0), ("ufixed<4,4,RND,SAT_ZERO>", -19.0, 0.0),
    ("fixed<4,4,RND,SAT_SYM>", 19.0, 7.0), ("fixed<4,4,RND,SAT_SYM>", -19.0, -7.0),
    ("ufixed<4,4,RND,SAT_SYM>", 19.0, 15.0), ("ufixed<4,4,RND,SAT_SYM>", -19.0, 0.0),
    ("fixed<4,4,RND,WRAP>", 31.0, -1.0), ("fixed<4,4,RND,WRAP>", -19.0, -3.0),
    ("ufixed<4,4,RND,WRAP>", 19.0, 3.0), ("ufixed<4,4,RND,WRAP>", -19.0, 13.0),
    ("fixed<4,4,RND,WRAP,1>", 19.0, 3.0), ("fixed<4,4,RND,WRAP,1>", -19.0, -3.0),
    ("ufixed<4,4,RND,WRAP,1>", 19.0, 11.0), ("ufixed<4,4,RND,WRAP,1>", -19.0, 13.0),
    ("fixed<18,6,RND>", 1.5, 1.5), ("fixed<2,0>", -0.5, -0.5), ("ufixed<1,0>", 0.5, 0.5),
    ("ufixed<1,-1>", 0.25, 0.25), ("fixed<1,-7>", 1.0 / 256, -1.0 / 256),
]  # fmt: skip


@pytest.mark.parametrize(("text", "x", "want"), DOC_EXAMPLES)
def test_documented_examples(text: str, x: float, want: float) -> None:
    assert quantize(np.array([x]), parse_precision(text))[0] == want


def test_documented_raw_bits() -> None:
    """ap_fixed<18,6,AP_RND> holds 1.5 as 0x01800 and -1.5 as 0x3e800."""
    m = to_mantissa(np.array([1.5, -1.5]), parse_precision("fixed<18,6,RND>"))
    assert [int(v) & 0x3FFFF for v in m] == [0x01800, 0x3E800]


HEADER_SMOKE = r"""
#include <ap_fixed.h>
#include <ap_int.h>
#include <hls_stream.h>
#include <iostream>
int main() {
  ap_fixed<16, 6> a = 1.5, b = -2.25;
  ap_fixed<40, 16> acc = 0;
  acc += a * b;
  ap_int<8> s = -3;
  ap_uint<5> u = 7;
  ap_fixed<16, 6, AP_RND, AP_SAT> r = acc;
  int i = s;
  double d = a;
  bool c = a > b && s < 0 && u == 7 && a != 0.5 && (a + s) > 0;
  ap_uint<4> bits = a.range(3, 0);
  a[0] = 1;
  a.range(7, 4) = 5;
  u <<= 1;
  s >>= 1;
  ap_int<200> big = 12345;
  big *= big;
  hls::stream<ap_fixed<16, 6> > st("st");
  st << a;
  st.write(b);
  ap_fixed<16, 6> x = st.read(), y;
  st >> y;
  std::cout << r << " " << i << " " << d << " " << c << " " << bits << " " << u << " " << s << " "
            << big << " " << x << " " << y << " " << st.empty() << st.size() << st.full() << a.length()
            << " " << a.to_int() << a.to_float() << a.to_long() << "\n";
  return 0;
}
"""


@pytest.mark.parametrize("std", ["c++11", "c++17"])
def test_headers_compile_warning_free(tmp_path: Path, std: str) -> None:
    if shutil.which("g++") is None:
        pytest.skip("g++ not available")
    src = tmp_path / "smoke.cpp"
    src.write_text(HEADER_SMOKE)
    exe = tmp_path / "smoke"
    build = subprocess.run(
        [
            "g++",
            f"-std={std}",
            "-Wall",
            "-Wextra",
            "-Werror",
            f"-I{AP_TYPES}",
            str(src),
            "-o",
            str(exe),
        ],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()
    assert out[:3] == ["-3.375", "-3", "1.5"]
    assert out[7] == str(12345 * 12345)


STREAM_FIFO = r"""
#include <hls_stream.h>
#include <iostream>
// Interleaved writes and reads make the ring buffer wrap, then grow while wrapped.
int main() {
  hls::stream<int> st("fifo");
  int next_in = 0, next_out = 0, bad = 0;
  for (int round = 0; round < 200; round++) {
    for (int i = 0; i < round % 37 + 1; i++) st.write(next_in++);
    for (int i = 0; i < round % 23 && !st.empty(); i++) bad += st.read() != next_out++;
  }
  while (!st.empty()) bad += st.read() != next_out++;
  std::cout << bad << " " << next_out << " " << next_in << " " << st.size() << "\n";
  return 0;
}
"""


def test_stream_is_a_fifo_through_wraps_and_growth(tmp_path: Path) -> None:
    src = tmp_path / "fifo.cpp"
    src.write_text(STREAM_FIFO)
    exe = tmp_path / "fifo"
    build = subprocess.run(
        ["g++", "-std=c++11", "-Wall", "-Wextra", "-Werror", f"-I{AP_TYPES}", str(src), "-o", str(exe)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    bad, read, written, left = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()
    assert bad == "0" and read == written and int(written) > 1000 and left == "0"


def test_operator_results_beyond_1024_bits_compile_and_run(tmp_path: Path) -> None:
    """Declared types stop at 1024 bits, but full-precision intermediates go beyond (the product
    of two ap_fixed<1024, 600> is 2048 bits wide, as with the vendor's headers); 32769 bits is
    past every library's limit."""
    src = tmp_path / "big.cpp"
    src.write_text(
        "#include <ap_fixed.h>\n#include <cstdio>\n"
        "int main() {\n  ap_fixed<1024, 600> a = 3.5, b = -2.25;\n  ap_fixed<64, 30> c = 1.5;\n"
        "  auto p = a * b;\n  auto q = a * c;\n"
        '  std::printf("%d %d %g %d %g\\n", decltype(p)::width, decltype(p)::iwidth, p.to_double(),'
        " decltype(q)::width, q.to_double());\n}\n"
    )
    exe = tmp_path / "big"
    subprocess.run(["g++", "-std=c++17", f"-I{AP_TYPES}", str(src), "-o", str(exe)], check=True)
    assert subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split() == [
        "2048", "1200", "-7.875", "1088", "5.25",
    ]  # fmt: skip
    src.write_text("#include <ap_int.h>\nap_int<32769> x;\nint main() { return 0; }\n")
    build = subprocess.run(
        ["g++", "-std=c++17", f"-I{AP_TYPES}", "-c", str(src), "-o", str(tmp_path / "big.o")],
        capture_output=True,
        text=True,
    )
    assert build.returncode != 0
    assert "widths from 1 to 32768 bits" in build.stderr
