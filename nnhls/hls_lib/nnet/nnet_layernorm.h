// nnhls nnet kernel library: layer normalization (hls.layernorm), row by row.
//
// The exact arithmetic is the docstring of hls.LayerNormKernelOp (nnhls/ops/layernorm.py): mean
// and variance accumulated with one cast per term, r = 1/n as ap_ufixed<32, 1, AP_RND>, the
// inverse square root read from a table over [1, 4) after normalizing the variance by an even
// power of two (a leading-one search), then shifted back exactly.
#ifndef NNET_LAYERNORM_H_
#define NNET_LAYERNORM_H_

#include "nnet_common.h"

namespace nnet {

struct layernorm_config {
  static const unsigned n_rows = 1;
  static const unsigned n_in = 1;
  static const unsigned io_type = io_parallel;
  static const unsigned reuse_factor = 1;
  static const unsigned table_size = 1024;
  static const int table_log2 = 10;
  static const int inv_shift = 16;
  static constexpr double epsilon = 0.0;
  typedef ap_fixed<16, 6> accum_t;
  typedef ap_fixed<16, 6> mean_t;
  typedef ap_ufixed<16, 6> variance_t;
  typedef ap_fixed<16, 6> inv_sqrt_t;
  typedef ap_fixed<16, 6> scale_t;
  typedef ap_fixed<16, 6> bias_t;
  typedef ap_ufixed<16, 1> inv_table_t;
};

typedef ap_ufixed<32, 1, AP_RND> layernorm_reciprocal_t;

// 1 / sqrt(v), v >= 0, from the table over [1, 4).
template <typename CONFIG_T>
typename CONFIG_T::inv_sqrt_t layernorm_inv_sqrt(const typename CONFIG_T::variance_t& v,
                                                 const typename CONFIG_T::inv_table_t* table) {
  typedef typename CONFIG_T::variance_t var_t;
  const int W = var_t::width;
  const int F = var_t::width - var_t::iwidth;
  const int K = CONFIG_T::table_log2;
  ap_uint<W + K + 2> m = v.range();
  if (m == 0) m = 1;
  int p = 0;
  for (int b = W - 1; b >= 0; b--) {
    if (m[b]) {
      p = b;
      break;
    }
  }
  int e = p - F;
  e -= e & 1;  // down to even (two's complement)
  const int shift = F + e - (K - 2);
  const unsigned index = (shift >= 0 ? (m >> shift) : (m << -shift)).to_uint();
  typedef typename CONFIG_T::inv_table_t table_t;
  const int S = CONFIG_T::inv_shift;
  ap_fixed<table_t::width + 2 * S + 1, table_t::iwidth + S + 1> t = table[index];
  t = t >> (e / 2);  // exact: the wide type has S bits of room on both sides
  return typename CONFIG_T::inv_sqrt_t(t);
}

template <class data_T, class res_T, typename CONFIG_T>
void layernorm_row(const data_T x[CONFIG_T::n_in], res_T y[CONFIG_T::n_in],
                   const typename CONFIG_T::scale_t scale[CONFIG_T::n_in],
                   const typename CONFIG_T::bias_t bias[CONFIG_T::n_in],
                   const typename CONFIG_T::inv_table_t table[CONFIG_T::table_size]) {
  NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
  typedef typename CONFIG_T::accum_t acc_t;
  typedef typename CONFIG_T::variance_t var_t;
  const layernorm_reciprocal_t r = 1.0 / CONFIG_T::n_in;
  acc_t acc = 0;
  for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
    NNHLS_PRAGMA(HLS UNROLL)
    acc = acc_t(acc + x[i]);
  }
  const typename CONFIG_T::mean_t mean = acc * r;
  acc_t d[CONFIG_T::n_in];
  NNHLS_PRAGMA(HLS ARRAY_PARTITION variable=d complete)
  var_t sq = 0;
  for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
    NNHLS_PRAGMA(HLS UNROLL)
    d[i] = x[i] - mean;
    sq = var_t(sq + var_t(d[i] * d[i]));
  }
  const var_t epsilon = CONFIG_T::epsilon;  // exactly representable
  const var_t var = sq * r + epsilon;
  const typename CONFIG_T::inv_sqrt_t inv = layernorm_inv_sqrt<CONFIG_T>(var, table);
  for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
    NNHLS_PRAGMA(HLS UNROLL)
    y[i] = d[i] * inv * scale[i] + bias[i];
  }
}

// hls.layernorm, io_parallel: n_rows rows of n_in values.
template <class data_T, class res_T, typename CONFIG_T>
void layernorm(const data_T data[CONFIG_T::n_rows * CONFIG_T::n_in], res_T res[CONFIG_T::n_rows * CONFIG_T::n_in],
               const typename CONFIG_T::scale_t scale[CONFIG_T::n_in], const typename CONFIG_T::bias_t bias[CONFIG_T::n_in],
               const typename CONFIG_T::inv_table_t table[CONFIG_T::table_size]) {
  for (unsigned r = 0; r < CONFIG_T::n_rows; r++)
    layernorm_row<data_T, res_T, CONFIG_T>(data + r * CONFIG_T::n_in, res + r * CONFIG_T::n_in, scale, bias, table);
}

// hls.layernorm, io_stream: one row per pixel (the channel axis).
template <class data_T, class res_T, typename CONFIG_T>
void layernorm(hls::stream<data_T>& data, hls::stream<res_T>& res, const typename CONFIG_T::scale_t scale[CONFIG_T::n_in],
               const typename CONFIG_T::bias_t bias[CONFIG_T::n_in],
               const typename CONFIG_T::inv_table_t table[CONFIG_T::table_size]) {
  for (unsigned r = 0; r < CONFIG_T::n_rows; r++) {
    const data_T x = data.read();
    typename res_T::value_type y[CONFIG_T::n_in];
    layernorm_row<typename data_T::value_type, typename res_T::value_type, CONFIG_T>(x.data, y, scale, bias, table);
    res_T out;
    for (unsigned j = 0; j < CONFIG_T::n_in; j++) out[j] = y[j];
    res.write(out);
  }
}

}  // namespace nnet

#endif  // NNET_LAYERNORM_H_
