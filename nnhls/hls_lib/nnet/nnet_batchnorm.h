// nnhls nnet kernel library: batch normalisation (hls.batchnorm), io_parallel.
// Per channel c (last axis): y = cast<result>(x * scale[c] + bias[c]), exact inside.
#ifndef NNET_BATCHNORM_H_
#define NNET_BATCHNORM_H_

#include "nnet_common.h"

// Loop labels name the loops in synthesis reports and directives; g++ -Wall calls them unused.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-label"

namespace nnet {

struct batchnorm_config {
  static const unsigned n_in = 1;
  static const unsigned n_filt = 1;  // channels
  static const unsigned io_type = io_parallel;
  static const unsigned reuse_factor = 1;
  static const unsigned multiplier_limit = 1;
  static const bool store_weights_in_bram = false;
  typedef ap_fixed<16, 6> scale_t;
  typedef ap_fixed<16, 6> bias_t;
};

template <class data_T, class res_T, typename CONFIG_T>
void normalize(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in],
               const typename CONFIG_T::scale_t scale[CONFIG_T::n_filt],
               const typename CONFIG_T::bias_t bias[CONFIG_T::n_filt]) {
  NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
  NNHLS_PRAGMA(HLS ALLOCATION operation instances=mul limit=CONFIG_T::multiplier_limit)
NormalizeElements:
  for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
    NNHLS_PRAGMA(HLS UNROLL)
    const unsigned c = i % CONFIG_T::n_filt;
    res[i] = data[i] * scale[c] + bias[c];
  }
}

}  // namespace nnet

#pragma GCC diagnostic pop

#endif  // NNET_BATCHNORM_H_
