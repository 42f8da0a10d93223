// nnhls nnet kernel library: 1-D and 2-D convolutions, regular and depthwise (hls.conv*d,
// hls.depthwise_conv*d), io_parallel.
//
// Channels last. A 1-D convolution is a 2-D one with in_height = out_height = filt_height = 1.
// Weights are (filt_height, filt_width, n_chan, n_filt) row-major, or depthwise
// (filt_height, filt_width, n_chan, depth_multiplier) with output channel c * multiplier + m.
// Per output pixel and filter: acc = cast<accum_t>(b[f]); for each kernel position (row-major)
// and input channel: acc = cast<accum_t>(acc + cast<accum_t>(x * w)); y = cast<result>(acc).
// Positions in the padding read zero and are skipped. parallelization_factor output pixels are
// computed per pipelined iteration.
#ifndef NNET_CONV_H_
#define NNET_CONV_H_

#include "nnet_common.h"

// Loop labels name the loops in synthesis reports and directives; g++ -Wall calls them unused.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-label"

namespace nnet {

struct conv_config {
  static const unsigned in_height = 1, in_width = 1, n_chan = 1;
  static const unsigned filt_height = 1, filt_width = 1, n_filt = 1;
  static const unsigned depth_multiplier = 1;
  static const bool depthwise = false;
  static const unsigned stride_height = 1, stride_width = 1;
  static const unsigned dilation_height = 1, dilation_width = 1;
  static const unsigned pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  static const unsigned out_height = 1, out_width = 1;
  static const unsigned io_type = io_parallel;
  static const unsigned strategy = latency;
  static const unsigned reuse_factor = 1;
  static const unsigned parallelization_factor = 1;
  static const unsigned multiplier_limit = 1;
  static const unsigned n_zeros = 0;
  static const bool store_weights_in_bram = false;
  typedef ap_fixed<16, 6> accum_t;
  typedef ap_fixed<16, 6> bias_t;
  typedef ap_fixed<16, 6> weight_t;
};

// The products of one input pixel x (all its channels) with the kernel taps at kbase, added to
// the accumulators of every output channel: the arithmetic conv_pixel and the line-buffer
// conv_line_pixel (nnet_stream.h) share.
template <typename CONFIG_T, class x_T>
void conv_window_mac(const x_T* x, unsigned kbase, const typename CONFIG_T::weight_t* weights,
                     typename CONFIG_T::accum_t* acc) {
ConvChannels:
  for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
    if (CONFIG_T::depthwise) {
    ConvMultiplier:
      for (unsigned m = 0; m < CONFIG_T::depth_multiplier; m++) {
        const unsigned f = c * CONFIG_T::depth_multiplier + m;
        acc[f] = acc[f] + typename CONFIG_T::accum_t(x[c] * weights[(kbase + c) * CONFIG_T::depth_multiplier + m]);
      }
    } else {
    ConvFilters:
      for (unsigned f = 0; f < CONFIG_T::n_filt; f++)
        acc[f] = acc[f] + typename CONFIG_T::accum_t(x[c] * weights[(kbase + c) * CONFIG_T::n_filt + f]);
    }
  }
}

// One output pixel (oh, ow), all its output channels. `Enable`: see nnet_common.h.
template <class data_T, class res_T, typename CONFIG_T, class Enable = void> struct conv_pixel {
  static void run(const data_T* data, res_T* res, unsigned oh, unsigned ow,
                  const typename CONFIG_T::weight_t* weights, const typename CONFIG_T::bias_t* biases) {
    const unsigned n_out = CONFIG_T::depthwise ? CONFIG_T::n_chan * CONFIG_T::depth_multiplier : CONFIG_T::n_filt;
    typename CONFIG_T::accum_t acc[n_out];
    NNHLS_PRAGMA(HLS ARRAY_PARTITION variable=acc complete)
  ConvInit:
    for (unsigned f = 0; f < n_out; f++) {
      NNHLS_PRAGMA(HLS UNROLL)
      acc[f] = biases[f];
    }
  ConvKernelRows:
    for (unsigned kh = 0; kh < CONFIG_T::filt_height; kh++) {
      const int ih = int(oh * CONFIG_T::stride_height + kh * CONFIG_T::dilation_height) - int(CONFIG_T::pad_top);
      if (ih < 0 || ih >= int(CONFIG_T::in_height)) continue;
    ConvKernelCols:
      for (unsigned kw = 0; kw < CONFIG_T::filt_width; kw++) {
        const int iw = int(ow * CONFIG_T::stride_width + kw * CONFIG_T::dilation_width) - int(CONFIG_T::pad_left);
        if (iw < 0 || iw >= int(CONFIG_T::in_width)) continue;
        const data_T* x = data + (unsigned(ih) * CONFIG_T::in_width + unsigned(iw)) * CONFIG_T::n_chan;
        const unsigned kbase = (kh * CONFIG_T::filt_width + kw) * CONFIG_T::n_chan;
        conv_window_mac<CONFIG_T>(x, kbase, weights, acc);
      }
    }
  ConvResult:
    for (unsigned f = 0; f < n_out; f++) {
      NNHLS_PRAGMA(HLS UNROLL)
      res[f] = acc[f];
    }
  }
};

// The whole layer, pixel by pixel.
template <class data_T, class res_T, typename CONFIG_T>
void conv_pixels(const data_T* data, res_T* res, const typename CONFIG_T::weight_t* weights,
                 const typename CONFIG_T::bias_t* biases) {
  const unsigned n_out = CONFIG_T::depthwise ? CONFIG_T::n_chan * CONFIG_T::depth_multiplier : CONFIG_T::n_filt;
  const unsigned n_pixels = CONFIG_T::out_height * CONFIG_T::out_width;
  NNHLS_PRAGMA(HLS ALLOCATION operation instances=mul limit=CONFIG_T::multiplier_limit)
ConvPixels:
  for (unsigned p0 = 0; p0 < n_pixels; p0 += CONFIG_T::parallelization_factor) {
    NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
  ConvParallel:
    for (unsigned q = 0; q < CONFIG_T::parallelization_factor; q++) {
      NNHLS_PRAGMA(HLS UNROLL)
      const unsigned p = p0 + q;
      conv_pixel<data_T, res_T, CONFIG_T>::run(data, res + p * n_out, p / CONFIG_T::out_width, p % CONFIG_T::out_width,
                                               weights, biases);
    }
  }
}

// The whole layer. `Enable`: see nnet_common.h.
template <class data_T, class res_T, typename CONFIG_T, class Enable = void> struct conv_layer {
  static void compute(const data_T* data, res_T* res, const typename CONFIG_T::weight_t* weights,
                      const typename CONFIG_T::bias_t* biases) {
    conv_pixels<data_T, res_T, CONFIG_T>(data, res, weights, biases);
  }
};

template <class data_T, class res_T, typename CONFIG_T>
void conv_2d(const data_T data[CONFIG_T::in_height * CONFIG_T::in_width * CONFIG_T::n_chan],
             res_T* res, const typename CONFIG_T::weight_t* weights, const typename CONFIG_T::bias_t* biases) {
  conv_layer<data_T, res_T, CONFIG_T>::compute(data, res, weights, biases);
}

template <class data_T, class res_T, typename CONFIG_T>
void conv_1d(const data_T data[CONFIG_T::in_width * CONFIG_T::n_chan], res_T* res,
             const typename CONFIG_T::weight_t* weights, const typename CONFIG_T::bias_t* biases) {
  conv_2d<data_T, res_T, CONFIG_T>(data, res, weights, biases);
}

template <class data_T, class res_T, typename CONFIG_T>
void depthwise_conv_2d(const data_T* data, res_T* res, const typename CONFIG_T::weight_t* weights,
                       const typename CONFIG_T::bias_t* biases) {
  conv_2d<data_T, res_T, CONFIG_T>(data, res, weights, biases);
}

template <class data_T, class res_T, typename CONFIG_T>
void depthwise_conv_1d(const data_T* data, res_T* res, const typename CONFIG_T::weight_t* weights,
                       const typename CONFIG_T::bias_t* biases) {
  conv_2d<data_T, res_T, CONFIG_T>(data, res, weights, biases);
}

}  // namespace nnet

#pragma GCC diagnostic pop

#endif  // NNET_CONV_H_
