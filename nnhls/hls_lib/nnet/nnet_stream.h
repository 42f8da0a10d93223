// nnhls nnet kernel library: io_stream forms of every kernel (overloads of the io_parallel names).
//
// A tensor flows as an hls::stream of nnet::array pixels (all channels of one pixel, pixels in
// row-major order). The arithmetic is exactly the io_parallel one (same casts, same order):
// element-wise kernels work pixel by pixel; convolutions and pooling keep a line buffer of the
// last input rows and emit an output row as soon as its last input row has arrived; only
// transpose buffers the whole tensor (its output order needs every input).
#ifndef NNET_STREAM_H_
#define NNET_STREAM_H_

#include "nnet_activation.h"
#include "nnet_batchnorm.h"
#include "nnet_common.h"
#include "nnet_conv.h"
#include "nnet_dense.h"
#include "nnet_merge.h"
#include "nnet_pooling.h"
#include "nnet_shape.h"

// Loop labels name the loops in synthesis reports and directives; g++ -Wall calls them unused.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-label"

namespace nnet {

// ----- clone: one stream to several consumers ------------------------------------------------------
struct clone_config {
  static const unsigned n_pixels = 1;
  static const unsigned n_outputs = 2;
};

#define NNHLS_CLONE_READ                                   \
CloneStream:                                               \
  for (unsigned p = 0; p < CONFIG_T::n_pixels; p++) {      \
    NNHLS_PRAGMA(HLS PIPELINE II=1)                      \
    const data_T v = data.read();
template <class data_T, class res_T, typename CONFIG_T>
void clone_stream(hls::stream<data_T>& data, hls::stream<res_T>& a, hls::stream<res_T>& b) {
  NNHLS_CLONE_READ a.write(v); b.write(v); }
}
template <class data_T, class res_T, typename CONFIG_T>
void clone_stream(hls::stream<data_T>& data, hls::stream<res_T>& a, hls::stream<res_T>& b, hls::stream<res_T>& c) {
  NNHLS_CLONE_READ a.write(v); b.write(v); c.write(v); }
}
template <class data_T, class res_T, typename CONFIG_T>
void clone_stream(hls::stream<data_T>& data, hls::stream<res_T>& a, hls::stream<res_T>& b, hls::stream<res_T>& c,
                  hls::stream<res_T>& d) {
  NNHLS_CLONE_READ a.write(v); b.write(v); c.write(v); d.write(v); }
}
template <class data_T, class res_T, typename CONFIG_T>
void clone_stream(hls::stream<data_T>& data, hls::stream<res_T>& a, hls::stream<res_T>& b, hls::stream<res_T>& c,
                  hls::stream<res_T>& d, hls::stream<res_T>& e) {
  NNHLS_CLONE_READ a.write(v); b.write(v); c.write(v); d.write(v); e.write(v); }
}
template <class data_T, class res_T, typename CONFIG_T>
void clone_stream(hls::stream<data_T>& data, hls::stream<res_T>& a, hls::stream<res_T>& b, hls::stream<res_T>& c,
                  hls::stream<res_T>& d, hls::stream<res_T>& e, hls::stream<res_T>& f) {
  NNHLS_CLONE_READ a.write(v); b.write(v); c.write(v); d.write(v); e.write(v); f.write(v); }
}
#undef NNHLS_CLONE_READ

// ----- dense, softmax, activations, batchnorm: pixel by pixel ---------------------------------------
template <class data_T, class res_T, typename CONFIG_T>
void dense(hls::stream<data_T>& data, hls::stream<res_T>& res,
           const typename CONFIG_T::weight_t weights[CONFIG_T::n_in * CONFIG_T::n_out],
           const typename CONFIG_T::bias_t biases[CONFIG_T::n_out]) {
DenseStreamRows:
  for (unsigned r = 0; r < CONFIG_T::n_rows; r++) {
    NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
    const data_T x = data.read();
    typename res_T::value_type y[CONFIG_T::n_out];
    dense_row<typename data_T::value_type, typename res_T::value_type, CONFIG_T>::run(x.data, y, weights, biases);
    res_T out;
  DenseStreamOut:
    for (unsigned j = 0; j < CONFIG_T::n_out; j++) out[j] = y[j];
    res.write(out);
  }
}

template <class data_T, class res_T, typename CONFIG_T>
void dense(hls::stream<data_T>& data, hls::stream<res_T>& res,
           const compressed_weight<typename CONFIG_T::weight_t, typename CONFIG_T::index_t> weights[CONFIG_T::n_nonzeros],
           const typename CONFIG_T::bias_t biases[CONFIG_T::n_out]) {
DenseStreamRows:
  for (unsigned r = 0; r < CONFIG_T::n_rows; r++) {
    const data_T x = data.read();
    typename res_T::value_type y[CONFIG_T::n_out];
    dense_compressed<typename data_T::value_type, typename res_T::value_type, CONFIG_T>(x.data, y, weights, biases);
    res_T out;
  DenseStreamOut:
    for (unsigned j = 0; j < CONFIG_T::n_out; j++) out[j] = y[j];
    res.write(out);
  }
}

template <class data_T, class res_T, typename CONFIG_T>
void softmax(hls::stream<data_T>& data, hls::stream<res_T>& res,
             const typename CONFIG_T::exp_table_t exp_table[CONFIG_T::exp_table_size],
             const typename CONFIG_T::inv_table_t inv_table[CONFIG_T::inv_table_size]) {
SoftmaxStreamRows:
  for (unsigned r = 0; r < CONFIG_T::n_rows; r++) {
    NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
    const data_T x = data.read();
    res_T out;
    softmax_row<typename data_T::value_type, typename res_T::value_type, CONFIG_T>::run(x.data, out.data, exp_table, inv_table);
    res.write(out);
  }
}

template <class data_T, class res_T, typename CONFIG_T>
void activation(hls::stream<data_T>& data, hls::stream<res_T>& res, const typename CONFIG_T::table_t* table = 0,
                const typename CONFIG_T::param_t* param = 0) {
ActivationStreamPixels:
  for (unsigned p = 0; p < CONFIG_T::n_in / CONFIG_T::n_chan; p++) {
    NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
    const data_T x = data.read();
    res_T out;
  ActivationStreamChannels:
    for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
      NNHLS_PRAGMA(HLS UNROLL)
      out[c] = activation_element<typename data_T::value_type, typename res_T::value_type, CONFIG_T>::run(x[c], c, table, param);
    }
    res.write(out);
  }
}

template <class data_T, class res_T, typename CONFIG_T>
void normalize(hls::stream<data_T>& data, hls::stream<res_T>& res, const typename CONFIG_T::scale_t scale[CONFIG_T::n_filt],
               const typename CONFIG_T::bias_t bias[CONFIG_T::n_filt]) {
NormalizeStreamPixels:
  for (unsigned p = 0; p < CONFIG_T::n_in / CONFIG_T::n_filt; p++) {
    NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
    const data_T x = data.read();
    res_T out;
  NormalizeStreamChannels:
    for (unsigned c = 0; c < CONFIG_T::n_filt; c++) {
      NNHLS_PRAGMA(HLS UNROLL)
      out[c] = x[c] * scale[c] + bias[c];
    }
    res.write(out);
  }
}

// ----- merges, concatenation, dot -------------------------------------------------------------------
#define NNHLS_MERGE_STREAM(NAME, EXPR)                                                                   \
  template <class a_T, class b_T, class res_T, typename CONFIG_T>                                        \
  void NAME(hls::stream<a_T>& a_s, hls::stream<b_T>& b_s, hls::stream<res_T>& res) {                     \
    typedef typename res_T::value_type out_t;                                                            \
  MergeStreamPixels:                                                                                     \
    for (unsigned p = 0; p < CONFIG_T::n_elem / CONFIG_T::n_chan; p++) {                                 \
      NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)                                             \
      const a_T a = a_s.read();                                                                          \
      const b_T b = b_s.read();                                                                          \
      res_T out;                                                                                         \
    MergeStreamChannels:                                                                                 \
      for (unsigned c = 0; c < CONFIG_T::n_chan; c++) out[c] = EXPR;                                     \
      res.write(out);                                                                                    \
    }                                                                                                    \
  }
NNHLS_MERGE_STREAM(add, out_t(a[c] + b[c]))
NNHLS_MERGE_STREAM(subtract, out_t(a[c] - b[c]))
NNHLS_MERGE_STREAM(multiply, out_t(a[c] * b[c]))
NNHLS_MERGE_STREAM(average, out_t((a[c] + b[c]) * ap_ufixed<1, 0>(0.5)))
NNHLS_MERGE_STREAM(maximum, a[c] < b[c] ? out_t(b[c]) : out_t(a[c]))
NNHLS_MERGE_STREAM(minimum, b[c] < a[c] ? out_t(b[c]) : out_t(a[c]))
#undef NNHLS_MERGE_STREAM

template <class a_T, class b_T, class res_T, typename CONFIG_T>
void concatenate(hls::stream<a_T>& a_s, hls::stream<b_T>& b_s, hls::stream<res_T>& res) {
ConcatStreamPixels:
  for (unsigned p = 0; p < CONFIG_T::n_outer; p++) {
    NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
    const a_T a = a_s.read();
    const b_T b = b_s.read();
    res_T out;
  ConcatStreamLeft:
    for (unsigned i = 0; i < CONFIG_T::n_lhs_inner; i++) out[i] = a[i];
  ConcatStreamRight:
    for (unsigned i = 0; i < CONFIG_T::n_rhs_inner; i++) out[CONFIG_T::n_lhs_inner + i] = b[i];
    res.write(out);
  }
}

// Concatenation along a spatial axis: for each of n_outer blocks, n_lhs_inner pixels of a, then
// n_rhs_inner pixels of b (each channel cast to the result type).
template <class a_T, class b_T, class res_T, typename CONFIG_T>
void concatenate_pixels(hls::stream<a_T>& a_s, hls::stream<b_T>& b_s, hls::stream<res_T>& res) {
  typedef typename res_T::value_type out_t;
  for (unsigned o = 0; o < CONFIG_T::n_outer; o++) {
    for (unsigned p = 0; p < CONFIG_T::n_lhs_inner; p++) {
      NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
      const a_T a = a_s.read();
      res_T out;
      for (unsigned c = 0; c < CONFIG_T::n_chan; c++) out[c] = out_t(a[c]);
      res.write(out);
    }
    for (unsigned p = 0; p < CONFIG_T::n_rhs_inner; p++) {
      NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
      const b_T b = b_s.read();
      res_T out;
      for (unsigned c = 0; c < CONFIG_T::n_chan; c++) out[c] = out_t(b[c]);
      res.write(out);
    }
  }
}

template <class a_T, class b_T, class res_T, typename CONFIG_T>
void dot1d(hls::stream<a_T>& a_s, hls::stream<b_T>& b_s, hls::stream<res_T>& res) {
  const a_T a = a_s.read();
  const b_T b = b_s.read();
  res_T out;
  dot1d_array<typename a_T::value_type, typename b_T::value_type, typename res_T::value_type, CONFIG_T>(a.data, b.data, out.data);
  res.write(out);
}

// ----- reshape / cast: repack in_pack values per input pixel into out_pack per output pixel ------------
template <class data_T, class res_T, typename CONFIG_T>
void copy(hls::stream<data_T>& data, hls::stream<res_T>& res) {
  res_T out;
  unsigned k = 0;
CopyStreamPixels:
  for (unsigned p = 0; p < CONFIG_T::n_elem / CONFIG_T::in_pack; p++) {
    const data_T x = data.read();
  CopyStreamValues:
    for (unsigned c = 0; c < CONFIG_T::in_pack; c++) {
      out[k] = x[c];
      if (++k == CONFIG_T::out_pack) {
        res.write(out);
        k = 0;
      }
    }
  }
}

// ----- transpose: the whole tensor is buffered --------------------------------------------------------
template <class data_T, class res_T, typename CONFIG_T>
void transpose(hls::stream<data_T>& data, hls::stream<res_T>& res) {
  typename data_T::value_type in[CONFIG_T::n_elem];
  typename res_T::value_type out[CONFIG_T::n_elem];
TransposeStreamRead:
  for (unsigned p = 0; p < CONFIG_T::n_elem / data_T::size; p++) {
    const data_T x = data.read();
  TransposeStreamStore:
    for (unsigned c = 0; c < data_T::size; c++) in[p * data_T::size + c] = x[c];
  }
  transpose_array<typename data_T::value_type, typename res_T::value_type, CONFIG_T>(in, out);
TransposeStreamWrite:
  for (unsigned p = 0; p < CONFIG_T::n_elem / res_T::size; p++) {
    res_T y;
  TransposeStreamLoad:
    for (unsigned c = 0; c < res_T::size; c++) y[c] = out[p * res_T::size + c];
    res.write(y);
  }
}

// ----- padding, cropping, upsampling --------------------------------------------------------------------
template <class data_T, class res_T, typename CONFIG_T>
void zeropad2d(hls::stream<data_T>& data, hls::stream<res_T>& res) {
PadStreamRows:
  for (unsigned oh = 0; oh < CONFIG_T::out_height; oh++)
  PadStreamCols:
    for (unsigned ow = 0; ow < CONFIG_T::out_width; ow++) {
      NNHLS_PRAGMA(HLS PIPELINE II=1)
      const int ih = int(oh) - int(CONFIG_T::top), iw = int(ow) - int(CONFIG_T::left);
      res_T out;
      if (ih >= 0 && ih < int(CONFIG_T::in_height) && iw >= 0 && iw < int(CONFIG_T::in_width)) {
        const data_T x = data.read();
      PadStreamCopy:
        for (unsigned c = 0; c < CONFIG_T::n_chan; c++) out[c] = x[c];
      } else {
      PadStreamZero:
        for (unsigned c = 0; c < CONFIG_T::n_chan; c++) out[c] = 0;
      }
      res.write(out);
    }
}

template <class data_T, class res_T, typename CONFIG_T>
void cropping2d(hls::stream<data_T>& data, hls::stream<res_T>& res) {
CropStreamRows:
  for (unsigned ih = 0; ih < CONFIG_T::in_height; ih++)
  CropStreamCols:
    for (unsigned iw = 0; iw < CONFIG_T::in_width; iw++) {
      NNHLS_PRAGMA(HLS PIPELINE II=1)
      const data_T x = data.read();
      if (ih < CONFIG_T::top || ih >= CONFIG_T::top + CONFIG_T::out_height) continue;
      if (iw < CONFIG_T::left || iw >= CONFIG_T::left + CONFIG_T::out_width) continue;
      res_T out;
    CropStreamChannels:
      for (unsigned c = 0; c < CONFIG_T::n_chan; c++) out[c] = x[c];
      res.write(out);
    }
}

template <class data_T, class res_T, typename CONFIG_T>
void resize_nearest(hls::stream<data_T>& data, hls::stream<res_T>& res) {
  res_T row[CONFIG_T::in_width];
ResizeStreamRows:
  for (unsigned ih = 0; ih < CONFIG_T::in_height; ih++) {
  ResizeStreamRead:
    for (unsigned iw = 0; iw < CONFIG_T::in_width; iw++) {
      const data_T x = data.read();
    ResizeStreamStore:
      for (unsigned c = 0; c < CONFIG_T::n_chan; c++) row[iw][c] = x[c];
    }
  ResizeStreamRepeat:
    for (unsigned fh = 0; fh < CONFIG_T::factor_height; fh++)
    ResizeStreamWrite:
      for (unsigned ow = 0; ow < CONFIG_T::out_width; ow++) {
        NNHLS_PRAGMA(HLS PIPELINE II=1)
        res.write(row[ow / CONFIG_T::factor_width]);
      }
  }
}

// ----- convolution with a line buffer -------------------------------------------------------------------
// One output pixel (oh, ow) from the line buffer: `lines` holds the last span input rows, input
// row ih in lines[ih % span]. Same arithmetic as conv_pixel. `Enable`: see nnet_common.h.
template <class in_t, class out_t, typename CONFIG_T, class Enable = void> struct conv_line_pixel {
  static const unsigned span = (CONFIG_T::filt_height - 1) * CONFIG_T::dilation_height + 1;
  static const unsigned row = CONFIG_T::in_width * CONFIG_T::n_chan;
  static void run(const in_t lines[span][row], unsigned oh, unsigned ow, out_t* y,
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
      const in_t* line = lines[(oh * CONFIG_T::stride_height + kh * CONFIG_T::dilation_height) % span];
    ConvKernelCols:
      for (unsigned kw = 0; kw < CONFIG_T::filt_width; kw++) {
        const in_t* x = line + (ow * CONFIG_T::stride_width + kw * CONFIG_T::dilation_width) * CONFIG_T::n_chan;
        const unsigned kbase = (kh * CONFIG_T::filt_width + kw) * CONFIG_T::n_chan;
        conv_window_mac<CONFIG_T>(x, kbase, weights, acc);
      }
    }
  ConvResult:
    for (unsigned f = 0; f < n_out; f++) {
      NNHLS_PRAGMA(HLS UNROLL)
      y[f] = acc[f];
    }
  }
};

// Keeps the last `span` input rows; output row oh is computed once input row
// oh * stride_height + (filt_height - 1) * dilation_height has been read (pads are zero in io_stream).
template <class data_T, class res_T, typename CONFIG_T>
void conv_2d(hls::stream<data_T>& data, hls::stream<res_T>& res, const typename CONFIG_T::weight_t* weights,
             const typename CONFIG_T::bias_t* biases) {
  typedef typename data_T::value_type in_t;
  typedef conv_line_pixel<in_t, typename res_T::value_type, CONFIG_T> pixel;
  const unsigned span = pixel::span;
  in_t lines[span][pixel::row];
  NNHLS_PRAGMA(HLS ARRAY_PARTITION variable=lines complete dim=1)
ConvStreamRows:
  for (unsigned ih = 0; ih < CONFIG_T::in_height; ih++) {
  ConvStreamRead:
    for (unsigned iw = 0; iw < CONFIG_T::in_width; iw++) {
      NNHLS_PRAGMA(HLS PIPELINE II=1)
      const data_T x = data.read();
    ConvStreamStore:
      for (unsigned c = 0; c < CONFIG_T::n_chan; c++) lines[ih % span][iw * CONFIG_T::n_chan + c] = x[c];
    }
    if (ih + 1 < span || (ih + 1 - span) % CONFIG_T::stride_height) continue;
    const unsigned oh = (ih + 1 - span) / CONFIG_T::stride_height;
    if (oh >= CONFIG_T::out_height) continue;
  ConvStreamOutCols:
    for (unsigned ow = 0; ow < CONFIG_T::out_width; ow++) {
      NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
      res_T out;
      pixel::run(lines, oh, ow, out.data, weights, biases);
      res.write(out);
    }
  }
}

template <class data_T, class res_T, typename CONFIG_T>
void conv_1d(hls::stream<data_T>& data, hls::stream<res_T>& res, const typename CONFIG_T::weight_t* weights,
             const typename CONFIG_T::bias_t* biases) {
  conv_2d<data_T, res_T, CONFIG_T>(data, res, weights, biases);
}
template <class data_T, class res_T, typename CONFIG_T>
void depthwise_conv_2d(hls::stream<data_T>& data, hls::stream<res_T>& res, const typename CONFIG_T::weight_t* weights,
                       const typename CONFIG_T::bias_t* biases) {
  conv_2d<data_T, res_T, CONFIG_T>(data, res, weights, biases);
}
template <class data_T, class res_T, typename CONFIG_T>
void depthwise_conv_1d(hls::stream<data_T>& data, hls::stream<res_T>& res, const typename CONFIG_T::weight_t* weights,
                       const typename CONFIG_T::bias_t* biases) {
  conv_2d<data_T, res_T, CONFIG_T>(data, res, weights, biases);
}

// ----- pooling with a line buffer (pads allowed: out-of-bounds positions are skipped) -------------------
template <class data_T, class res_T, typename CONFIG_T>
void pooling2d(hls::stream<data_T>& data, hls::stream<res_T>& res) {
  typedef typename data_T::value_type in_t;
  const unsigned span = CONFIG_T::pool_height;
  const unsigned row = CONFIG_T::in_width * CONFIG_T::n_chan;
  in_t lines[span][row];
  NNHLS_PRAGMA(HLS ARRAY_PARTITION variable=lines complete dim=1)
  in_t window[span * row];
PoolStreamRows:
  for (unsigned ih = 0; ih < CONFIG_T::in_height; ih++) {
  PoolStreamRead:
    for (unsigned iw = 0; iw < CONFIG_T::in_width; iw++) {
      NNHLS_PRAGMA(HLS PIPELINE II=1)
      const data_T x = data.read();
    PoolStreamStore:
      for (unsigned c = 0; c < CONFIG_T::n_chan; c++) lines[ih % span][iw * CONFIG_T::n_chan + c] = x[c];
    }
  PoolStreamOutRows:
    for (unsigned oh = 0; oh < CONFIG_T::out_height; oh++) {
      // Output row oh covers input rows first .. last (in bounds); emit it once `last` is read.
      const int first = int(oh * CONFIG_T::stride_height) - int(CONFIG_T::pad_top);
      int last = first + int(CONFIG_T::pool_height) - 1;
      if (last > int(CONFIG_T::in_height) - 1) last = int(CONFIG_T::in_height) - 1;
      if (last != int(ih)) continue;
      // Window rows kh = 0 .. pool_height - 1 map to input rows first + kh; missing rows stay
      // out of bounds for pool_pixel through the window height check.
      unsigned valid_from = first < 0 ? unsigned(-first) : 0;
      unsigned valid_to = unsigned(last - first);
    PoolStreamWindowRows:
      for (unsigned kh = 0; kh < span; kh++) {
        const bool ok = kh >= valid_from && kh <= valid_to;
      PoolStreamWindowCopy:
        for (unsigned i = 0; i < row; i++) window[kh * row + i] = ok ? lines[unsigned(first + int(kh)) % span][i] : in_t(0);
      }
    PoolStreamOutCols:
      for (unsigned ow = 0; ow < CONFIG_T::out_width; ow++) {
        NNHLS_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
        typename res_T::value_type y[CONFIG_T::n_chan];
        pool_window<in_t, typename res_T::value_type, CONFIG_T>::run(window, y, ow, valid_from, valid_to);
        res_T out;
      PoolStreamOut:
        for (unsigned c = 0; c < CONFIG_T::n_chan; c++) out[c] = y[c];
        res.write(out);
      }
    }
  }
}

template <class data_T, class res_T, typename CONFIG_T>
void pooling1d(hls::stream<data_T>& data, hls::stream<res_T>& res) {
  pooling2d<data_T, res_T, CONFIG_T>(data, res);
}

template <class data_T, class res_T, typename CONFIG_T>
void global_pooling(hls::stream<data_T>& data, hls::stream<res_T>& res) {
  typedef typename data_T::value_type in_t;
  in_t best[CONFIG_T::n_chan];
  typename CONFIG_T::accum_t acc[CONFIG_T::n_chan];
  const unsigned n = CONFIG_T::in_height * CONFIG_T::in_width;
GlobalPoolPixels:
  for (unsigned p = 0; p < n; p++) {
    NNHLS_PRAGMA(HLS PIPELINE II=1)
    const data_T x = data.read();
  GlobalPoolChannels:
    for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
      if (p == 0 || best[c] < x[c]) best[c] = x[c];
      acc[c] = (p == 0 ? typename CONFIG_T::accum_t(0) : acc[c]) + x[c];
    }
  }
  const pool_reciprocal_t r = 1.0 / double(n);
  res_T out;
GlobalPoolResult:
  for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
    if (CONFIG_T::pool_op == pool_max)
      out[c] = best[c];
    else
      out[c] = acc[c] * r;
  }
  res.write(out);
}

}  // namespace nnet

#pragma GCC diagnostic pop

#endif  // NNET_STREAM_H_
