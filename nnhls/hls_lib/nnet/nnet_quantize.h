// nnhls nnet kernel library: quantizers that are not one fixed-point type.
//
// quantize (hls.quantize): uniform grids per tensor, channel or element (HGQ's heterogeneous
// quantizers, QONNX per-channel Quant, narrow unsigned ranges). Element i uses parameter set
// k = i % n_param (n_param = 1: per tensor; n_chan: per channel; n_in: per element):
//   n = round<rounding>(x[i] * 2^frac[k])                 exact shift, then to an integer
//   n = SAT:  min(max(n, lo[k]), hi[k])
//       WRAP: lo[k] + ((n - lo[k]) & (hi[k] - lo[k]))     (hi - lo + 1 is a power of two)
//   y[i] = cast<result>(n * 2^-frac[k])                   (the result type holds every grid)
// The shifts and the rounding are assignments between ap types (shift_t, code_t, value_t in the
// config struct are wide enough for every value: nothing is lost before the final cast).
// rounding is an ap quantization mode, or quantize_ceil (towards plus infinity).
//
// threshold (hls.threshold): a monotone step function per group (binary, ternary and
// power-of-two activations, a batchnorm folded into them); group g = i % n_group (n_group = n_chan:
// per channel; n_in: per element):
//   n = #{ k < n_thresholds : x[i] >= thresholds[g * n_thresholds + k] }
//   y[i] = levels[g * (n_thresholds + 1) + n]
// The thresholds are values of the input type and the levels of the result type: comparisons
// and a selection, no arithmetic.
//
// (Weights that are 0 or +-2^k, whose products are shifts: po2_weight in nnet_common.h.)
#ifndef NNET_QUANTIZE_H_
#define NNET_QUANTIZE_H_

#include "nnet_common.h"

namespace nnet {

static const int quantize_ceil = -1;

struct quantize_config {
  static const unsigned n_in = 1;
  static const unsigned n_chan = 1;
  static const unsigned n_param = 1;
  static const unsigned io_type = io_parallel;
  static const unsigned reuse_factor = 1;
  static const int rounding = AP_RND_CONV;
  static const bool saturate = true;
  static const unsigned code_bits = 32;
  typedef ap_fixed<32, 16> shift_t;  // x * 2^frac for every frac, exactly
  typedef ap_int<32> code_t;         // the integers n, before and after the range
  typedef ap_fixed<32, 16> value_t;  // n * 2^-frac, exactly
  typedef ap_int<8> frac_t;
};

template <class shift_T, class code_T, int B, int Q> struct round_to_code {
  static code_T apply(const shift_T& v) {
    const ap_fixed<B, B, (ap_q_mode)Q, AP_WRAP> n = v;
    return code_T(n);
  }
};
template <class shift_T, class code_T, int B> struct round_to_code<shift_T, code_T, B, quantize_ceil> {
  static code_T apply(const shift_T& v) {  // ceil(v) = -floor(-v)
    const ap_fixed<B, B, AP_TRN, AP_WRAP> n = -v;
    return code_T(-n);
  }
};

// One element on the grid of parameter set k.
template <class data_T, class res_T, typename CONFIG_T>
inline res_T quantize_element(const data_T& x, int frac, const typename CONFIG_T::code_t& lo,
                              const typename CONFIG_T::code_t& hi) {
  typedef typename CONFIG_T::code_t code_t;
  typename CONFIG_T::shift_t s = x;
  if (frac >= 0)
    s <<= frac;
  else
    s >>= -frac;
  code_t n = round_to_code<typename CONFIG_T::shift_t, code_t, CONFIG_T::code_bits, CONFIG_T::rounding>::apply(s);
  if (CONFIG_T::saturate) {
    if (n < lo) n = lo;
    if (n > hi) n = hi;
  } else {
    const code_t mask = hi - lo;
    const code_t offset = n - lo;
    n = lo + code_t(offset & mask);
  }
  typename CONFIG_T::value_t v = n;
  if (frac >= 0)
    v >>= frac;
  else
    v <<= -frac;
  return res_T(v);
}

template <class data_T, class res_T, typename CONFIG_T>
void quantize(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in],
              const typename CONFIG_T::frac_t frac[CONFIG_T::n_param],
              const typename CONFIG_T::code_t lo[CONFIG_T::n_param],
              const typename CONFIG_T::code_t hi[CONFIG_T::n_param]) {
  NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
  for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
    NNHLS_PRAGMA(HLS UNROLL)
    const unsigned k = i % CONFIG_T::n_param;
    res[i] = quantize_element<data_T, res_T, CONFIG_T>(data[i], frac[k].to_int(), lo[k], hi[k]);
  }
}

template <class data_T, class res_T, typename CONFIG_T>
void quantize(hls::stream<data_T>& data, hls::stream<res_T>& res,
              const typename CONFIG_T::frac_t frac[CONFIG_T::n_param],
              const typename CONFIG_T::code_t lo[CONFIG_T::n_param],
              const typename CONFIG_T::code_t hi[CONFIG_T::n_param]) {
  for (unsigned p = 0; p < CONFIG_T::n_in / CONFIG_T::n_chan; p++) {
    NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
    const data_T in = data.read();
    res_T out;
    for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
      NNHLS_PRAGMA(HLS UNROLL)
      const unsigned k = (p * CONFIG_T::n_chan + c) % CONFIG_T::n_param;
      out[c] = quantize_element<typename data_T::value_type, typename res_T::value_type, CONFIG_T>(
          in[c], frac[k].to_int(), lo[k], hi[k]);
    }
    res.write(out);
  }
}

// ----- threshold: a monotone step function per channel ---------------------------------------------
struct threshold_config {
  static const unsigned n_in = 1;
  static const unsigned n_chan = 1;
  static const unsigned n_group = 1;
  static const unsigned n_thresholds = 1;
  static const unsigned io_type = io_parallel;
  static const unsigned reuse_factor = 1;
  typedef ap_fixed<16, 6> threshold_t;
  typedef ap_fixed<16, 6> level_t;
};

template <class data_T, class res_T, typename CONFIG_T>
inline res_T threshold_element(const data_T& x, unsigned g, const typename CONFIG_T::threshold_t* thresholds,
                               const typename CONFIG_T::level_t* levels) {
  unsigned n = 0;
  for (unsigned k = 0; k < CONFIG_T::n_thresholds; k++) {
    NNHLS_PRAGMA(HLS UNROLL)
    if (x >= thresholds[g * CONFIG_T::n_thresholds + k]) n++;
  }
  return res_T(levels[g * (CONFIG_T::n_thresholds + 1) + n]);
}

template <class data_T, class res_T, typename CONFIG_T>
void threshold(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in],
               const typename CONFIG_T::threshold_t thresholds[CONFIG_T::n_group * CONFIG_T::n_thresholds],
               const typename CONFIG_T::level_t levels[CONFIG_T::n_group * (CONFIG_T::n_thresholds + 1)]) {
  NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
  for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
    NNHLS_PRAGMA(HLS UNROLL)
    res[i] = threshold_element<data_T, res_T, CONFIG_T>(data[i], i % CONFIG_T::n_group, thresholds, levels);
  }
}

template <class data_T, class res_T, typename CONFIG_T>
void threshold(hls::stream<data_T>& data, hls::stream<res_T>& res,
               const typename CONFIG_T::threshold_t thresholds[CONFIG_T::n_group * CONFIG_T::n_thresholds],
               const typename CONFIG_T::level_t levels[CONFIG_T::n_group * (CONFIG_T::n_thresholds + 1)]) {
  for (unsigned p = 0; p < CONFIG_T::n_in / CONFIG_T::n_chan; p++) {
    NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
    const data_T in = data.read();
    res_T out;
    for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
      NNHLS_PRAGMA(HLS UNROLL)
      out[c] = threshold_element<typename data_T::value_type, typename res_T::value_type, CONFIG_T>(
          in[c], (p * CONFIG_T::n_chan + c) % CONFIG_T::n_group, thresholds, levels);
    }
    res.write(out);
  }
}

}  // namespace nnet

#endif  // NNET_QUANTIZE_H_
