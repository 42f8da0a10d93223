// The C++ kernel of the toy op of tests/integration/test_adding_an_op.py (hls.toy_abs):
// y = cast<result>(|x|), element-wise, io_parallel and io_stream. It is the only C++ an op added
// outside nnhls needs; the test's kernel rules copy it into the project's nnet_utils/.
#ifndef NNET_TOY_ABS_H_
#define NNET_TOY_ABS_H_

#include "nnet_common.h"

namespace nnet {

struct toy_abs_config {
  static const unsigned n_in = 1;
  static const unsigned n_chan = 1;
  static const unsigned io_type = io_parallel;
};

template <class data_T, class res_T, typename CONFIG_T>
void toy_abs(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in]) {
ToyAbs_Elements:
  for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
    NNHLS_PRAGMA(HLS UNROLL)
    res[i] = data[i] < 0 ? res_T(-data[i]) : res_T(data[i]);
  }
}

template <class data_T, class res_T, typename CONFIG_T>
void toy_abs(hls::stream<data_T>& data, hls::stream<res_T>& res) {
  typedef typename res_T::value_type out_t;
ToyAbs_Pixels:
  for (unsigned p = 0; p < CONFIG_T::n_in / CONFIG_T::n_chan; p++) {
    NNHLS_PRAGMA(HLS PIPELINE II=1)
    const data_T x = data.read();
    res_T out;
  ToyAbs_Channels:
    for (unsigned c = 0; c < CONFIG_T::n_chan; c++) out[c] = x[c] < 0 ? out_t(-x[c]) : out_t(x[c]);
    res.write(out);
  }
}

}  // namespace nnet

#endif  // NNET_TOY_ABS_H_
