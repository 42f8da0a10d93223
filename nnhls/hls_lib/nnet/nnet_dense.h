// nnhls nnet kernel library: fully connected layers (hls.dense).
//
// For each row r (leading axes of the input) and output j:
//   acc = cast<accum_t>(b[j]);
//   for i = 0 .. n_in - 1: acc = cast<accum_t>(acc + cast<accum_t>(x[r, i] * w[i, j]));
//   y[r, j] = cast<result>(acc).
// The weights are stored row-major as w[i * n_out + j]. The strategies only change the hardware schedule:
//   latency  - everything unrolled, pipelined with II = reuse_factor;
//   resource - a pipelined loop of reuse_factor iterations, n_in * n_out / reuse_factor
//              multipliers; products visited in weight-index order, hence in i order per output;
//   unrolled - as latency, with the multiplier count bounded by the reuse factor.
// With `compression` (n_zeros > 0 stored sparse), only the non-zero weights are kept, as
// (row, col, weight) triplets in weight-index order.
#ifndef NNET_DENSE_H_
#define NNET_DENSE_H_

#include "nnet_common.h"

// Loop labels name the loops in synthesis reports and directives; g++ -Wall calls them unused.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-label"

namespace nnet {

struct dense_config {
  static const unsigned n_rows = 1;
  static const unsigned n_in = 1;
  static const unsigned n_out = 1;
  static const unsigned io_type = io_parallel;
  static const unsigned strategy = latency;
  static const unsigned reuse_factor = 1;
  static const unsigned n_zeros = 0;
  static const unsigned n_nonzeros = 1;
  static const unsigned multiplier_limit = 1;
  static const bool store_weights_in_bram = false;
  typedef ap_fixed<16, 6> accum_t;
  typedef ap_fixed<16, 6> bias_t;
  typedef ap_fixed<16, 6> weight_t;
  typedef ap_uint<1> index_t;
};

template <class weight_t, class index_t> struct compressed_weight {
  index_t row_index;
  index_t col_index;
  weight_t weight;
};

// One row, latency / unrolled schedule.
template <class data_T, class res_T, typename CONFIG_T>
void dense_latency(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_out],
                   const typename CONFIG_T::weight_t weights[CONFIG_T::n_in * CONFIG_T::n_out],
                   const typename CONFIG_T::bias_t biases[CONFIG_T::n_out]) {
  NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
  NNHLS_PRAGMA(HLS ALLOCATION operation instances=mul limit=CONFIG_T::multiplier_limit)
  typename CONFIG_T::accum_t acc[CONFIG_T::n_out];
  NNHLS_PRAGMA(HLS ARRAY_PARTITION variable=acc complete)
DenseInit:
  for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
    NNHLS_PRAGMA(HLS UNROLL)
    acc[j] = biases[j];
  }
DenseInputs:
  for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
    NNHLS_PRAGMA(HLS UNROLL)
  DenseOutputs:
    for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
      NNHLS_PRAGMA(HLS UNROLL)
      acc[j] = acc[j] + typename CONFIG_T::accum_t(data[i] * weights[i * CONFIG_T::n_out + j]);
    }
  }
DenseResult:
  for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
    NNHLS_PRAGMA(HLS UNROLL)
    res[j] = acc[j];
  }
}

// One row, resource schedule: reuse_factor pipelined iterations of block_factor products each.
template <class data_T, class res_T, typename CONFIG_T>
void dense_resource(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_out],
                    const typename CONFIG_T::weight_t weights[CONFIG_T::n_in * CONFIG_T::n_out],
                    const typename CONFIG_T::bias_t biases[CONFIG_T::n_out]) {
  const unsigned n_total = CONFIG_T::n_in * CONFIG_T::n_out;
  const unsigned block_factor = ceil_div(n_total, CONFIG_T::reuse_factor);
  NNHLS_PRAGMA(HLS ARRAY_RESHAPE variable=weights block factor=block_factor)
  typename CONFIG_T::accum_t acc[CONFIG_T::n_out];
  NNHLS_PRAGMA(HLS ARRAY_PARTITION variable=acc complete)
DenseInit:
  for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
    NNHLS_PRAGMA(HLS UNROLL)
    acc[j] = biases[j];
  }
DenseReuse:
  for (unsigned ir = 0; ir < CONFIG_T::reuse_factor; ir++) {
    NNHLS_PRAGMA(HLS PIPELINE II=1 rewind)
  DenseBlock:
    for (unsigned k = 0; k < block_factor; k++) {
      NNHLS_PRAGMA(HLS UNROLL)
      const unsigned idx = ir * block_factor + k;
      if (idx >= n_total) break;
      const unsigned i = idx / CONFIG_T::n_out, j = idx % CONFIG_T::n_out;
      acc[j] = acc[j] + typename CONFIG_T::accum_t(data[i] * weights[idx]);
    }
  }
DenseResult:
  for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
    NNHLS_PRAGMA(HLS UNROLL)
    res[j] = acc[j];
  }
}

// One row with compressed (sparse) weights.
template <class data_T, class res_T, typename CONFIG_T>
void dense_compressed(
    const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_out],
    const compressed_weight<typename CONFIG_T::weight_t, typename CONFIG_T::index_t> weights[CONFIG_T::n_nonzeros],
    const typename CONFIG_T::bias_t biases[CONFIG_T::n_out]) {
  NNHLS_PRAGMA(HLS ARRAY_PARTITION variable=weights cyclic factor=CONFIG_T::multiplier_limit)
  typename CONFIG_T::accum_t acc[CONFIG_T::n_out];
  NNHLS_PRAGMA(HLS ARRAY_PARTITION variable=acc complete)
DenseInit:
  for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
    NNHLS_PRAGMA(HLS UNROLL)
    acc[j] = biases[j];
  }
DenseNonzeros:
  for (unsigned k = 0; k < CONFIG_T::n_nonzeros; k++) {
    NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
    const unsigned i = weights[k].row_index, j = weights[k].col_index;
    acc[j] = acc[j] + typename CONFIG_T::accum_t(data[i] * weights[k].weight);
  }
DenseResult:
  for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
    NNHLS_PRAGMA(HLS UNROLL)
    res[j] = acc[j];
  }
}

// Strategy dispatch at compile time (only the chosen schedule is instantiated).
template <unsigned S> struct dense_schedule {
  template <class data_T, class res_T, typename CONFIG_T>
  static void row(const data_T* data, res_T* res, const typename CONFIG_T::weight_t* weights,
                  const typename CONFIG_T::bias_t* biases) {
    dense_latency<data_T, res_T, CONFIG_T>(data, res, weights, biases);
  }
};
template <> struct dense_schedule<resource> {
  template <class data_T, class res_T, typename CONFIG_T>
  static void row(const data_T* data, res_T* res, const typename CONFIG_T::weight_t* weights,
                  const typename CONFIG_T::bias_t* biases) {
    dense_resource<data_T, res_T, CONFIG_T>(data, res, weights, biases);
  }
};

// One row of n_in features (io_parallel rows and io_stream pixels). `Enable`: see nnet_common.h.
template <class data_T, class res_T, typename CONFIG_T, class Enable = void> struct dense_row {
  static void run(const data_T* data, res_T* res, const typename CONFIG_T::weight_t* weights,
                  const typename CONFIG_T::bias_t* biases) {
    dense_schedule<CONFIG_T::strategy>::template row<data_T, res_T, CONFIG_T>(data, res, weights, biases);
  }
};

// hls.dense: n_rows independent rows of n_in features.
template <class data_T, class res_T, typename CONFIG_T>
void dense(const data_T data[CONFIG_T::n_rows * CONFIG_T::n_in], res_T res[CONFIG_T::n_rows * CONFIG_T::n_out],
           const typename CONFIG_T::weight_t weights[CONFIG_T::n_in * CONFIG_T::n_out],
           const typename CONFIG_T::bias_t biases[CONFIG_T::n_out]) {
DenseRows:
  for (unsigned r = 0; r < CONFIG_T::n_rows; r++)
    dense_row<data_T, res_T, CONFIG_T>::run(data + r * CONFIG_T::n_in, res + r * CONFIG_T::n_out, weights, biases);
}

template <class data_T, class res_T, typename CONFIG_T>
void dense(
    const data_T data[CONFIG_T::n_rows * CONFIG_T::n_in], res_T res[CONFIG_T::n_rows * CONFIG_T::n_out],
    const compressed_weight<typename CONFIG_T::weight_t, typename CONFIG_T::index_t> weights[CONFIG_T::n_nonzeros],
    const typename CONFIG_T::bias_t biases[CONFIG_T::n_out]) {
DenseRows:
  for (unsigned r = 0; r < CONFIG_T::n_rows; r++)
    dense_compressed<data_T, res_T, CONFIG_T>(data + r * CONFIG_T::n_in, res + r * CONFIG_T::n_out, weights, biases);
}

}  // namespace nnet

#pragma GCC diagnostic pop

#endif  // NNET_DENSE_H_
