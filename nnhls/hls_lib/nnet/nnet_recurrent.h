// nnhls nnet kernel library: recurrent layers (hls.recurrent): SimpleRNN, LSTM and GRU cells.
//
// One cell instance is reused over time (use_static, hls4ml's Static: true; false unrolls the time
// loop, a cell instance per step): step t reads x_t (from the end with go_backwards), updates the
// state h (and the LSTM cell state c) and, with return_sequences, writes h. The input product uses
// reuse_factor, the state product recurrent_reuse_factor. Weights are
// row-major, gate blocks side by side in Keras' order (LSTM i, f, c, o; GRU z, r, h):
// w[i * n_gates * n_state + k], u[i * n_gates * n_state + k]. The exact arithmetic is the
// docstring of hls.RecurrentKernelOp (nnhls/ops/recurrent.py): acc(...) accumulates like dense (one
// cast to accum_t per term, in input order), gates read a lookup table over [table_min, table_max)
// (indexed as in nnet_activation.h) or are exact (relu, linear), products and sums without a cast
// are exact.
#ifndef NNET_RECURRENT_H_
#define NNET_RECURRENT_H_

#include "nnet_common.h"

namespace nnet {

enum rnn_cell { cell_simple_rnn = 0, cell_lstm = 1, cell_gru = 2 };
enum gate_kind { gate_table = 0, gate_relu = 1, gate_linear = 2 };

struct recurrent_config {
  static const unsigned n_time = 1;
  static const unsigned n_in = 1;
  static const unsigned n_state = 1;
  static const unsigned cell = cell_simple_rnn;
  static const unsigned io_type = io_parallel;
  static const unsigned reuse_factor = 1;            // the input product x_t @ w
  static const unsigned recurrent_reuse_factor = 1;  // the state product h @ u
  static const bool use_static = true;  // hls4ml's Static: one cell reused over time; false: unrolled
  static const bool return_sequences = false;
  static const bool go_backwards = false;
  static const bool aligned_outputs = false;  // with go_backwards: output t belongs to input step t
  static const bool reset_after = true;
  static const bool final_cell = false;  // lstm, last step only: the result is c, not h
  static const unsigned activation = gate_table;
  static const unsigned table_size = 1024;
  static const int table_scale_log2 = 6;
  static const long long table_offset = -512;
  static const unsigned recurrent_activation = gate_table;
  static const unsigned recurrent_table_size = 1024;
  static const int recurrent_table_scale_log2 = 6;
  static const long long recurrent_table_offset = -512;
  typedef ap_fixed<16, 6> weight_t;
  typedef ap_fixed<16, 6> recurrent_weight_t;
  typedef ap_fixed<16, 6> bias_t;
  typedef ap_fixed<16, 6> recurrent_bias_t;
  typedef ap_fixed<16, 6> accum_t;
  typedef ap_fixed<16, 6> state_t;
  typedef ap_fixed<16, 6> cell_t;
  typedef ap_fixed<16, 6> table_t;
  typedef ap_fixed<16, 6> recurrent_table_t;
};

template <class CONFIG_T> struct rnn_gates {
  static const unsigned value = CONFIG_T::cell == cell_lstm ? 4 : (CONFIG_T::cell == cell_gru ? 3 : 1);
};

// A gate function: a table lookup or an exact relu / linear, the result cast to T.
template <class T, unsigned KIND, int K, long long OFFSET, unsigned N, class V>
inline T rnn_gate(const V& v, const T* table) {
  if (KIND == gate_linear) return T(v);
  if (KIND == gate_relu) return v > 0 ? T(v) : T(0);
  return T(table[table_index<K, OFFSET, N>(v)]);
}

template <class CONFIG_T, class V> inline typename CONFIG_T::table_t rnn_act(const V& v, const typename CONFIG_T::table_t* table) {
  return rnn_gate<typename CONFIG_T::table_t, CONFIG_T::activation, CONFIG_T::table_scale_log2, CONFIG_T::table_offset,
                  CONFIG_T::table_size>(v, table);
}

template <class CONFIG_T, class V>
inline typename CONFIG_T::recurrent_table_t rnn_ract(const V& v, const typename CONFIG_T::recurrent_table_t* table) {
  return rnn_gate<typename CONFIG_T::recurrent_table_t, CONFIG_T::recurrent_activation, CONFIG_T::recurrent_table_scale_log2,
                  CONFIG_T::recurrent_table_offset, CONFIG_T::recurrent_table_size>(v, table);
}

// acc[k] = acc(bias[k0 + k] + sum_i v[i] * w[i * stride + k0 + k]) for k < n_out.
template <class V, class W, class B, class A, unsigned N_IN, unsigned N_OUT, unsigned STRIDE, unsigned RF>
inline void rnn_matvec(const V v[N_IN], const W* w, const B* bias, A acc[N_OUT]) {
  NNHLS_PRAGMA(HLS PIPELINE II=RF)
  for (unsigned k = 0; k < N_OUT; k++) {
    NNHLS_PRAGMA(HLS UNROLL)
    acc[k] = bias[k];
  }
  for (unsigned i = 0; i < N_IN; i++) {
    NNHLS_PRAGMA(HLS UNROLL)
    for (unsigned k = 0; k < N_OUT; k++) {
      NNHLS_PRAGMA(HLS UNROLL)
      const W& wk = w[i * STRIDE + k];
#ifndef __SYNTHESIS__
      if (wk == 0) continue;
#endif
      acc[k] = acc[k] + A(v[i] * wk);
    }
  }
}

// One time step: x (n_in values) and the state (h, c) in, the new state out.
template <class data_T, typename CONFIG_T>
void recurrent_step(const data_T x[CONFIG_T::n_in], typename CONFIG_T::state_t h[CONFIG_T::n_state],
                    typename CONFIG_T::cell_t c[CONFIG_T::n_state], const typename CONFIG_T::weight_t* w,
                    const typename CONFIG_T::recurrent_weight_t* u, const typename CONFIG_T::bias_t* b,
                    const typename CONFIG_T::recurrent_bias_t* rb, const typename CONFIG_T::table_t* table,
                    const typename CONFIG_T::recurrent_table_t* rtable) {
  typedef typename CONFIG_T::accum_t acc_t;
  typedef typename CONFIG_T::state_t state_t;
  typedef typename CONFIG_T::table_t act_t;
  typedef typename CONFIG_T::recurrent_table_t ract_t;
  const unsigned H = CONFIG_T::n_state;
  const unsigned GH = rnn_gates<CONFIG_T>::value * H;
  const bool split_h = CONFIG_T::cell == cell_gru && !CONFIG_T::reset_after;
  acc_t ax[GH], ah[GH];
  NNHLS_PRAGMA(HLS ARRAY_PARTITION variable=ax complete)
  NNHLS_PRAGMA(HLS ARRAY_PARTITION variable=ah complete)
  rnn_matvec<data_T, typename CONFIG_T::weight_t, typename CONFIG_T::bias_t, acc_t, CONFIG_T::n_in, GH, GH,
             CONFIG_T::reuse_factor>(x, w, b, ax);
  rnn_matvec<state_t, typename CONFIG_T::recurrent_weight_t, typename CONFIG_T::recurrent_bias_t, acc_t, H,
             split_h ? 2 * H : GH, GH, CONFIG_T::recurrent_reuse_factor>(h, u, rb, ah);
  if (CONFIG_T::cell == cell_simple_rnn) {
    for (unsigned j = 0; j < H; j++) {
      NNHLS_PRAGMA(HLS UNROLL)
      h[j] = state_t(rnn_act<CONFIG_T>(acc_t(ax[j] + ah[j]), table));
    }
  } else if (CONFIG_T::cell == cell_lstm) {
    for (unsigned j = 0; j < H; j++) {
      NNHLS_PRAGMA(HLS UNROLL)
      const ract_t i = rnn_ract<CONFIG_T>(acc_t(ax[j] + ah[j]), rtable);
      const ract_t f = rnn_ract<CONFIG_T>(acc_t(ax[H + j] + ah[H + j]), rtable);
      const act_t g = rnn_act<CONFIG_T>(acc_t(ax[2 * H + j] + ah[2 * H + j]), table);
      const ract_t o = rnn_ract<CONFIG_T>(acc_t(ax[3 * H + j] + ah[3 * H + j]), rtable);
      c[j] = typename CONFIG_T::cell_t(f * c[j] + i * g);
      h[j] = state_t(o * rnn_act<CONFIG_T>(c[j], table));
    }
  } else {
    ract_t z[H], r[H];
    NNHLS_PRAGMA(HLS ARRAY_PARTITION variable=z complete)
    NNHLS_PRAGMA(HLS ARRAY_PARTITION variable=r complete)
    for (unsigned j = 0; j < H; j++) {
      NNHLS_PRAGMA(HLS UNROLL)
      z[j] = rnn_ract<CONFIG_T>(acc_t(ax[j] + ah[j]), rtable);
      r[j] = rnn_ract<CONFIG_T>(acc_t(ax[H + j] + ah[H + j]), rtable);
    }
    acc_t an[H];
    NNHLS_PRAGMA(HLS ARRAY_PARTITION variable=an complete)
    if (CONFIG_T::reset_after) {
      for (unsigned j = 0; j < H; j++) {
        NNHLS_PRAGMA(HLS UNROLL)
        an[j] = acc_t(r[j] * ah[2 * H + j]);
      }
    } else {
      state_t rh[H];
      NNHLS_PRAGMA(HLS ARRAY_PARTITION variable=rh complete)
      for (unsigned i = 0; i < H; i++) {
        NNHLS_PRAGMA(HLS UNROLL)
        rh[i] = state_t(r[i] * h[i]);
      }
      rnn_matvec<state_t, typename CONFIG_T::recurrent_weight_t, typename CONFIG_T::recurrent_bias_t, acc_t, H, H, GH,
                 CONFIG_T::recurrent_reuse_factor>(rh, u + 2 * H, rb + 2 * H, an);
    }
    for (unsigned j = 0; j < H; j++) {
      NNHLS_PRAGMA(HLS UNROLL)
      const act_t n = rnn_act<CONFIG_T>(acc_t(ax[2 * H + j] + an[j]), table);
      h[j] = state_t(z[j] * h[j] + n - z[j] * n);
    }
  }
}

// Step s of the io_parallel layer: reads x_t, updates the state, writes h with return_sequences.
template <class data_T, class res_T, typename CONFIG_T>
inline void recurrent_time_step(unsigned s, const data_T* data, res_T* res, typename CONFIG_T::state_t* h,
                                typename CONFIG_T::cell_t* c, const typename CONFIG_T::weight_t* w,
                                const typename CONFIG_T::recurrent_weight_t* u, const typename CONFIG_T::bias_t* b,
                                const typename CONFIG_T::recurrent_bias_t* rb, const typename CONFIG_T::table_t* table,
                                const typename CONFIG_T::recurrent_table_t* rtable) {
  const unsigned t = CONFIG_T::go_backwards ? CONFIG_T::n_time - 1 - s : s;
  recurrent_step<data_T, CONFIG_T>(data + t * CONFIG_T::n_in, h, c, w, u, b, rb, table, rtable);
  if (CONFIG_T::return_sequences)
    for (unsigned j = 0; j < CONFIG_T::n_state; j++) {
      NNHLS_PRAGMA(HLS UNROLL)
      res[(CONFIG_T::aligned_outputs ? t : s) * CONFIG_T::n_state + j] = h[j];
    }
}

// hls.recurrent, io_parallel: data is (n_time, n_in) row-major; res is (n_time, n_state) with
// return_sequences, else (n_state).
template <class data_T, class res_T, typename CONFIG_T>
void recurrent(const data_T data[CONFIG_T::n_time * CONFIG_T::n_in], res_T* res,
               const typename CONFIG_T::weight_t* w, const typename CONFIG_T::recurrent_weight_t* u,
               const typename CONFIG_T::bias_t* b, const typename CONFIG_T::recurrent_bias_t* rb,
               const typename CONFIG_T::table_t* table, const typename CONFIG_T::recurrent_table_t* rtable) {
  typename CONFIG_T::state_t h[CONFIG_T::n_state];
  typename CONFIG_T::cell_t c[CONFIG_T::n_state];
  NNHLS_PRAGMA(HLS ARRAY_PARTITION variable=h complete)
  NNHLS_PRAGMA(HLS ARRAY_PARTITION variable=c complete)
  for (unsigned j = 0; j < CONFIG_T::n_state; j++) {
    NNHLS_PRAGMA(HLS UNROLL)
    h[j] = 0;
    c[j] = 0;
  }
  if (CONFIG_T::use_static) {
    for (unsigned s = 0; s < CONFIG_T::n_time; s++) {  // one cell instance, reused step after step
      recurrent_time_step<data_T, res_T, CONFIG_T>(s, data, res, h, c, w, u, b, rb, table, rtable);
    }
  } else {
    for (unsigned s = 0; s < CONFIG_T::n_time; s++) {  // a cell instance per step
      NNHLS_PRAGMA(HLS UNROLL)
      recurrent_time_step<data_T, res_T, CONFIG_T>(s, data, res, h, c, w, u, b, rb, table, rtable);
    }
  }
  if (!CONFIG_T::return_sequences)
    for (unsigned j = 0; j < CONFIG_T::n_state; j++) {
      NNHLS_PRAGMA(HLS UNROLL)
      if (CONFIG_T::final_cell)
        res[j] = c[j];
      else
        res[j] = h[j];
    }
}

// Step s of the io_stream layer: x_t from the stream (or the buffered sequence with go_backwards),
// h written out (or held, to be written in input order with aligned outputs).
template <class data_T, class res_T, typename CONFIG_T>
inline void recurrent_stream_step(unsigned s, hls::stream<data_T>& data, hls::stream<res_T>& res, const data_T* buffer,
                                  res_T* held, typename CONFIG_T::state_t* h, typename CONFIG_T::cell_t* c,
                                  const typename CONFIG_T::weight_t* w, const typename CONFIG_T::recurrent_weight_t* u,
                                  const typename CONFIG_T::bias_t* b, const typename CONFIG_T::recurrent_bias_t* rb,
                                  const typename CONFIG_T::table_t* table,
                                  const typename CONFIG_T::recurrent_table_t* rtable) {
  typedef typename data_T::value_type x_t;
  const bool hold = CONFIG_T::aligned_outputs && CONFIG_T::return_sequences;
  const data_T x = CONFIG_T::go_backwards ? buffer[CONFIG_T::n_time - 1 - s] : data.read();
  recurrent_step<x_t, CONFIG_T>(x.data, h, c, w, u, b, rb, table, rtable);
  if (CONFIG_T::return_sequences || s == CONFIG_T::n_time - 1) {
    res_T out;
    for (unsigned j = 0; j < CONFIG_T::n_state; j++) {
      if (CONFIG_T::final_cell)
        out[j] = c[j];
      else
        out[j] = h[j];
    }
    if (hold)
      held[CONFIG_T::n_time - 1 - s] = out;
    else
      res.write(out);
  }
}

// hls.recurrent, io_stream: one time step per stream element (go_backwards buffers the sequence,
// aligned outputs are written once the sequence is done).
template <class data_T, class res_T, typename CONFIG_T>
void recurrent(hls::stream<data_T>& data, hls::stream<res_T>& res, const typename CONFIG_T::weight_t* w,
               const typename CONFIG_T::recurrent_weight_t* u, const typename CONFIG_T::bias_t* b,
               const typename CONFIG_T::recurrent_bias_t* rb, const typename CONFIG_T::table_t* table,
               const typename CONFIG_T::recurrent_table_t* rtable) {
  typename CONFIG_T::state_t h[CONFIG_T::n_state];
  typename CONFIG_T::cell_t c[CONFIG_T::n_state];
  NNHLS_PRAGMA(HLS ARRAY_PARTITION variable=h complete)
  NNHLS_PRAGMA(HLS ARRAY_PARTITION variable=c complete)
  for (unsigned j = 0; j < CONFIG_T::n_state; j++) {
    h[j] = 0;
    c[j] = 0;
  }
  data_T buffer[CONFIG_T::go_backwards ? CONFIG_T::n_time : 1];
  if (CONFIG_T::go_backwards)
    for (unsigned s = 0; s < CONFIG_T::n_time; s++) buffer[s] = data.read();
  const bool hold = CONFIG_T::aligned_outputs && CONFIG_T::return_sequences;
  res_T held[hold ? CONFIG_T::n_time : 1];
  if (CONFIG_T::use_static) {
    for (unsigned s = 0; s < CONFIG_T::n_time; s++) {  // one cell instance, reused step after step
      recurrent_stream_step<data_T, res_T, CONFIG_T>(s, data, res, buffer, held, h, c, w, u, b, rb, table, rtable);
    }
  } else {
    for (unsigned s = 0; s < CONFIG_T::n_time; s++) {  // a cell instance per step
      NNHLS_PRAGMA(HLS UNROLL)
      recurrent_stream_step<data_T, res_T, CONFIG_T>(s, data, res, buffer, held, h, c, w, u, b, rb, table, rtable);
    }
  }
  if (hold)
    for (unsigned t = 0; t < CONFIG_T::n_time; t++) res.write(held[t]);
}

}  // namespace nnet

#endif  // NNET_RECURRENT_H_
