// nnhls nnet kernel library: element-wise activations and softmax (hls.activation, hls.softmax).
//
// Exact kinds compute y = cast<result>(v) with v exact (see hls.ActivationOp). Table kinds read
// CONFIG_T::table, n_table entries over [table_min, table_max): the index is
// floor((x - table_min) * n_table / (table_max - table_min)) clamped to the table, computed
// exactly by nnet::table_index with table_scale_log2 = log2(n_table / span) and
// table_offset = table_min * 2^table_scale_log2 (an integer).
#ifndef NNET_ACTIVATION_H_
#define NNET_ACTIVATION_H_

#include "nnet_common.h"

// Loop labels name the loops in synthesis reports and directives; g++ -Wall calls them unused.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-label"

namespace nnet {

enum activation_kind {
  act_linear, act_relu, act_relu6, act_leaky_relu, act_thresholded_relu, act_prelu, act_clip,
  act_hard_tanh, act_hard_sigmoid, act_sigmoid, act_tanh, act_softplus, act_softsign, act_elu,
  act_selu, act_swish, act_gelu
};

struct activ_config {
  static const unsigned n_in = 1;
  static const unsigned n_chan = 1;  // channels (last axis) for per-channel parameters
  static const unsigned io_type = io_parallel;
  static const unsigned reuse_factor = 1;
  static const unsigned kind = act_linear;
  static const unsigned table_size = 1024;
  static const int table_scale_log2 = 6;
  static const long long table_offset = -512;
  static constexpr double alpha = 0.0;
  static constexpr double beta = 0.0;
  static const bool clip_min = true;  // act_clip: whether alpha (the minimum) applies
  static const bool clip_max = true;  // act_clip: whether beta (the maximum) applies
  typedef ap_fixed<18, 8> table_t;
  typedef ap_fixed<18, 8> param_t;
};

// One element (channel c) of an activation. `Enable`: see nnet_common.h.
template <class data_T, class res_T, typename CONFIG_T, class Enable = void> struct activation_element {
  static res_T run(const data_T& x, unsigned c, const typename CONFIG_T::table_t* table,
                   const typename CONFIG_T::param_t* param) {
    typedef typename CONFIG_T::param_t param_t;
    switch (CONFIG_T::kind) {
      case act_relu:
        return x > 0 ? res_T(x) : res_T(0);
      case act_relu6:
        return x < 0 ? res_T(0) : (x > 6 ? res_T(6) : res_T(x));
      case act_leaky_relu: {
        const param_t alpha = CONFIG_T::alpha;
        return x > 0 ? res_T(x) : res_T(x * alpha);
      }
      case act_thresholded_relu: {
        const param_t alpha = CONFIG_T::alpha;
        return x > alpha ? res_T(x) : res_T(0);
      }
      case act_prelu:
        return x > 0 ? res_T(x) : res_T(x * param[c]);
      case act_clip: {
        // min(max(x, lo), hi), ONNX's order: with lo > hi every output is hi. An absent bound
        // (clip_min / clip_max false) is no bound.
        const param_t lo = CONFIG_T::alpha, hi = CONFIG_T::beta;
        if (CONFIG_T::clip_max && (x > hi || (CONFIG_T::clip_min && lo > hi))) return res_T(hi);
        if (CONFIG_T::clip_min && x < lo) return res_T(lo);
        return res_T(x);
      }
      case act_hard_tanh:
        return x < -1 ? res_T(-1) : (x > 1 ? res_T(1) : res_T(x));
      case act_hard_sigmoid: {
        const param_t alpha = CONFIG_T::alpha, beta = CONFIG_T::beta;
        auto v = x * alpha + beta;
        return v < 0 ? res_T(0) : (v > 1 ? res_T(1) : res_T(v));
      }
      case act_linear:
        return res_T(x);
      default:
        break;
    }
    // Table kinds.
    if (CONFIG_T::kind == act_elu && x >= 0) return res_T(x);
    if (CONFIG_T::kind == act_selu && x >= 0) {
      const param_t beta = CONFIG_T::beta;
      return res_T(x * beta);
    }
    bool above;
    unsigned i = table_index_above<CONFIG_T::table_scale_log2, CONFIG_T::table_offset, CONFIG_T::table_size>(x, above);
    if (above && (CONFIG_T::kind == act_softplus || CONFIG_T::kind == act_swish || CONFIG_T::kind == act_gelu))
      return res_T(x);
    return res_T(table[i]);
  }
};

template <class data_T, class res_T, typename CONFIG_T>
void activation(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in],
                const typename CONFIG_T::table_t* table = 0, const typename CONFIG_T::param_t* param = 0) {
  NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
ActivationElements:
  for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
    NNHLS_PRAGMA(HLS UNROLL)
    res[i] = activation_element<data_T, res_T, CONFIG_T>::run(data[i], i % CONFIG_T::n_chan, table, param);
  }
}

// ----- softmax over the last axis ----------------------------------------------------------------
enum softmax_implementation { softmax_stable = 0, softmax_latency = 1, softmax_argmax = 2 };

struct softmax_config {
  static const unsigned n_rows = 1;
  static const unsigned n_in = 1;
  static const unsigned io_type = io_parallel;
  static const unsigned reuse_factor = 1;
  static const unsigned implementation = softmax_stable;
  static const unsigned exp_table_size = 1024;
  static const int exp_scale_log2 = 7;  // log2(exp_table_size / exp_range)
  static const unsigned inv_table_size = 1024;
  static const int inv_scale_log2 = 2;  // log2(inv_table_size / inv_range)
  typedef ap_fixed<18, 8, AP_RND, AP_SAT> exp_table_t;
  typedef ap_fixed<18, 8, AP_RND, AP_SAT> inv_table_t;
  typedef ap_fixed<18, 8, AP_RND, AP_SAT> accum_t;
};

// One row of n_in values. `Enable`: see nnet_common.h.
template <class data_T, class res_T, typename CONFIG_T, class Enable = void> struct softmax_row {
  static void run(const data_T x[CONFIG_T::n_in], res_T y[CONFIG_T::n_in],
                  const typename CONFIG_T::exp_table_t exp_table[CONFIG_T::exp_table_size],
                  const typename CONFIG_T::inv_table_t inv_table[CONFIG_T::inv_table_size]) {
    NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
    if (CONFIG_T::implementation == softmax_argmax) {
      unsigned best = 0;
    SoftmaxArgmax:
      for (unsigned k = 1; k < CONFIG_T::n_in; k++) {
        NNHLS_PRAGMA(HLS UNROLL)
        if (x[best] < x[k]) best = k;
      }
    SoftmaxOneHot:
      for (unsigned k = 0; k < CONFIG_T::n_in; k++) {
        NNHLS_PRAGMA(HLS UNROLL)
        y[k] = k == best ? res_T(1) : res_T(0);
      }
      return;
    }
    typename CONFIG_T::exp_table_t e[CONFIG_T::n_in];
    NNHLS_PRAGMA(HLS ARRAY_PARTITION variable=e complete)
    if (CONFIG_T::implementation == softmax_stable) {
      data_T m = x[0];
    SoftmaxMax:
      for (unsigned k = 1; k < CONFIG_T::n_in; k++) {
        NNHLS_PRAGMA(HLS UNROLL)
        if (m < x[k]) m = x[k];
      }
    SoftmaxExpStable:
      for (unsigned k = 0; k < CONFIG_T::n_in; k++) {
        NNHLS_PRAGMA(HLS UNROLL)
        e[k] = exp_table[table_index<CONFIG_T::exp_scale_log2, 0, CONFIG_T::exp_table_size>(m - x[k])];
      }
    } else {
    SoftmaxExp:
      for (unsigned k = 0; k < CONFIG_T::n_in; k++) {
        NNHLS_PRAGMA(HLS UNROLL)
        e[k] = exp_table[table_index<CONFIG_T::exp_scale_log2, -(long long)(CONFIG_T::exp_table_size / 2),
                                     CONFIG_T::exp_table_size>(x[k])];
      }
    }
    typename CONFIG_T::accum_t s = 0;
  SoftmaxSum:
    for (unsigned k = 0; k < CONFIG_T::n_in; k++) {
      NNHLS_PRAGMA(HLS UNROLL)
      s = s + e[k];
    }
    const typename CONFIG_T::inv_table_t inv =
        inv_table[table_index<CONFIG_T::inv_scale_log2, 0, CONFIG_T::inv_table_size>(s)];
  SoftmaxNormalize:
    for (unsigned k = 0; k < CONFIG_T::n_in; k++) {
      NNHLS_PRAGMA(HLS UNROLL)
      y[k] = e[k] * inv;
    }
  }
};

template <class data_T, class res_T, typename CONFIG_T>
void softmax(const data_T data[CONFIG_T::n_rows * CONFIG_T::n_in], res_T res[CONFIG_T::n_rows * CONFIG_T::n_in],
             const typename CONFIG_T::exp_table_t exp_table[CONFIG_T::exp_table_size],
             const typename CONFIG_T::inv_table_t inv_table[CONFIG_T::inv_table_size]) {
SoftmaxRows:
  for (unsigned r = 0; r < CONFIG_T::n_rows; r++)
    softmax_row<data_T, res_T, CONFIG_T>::run(data + r * CONFIG_T::n_in, res + r * CONFIG_T::n_in, exp_table, inv_table);
}

}  // namespace nnet

#pragma GCC diagnostic pop

#endif  // NNET_ACTIVATION_H_
