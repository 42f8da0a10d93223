// nnhls emulation header: a minimal hls::stream, API-compatible with the subset of the vendor's
// hls_stream.h that nnhls kernels use. An unbounded FIFO in a growable power-of-two ring buffer
// (no standard container: instantiating std::deque per stream type doubled io_stream build
// times); reading an empty stream is a kernel bug, reported on stderr, and returns a default value.
#ifndef NNHLS_HLS_STREAM_H
#define NNHLS_HLS_STREAM_H

#include <cstddef>
#include <cstdio>

namespace hls {

template <class T> class stream {
 public:
  stream() : name_("") {}
  explicit stream(const char* name) : name_(name) {}
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;
  ~stream() { delete[] buf_; }

  bool empty() const { return count_ == 0; }
  bool full() const { return false; }
  size_t size() const { return count_; }

  T read() {
    T v;
    read(v);
    return v;
  }
  void read(T& v) {
    if (count_ == 0) {
      std::fprintf(stderr, "hls::stream '%s': read while empty\n", name_);
      v = T();
      return;
    }
    v = buf_[head_];
    head_ = (head_ + 1) & (cap_ - 1);
    --count_;
  }
  bool read_nb(T& v) {
    if (count_ == 0) return false;
    read(v);
    return true;
  }
  void write(const T& v) {
    if (count_ == cap_) grow();
    buf_[(head_ + count_) & (cap_ - 1)] = v;
    ++count_;
  }
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
  void grow() {
    const size_t capacity = cap_ ? 2 * cap_ : 16;
    T* larger = new T[capacity];
    for (size_t i = 0; i < count_; i++) larger[i] = buf_[(head_ + i) & (cap_ - 1)];
    delete[] buf_;
    buf_ = larger;
    cap_ = capacity;
    head_ = 0;
  }

  const char* name_;
  T* buf_ = nullptr;
  size_t cap_ = 0;  // a power of two (or 0)
  size_t head_ = 0;
  size_t count_ = 0;
};

}  // namespace hls

#endif  // NNHLS_HLS_STREAM_H
