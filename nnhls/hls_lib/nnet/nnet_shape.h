// nnhls nnet kernel library: shape and data-movement kernels (hls.reshape, hls.transpose,
// hls.pad, hls.crop, hls.upsample, hls.cast), io_parallel. Every element is cast<result>.
// Spatial kernels see a tensor as (height, width, n_chan), 1-D ones with height 1.
#ifndef NNET_SHAPE_H_
#define NNET_SHAPE_H_

#include "nnet_common.h"

// Loop labels name the loops in synthesis reports and directives; g++ -Wall calls them unused.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-label"

namespace nnet {

struct copy_config {
  static const unsigned n_elem = 1;
  static const unsigned io_type = io_parallel;
};

// hls.reshape and hls.cast: element-wise copy with conversion (row-major order kept).
template <class data_T, class res_T, typename CONFIG_T>
void copy(const data_T data[CONFIG_T::n_elem], res_T res[CONFIG_T::n_elem]) {
CopyElements:
  for (unsigned i = 0; i < CONFIG_T::n_elem; i++) {
    NNHLS_PRAGMA(HLS UNROLL)
    res[i] = data[i];
  }
}

struct transpose_config {
  static const unsigned dims = 1;
  static const unsigned n_elem = 1;
  static const unsigned io_type = io_parallel;
  // Generated configs define: static unsigned shape(unsigned axis) (the input shape) and
  // static unsigned perm(unsigned axis) (result axis i is input axis perm(i)).
};

template <class data_T, class res_T, typename CONFIG_T>
void transpose_array(const data_T data[CONFIG_T::n_elem], res_T res[CONFIG_T::n_elem]) {
  unsigned in_stride[CONFIG_T::dims];
  unsigned s = 1;
TransposeStrides:
  for (int a = int(CONFIG_T::dims) - 1; a >= 0; a--) {
    in_stride[a] = s;
    s *= CONFIG_T::shape(a);
  }
TransposeElements:
  for (unsigned o = 0; o < CONFIG_T::n_elem; o++) {
    NNHLS_PRAGMA(HLS UNROLL)
    unsigned rem = o, src = 0;
  TransposeAxes:
    for (int a = int(CONFIG_T::dims) - 1; a >= 0; a--) {
      const unsigned extent = CONFIG_T::shape(CONFIG_T::perm(a));
      src += (rem % extent) * in_stride[CONFIG_T::perm(a)];
      rem /= extent;
    }
    res[o] = data[src];
  }
}

template <class data_T, class res_T, typename CONFIG_T>
void transpose(const data_T data[CONFIG_T::n_elem], res_T res[CONFIG_T::n_elem]) {
  transpose_array<data_T, res_T, CONFIG_T>(data, res);
}

struct spatial_config {
  static const unsigned in_height = 1, in_width = 1, n_chan = 1;
  static const unsigned out_height = 1, out_width = 1;
  static const unsigned top = 0, left = 0;  // pad / crop amounts at the start of each axis
  static const unsigned factor_height = 1, factor_width = 1;
  static const unsigned io_type = io_parallel;
};

// Zero padding: output (oh, ow) reads input (oh - top, ow - left) or zero.
template <class data_T, class res_T, typename CONFIG_T>
void zeropad2d(const data_T data[CONFIG_T::in_height * CONFIG_T::in_width * CONFIG_T::n_chan],
               res_T res[CONFIG_T::out_height * CONFIG_T::out_width * CONFIG_T::n_chan]) {
PadRows:
  for (unsigned oh = 0; oh < CONFIG_T::out_height; oh++)
  PadCols:
    for (unsigned ow = 0; ow < CONFIG_T::out_width; ow++) {
      const int ih = int(oh) - int(CONFIG_T::top), iw = int(ow) - int(CONFIG_T::left);
      const bool inside = ih >= 0 && ih < int(CONFIG_T::in_height) && iw >= 0 && iw < int(CONFIG_T::in_width);
    PadChannels:
      for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
        const unsigned o = (oh * CONFIG_T::out_width + ow) * CONFIG_T::n_chan + c;
        res[o] = inside ? res_T(data[(unsigned(ih) * CONFIG_T::in_width + unsigned(iw)) * CONFIG_T::n_chan + c]) : res_T(0);
      }
    }
}

// Cropping: output (oh, ow) reads input (oh + top, ow + left).
template <class data_T, class res_T, typename CONFIG_T>
void cropping2d(const data_T data[CONFIG_T::in_height * CONFIG_T::in_width * CONFIG_T::n_chan],
                res_T res[CONFIG_T::out_height * CONFIG_T::out_width * CONFIG_T::n_chan]) {
CropRows:
  for (unsigned oh = 0; oh < CONFIG_T::out_height; oh++)
  CropCols:
    for (unsigned ow = 0; ow < CONFIG_T::out_width; ow++)
    CropChannels:
      for (unsigned c = 0; c < CONFIG_T::n_chan; c++)
        res[(oh * CONFIG_T::out_width + ow) * CONFIG_T::n_chan + c] =
            data[((oh + CONFIG_T::top) * CONFIG_T::in_width + ow + CONFIG_T::left) * CONFIG_T::n_chan + c];
}

// Nearest-neighbour upsampling by integer factors.
template <class data_T, class res_T, typename CONFIG_T>
void resize_nearest(const data_T data[CONFIG_T::in_height * CONFIG_T::in_width * CONFIG_T::n_chan],
                    res_T res[CONFIG_T::out_height * CONFIG_T::out_width * CONFIG_T::n_chan]) {
ResizeRows:
  for (unsigned oh = 0; oh < CONFIG_T::out_height; oh++)
  ResizeCols:
    for (unsigned ow = 0; ow < CONFIG_T::out_width; ow++)
    ResizeChannels:
      for (unsigned c = 0; c < CONFIG_T::n_chan; c++)
        res[(oh * CONFIG_T::out_width + ow) * CONFIG_T::n_chan + c] =
            data[((oh / CONFIG_T::factor_height) * CONFIG_T::in_width + ow / CONFIG_T::factor_width) * CONFIG_T::n_chan + c];
}

}  // namespace nnet

#pragma GCC diagnostic pop

#endif  // NNET_SHAPE_H_
