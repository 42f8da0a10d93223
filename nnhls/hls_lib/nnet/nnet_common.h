// nnhls nnet kernel library: common definitions (written for nnhls, header-only).
//
// Every kernel is a function template nnet::<kernel><input_t, result_t, CONFIG_T>(...) whose
// sizes, reuse factor and internal types come from a config struct (see parameters.h of a
// generated project). Kernels compute exactly what the docstring of the matching op in
// nnhls/dialects/hls.py says: cast<T>(v) is a C++ assignment to an ap type; sums and products
// written without a cast are exact. Every loop carries a label, which is how synthesis reports
// and directives name it.
//
// The compute core of the hot kernels (a dense row, a convolution, a pooling window, an
// activation, a softmax row) is the static run() of a class template with a trailing `Enable`
// parameter: a build may supply a specialisation computing the same bits faster. nnhls'
// emulation build does so for its own ap types (nnet_emulation.h, included only by the C bridge
// of HLSModel.compile()); synthesis and C simulation use the templates written here.
//
// Pragmas inside the kernels go through NNHLS_PRAGMA, which reaches the HLS tool (it defines
// __SYNTHESIS__) and stays invisible to g++/clang++, so a user's own C simulation build with
// -Wall has no unknown-pragma warnings from the library. The generated top function spells its
// pragmas as literal `#pragma HLS` lines, where they are read and edited.
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

// Layer tracing in the generated top function: nothing here. nnhls' emulation build defines
// these first (nnet_emulation.h) to record each layer's output for HLSModel.trace().
#ifndef NNHLS_TRACE
#define NNHLS_TRACE(layer, var, n)
#define NNHLS_TRACE_STREAM(layer, var, n)
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

// ----- multiplier-free weights -------------------------------------------------------------------
// Bits holding the integers 0 .. N.
template <unsigned N> struct bits_for { static const int value = 1 + bits_for<N / 2>::value; };
template <> struct bits_for<0> { static const int value = 0; };

// A weight that is 0 or +-2^k with KMIN <= k <= KMAX, stored as a code: bits exp_bits-1..0 hold
// k - KMIN, the next bit the sign (1: negative), the next (only when ZERO) marks a zero weight.
// A dense or convolution kernel whose weight_t is one of these computes each product x * w with
// the operator* below: a shift of x (by a constant for binary and ternary weights), a negation and
// a zero select, no multiplier. The product is exact, as x * w of ap types is, so the kernels'
// casts to accum_t give the same bits as with the weights' fixed-point values.
template <int KMIN, int KMAX, bool ZERO> struct po2_weight {
  static const int exp_bits = bits_for<unsigned(KMAX - KMIN)>::value;
  static const int width = exp_bits + 1 + (ZERO ? 1 : 0);
  ap_uint<width> code;
};
// +-2^K (1 bit: acc += sign ? -x * 2^K : x * 2^K) and 0 / +-2^K (2 bits).
template <int K> using binary_weight = po2_weight<K, K, false>;
template <int K> using ternary_weight = po2_weight<K, K, true>;

// The exact product's type: x's bits with room for x * 2^k for every k in [KMIN, KMAX] and its
// negation (the type of x times a signed fixed-point constant spanning those powers of two).
template <class X, int KMIN, int KMAX> struct po2_product {
  static const int lo = KMIN < 0 ? KMIN : 0, hi = KMAX > 0 ? KMAX : 0;
  typedef decltype(X() * ap_fixed<hi - lo + 2, hi + 2>()) type;
};

template <class X, int KMIN, int KMAX, bool ZERO>
inline typename po2_product<X, KMIN, KMAX>::type operator*(const X& x, const po2_weight<KMIN, KMAX, ZERO>& w) {
  typedef po2_product<X, KMIN, KMAX> P;
  typedef po2_weight<KMIN, KMAX, ZERO> W;
  const unsigned code = w.code.to_uint();
  const unsigned k = code & ((1u << W::exp_bits) - 1);  // k - KMIN
  typename P::type p = x;                               // exact: P holds x
  p = p >> unsigned(-P::lo);                            // x * 2^lo: exact, P has -lo more fraction bits
  p = p << (unsigned(KMIN - P::lo) + k);                // x * 2^(KMIN + k): exact, P has the integer bits
  if ((code >> W::exp_bits) & 1) p = -p;
  if (ZERO && ((code >> (W::exp_bits + 1)) & 1)) p = 0;
  return p;
}

}  // namespace nnet

#endif  // NNET_COMMON_H_
