// nnhls nnet kernel library: max / average pooling, 1-D, 2-D and global (hls.pool,
// hls.global_pool), io_parallel.
//
// Max: y = cast<result>(max of the window's in-bounds inputs). Average: acc = 0 in accum_t,
// acc = cast<accum_t>(acc + x) over in-bounds positions in row-major order; n = the in-bounds
// count, or the full window with count_pad; y = cast<result>(acc * r) with
// r = cast<ap_ufixed<32, 1, AP_RND>>(1.0 / n). A 1-D pooling is a 2-D one of height 1.
#ifndef NNET_POOLING_H_
#define NNET_POOLING_H_

#include "nnet_common.h"

// Loop labels name the loops in synthesis reports and directives; g++ -Wall calls them unused.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-label"

namespace nnet {

enum pool_op { pool_max = 0, pool_average = 1 };

struct pooling_config {
  static const unsigned in_height = 1, in_width = 1, n_chan = 1;
  static const unsigned pool_height = 1, pool_width = 1;
  static const unsigned stride_height = 1, stride_width = 1;
  static const unsigned pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  static const unsigned out_height = 1, out_width = 1;
  static const unsigned io_type = io_parallel;
  static const unsigned reuse_factor = 1;
  static const unsigned pool_op = pool_max;
  static const bool count_pad = false;
  typedef ap_fixed<16, 6> accum_t;
};

typedef ap_ufixed<32, 1, AP_RND> pool_reciprocal_t;

// One channel's window, fed its in-bounds inputs in row-major order (the rule at the top).
template <class data_T, class res_T, typename CONFIG_T> struct pool_window_state {
  data_T best;
  typename CONFIG_T::accum_t acc;
  unsigned n;
  pool_window_state() : best(0), acc(0), n(0) {}
  void add(const data_T& x) {
    if (n == 0 || best < x) best = x;
    acc = acc + x;
    n++;
  }
  res_T result() const {
    if (CONFIG_T::pool_op == pool_max) return res_T(best);
    const unsigned count = CONFIG_T::count_pad ? CONFIG_T::pool_height * CONFIG_T::pool_width : n;
    const pool_reciprocal_t r = 1.0 / double(count);
    return res_T(acc * r);
  }
};

// One output pixel (oh, ow), all channels. `Enable`: see nnet_common.h.
template <class data_T, class res_T, typename CONFIG_T, class Enable = void> struct pool_pixel {
  static void run(const data_T* data, res_T* res, unsigned oh, unsigned ow) {
  PoolChannels:
    for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
      NNHLS_PRAGMA(HLS UNROLL)
      pool_window_state<data_T, res_T, CONFIG_T> window_state;
    PoolRows:
      for (unsigned kh = 0; kh < CONFIG_T::pool_height; kh++) {
        const int ih = int(oh * CONFIG_T::stride_height + kh) - int(CONFIG_T::pad_top);
        if (ih < 0 || ih >= int(CONFIG_T::in_height)) continue;
      PoolCols:
        for (unsigned kw = 0; kw < CONFIG_T::pool_width; kw++) {
          const int iw = int(ow * CONFIG_T::stride_width + kw) - int(CONFIG_T::pad_left);
          if (iw < 0 || iw >= int(CONFIG_T::in_width)) continue;
          window_state.add(data[(unsigned(ih) * CONFIG_T::in_width + unsigned(iw)) * CONFIG_T::n_chan + c]);
        }
      }
      res[c] = window_state.result();
    }
  }
};

// io_stream helper: one output pixel from `window` (pool_height rows of in_width pixels), whose
// rows valid_from .. valid_to are in bounds; columns follow pad_left and stride_width.
// `Enable`: see nnet_common.h.
template <class data_T, class res_T, typename CONFIG_T, class Enable = void> struct pool_window {
  static void run(const data_T* window, res_T* res, unsigned ow, unsigned valid_from, unsigned valid_to) {
  PoolChannels:
    for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
      NNHLS_PRAGMA(HLS UNROLL)
      pool_window_state<data_T, res_T, CONFIG_T> window_state;
    PoolRows:
      for (unsigned kh = valid_from; kh <= valid_to; kh++) {
      PoolCols:
        for (unsigned kw = 0; kw < CONFIG_T::pool_width; kw++) {
          const int iw = int(ow * CONFIG_T::stride_width + kw) - int(CONFIG_T::pad_left);
          if (iw < 0 || iw >= int(CONFIG_T::in_width)) continue;
          window_state.add(window[(kh * CONFIG_T::in_width + unsigned(iw)) * CONFIG_T::n_chan + c]);
        }
      }
      res[c] = window_state.result();
    }
  }
};

template <class data_T, class res_T, typename CONFIG_T>
void pooling2d(const data_T data[CONFIG_T::in_height * CONFIG_T::in_width * CONFIG_T::n_chan],
               res_T res[CONFIG_T::out_height * CONFIG_T::out_width * CONFIG_T::n_chan]) {
  NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
PoolOutRows:
  for (unsigned oh = 0; oh < CONFIG_T::out_height; oh++)
  PoolOutCols:
    for (unsigned ow = 0; ow < CONFIG_T::out_width; ow++)
      pool_pixel<data_T, res_T, CONFIG_T>::run(data, res + (oh * CONFIG_T::out_width + ow) * CONFIG_T::n_chan, oh, ow);
}

template <class data_T, class res_T, typename CONFIG_T>
void pooling1d(const data_T data[CONFIG_T::in_width * CONFIG_T::n_chan], res_T res[CONFIG_T::out_width * CONFIG_T::n_chan]) {
  pooling2d<data_T, res_T, CONFIG_T>(data, res);
}

// Global pooling: one window covering every pixel (in_height * in_width pixels).
template <class data_T, class res_T, typename CONFIG_T>
void global_pooling(const data_T data[CONFIG_T::in_height * CONFIG_T::in_width * CONFIG_T::n_chan],
                    res_T res[CONFIG_T::n_chan]) {
  pooling2d<data_T, res_T, CONFIG_T>(data, res);
}

}  // namespace nnet

#pragma GCC diagnostic pop

#endif  // NNET_POOLING_H_
