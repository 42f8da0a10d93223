// nnhls nnet kernel library: embeddings (hls.embedding), a ROM lookup per index.
//
// For each input value x: i = floor(x) (the assignment to an integer type truncates towards minus
// infinity) clamped to [0, n_rows - 1]; the result row is embeddings[i * n_out .. + n_out).
#ifndef NNET_EMBEDDING_H_
#define NNET_EMBEDDING_H_

#include "nnet_common.h"

namespace nnet {

struct embedding_config {
  static const unsigned n_in = 1;    // indices per sample
  static const unsigned n_rows = 1;  // table rows (the vocabulary)
  static const unsigned n_out = 1;   // row width
  static const unsigned io_type = io_parallel;
  static const unsigned reuse_factor = 1;
  typedef ap_fixed<16, 6> embeddings_t;
};

template <class data_T, typename CONFIG_T> inline unsigned embedding_index(const data_T& x) {
  const ap_int<(data_T::iwidth > 0 ? data_T::iwidth : 0) + 2> i = x;
  if (i < 0) return 0;
  if (i > (long long)(CONFIG_T::n_rows - 1)) return CONFIG_T::n_rows - 1;
  return (unsigned)i.to_int();
}

template <class data_T, class res_T, typename CONFIG_T>
void embedding(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in * CONFIG_T::n_out],
               const typename CONFIG_T::embeddings_t embeddings[CONFIG_T::n_rows * CONFIG_T::n_out]) {
  NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
  for (unsigned j = 0; j < CONFIG_T::n_in; j++) {
    NNHLS_PRAGMA(HLS UNROLL)
    const unsigned i = embedding_index<data_T, CONFIG_T>(data[j]);
    for (unsigned k = 0; k < CONFIG_T::n_out; k++) res[j * CONFIG_T::n_out + k] = embeddings[i * CONFIG_T::n_out + k];
  }
}

// io_stream: each input pixel's values become one output pixel each.
template <class data_T, class res_T, typename CONFIG_T>
void embedding(hls::stream<data_T>& data, hls::stream<res_T>& res,
               const typename CONFIG_T::embeddings_t embeddings[CONFIG_T::n_rows * CONFIG_T::n_out]) {
  for (unsigned p = 0; p < CONFIG_T::n_in / data_T::size; p++) {
    const data_T x = data.read();
    for (unsigned c = 0; c < data_T::size; c++) {
      NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
      const unsigned i = embedding_index<typename data_T::value_type, CONFIG_T>(x[c]);
      res_T out;
      for (unsigned k = 0; k < CONFIG_T::n_out; k++) out[k] = embeddings[i * CONFIG_T::n_out + k];
      res.write(out);
    }
  }
}

}  // namespace nnet

#endif  // NNET_EMBEDDING_H_
