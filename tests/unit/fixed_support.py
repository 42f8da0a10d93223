"""Differential-test support for the ap types: one generated C++ harness, built once, fed by files.

The harness is generated from a list of jobs. Each job is one template instantiation:

* ``("cast", t)``          doubles -> type t                (C++ ``t y = x;``)
* ``("requant", s, t)``    raw mantissas of s -> type t     (C++ ``t y = x_s;``)
* ``("add"|"sub"|"mul"|"div", a, b)``  full-precision operators, result raw bits plus its type

Values travel as little-endian binary files: doubles, or ``ceil(W / 64)`` 64-bit words per value
holding the low W bits of the raw mantissa. The same source compiles against our headers and,
for the optional vendor comparison, against the vendor's (only the vendor's public API is used:
``range()``, ``ap_uint<64>``, ``width`` / ``iwidth``).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from nnhls.dialects.fixed import FixedPrecision

AP_TYPES_DIR = Path(__file__).resolve().parents[2] / "nnhls" / "hls_lib" / "ap_types"

Job = tuple[str, ...]
"""("cast", t) / ("requant", s, t) / (op, a, b) with types spelled as C++ (FixedPrecision.cpp())."""


def words(width: int) -> int:
    """64-bit words per value in the harness files."""
    return (width + 63) // 64


_PRELUDE = r"""
#include <ap_fixed.h>
#include <ap_int.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
typedef unsigned long long u64;

template <class T> void set_raw(T& x, const u64* w) {
  for (int lo = 0; lo < T::width; lo += 64) {
    int hi = lo + 63 < T::width - 1 ? lo + 63 : T::width - 1;
    x.range(hi, lo) = ap_uint<64>(w[lo / 64]);
  }
}
template <class T> void get_raw(T& x, u64* w) {
  for (int lo = 0; lo < T::width; lo += 64) {
    int hi = lo + 63 < T::width - 1 ? lo + 63 : T::width - 1;
    ap_uint<64> c = x.range(hi, lo);
    w[lo / 64] = c.to_uint64();
  }
}
static std::vector<u64> read_file(const char* path) {
  std::vector<u64> v;
  FILE* f = std::fopen(path, "rb");
  if (!f) { std::perror(path); std::exit(2); }
  u64 buf[4096];
  size_t n;
  while ((n = std::fread(buf, 8, 4096, f)) > 0) v.insert(v.end(), buf, buf + n);
  std::fclose(f);
  return v;
}
static void write_file(const char* path, const std::vector<u64>& v) {
  FILE* f = std::fopen(path, "wb");
  std::fwrite(v.data(), 8, v.size(), f);
  std::fclose(f);
}
template <class T> void job_cast(const char* in, const char* out) {
  std::vector<u64> x = read_file(in), r(x.size() * ((T::width + 63) / 64));
  for (size_t i = 0; i < x.size(); ++i) {
    double d;
    std::memcpy(&d, &x[i], 8);
    T y = d;
    get_raw(y, &r[i * ((T::width + 63) / 64)]);
  }
  write_file(out, r);
}
template <class S, class T> void job_requant(const char* in, const char* out) {
  const int ns = (S::width + 63) / 64, nt = (T::width + 63) / 64;
  std::vector<u64> x = read_file(in), r(x.size() / ns * nt);
  for (size_t i = 0; i < x.size() / ns; ++i) {
    S s;
    set_raw(s, &x[i * ns]);
    T y = s;
    get_raw(y, &r[i * nt]);
  }
  write_file(out, r);
}
template <class R> auto iwidth_of(int) -> decltype((int)R::iwidth) { return R::iwidth; }
template <class R> int iwidth_of(long) { return R::width; }  // the vendor's ap_int has no iwidth
template <class R> void report_type(const char* name) {
  R r;
  for (int i = 0; i < R::width; ++i) r[i] = 1;
  std::printf("%s %d %d %d\n", name, (int)R::width, iwidth_of<R>(0), (int)(r < 0));
}
#define BINARY_JOB(NAME, OP)                                                               \
  template <class A, class B> void job_##NAME(const char* ina, const char* inb, const char* out) { \
    typedef decltype(A() OP B()) R;                                                        \
    const int na = (A::width + 63) / 64, nb = (B::width + 63) / 64, nr = (R::width + 63) / 64; \
    std::vector<u64> x = read_file(ina), y = read_file(inb), r(x.size() / na * nr);        \
    for (size_t i = 0; i < x.size() / na; ++i) {                                           \
      A a;                                                                                 \
      B b;                                                                                 \
      set_raw(a, &x[i * na]);                                                              \
      set_raw(b, &y[i * nb]);                                                              \
      R z = a OP b;                                                                        \
      get_raw(z, &r[i * nr]);                                                              \
    }                                                                                      \
    write_file(out, r);                                                                    \
    report_type<R>(out);                                                                   \
  }
BINARY_JOB(add, +)
BINARY_JOB(sub, -)
BINARY_JOB(mul, *)
BINARY_JOB(div, /)
"""


def harness_source(jobs: list[Job]) -> str:
    """C++ source of a harness running `jobs` (argv: job index, then file paths)."""
    cases: list[str] = []
    for index, job in enumerate(jobs):
        kind = job[0]
        if kind == "cast":
            call = f"job_cast<{job[1]} >(argv[2], argv[3]);"
        elif kind == "requant":
            call = f"job_requant<{job[1]}, {job[2]} >(argv[2], argv[3]);"
        else:
            call = f"job_{kind}<{job[1]}, {job[2]} >(argv[2], argv[3], argv[4]);"
        cases.append(f"    case {index}: {call} break;")
    body = "\n".join(cases)
    return (
        _PRELUDE
        + "int main(int argc, char** argv) {\n"
        + "  if (argc < 2) return 1;\n"
        + '  FILE* jobs = std::fopen(argv[1], "r");\n'
        + "  char a[4096], b[4096], c[4096];\n"
        + "  int id;\n"
        + '  while (std::fscanf(jobs, "%d %4095s %4095s %4095s", &id, a, b, c) == 4) {\n'
        + "    char* args[5] = {argv[0], argv[1], a, b, c};\n"
        + "    run(id, args);\n"
        + "  }\n"
        + "  return 0;\n}\n"
    ).replace(
        "int main(",
        "static void run(int id, char** argv) {\n  switch (id) {\n" + body + "\n  }\n}\nint main(",
        1,
    )


@dataclass
class Harness:
    """A compiled harness and the job list it was generated from."""

    exe: Path
    jobs: list[Job]
    workdir: Path

    def run(self, requests: list[tuple[int, list[Path], Path]]) -> dict[str, tuple[int, int, bool]]:
        """Run (job index, input files, output file) requests in one process.

        Returns the result types reported by operator jobs, keyed by output path.
        """
        lines = []
        for index, inputs, output in requests:
            paths = [*map(str, inputs), str(output)]
            while len(paths) < 3:
                paths.append("-")
            lines.append(f"{index} {' '.join(paths)}")
        job_file = self.workdir / "jobs.txt"
        job_file.write_text("\n".join(lines) + "\n")
        done = subprocess.run(
            [str(self.exe), str(job_file)], capture_output=True, text=True, check=True
        )
        types: dict[str, tuple[int, int, bool]] = {}
        for line in done.stdout.splitlines():
            path, width, integer, signed = line.split()
            types[path] = (int(width), int(integer), signed == "1")
        return types


def build_harness(
    jobs: list[Job], workdir: Path, include: Path = AP_TYPES_DIR, flags: tuple[str, ...] = ("-O1",)
) -> Harness:
    """Generate and compile the harness for `jobs` against the ap headers in `include`."""
    compiler = shutil.which("g++")
    if compiler is None:
        raise RuntimeError("g++ not found")
    workdir.mkdir(parents=True, exist_ok=True)
    source = workdir / "harness.cpp"
    source.write_text(harness_source(jobs))
    exe = workdir / "harness"
    subprocess.run(
        [compiler, "-std=c++17", *flags, "-w", f"-I{include}", str(source), "-o", str(exe)],
        check=True,
        capture_output=True,
        text=True,
    )
    return Harness(exe, jobs, workdir)


# ----- raw words <-> Python mantissas ------------------------------------------------------------
def mantissas_to_words(m: npt.ArrayLike, p: FixedPrecision) -> npt.NDArray[np.uint64]:
    """Low W bits of each mantissa as ceil(W/64) little-endian words per value."""
    arr = np.asarray(m)
    n = words(p.width)
    if arr.dtype != object and n == 1:
        return arr.astype(np.int64).view(np.uint64) & np.uint64((1 << p.width) - 1)
    mask = (1 << p.width) - 1
    out = np.empty(arr.size * n, dtype=np.uint64)
    for i, v in enumerate(arr.reshape(-1).tolist()):
        u = int(v) & mask
        for k in range(n):
            out[i * n + k] = (u >> (64 * k)) & 0xFFFFFFFFFFFFFFFF
    return out


def words_to_mantissas(
    w: npt.NDArray[np.uint64], p: FixedPrecision
) -> list[int] | npt.NDArray[Any]:
    """Inverse of mantissas_to_words: int64 array for W <= 64, else a list of Python ints."""
    n = words(p.width)
    if p.width <= 62:
        s = (w.astype(np.uint64) & np.uint64((1 << p.width) - 1)).astype(np.int64)
        if p.signed:
            s = np.where(s >= (1 << (p.width - 1)), s - (1 << p.width), s)
        return s
    values: list[int] = []
    rows = w.reshape(-1, n).tolist()
    for row in rows:
        u = 0
        for k, word in enumerate(row):
            u |= int(word) << (64 * k)
        u &= (1 << p.width) - 1
        if p.signed and u >> (p.width - 1):
            u -= 1 << p.width
        values.append(u)
    return values
