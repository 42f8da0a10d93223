// nnhls nnet kernel library: element-wise merges, concatenation and dot product (hls.merge,
// hls.concat, hls.dot), io_parallel.
//
// Merges: y = cast<result>(a + b | a - b | a * b | (a + b) * 0.5 | max(a, b) | min(a, b)), exact
// inside. Concatenation of two row-major tensors along an axis: the tensors are seen as
// (n_outer, n_lhs_inner) and (n_outer, n_rhs_inner) blocks. Dot: acc = 0 in accum_t,
// acc = cast<accum_t>(acc + cast<accum_t>(a[i] * b[i])) in order, y[0] = cast<result>(acc).
#ifndef NNET_MERGE_H_
#define NNET_MERGE_H_

#include "nnet_common.h"

// Loop labels name the loops in synthesis reports and directives; g++ -Wall calls them unused.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-label"

namespace nnet {

struct merge_config {
  static const unsigned n_elem = 1;
  static const unsigned n_chan = 1;
  static const unsigned io_type = io_parallel;
  static const unsigned reuse_factor = 1;
};

template <class a_T, class b_T, class res_T, typename CONFIG_T>
void add(const a_T a[CONFIG_T::n_elem], const b_T b[CONFIG_T::n_elem], res_T res[CONFIG_T::n_elem]) {
  NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
MergeAdd:
  for (unsigned i = 0; i < CONFIG_T::n_elem; i++) res[i] = a[i] + b[i];
}
template <class a_T, class b_T, class res_T, typename CONFIG_T>
void subtract(const a_T a[CONFIG_T::n_elem], const b_T b[CONFIG_T::n_elem], res_T res[CONFIG_T::n_elem]) {
  NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
MergeSubtract:
  for (unsigned i = 0; i < CONFIG_T::n_elem; i++) res[i] = a[i] - b[i];
}
template <class a_T, class b_T, class res_T, typename CONFIG_T>
void multiply(const a_T a[CONFIG_T::n_elem], const b_T b[CONFIG_T::n_elem], res_T res[CONFIG_T::n_elem]) {
  NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
MergeMultiply:
  for (unsigned i = 0; i < CONFIG_T::n_elem; i++) res[i] = a[i] * b[i];
}
template <class a_T, class b_T, class res_T, typename CONFIG_T>
void average(const a_T a[CONFIG_T::n_elem], const b_T b[CONFIG_T::n_elem], res_T res[CONFIG_T::n_elem]) {
  NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
  const ap_ufixed<1, 0> half = 0.5;
MergeAverage:
  for (unsigned i = 0; i < CONFIG_T::n_elem; i++) res[i] = (a[i] + b[i]) * half;
}
template <class a_T, class b_T, class res_T, typename CONFIG_T>
void maximum(const a_T a[CONFIG_T::n_elem], const b_T b[CONFIG_T::n_elem], res_T res[CONFIG_T::n_elem]) {
  NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
MergeMaximum:
  for (unsigned i = 0; i < CONFIG_T::n_elem; i++) res[i] = a[i] < b[i] ? res_T(b[i]) : res_T(a[i]);
}
template <class a_T, class b_T, class res_T, typename CONFIG_T>
void minimum(const a_T a[CONFIG_T::n_elem], const b_T b[CONFIG_T::n_elem], res_T res[CONFIG_T::n_elem]) {
  NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
MergeMinimum:
  for (unsigned i = 0; i < CONFIG_T::n_elem; i++) res[i] = b[i] < a[i] ? res_T(b[i]) : res_T(a[i]);
}

struct concat_config {
  static const unsigned n_outer = 1;
  static const unsigned n_lhs_inner = 1;
  static const unsigned n_rhs_inner = 1;
  static const unsigned n_chan = 1;  // io_stream along a spatial axis: channels per pixel
  static const unsigned io_type = io_parallel;
  static const unsigned reuse_factor = 1;
};

template <class a_T, class b_T, class res_T, typename CONFIG_T>
void concatenate(const a_T a[CONFIG_T::n_outer * CONFIG_T::n_lhs_inner],
                 const b_T b[CONFIG_T::n_outer * CONFIG_T::n_rhs_inner],
                 res_T res[CONFIG_T::n_outer * (CONFIG_T::n_lhs_inner + CONFIG_T::n_rhs_inner)]) {
  NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
  const unsigned row = CONFIG_T::n_lhs_inner + CONFIG_T::n_rhs_inner;
ConcatOuter:
  for (unsigned o = 0; o < CONFIG_T::n_outer; o++) {
  ConcatLeft:
    for (unsigned i = 0; i < CONFIG_T::n_lhs_inner; i++) res[o * row + i] = a[o * CONFIG_T::n_lhs_inner + i];
  ConcatRight:
    for (unsigned i = 0; i < CONFIG_T::n_rhs_inner; i++)
      res[o * row + CONFIG_T::n_lhs_inner + i] = b[o * CONFIG_T::n_rhs_inner + i];
  }
}

struct dot_config {
  static const unsigned n_in = 1;
  static const unsigned n_out = 1;
  static const unsigned io_type = io_parallel;
  static const unsigned reuse_factor = 1;
  static const unsigned multiplier_limit = 1;
  typedef ap_fixed<16, 6> accum_t;
};

template <class a_T, class b_T, class res_T, typename CONFIG_T>
void dot1d_array(const a_T a[CONFIG_T::n_in], const b_T b[CONFIG_T::n_in], res_T res[1]) {
  NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
  NNHLS_PRAGMA(HLS ALLOCATION operation instances=mul limit=CONFIG_T::multiplier_limit)
  typename CONFIG_T::accum_t acc = 0;
DotProduct:
  for (unsigned i = 0; i < CONFIG_T::n_in; i++) acc = acc + typename CONFIG_T::accum_t(a[i] * b[i]);
  res[0] = acc;
}

template <class a_T, class b_T, class res_T, typename CONFIG_T>
void dot1d(const a_T a[CONFIG_T::n_in], const b_T b[CONFIG_T::n_in], res_T res[1]) {
  dot1d_array<a_T, b_T, res_T, CONFIG_T>(a, b, res);
}

}  // namespace nnet

#pragma GCC diagnostic pop

#endif  // NNET_MERGE_H_
