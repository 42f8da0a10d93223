// nnhls nnet kernel library: split of a tensor in two along one axis (hls.split), io_parallel and
// io_stream.
//
// The input is seen as n_outer rows of (n_first_inner + n_second_inner) values (row-major, split
// axis and the axes after it inside a row); the first n_first_inner values of each row go to the
// first result, the others to the second, each element cast<result>. In io_stream a row is one
// pixel (the split is along the channel axis).
#ifndef NNET_SPLIT_H_
#define NNET_SPLIT_H_

#include "nnet_common.h"

namespace nnet {

struct split_config {
  static const unsigned n_outer = 1;
  static const unsigned n_first_inner = 1;
  static const unsigned n_second_inner = 1;
  static const unsigned io_type = io_parallel;
  static const unsigned reuse_factor = 1;
};

template <class data_T, class a_T, class b_T, typename CONFIG_T>
void split(const data_T data[CONFIG_T::n_outer * (CONFIG_T::n_first_inner + CONFIG_T::n_second_inner)],
           a_T a[CONFIG_T::n_outer * CONFIG_T::n_first_inner], b_T b[CONFIG_T::n_outer * CONFIG_T::n_second_inner]) {
  NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
  const unsigned row = CONFIG_T::n_first_inner + CONFIG_T::n_second_inner;
Split_Rows:
  for (unsigned o = 0; o < CONFIG_T::n_outer; o++) {
  Split_First:
    for (unsigned i = 0; i < CONFIG_T::n_first_inner; i++) a[o * CONFIG_T::n_first_inner + i] = data[o * row + i];
  Split_Second:
    for (unsigned i = 0; i < CONFIG_T::n_second_inner; i++)
      b[o * CONFIG_T::n_second_inner + i] = data[o * row + CONFIG_T::n_first_inner + i];
  }
}

template <class data_T, class a_T, class b_T, typename CONFIG_T>
void split(hls::stream<data_T>& data, hls::stream<a_T>& a_s, hls::stream<b_T>& b_s) {
Split_Pixels:
  for (unsigned p = 0; p < CONFIG_T::n_outer; p++) {
    NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
    const data_T x = data.read();
    a_T a;
    b_T b;
  Split_First:
    for (unsigned i = 0; i < CONFIG_T::n_first_inner; i++) a[i] = x[i];
  Split_Second:
    for (unsigned i = 0; i < CONFIG_T::n_second_inner; i++) b[i] = x[CONFIG_T::n_first_inner + i];
    a_s.write(a);
    b_s.write(b);
  }
}

}  // namespace nnet

#endif  // NNET_SPLIT_H_
