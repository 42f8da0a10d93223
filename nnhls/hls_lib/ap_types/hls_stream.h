// nnhls emulation header: a minimal hls::stream, API-compatible with the subset of the vendor's
// hls_stream.h that nnhls kernels use. An unbounded FIFO backed by std::deque; reading an empty
// stream is a kernel bug, reported on stderr, and returns a default value.
#ifndef NNHLS_HLS_STREAM_H
#define NNHLS_HLS_STREAM_H

#include <cstdio>
#include <deque>

namespace hls {

template <class T> class stream {
 public:
  stream() : name_("") {}
  explicit stream(const char* name) : name_(name) {}
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;

  bool empty() const { return q_.empty(); }
  bool full() const { return false; }
  size_t size() const { return q_.size(); }

  T read() {
    T v;
    read(v);
    return v;
  }
  void read(T& v) {
    if (q_.empty()) {
      std::fprintf(stderr, "hls::stream '%s': read while empty\n", name_);
      v = T();
      return;
    }
    v = q_.front();
    q_.pop_front();
  }
  bool read_nb(T& v) {
    if (q_.empty()) return false;
    read(v);
    return true;
  }
  void write(const T& v) { q_.push_back(v); }
  bool write_nb(const T& v) {
    write(v);
    return true;
  }
  stream& operator>>(T& v) {
    read(v);
    return *this;
  }
  stream& operator<<(const T& v) {
    write(v);
    return *this;
  }

 private:
  const char* name_;
  std::deque<T> q_;
};

}  // namespace hls

#endif  // NNHLS_HLS_STREAM_H
