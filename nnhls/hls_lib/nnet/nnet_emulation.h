// nnhls nnet kernel library: the emulation build only (HLSModel.compile() / predict() / trace()).
//
// Included first by the generated C bridge (<Project>_bridge.cpp), which then includes the
// firmware exactly as it is on disk; never included by the synthesis sources or the test bench.
// It requires nnhls' own ap types (ap_types/, whose values are integer mantissas in the narrowest
// C integer) and provides:
//
//   * specialisations of the kernels' compute cores (nnet_common.h: the `Enable` parameter) that
//     work on the raw mantissas in C integers instead of going through ap-type operators. Each
//     computes the same bits as the template it replaces: a cast is the same quantization and
//     overflow rule (requantize() below, tested against the ap types), a wrapping accumulator is
//     summed modulo 2^32 or 2^64 in vectorisable loops (exact: see dense_mac), and everything the
//     fast forms do not cover (saturating accumulators, types wider than 62 bits, ap_int inputs,
//     the rarer activations) runs the synthesizable template itself;
//   * fast exact conversions between doubles and ap types for the bridge's inputs and outputs;
//   * layer tracing (NNHLS_TRACE in the top function) for HLSModel.trace().
//
// The emulation build compiles with -O3 -march=native; those flags never reach synthesis.
#ifndef NNET_EMULATION_H_
#define NNET_EMULATION_H_

#define NNHLS_TRACE(layer, var, n) nnet::emu::trace_array(layer, var, n)
#define NNHLS_TRACE_STREAM(layer, var, n) nnet::emu::trace_stream(layer, var, n)

#include "nnet_activation.h"
#include "nnet_batchnorm.h"
#include "nnet_common.h"
#include "nnet_conv.h"
#include "nnet_dense.h"
#include "nnet_merge.h"
#include "nnet_pooling.h"
#include "nnet_shape.h"
#include "nnet_stream.h"

#include <cstring>

#ifndef NNHLS_AP_COMMON_H
#error "nnet_emulation.h needs nnhls' own ap types (firmware/ap_types), not the vendor's"
#endif

namespace nnet {
namespace emu {

typedef long long i64;
typedef unsigned long long u64;
typedef unsigned int u32;

// Selects the synthesizable template of a kernel (any Enable other than void).
struct generic {};

template <bool B, class T = void> struct enable_if {};
template <class T> struct enable_if<true, T> { typedef T type; };

// ----- the parameters of an ap type -------------------------------------------------------------------
template <int W_, int I_, bool S_, ap_q_mode Q_, ap_o_mode O_, int N_, bool K_> struct fx_info {
  static const bool ok = true;
  static const int width = W_, frac = W_ - I_, iwidth = I_, sat_bits = N_;
  static const bool sign = S_, integer = K_;
  // conversions into ap_int / ap_uint drop fractional bits towards zero (ap_num's CQ_)
  static const ap_q_mode q = K_ ? AP_TRN_ZERO : Q_;
  static const ap_o_mode o = O_;
  static const i64 min_m = S_ ? -(i64(1) << (W_ - 1)) : 0;
  static const i64 max_m = S_ ? (i64(1) << (W_ - 1)) - 1 : (i64(1) << W_) - 1;
};
struct not_fx {
  static const bool ok = false;
  static const int width = 1024, frac = 0, iwidth = 0, sat_bits = 0;
  static const bool sign = true, integer = false;
  static const ap_q_mode q = AP_TRN;
  static const ap_o_mode o = AP_WRAP;
  static const i64 min_m = 0, max_m = 0;
};
template <int W_, int I_, bool S_, ap_q_mode Q_, ap_o_mode O_, int N_, bool K_>
fx_info<W_, I_, S_, Q_, O_, N_, K_> info_of(const ap_num<W_, I_, S_, Q_, O_, N_, K_>*);
not_fx info_of(const void*);
// A shift-coded weight (po2_weight, nnet_common.h): see mant() below.
template <int KMIN, int KMAX, bool Z>
fx_info<KMAX - KMIN + 2, KMAX + 2, true, AP_TRN, AP_WRAP, 0, false> info_of(const po2_weight<KMIN, KMAX, Z>*);

// fx<T>: the parameters of T; fx<T>::ok when T is one of nnhls' ap types.
template <class T> struct fx : decltype(info_of(static_cast<const T*>(0))) {};

// Types whose mantissas the fast forms handle in a 64-bit integer with room to spare.
template <class T> struct small {
  static const bool value = fx<T>::ok && fx<T>::width <= 62;
};

template <class T> inline i64 mant(const T& v) { return (i64)v.V_; }

// A shift-coded weight (po2_weight, nnet_common.h) reads as its value in the signed type with
// fractional bits -KMIN and room for +-2^KMAX: mantissa +-2^(k - KMIN) or 0. The fast forms
// then multiply the mantissas, which gives the exact product the synthesizable shift computes.
template <int KMIN, int KMAX, bool Z> inline i64 mant(const po2_weight<KMIN, KMAX, Z>& w) {
  typedef po2_weight<KMIN, KMAX, Z> W;
  const unsigned code = w.code.to_uint();
  if (Z && ((code >> (W::exp_bits + 1)) & 1)) return 0;
  const i64 m = i64(1) << (code & ((1u << W::exp_bits) - 1));
  return (code >> W::exp_bits) & 1 ? -m : m;
}

// The value of type T whose mantissa is m (m must lie in T's range).
template <class T> inline T from_mant(i64 m) {
  T r;
  r.V_ = (typename T::word)m;
  return r;
}

constexpr i64 shl(i64 m, int d) { return (i64)((u64)m << d); }

// ----- casts: C++ assignment of the exact value m * 2^-F_FROM (|m| < 2^W_FROM) to type To -----------
// Same rule as apx::convert (ap_common.h): quantize the dropped bits per To's mode, then apply its
// overflow mode to the rounded value.
template <class To, int W_FROM, int F_FROM> struct requant {
  typedef fx<To> T;
  static const int d = T::frac - F_FROM;
  static const int s = d < 0 ? (-d > W_FROM + 1 ? W_FROM + 1 : -d) : 0;  // bits dropped (capped)
  static const int grown = W_FROM + (d > 0 ? d : 0);                     // bits of the aligned value
  static const bool ok = small<To>::value && W_FROM <= 62 && grown <= 62;
  // No overflow is possible: the value's integer bits fit (and a signed value cannot reach To's
  // range edges when To is signed with room).
  static const bool fits = d >= 0 && T::sign && W_FROM + d < T::width && T::o != AP_SAT_SYM;

  static i64 round(i64 m) {
    if (d >= 0) return shl(m, d >= 0 ? d : 0);
    const int sh = s > 0 ? s : 1;
    i64 y = m >> sh;
    const bool qb = (m >> (sh - 1)) & 1;
    const bool r = sh > 1 && (m & ((i64(1) << (sh - 1)) - 1)) != 0;
    if (apx::round_up<T::q>(qb, r, m < 0, y & 1)) y += 1;
    return y;
  }
  static i64 wrap(i64 y) {
    const int k = 64 - T::width;
    return T::sign ? (i64)((u64)y << k) >> k : (i64)(((u64)y << k) >> k);
  }
  static i64 overflow(i64 y) {
    const bool sym_min = T::o == AP_SAT_SYM && T::sign && y == T::min_m;
    if (y >= T::min_m && y <= T::max_m && !sym_min) return y;
    switch (T::o) {
      case AP_SAT_ZERO:
        return 0;
      case AP_SAT:
      case AP_SAT_SYM:
        if (y > T::max_m) return T::max_m;
        if (!T::sign) return 0;
        return T::o == AP_SAT_SYM ? (T::width == 1 ? -1 : -T::max_m) : T::min_m;
      default:
        break;
    }
    return wrap(y);
  }
  static i64 apply(i64 m) {
    const i64 y = round(m);
    if (fits) return y;
    return overflow(y);
  }
};

// cast<To>(v) for a value v of type From, on mantissas (the generic conversion when the fast
// form does not apply, e.g. saturation bits).
template <class To, class From> inline To cast(const From& v) {
  typedef requant<To, fx<From>::width, fx<From>::frac> R;
  if constexpr (R::ok && fx<From>::ok && fx<To>::sat_bits == 0)
    return from_mant<To>(R::apply(mant(v)));
  else
    return To(v);
}

// The mantissa of cast<To>(m * 2^-F), |m| < 2^W; requires requant<To, W, F>::ok and no
// saturation bits (checked by the callers' conditions).
template <class To, int W, int F> inline i64 cast_m(i64 m) { return requant<To, W, F>::apply(m); }

// ----- doubles in and out (the bridge and tracing) --------------------------------------------------
// 2^k as a double, -1022 <= k <= 1023.
inline double pow2(int k) {
  const u64 bits = (u64)(k + 1023) << 52;
  double d;
  __builtin_memcpy(&d, &bits, sizeof d);
  return d;
}

// T v = d; for fixed-point T (ap_int / ap_uint and wide types use the ap type's own conversion).
template <class T> inline T from_double(double d) {
  typedef fx<T> X;
  if constexpr (X::ok && !X::integer && X::width <= 62 && X::sat_bits == 0 && X::frac <= 62 && X::frac >= -62) {
    const double tiny = 1.1754943508222875e-38;  // 2^-126: with |frac| <= 62, y stays a normal double
    const double y = d * pow2(X::frac);            // then exact: a power-of-two scaling
    const bool normal = d == 0.0 || d > tiny || d < -tiny;
    if (normal && y > -4503599627370496.0 && y < 4503599627370496.0) {  // |y| < 2^52: floor, fraction exact
      const double f = __builtin_floor(y);
      const double rest = y - f;
      const bool qb = rest >= 0.5;                     // the first dropped bit
      const bool r = qb ? rest > 0.5 : rest > 0.0;     // any dropped bit below it
      i64 m = (i64)f;
      if (apx::round_up<X::q>(qb, r, y < 0, m & 1)) m += 1;
      return from_mant<T>(requant<T, 62, X::frac>::overflow(m));
    }
  }
  return T(d);
}

// dst[i] = src[i] for n values: a loop the compiler vectorises for the common input types
// (fixed-point, at most 32 bits, F >= 0, AP_TRN or AP_RND, AP_WRAP or AP_SAT), exactly as
// from_double; values it cannot take (|x * 2^F| >= 2^31, NaN) go through from_double.
template <class T> struct fast_in {
  typedef fx<T> X;
  static const bool value = X::ok && !X::integer && X::width <= (X::sign ? 32 : 31) && X::sat_bits == 0 && X::frac >= 0 &&
                            X::frac <= 62 && (X::q == AP_TRN || X::q == AP_RND) && (X::o == AP_WRAP || X::o == AP_SAT);
};
template <class T> inline void from_doubles(T* dst, const double* src, unsigned long n) {
  if constexpr (fast_in<T>::value) {
    typedef fx<T> X;
    const double scale = pow2(X::frac);
    const double round = X::q == AP_RND ? 0.5 : 0.0;  // floor(y + 1/2) is exact for |y| < 2^31
    const int k = 32 - X::width;
    int slow = 0;
    for (unsigned long i = 0; i < n; i++) {
      const double y = src[i] * scale + round;  // exact: power-of-two scaling up, small addend
      const bool ok = y > -2147483648.0 && y < 2147483648.0;
      slow |= !ok;
      int m = (int)__builtin_floor(ok ? y : 0.0);
      if (X::o == AP_SAT)
        m = m < (int)X::min_m ? (int)X::min_m : (m > (int)X::max_m ? (int)X::max_m : m);
      else if (k > 0)
        m = X::sign ? (int)((unsigned)m << (k > 0 ? k : 0)) >> (k > 0 ? k : 0)
                    : (int)(((unsigned)m << (k > 0 ? k : 0)) >> (k > 0 ? k : 0));
      dst[i].V_ = (typename T::word)m;
    }
    if (slow)
      for (unsigned long i = 0; i < n; i++)
        if (!(src[i] * scale + round > -2147483648.0 && src[i] * scale + round < 2147483648.0))
          dst[i] = from_double<T>(src[i]);
  } else {
    for (unsigned long i = 0; i < n; i++) dst[i] = from_double<T>(src[i]);
  }
}

// v.to_double(), exactly rounded (types of up to 62 bits).
template <class T> inline double as_double(const T& v) {
  if constexpr (fx<T>::ok && fx<T>::width <= 62 && fx<T>::frac <= 900 && fx<T>::frac >= -900)
    return (double)mant(v) * pow2(-fx<T>::frac);  // one rounding (to nearest even), exact scaling
  else
    return v.to_double();
}

template <class T> inline void as_doubles(double* dst, const T* src, unsigned long n) {
  for (unsigned long i = 0; i < n; i++) dst[i] = as_double(src[i]);
}

// The weights loader (weights/emulation_weights.cpp): dst = the value m * 2^-F of the original
// constant's type (W bits), converted to dst's type as declared in defines.h (a user's edit of that
// typedef re-quantizes the constant, as the synthesis headers' decimal values would).
template <class T, int W, int F> inline void set_raw(T& dst, i64 m) {
  typedef ap_fixed<W + 1, W + 1 - F> original;  // W + 1: holds signed and unsigned originals
  if constexpr (requant<T, W + 1, F>::ok && fx<T>::sat_bits == 0)
    dst = from_mant<T>(requant<T, W + 1, F>::apply(m));
  else
    dst = T(original::raw(m));
}

// ----- layer tracing: the bridge installs a sink to record each layer ---------------------------------
struct trace_sink {
  virtual ~trace_sink() {}
  virtual double* slot(const char* layer, unsigned n) = 0;
};
inline trace_sink*& active_trace() {
  static thread_local trace_sink* sink = 0;  // predict() runs samples on several threads
  return sink;
}
template <class T> inline void trace_array(const char* layer, const T* data, unsigned n) {
  trace_sink* sink = active_trace();
  if (!sink) return;
  double* out = sink->slot(layer, n);
  if (!out) return;
  for (unsigned i = 0; i < n; i++) out[i] = as_double(data[i]);
}
template <class T, unsigned C> inline void trace_stream(const char* layer, hls::stream<array<T, C> >& s, unsigned n) {
  trace_sink* sink = active_trace();
  if (!sink) return;
  double* out = sink->slot(layer, n * C);
  for (unsigned p = 0; p < n; p++) {
    array<T, C> v = s.read();
    if (out)
      for (unsigned c = 0; c < C; c++) out[p * C + c] = as_double(v[c]);
    s.write(v);
  }
}

// ----- multiply-accumulate into a wrapping accumulator ------------------------------------------------
// The kernels compute acc = cast<accum_t>(acc + cast<accum_t>(x * w)) term by term. When accum_t
// wraps (AP_WRAP, no saturation bits) and each product's cast only drops bits by truncation
// (AP_TRN, or no bits dropped), every step is "keep the low W_A bits", so the result is the low
// W_A bits of bias + sum of the cast products, in any order. The cast of a product p is
// floor(p / 2^s) (s = dropped bits) or p * 2^-d: its low W_A bits depend only on the low
// W_A + s bits of p, which depend only on the low bits of x and w. So the sum runs in unsigned
// lanes of 32 bits when W_A + s <= 32 (else 64 bits when W_A + s <= 64): products modulo 2^32,
// an arithmetic shift for the floor, additions modulo 2^32 - loops the compiler vectorises.
template <class data_T, class CONFIG_T> struct mac {
  typedef typename CONFIG_T::accum_t acc_t;
  typedef typename CONFIG_T::weight_t w_t;
  typedef typename CONFIG_T::bias_t b_t;
  typedef fx<acc_t> A;
  static const int d = A::frac - fx<data_T>::frac - fx<w_t>::frac;  // product -> accumulator shift
  static const int s = d < 0 ? -d : 0;
  static const bool modular = A::ok && A::o == AP_WRAP && A::sat_bits == 0 && (d >= 0 || A::q == AP_TRN);
  static const bool types_ok = small<data_T>::value && small<w_t>::value && small<b_t>::value && small<acc_t>::value;
  static const bool narrow = A::width + s <= 32 && d < 32;
  static const bool ok = modular && types_ok && A::width + s <= 64 && d < 64;
  typedef typename apx::select<narrow, u32, u64>::type lane;
  typedef typename apx::select<narrow, int, i64>::type slane;
  static const int lane_bits = narrow ? 32 : 64;

  static lane term(lane x, lane w) {
    const lane p = x * w;
    return d >= 0 ? (lane)(p << (d >= 0 ? d : 0)) : (lane)((slane)p >> (s < lane_bits ? s : 0));
  }
  // acc[j] += cast(x * w[j]) for j < N, modulo 2^lane_bits.
  template <unsigned N> static void row(lane* __restrict acc, lane x, const w_t* __restrict w) {
    if constexpr (narrow) {
      for (unsigned j = 0; j < N; j++) acc[j] += term(x, (lane)mant(w[j]));
    } else {
      row_wide<N>(acc, x, w);
    }
  }
  // acc[j] += cast(xs[j / DM] * w[j]) for j < N (a depthwise kernel position).
  template <unsigned N, unsigned DM> static void spread(lane* __restrict acc, const lane* xs, const w_t* __restrict w) {
    if constexpr (narrow) {
      for (unsigned j = 0; j < N; j++) acc[j] += term(xs[j / DM], (lane)mant(w[j]));
    } else {
      spread_wide<N, DM>(acc, xs, w);
    }
  }
  // 64-bit lanes: scalar loops. AVX2 has no 64-bit multiply, and GCC 12's vectorised emulation of
  // these loops gave wrong products for operands wider than 32 bits (found by the differential
  // tests), so they are kept out of the vectoriser.
  template <unsigned N>
  __attribute__((noinline, optimize("no-tree-vectorize"))) static void row_wide(lane* acc, lane x, const w_t* w) {
    for (unsigned j = 0; j < N; j++) acc[j] += term(x, (lane)mant(w[j]));
  }
  template <unsigned N, unsigned DM>
  __attribute__((noinline, optimize("no-tree-vectorize"))) static void spread_wide(lane* acc, const lane* xs, const w_t* w) {
    for (unsigned j = 0; j < N; j++) acc[j] += term(xs[j / DM], (lane)mant(w[j]));
  }
  // The accumulator's mantissa from a lane sum (sign-extended low W_A bits).
  static i64 value(lane sum) {
    const int k = 64 - A::width;
    return A::sign ? (i64)((u64)(i64)(slane)sum << k) >> k : (i64)(((u64)(i64)(slane)sum << k) >> k);
  }
  static lane init(const b_t& b) { return (lane)cast_m<acc_t, fx<b_t>::width, fx<b_t>::frac>(mant(b)); }
};

template <class data_T, class res_T, class CONFIG_T> struct mac_ok {
  typedef mac<data_T, CONFIG_T> M;
  typedef typename CONFIG_T::accum_t acc_t;
  static const bool value = M::ok && small<res_T>::value && fx<res_T>::sat_bits == 0 &&
                            requant<acc_t, fx<typename CONFIG_T::bias_t>::width, fx<typename CONFIG_T::bias_t>::frac>::ok &&
                            requant<res_T, fx<acc_t>::width, fx<acc_t>::frac>::ok;
};

}  // namespace emu

// ----- dense ---------------------------------------------------------------------------------------------
template <class data_T, class res_T, typename CONFIG_T>
struct dense_row<data_T, res_T, CONFIG_T, typename emu::enable_if<emu::mac_ok<data_T, res_T, CONFIG_T>::value>::type> {
  typedef emu::mac<data_T, CONFIG_T> M;
  static void run(const data_T* data, res_T* res, const typename CONFIG_T::weight_t* weights,
                  const typename CONFIG_T::bias_t* biases) {
    typename M::lane acc[CONFIG_T::n_out];
    for (unsigned j = 0; j < CONFIG_T::n_out; j++) acc[j] = M::init(biases[j]);
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
      const typename M::lane x = (typename M::lane)emu::mant(data[i]);
      M::template row<CONFIG_T::n_out>(acc, x, weights + i * CONFIG_T::n_out);
    }
    typedef typename CONFIG_T::accum_t acc_t;
    for (unsigned j = 0; j < CONFIG_T::n_out; j++)
      res[j] = emu::from_mant<res_T>(emu::cast_m<res_T, emu::fx<acc_t>::width, emu::fx<acc_t>::frac>(M::value(acc[j])));
  }
};

// ----- convolutions ----------------------------------------------------------------------------------------
namespace emu {
// One output pixel: `pixel(kh, kw)` gives the input pixel under kernel position (kh, kw), or null
// (padding: reads zero, adds nothing). The window is gathered into a patch of lanes first, so
// the products run as one matrix-vector loop, as in dense.
template <class data_T, class res_T, class CONFIG_T, class Pixel>
inline void conv_output(res_T* res, const typename CONFIG_T::weight_t* weights, const typename CONFIG_T::bias_t* biases,
                        const Pixel& pixel) {
  typedef mac<data_T, CONFIG_T> M;
  typedef typename M::lane lane;
  typedef typename CONFIG_T::accum_t acc_t;
  const unsigned C = CONFIG_T::n_chan, K = CONFIG_T::filt_height * CONFIG_T::filt_width * C;
  const unsigned DM = CONFIG_T::depth_multiplier;
  const unsigned n_out = CONFIG_T::depthwise ? C * DM : CONFIG_T::n_filt;
  lane patch[K];
  for (unsigned kh = 0; kh < CONFIG_T::filt_height; kh++)
    for (unsigned kw = 0; kw < CONFIG_T::filt_width; kw++) {
      const data_T* x = pixel(kh, kw);
      lane* dst = patch + (kh * CONFIG_T::filt_width + kw) * C;
      for (unsigned c = 0; c < C; c++) dst[c] = x ? (lane)mant(x[c]) : 0;
    }
  lane acc[n_out];
  for (unsigned f = 0; f < n_out; f++) acc[f] = M::init(biases[f]);
  if constexpr (CONFIG_T::depthwise) {
    // output channel j = c * DM + m reads input channel c with weight (position, c, m)
    for (unsigned p = 0; p < K / C; p++) M::template spread<n_out, DM>(acc, patch + p * C, weights + p * n_out);
  } else {
    for (unsigned k = 0; k < K; k++) M::template row<CONFIG_T::n_filt>(acc, patch[k], weights + k * CONFIG_T::n_filt);
  }
  for (unsigned f = 0; f < n_out; f++)
    res[f] = from_mant<res_T>(cast_m<res_T, fx<acc_t>::width, fx<acc_t>::frac>(M::value(acc[f])));
}

template <class data_T, class CONFIG_T> struct parallel_pixel {
  const data_T* data;
  unsigned oh, ow;
  const data_T* operator()(unsigned kh, unsigned kw) const {
    const int ih = int(oh * CONFIG_T::stride_height + kh * CONFIG_T::dilation_height) - int(CONFIG_T::pad_top);
    const int iw = int(ow * CONFIG_T::stride_width + kw * CONFIG_T::dilation_width) - int(CONFIG_T::pad_left);
    if (ih < 0 || ih >= int(CONFIG_T::in_height) || iw < 0 || iw >= int(CONFIG_T::in_width)) return 0;
    return data + (unsigned(ih) * CONFIG_T::in_width + unsigned(iw)) * CONFIG_T::n_chan;
  }
};

template <class in_t, class CONFIG_T, unsigned SPAN, unsigned ROW> struct line_pixel {
  const in_t (*lines)[ROW];
  unsigned oh, ow;
  const in_t* operator()(unsigned kh, unsigned kw) const {
    return lines[(oh * CONFIG_T::stride_height + kh * CONFIG_T::dilation_height) % SPAN] +
           (ow * CONFIG_T::stride_width + kw * CONFIG_T::dilation_width) * CONFIG_T::n_chan;
  }
};
}  // namespace emu

template <class data_T, class res_T, typename CONFIG_T>
struct conv_pixel<data_T, res_T, CONFIG_T, typename emu::enable_if<emu::mac_ok<data_T, res_T, CONFIG_T>::value>::type> {
  static void run(const data_T* data, res_T* res, unsigned oh, unsigned ow,
                  const typename CONFIG_T::weight_t* weights, const typename CONFIG_T::bias_t* biases) {
    const emu::parallel_pixel<data_T, CONFIG_T> pixel = {data, oh, ow};
    emu::conv_output<data_T, res_T, CONFIG_T>(res, weights, biases, pixel);
  }
};

template <class in_t, class out_t, typename CONFIG_T>
struct conv_line_pixel<in_t, out_t, CONFIG_T, typename emu::enable_if<emu::mac_ok<in_t, out_t, CONFIG_T>::value>::type> {
  static const unsigned span = (CONFIG_T::filt_height - 1) * CONFIG_T::dilation_height + 1;
  static const unsigned row = CONFIG_T::in_width * CONFIG_T::n_chan;
  static void run(const in_t lines[span][row], unsigned oh, unsigned ow, out_t* y,
                  const typename CONFIG_T::weight_t* weights, const typename CONFIG_T::bias_t* biases) {
    const emu::line_pixel<in_t, CONFIG_T, span, row> pixel = {lines, oh, ow};
    emu::conv_output<in_t, out_t, CONFIG_T>(y, weights, biases, pixel);
  }
};

namespace emu {
// A layer's weights as lanes, converted once (a function-local static: built on the layer's first
// call, thread-safe; the weights are loaded with the library, before any call).
template <class W, class lane, unsigned N> struct weight_lanes {
  const W* source;
  lane v[N];
  explicit weight_lanes(const W* w) : source(w) {
    for (unsigned i = 0; i < N; i++) v[i] = (lane)mant(w[i]);
  }
};
}  // namespace emu

// A whole (non-depthwise) layer whose products are truncated into 32-bit lanes (mac::narrow, d < 0):
// the input image and the biases become lanes once per call and the weights once per library (not
// once per output pixel), and the filters of a kernel position and input channel are updated 8 at
// a time with explicit vectors (GCC's vectoriser turned the generic loops into shuffles and scalar
// inserts): multiply modulo 2^32, arithmetic shift by s (the floor), add modulo 2^32 - mac's rule.
template <class data_T, class res_T, typename CONFIG_T>
struct conv_layer<data_T, res_T, CONFIG_T,
                  typename emu::enable_if<emu::mac_ok<data_T, res_T, CONFIG_T>::value && !CONFIG_T::depthwise &&
                                          emu::mac<data_T, CONFIG_T>::narrow && emu::mac<data_T, CONFIG_T>::d < 0>::type> {
  typedef emu::mac<data_T, CONFIG_T> M;
  typedef typename M::lane lane;
  typedef typename CONFIG_T::accum_t acc_t;
  static const unsigned C = CONFIG_T::n_chan, F = CONFIG_T::n_filt;
  static const unsigned n_x = CONFIG_T::in_height * CONFIG_T::in_width * C;
  static const unsigned n_w = CONFIG_T::filt_height * CONFIG_T::filt_width * C * F;
  static void compute(const data_T* data, res_T* res, const typename CONFIG_T::weight_t* weights,
                      const typename CONFIG_T::bias_t* biases) {
    static const emu::weight_lanes<typename CONFIG_T::weight_t, lane, n_w> lanes(weights);
    if (lanes.source != weights) {  // another weight array than on the first call: the generic form
      conv_pixels<data_T, res_T, CONFIG_T>(data, res, weights, biases);
      return;
    }
    const lane* ws = lanes.v;
    lane xs[n_x];
    for (unsigned i = 0; i < n_x; i++) xs[i] = (lane)emu::mant(data[i]);
    lane init[F];
    for (unsigned f = 0; f < F; f++) init[f] = M::init(biases[f]);
    typedef emu::u32 vec __attribute__((vector_size(32)));
    typedef int svec __attribute__((vector_size(32)));
    const unsigned NV = F / 8, NT = F % 8;  // full vectors, then single lanes
    for (unsigned oh = 0; oh < CONFIG_T::out_height; oh++)
      for (unsigned ow = 0; ow < CONFIG_T::out_width; ow++) {
        vec acc[NV > 0 ? NV : 1];
        lane tail[NT > 0 ? NT : 1];
        std::memcpy(acc, init, NV * sizeof(vec));
        for (unsigned f = 0; f < NT; f++) tail[f] = init[NV * 8 + f];
        for (unsigned kh = 0; kh < CONFIG_T::filt_height; kh++) {
          const int ih = int(oh * CONFIG_T::stride_height + kh * CONFIG_T::dilation_height) - int(CONFIG_T::pad_top);
          if (ih < 0 || ih >= int(CONFIG_T::in_height)) continue;
          for (unsigned kw = 0; kw < CONFIG_T::filt_width; kw++) {
            const int iw = int(ow * CONFIG_T::stride_width + kw * CONFIG_T::dilation_width) - int(CONFIG_T::pad_left);
            if (iw < 0 || iw >= int(CONFIG_T::in_width)) continue;
            const lane* x = &xs[(unsigned(ih) * CONFIG_T::in_width + unsigned(iw)) * C];
            const lane* w = &ws[(kh * CONFIG_T::filt_width + kw) * C * F];
            for (unsigned c = 0; c < C; c++) {
              const lane xc = x[c];
              const lane* wc = w + c * F;
              for (unsigned v = 0; v < NV; v++) {
                vec wv;
                std::memcpy(&wv, wc + v * 8, sizeof(vec));
                acc[v] += (vec)((svec)(wv * xc) >> M::s);
              }
              for (unsigned f = 0; f < NT; f++) tail[f] += M::term(xc, wc[NV * 8 + f]);
            }
          }
        }
        lane sums[F];
        std::memcpy(sums, acc, NV * sizeof(vec));
        for (unsigned f = 0; f < NT; f++) sums[NV * 8 + f] = tail[f];
        res_T* out = res + (oh * CONFIG_T::out_width + ow) * F;
        for (unsigned f = 0; f < F; f++)
          out[f] = emu::from_mant<res_T>(emu::cast_m<res_T, emu::fx<acc_t>::width, emu::fx<acc_t>::frac>(M::value(sums[f])));
      }
  }
};

// ----- pooling -------------------------------------------------------------------------------------------------
namespace emu {
template <class data_T, class res_T, class CONFIG_T> struct pool_ok {
  typedef typename CONFIG_T::accum_t acc_t;
  typedef fx<pool_reciprocal_t> R;
  static const int w_sum = fx<data_T>::width + 1 > fx<acc_t>::width + 1 ? fx<data_T>::width + 1 : fx<acc_t>::width + 1;
  static const int f_sum = fx<data_T>::frac > fx<acc_t>::frac ? fx<data_T>::frac : fx<acc_t>::frac;
  static const bool value =
      small<data_T>::value && small<res_T>::value && small<acc_t>::value && fx<res_T>::sat_bits == 0 &&
      fx<acc_t>::sat_bits == 0 && w_sum + (f_sum - fx<data_T>::frac) + (f_sum - fx<acc_t>::frac) <= 60 &&
      requant<res_T, fx<data_T>::width, fx<data_T>::frac>::ok &&
      requant<acc_t, w_sum + 2 + (f_sum - fx<data_T>::frac) + (f_sum - fx<acc_t>::frac), f_sum>::ok &&
      fx<acc_t>::width + R::width <= 62 && requant<res_T, fx<acc_t>::width + R::width, fx<acc_t>::frac + R::frac>::ok;
  static const int w_aligned = w_sum + 2 + (f_sum - fx<data_T>::frac) + (f_sum - fx<acc_t>::frac);
};

// max / average over the window positions `at(k)` (k < n, mantissas of data_T), as pool_pixel.
template <class data_T, class res_T, class CONFIG_T> struct pool_calc {
  typedef pool_ok<data_T, res_T, CONFIG_T> P;
  typedef typename CONFIG_T::accum_t acc_t;
  i64 best, acc;
  unsigned n;
  pool_calc() : best(0), acc(0), n(0) {}
  void add(i64 x) {
    if (n == 0 || best < x) best = x;
    // acc = cast<accum_t>(acc + x): the exact sum on the finer binary point, then the cast
    const i64 sum = shl(acc, P::f_sum - fx<acc_t>::frac) + shl(x, P::f_sum - fx<data_T>::frac);
    acc = cast_m<acc_t, P::w_aligned, P::f_sum>(sum);
    n++;
  }
  i64 result() const {
    if (CONFIG_T::pool_op == pool_max) return cast_m<res_T, fx<data_T>::width, fx<data_T>::frac>(best);
    const unsigned count = CONFIG_T::count_pad ? CONFIG_T::pool_height * CONFIG_T::pool_width : n;
    const pool_reciprocal_t r = 1.0 / double(count);
    return cast_m<res_T, fx<acc_t>::width + fx<pool_reciprocal_t>::width, fx<acc_t>::frac + fx<pool_reciprocal_t>::frac>(
        acc * mant(r));
  }
};
}  // namespace emu

template <class data_T, class res_T, typename CONFIG_T>
struct pool_pixel<data_T, res_T, CONFIG_T, typename emu::enable_if<emu::pool_ok<data_T, res_T, CONFIG_T>::value>::type> {
  static void run(const data_T* data, res_T* res, unsigned oh, unsigned ow) {
    emu::pool_calc<data_T, res_T, CONFIG_T> calc[CONFIG_T::n_chan];
    for (unsigned kh = 0; kh < CONFIG_T::pool_height; kh++) {
      const int ih = int(oh * CONFIG_T::stride_height + kh) - int(CONFIG_T::pad_top);
      if (ih < 0 || ih >= int(CONFIG_T::in_height)) continue;
      for (unsigned kw = 0; kw < CONFIG_T::pool_width; kw++) {
        const int iw = int(ow * CONFIG_T::stride_width + kw) - int(CONFIG_T::pad_left);
        if (iw < 0 || iw >= int(CONFIG_T::in_width)) continue;
        const data_T* x = data + (unsigned(ih) * CONFIG_T::in_width + unsigned(iw)) * CONFIG_T::n_chan;
        for (unsigned c = 0; c < CONFIG_T::n_chan; c++) calc[c].add(emu::mant(x[c]));
      }
    }
    for (unsigned c = 0; c < CONFIG_T::n_chan; c++) res[c] = emu::from_mant<res_T>(calc[c].result());
  }
};

template <class data_T, class res_T, typename CONFIG_T>
struct pool_window<data_T, res_T, CONFIG_T, typename emu::enable_if<emu::pool_ok<data_T, res_T, CONFIG_T>::value>::type> {
  static void run(const data_T* window, res_T* res, unsigned ow, unsigned valid_from, unsigned valid_to) {
    emu::pool_calc<data_T, res_T, CONFIG_T> calc[CONFIG_T::n_chan];
    for (unsigned kh = valid_from; kh <= valid_to; kh++) {
      for (unsigned kw = 0; kw < CONFIG_T::pool_width; kw++) {
        const int iw = int(ow * CONFIG_T::stride_width + kw) - int(CONFIG_T::pad_left);
        if (iw < 0 || iw >= int(CONFIG_T::in_width)) continue;
        const data_T* x = window + (kh * CONFIG_T::in_width + unsigned(iw)) * CONFIG_T::n_chan;
        for (unsigned c = 0; c < CONFIG_T::n_chan; c++) calc[c].add(emu::mant(x[c]));
      }
    }
    for (unsigned c = 0; c < CONFIG_T::n_chan; c++) res[c] = emu::from_mant<res_T>(calc[c].result());
  }
};

// ----- activations -------------------------------------------------------------------------------------------
namespace emu {
// Table index floor(x * 2^K) - OFFSET on the mantissa, as table_index_above.
template <int K, i64 OFFSET, unsigned N, int W, int F> struct table_at {
  static const bool ok = W + (K - F > 0 ? K - F : 0) <= 60 && (F - K < 62) && OFFSET > -(i64(1) << 60) &&
                         OFFSET < (i64(1) << 60);
  static unsigned index(i64 m, bool& above) {
    const i64 scaled = K >= F ? shl(m, K >= F ? K - F : 0) : m >> (F > K ? F - K : 0);
    const i64 i = scaled - OFFSET;
    above = i >= (i64)N;
    if (i < 0) return 0;
    if (above) return N - 1;
    return (unsigned)i;
  }
};

template <class data_T, class res_T, class CONFIG_T> struct activation_ok {
  typedef fx<data_T> X;
  typedef table_at<CONFIG_T::table_scale_log2, CONFIG_T::table_offset, CONFIG_T::table_size, X::width, X::frac> T;
  static const unsigned kind = CONFIG_T::kind;
  static const bool exact_kind = kind == act_linear || kind == act_relu;
  static const bool table_kind = kind == act_sigmoid || kind == act_tanh || kind == act_softsign;
  static const bool value = small<data_T>::value && small<res_T>::value && fx<res_T>::sat_bits == 0 &&
                            requant<res_T, X::width, X::frac>::ok &&
                            (exact_kind || (table_kind && T::ok && small<typename CONFIG_T::table_t>::value &&
                                            requant<res_T, fx<typename CONFIG_T::table_t>::width,
                                                    fx<typename CONFIG_T::table_t>::frac>::ok));
};
}  // namespace emu

template <class data_T, class res_T, typename CONFIG_T>
struct activation_element<data_T, res_T, CONFIG_T,
                          typename emu::enable_if<emu::activation_ok<data_T, res_T, CONFIG_T>::value>::type> {
  typedef emu::fx<data_T> X;
  static res_T run(const data_T& x, unsigned, const typename CONFIG_T::table_t* table,
                   const typename CONFIG_T::param_t*) {
    const emu::i64 m = emu::mant(x);
    if (CONFIG_T::kind == act_linear) return emu::from_mant<res_T>(emu::cast_m<res_T, X::width, X::frac>(m));
    if (CONFIG_T::kind == act_relu) return emu::from_mant<res_T>(m > 0 ? emu::cast_m<res_T, X::width, X::frac>(m) : 0);
    typedef typename CONFIG_T::table_t table_t;
    bool above;
    const unsigned i = emu::activation_ok<data_T, res_T, CONFIG_T>::T::index(m, above);
    return emu::from_mant<res_T>(emu::cast_m<res_T, emu::fx<table_t>::width, emu::fx<table_t>::frac>(emu::mant(table[i])));
  }
};

// ----- softmax ---------------------------------------------------------------------------------------------------
namespace emu {
template <class data_T, class res_T, class CONFIG_T> struct softmax_ok {
  typedef typename CONFIG_T::exp_table_t e_t;
  typedef typename CONFIG_T::inv_table_t i_t;
  typedef typename CONFIG_T::accum_t acc_t;
  typedef fx<data_T> X;
  static const int f_sum = fx<e_t>::frac > fx<acc_t>::frac ? fx<e_t>::frac : fx<acc_t>::frac;
  static const int w_sum = (fx<e_t>::width > fx<acc_t>::width ? fx<e_t>::width : fx<acc_t>::width) + 2 +
                           (f_sum - fx<e_t>::frac) + (f_sum - fx<acc_t>::frac);
  typedef table_at<CONFIG_T::exp_scale_log2, 0, CONFIG_T::exp_table_size, X::width + 1, X::frac> stable_index;
  typedef table_at<CONFIG_T::exp_scale_log2, -(long long)(CONFIG_T::exp_table_size / 2), CONFIG_T::exp_table_size,
                   X::width, X::frac> latency_index;
  typedef table_at<CONFIG_T::inv_scale_log2, 0, CONFIG_T::inv_table_size, fx<acc_t>::width, fx<acc_t>::frac> inv_index;
  static const bool value =
      CONFIG_T::implementation != softmax_argmax && small<data_T>::value && small<res_T>::value &&
      small<e_t>::value && small<i_t>::value && small<acc_t>::value && fx<res_T>::sat_bits == 0 &&
      fx<acc_t>::sat_bits == 0 && X::width + 1 <= 62 && w_sum <= 62 && stable_index::ok && latency_index::ok &&
      inv_index::ok && requant<acc_t, w_sum, f_sum>::ok && fx<e_t>::width + fx<i_t>::width <= 62 &&
      requant<res_T, fx<e_t>::width + fx<i_t>::width, fx<e_t>::frac + fx<i_t>::frac>::ok;
};
}  // namespace emu

template <class data_T, class res_T, typename CONFIG_T>
struct softmax_row<data_T, res_T, CONFIG_T, typename emu::enable_if<emu::softmax_ok<data_T, res_T, CONFIG_T>::value>::type> {
  typedef emu::softmax_ok<data_T, res_T, CONFIG_T> P;
  typedef typename CONFIG_T::exp_table_t e_t;
  typedef typename CONFIG_T::inv_table_t i_t;
  typedef typename CONFIG_T::accum_t acc_t;
  static void run(const data_T x[CONFIG_T::n_in], res_T y[CONFIG_T::n_in],
                  const typename CONFIG_T::exp_table_t exp_table[CONFIG_T::exp_table_size],
                  const typename CONFIG_T::inv_table_t inv_table[CONFIG_T::inv_table_size]) {
    emu::i64 e[CONFIG_T::n_in];
    bool above;
    if (CONFIG_T::implementation == softmax_stable) {
      emu::i64 top = emu::mant(x[0]);
      for (unsigned k = 1; k < CONFIG_T::n_in; k++)
        if (top < emu::mant(x[k])) top = emu::mant(x[k]);
      for (unsigned k = 0; k < CONFIG_T::n_in; k++)
        e[k] = emu::mant(exp_table[P::stable_index::index(top - emu::mant(x[k]), above)]);
    } else {
      for (unsigned k = 0; k < CONFIG_T::n_in; k++) e[k] = emu::mant(exp_table[P::latency_index::index(emu::mant(x[k]), above)]);
    }
    emu::i64 s = 0;  // accum_t mantissa; s = cast<accum_t>(s + e[k])
    for (unsigned k = 0; k < CONFIG_T::n_in; k++)
      s = emu::cast_m<acc_t, P::w_sum, P::f_sum>(emu::shl(s, P::f_sum - emu::fx<acc_t>::frac) +
                                                emu::shl(e[k], P::f_sum - emu::fx<e_t>::frac));
    const emu::i64 inv = emu::mant(inv_table[P::inv_index::index(s, above)]);
    for (unsigned k = 0; k < CONFIG_T::n_in; k++)
      y[k] = emu::from_mant<res_T>(
          emu::cast_m<res_T, emu::fx<e_t>::width + emu::fx<i_t>::width, emu::fx<e_t>::frac + emu::fx<i_t>::frac>(e[k] * inv));
  }
};

}  // namespace nnet

#endif  // NNET_EMULATION_H_
