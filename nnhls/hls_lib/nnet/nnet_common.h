// nnhls nnet kernel library: common definitions (written for nnhls, header-only).
//
// Every kernel is a function template nnet::<kernel><input_t, result_t, CONFIG_T>(...) whose
// sizes, reuse factor and internal types come from a config struct (see parameters.h of a
// generated project). Kernels compute exactly what the docstring of the matching op in
// nnhls/dialects/hls.py says: cast<T>(v) is a C++ assignment to an ap type; sums and products
// written without a cast are exact.
//
// Pragmas go through NNHLS_PRAGMA so that they reach the HLS tool (which defines
// __SYNTHESIS__) and stay invisible to g++/clang++ (no -Wunknown-pragmas warnings).
#ifndef NNET_COMMON_H_
#define NNET_COMMON_H_

#include "ap_fixed.h"
#include "ap_int.h"
#include "hls_stream.h"

#ifdef __SYNTHESIS__
#define NNHLS_PRAGMA_STR(...) _Pragma(#__VA_ARGS__)
#define NNHLS_PRAGMA(...) NNHLS_PRAGMA_STR(__VA_ARGS__)
#else
#define NNHLS_PRAGMA(...)
#endif

// Weights over the model's BramFactor (store_weights_in_bram): a single-port ROM in BRAM, in the
// spelling of the tool that reads it (Vitis HLS defines __VITIS_HLS__; Vivado HLS knows RESOURCE).
#if defined(__VITIS_HLS__)
#define NNHLS_ROM_IN_BRAM(var) NNHLS_PRAGMA(HLS BIND_STORAGE variable=var type=rom_1p impl=bram)
#else
#define NNHLS_ROM_IN_BRAM(var) NNHLS_PRAGMA(HLS RESOURCE variable=var core=ROM_1P_BRAM)
#endif

namespace nnet {

enum io_type { io_parallel = 0, io_stream = 1 };
enum strategy { latency = 0, resource = 1, unrolled = 2 };

// One io_stream element: all channels of one pixel.
template <class T, unsigned N> struct array {
  typedef T value_type;
  static const unsigned size = N;
  T data[N];
  T& operator[](unsigned i) { return data[i]; }
  const T& operator[](unsigned i) const { return data[i]; }
};

template <class T> inline T cmax(T a, T b) { return a < b ? b : a; }

constexpr unsigned ceil_div(unsigned a, unsigned b) { return (a + b - 1) / b; }

// 2^k as a double (exact), for the table-index scale factor.
constexpr double pow2(int k) { return k >= 0 ? double(1ull << k) : 1.0 / double(1ull << -k); }

// Table lookup index, exactly: i = floor(x * 2^K - OFFSET), clamped to [0, N - 1], where the
// table covers [OFFSET * 2^-K, (OFFSET + N) * 2^-K). Sets `above` when x is past the range.
// x * 2^K is an exact product with a one-bit constant; the floor is an assignment to an
// integer-valued ap_fixed (AP_TRN rounds towards minus infinity).
template <int K, long long OFFSET, unsigned N, class T> inline unsigned table_index_above(const T& x, bool& above) {
  const ap_ufixed<1, K + 1> scale = pow2(K);
  auto scaled = x * scale;
  typedef decltype(scaled) S;
  const int IB = (S::iwidth > 1 ? S::iwidth : 1) + 2;
  ap_fixed<IB + 66, IB + 66> floored = scaled;
  floored -= ap_int<64>(OFFSET);
  above = floored >= ap_int<64>((long long)N);
  if (floored < 0) return 0;
  if (above) return N - 1;
  return (unsigned)floored.to_int();
}

template <int K, long long OFFSET, unsigned N, class T> inline unsigned table_index(const T& x) {
  bool above;
  return table_index_above<K, OFFSET, N>(x, above);
}

// Raw mantissa -> value, used by the fast emulation weight loader (nnhls' ap types only).
template <class T, int F> inline void set_raw(T& dst, long long mantissa) {
  dst = ap_fixed<64, 64 - F>::raw(mantissa);
}

// ----- emulation fast path (nnhls' own ap types only, never in synthesis) -----------------------------
// With a plain accumulator (AP_TRN, AP_WRAP, no saturation bits), the sequence
//   acc = cast<accum_t>(acc + cast<accum_t>(x * w))
// equals wrapping the sum of the individually cast terms once at the end: wrapping is modular and
// each cast of a product is an exact shift (or a floor for AP_TRN). Computing that on raw 128-bit
// mantissas gives the same bits as the ap arithmetic, much faster for wide accumulators.
#if defined(NNHLS_AP_COMMON_H) && !defined(__SYNTHESIS__) && !defined(NNHLS_NO_FAST_PATH)
#define NNHLS_FAST_PATH 1
namespace fast {
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N, bool K> struct info {
  enum { width = W, frac = W - I, plain = (Q == AP_TRN && O == AP_WRAP && N == 0) };
};
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N, bool K>
info<W, I, S, Q, O, N, K> info_of(const ap_num<W, I, S, Q, O, N, K>*);
template <class T> struct traits {
  typedef decltype(info_of(static_cast<const T*>(0))) type;
};
template <class T> inline apx::i128 mantissa(const T& v) {
  apx::i128 z;
  v.load(z);
  return z;
}
// Exact value m * 2^-F (m of up to 127 bits) cast to F_to fractional bits by shifting
// (floor when bits are dropped), modulo 2^128.
template <int D> inline apx::u128 align(apx::i128 m) {
  return D >= 0 ? (apx::u128)m << (D >= 0 ? D : 0) : (apx::u128)(m >> (D < 0 ? -D : 0));
}
// Whether a multiply-accumulate of data_T x weight_T into accum_t (initialised from bias_T) can
// take the fast path.
template <class data_T, class weight_T, class bias_T, class accum_T> struct mac_ok {
  typedef typename traits<data_T>::type X;
  typedef typename traits<weight_T>::type Wt;
  typedef typename traits<bias_T>::type B;
  typedef typename traits<accum_T>::type A;
  enum {
    d_prod = (int)A::frac - (int)X::frac - (int)Wt::frac,
    d_bias = (int)A::frac - (int)B::frac,
    value = A::plain && X::width + Wt::width <= 126 && A::width <= 126 && B::width <= 126 &&
            d_prod > -120 && d_prod < 120 && d_bias > -120 && d_bias < 120
  };
};
}  // namespace fast
#endif

// ----- layer tracing (emulation only): the bridge installs a sink to record each layer ----------
#ifndef __SYNTHESIS__
struct trace_sink {
  virtual ~trace_sink() {}
  virtual double* slot(const char* layer, unsigned n) = 0;
};
inline trace_sink*& active_trace() {
#if __cplusplus >= 201103L
  static thread_local trace_sink* sink = 0;  // predict() runs samples on several threads
#else
  static trace_sink* sink = 0;  // older vendor C simulation compilers (-std=c++0x)
#endif
  return sink;
}
template <class T> inline void trace_array(const char* layer, const T* data, unsigned n) {
  trace_sink* sink = active_trace();
  if (!sink) return;
  double* out = sink->slot(layer, n);
  if (!out) return;
  for (unsigned i = 0; i < n; i++) out[i] = data[i].to_double();
}
template <class T, unsigned C> inline void trace_stream(const char* layer, hls::stream<array<T, C> >& s, unsigned n) {
  trace_sink* sink = active_trace();
  if (!sink) return;
  double* out = sink->slot(layer, n * C);
  for (unsigned p = 0; p < n; p++) {
    array<T, C> v = s.read();
    if (out)
      for (unsigned c = 0; c < C; c++) out[p * C + c] = v[c].to_double();
    s.write(v);
  }
}
#define NNHLS_TRACE(layer, var, n) nnet::trace_array(layer, var, n)
#define NNHLS_TRACE_STREAM(layer, var, n) nnet::trace_stream(layer, var, n)
#else
#define NNHLS_TRACE(layer, var, n)
#define NNHLS_TRACE_STREAM(layer, var, n)
#endif

}  // namespace nnet

#endif  // NNET_COMMON_H_
