// nnhls arbitrary-precision types: shared core (private helper of ap_int.h / ap_fixed.h).
//
// Written from the behaviour documented in UG1399 ("Arbitrary Precision Data Types"), not from
// any vendor source. One class template, ap_num, implements both the integer types (ap_int,
// ap_uint: F = 0) and the fixed-point types (ap_fixed, ap_ufixed). Values are kept as raw
// mantissas (value = mantissa * 2^-F) in canonical form: bits above W are copies of the sign bit
// (signed) or zero (unsigned).
//
// Storage and arithmetic have two paths:
//   * W <= 64: one int64/uint64 word; intermediates in __int128 (what nearly every layer uses);
//   * W > 64: an array of 64-bit words (two's complement) with schoolbook operators.
// Conversions share one algorithm templated on the intermediate integer type Z (__int128 or
// apx::wide<NW>): align the binary point, quantize (dropped bits decide a +1 increment), then
// handle overflow on the exact rounded value.
//
// Only <iosfwd> is included: this header must stay cheap to compile.
#ifndef NNHLS_AP_COMMON_H
#define NNHLS_AP_COMMON_H

#include <iosfwd>

enum ap_q_mode { AP_RND, AP_RND_ZERO, AP_RND_MIN_INF, AP_RND_INF, AP_RND_CONV, AP_TRN, AP_TRN_ZERO };
enum ap_o_mode { AP_SAT, AP_SAT_ZERO, AP_SAT_SYM, AP_WRAP, AP_WRAP_SM };

namespace apx {

typedef long long i64;
typedef unsigned long long u64;
__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

template <bool B_> struct tag_ {};
template <bool B_, class T_ = void> struct enable_if {};
template <class T_> struct enable_if<true, T_> { typedef T_ type; };
template <bool B_, class A_, class C_> struct select { typedef A_ type; };
template <class A_, class C_> struct select<false, A_, C_> { typedef C_ type; };

constexpr int imax(int a, int b) { return a > b ? a : b; }
constexpr int imin(int a, int b) { return a < b ? a : b; }

// C integer types seen as ap types (how the vendor widens them in mixed arithmetic).
template <class T_> struct cint { enum { ok = 0, width = 0, sign = 0 }; };
#define APX_CINT(T_, S_)                                                             \
  template <> struct cint<T_> {                                                     \
    enum { ok = 1, width = (int)(sizeof(T_) * 8), sign = (S_) };                     \
  };
APX_CINT(char, (char(-1) < char(0)))
APX_CINT(signed char, 1)
APX_CINT(unsigned char, 0)
APX_CINT(short, 1)
APX_CINT(unsigned short, 0)
APX_CINT(int, 1)
APX_CINT(unsigned int, 0)
APX_CINT(long, 1)
APX_CINT(unsigned long, 0)
APX_CINT(long long, 1)
APX_CINT(unsigned long long, 0)
#undef APX_CINT
template <> struct cint<bool> { enum { ok = 1, width = 1, sign = 0 }; };

template <class T_> struct cfloat { enum { ok = 0 }; };
template <> struct cfloat<float> { enum { ok = 1 }; };
template <> struct cfloat<double> { enum { ok = 1 }; };

// ----- multi-word two's complement integers (the slow path, W > 64) -------------------------
template <int NW_> struct wide {
  u64 w[NW_];
  wide() {}
  wide(i128 v) {  // NOLINT: implicit on purpose, mirrors the __int128 fast path
    for (int i = 0; i < NW_; ++i) w[i] = i < 2 ? (u64)(v >> (64 * i)) : (v < 0 ? ~0ull : 0ull);
  }
  bool neg() const { return (w[NW_ - 1] >> 63) != 0; }
  bool zero() const {
    for (int i = 0; i < NW_; ++i)
      if (w[i]) return false;
    return true;
  }
  bool bit(int i) const { return i >= NW_ * 64 ? neg() : ((w[i / 64] >> (i % 64)) & 1) != 0; }
  void set_bit(int i, bool b) {
    u64 m = 1ull << (i % 64);
    w[i / 64] = b ? (w[i / 64] | m) : (w[i / 64] & ~m);
  }
  // Any bit set strictly below position n?
  bool any_low(int n) const {
    for (int i = 0; i < NW_ && n > 0; ++i, n -= 64) {
      u64 m = n >= 64 ? ~0ull : ((1ull << n) - 1);
      if (w[i] & m) return true;
    }
    return false;
  }
  // Keep the low W bits, sign- or zero-extending above them.
  void wrap(int W_, bool S_) {
    bool fill = S_ && bit(W_ - 1);
    int k = W_ / 64, b = W_ % 64;
    if (k >= NW_) return;
    if (b) {
      u64 m = (1ull << b) - 1;
      w[k] = fill ? (w[k] | ~m) : (w[k] & m);
      ++k;
    }
    for (int i = k; i < NW_; ++i) w[i] = fill ? ~0ull : 0ull;
  }
};

template <int NW_> inline wide<NW_> operator~(wide<NW_> a) {
  for (int i = 0; i < NW_; ++i) a.w[i] = ~a.w[i];
  return a;
}
template <int NW_> inline wide<NW_> operator+(const wide<NW_>& a, const wide<NW_>& b) {
  wide<NW_> r;
  u64 c = 0;
  for (int i = 0; i < NW_; ++i) {
    u128 s = (u128)a.w[i] + b.w[i] + c;
    r.w[i] = (u64)s;
    c = (u64)(s >> 64);
  }
  return r;
}
template <int NW_> inline wide<NW_> operator-(const wide<NW_>& a) { return ~a + wide<NW_>(1); }
template <int NW_> inline wide<NW_> operator-(const wide<NW_>& a, const wide<NW_>& b) { return a + -b; }
template <int NW_> inline wide<NW_> operator*(const wide<NW_>& a, const wide<NW_>& b) {
  wide<NW_> r(0);
  for (int i = 0; i < NW_; ++i) {
    u64 c = 0;
    for (int j = 0; i + j < NW_; ++j) {
      u128 p = (u128)a.w[i] * b.w[j] + r.w[i + j] + c;
      r.w[i + j] = (u64)p;
      c = (u64)(p >> 64);
    }
  }
  return r;
}
template <int NW_> inline wide<NW_> operator<<(const wide<NW_>& a, int n) {
  wide<NW_> r(0);
  int k = n / 64, b = n % 64;
  for (int i = NW_ - 1; i >= k; --i) {
    u64 v = a.w[i - k] << b;
    if (b && i - k - 1 >= 0) v |= a.w[i - k - 1] >> (64 - b);
    r.w[i] = v;
  }
  return r;
}
template <int NW_> inline wide<NW_> operator>>(const wide<NW_>& a, int n) {  // arithmetic
  u64 fill = a.neg() ? ~0ull : 0ull;
  wide<NW_> r;
  int k = n / 64, b = n % 64;
  for (int i = 0; i < NW_; ++i) {
    u64 lo = i + k < NW_ ? a.w[i + k] : fill;
    u64 hi = i + k + 1 < NW_ ? a.w[i + k + 1] : fill;
    r.w[i] = b ? ((lo >> b) | (hi << (64 - b))) : lo;
  }
  return r;
}
#define APX_WIDE_BITOP(OP)                                                         \
  template <int NW_> inline wide<NW_> operator OP(wide<NW_> a, const wide<NW_>& b) {   \
    for (int i = 0; i < NW_; ++i) a.w[i] = a.w[i] OP b.w[i];                        \
    return a;                                                                      \
  }
APX_WIDE_BITOP(&)
APX_WIDE_BITOP(|)
APX_WIDE_BITOP(^)
#undef APX_WIDE_BITOP
template <int NW_> inline bool operator==(const wide<NW_>& a, const wide<NW_>& b) {
  for (int i = 0; i < NW_; ++i)
    if (a.w[i] != b.w[i]) return false;
  return true;
}
template <int NW_> inline bool operator!=(const wide<NW_>& a, const wide<NW_>& b) { return !(a == b); }
template <int NW_> inline bool operator<(const wide<NW_>& a, const wide<NW_>& b) {
  if (a.neg() != b.neg()) return a.neg();
  for (int i = NW_ - 1; i >= 0; --i)
    if (a.w[i] != b.w[i]) return a.w[i] < b.w[i];
  return false;
}
template <int NW_> inline bool operator>(const wide<NW_>& a, const wide<NW_>& b) { return b < a; }
template <int NW_> inline bool operator<=(const wide<NW_>& a, const wide<NW_>& b) { return !(b < a); }
template <int NW_> inline bool operator>=(const wide<NW_>& a, const wide<NW_>& b) { return !(a < b); }
// Truncating division (C semantics: quotient rounds towards zero), by shift and subtract.
template <int NW_> inline wide<NW_> operator/(const wide<NW_>& a, const wide<NW_>& b) {
  bool na = a.neg(), nb = b.neg();
  wide<NW_> n = na ? -a : a, d = nb ? -b : b, q(0), r(0);
  for (int i = NW_ * 64 - 1; i >= 0; --i) {
    r = r << 1;
    r.set_bit(0, n.bit(i));
    if (!(r < d)) {  // magnitudes fit in NW*64-1 bits, so the signed compare is safe
      r = r - d;
      q.set_bit(i, true);
    }
  }
  return na != nb ? -q : q;
}
template <int NW_> inline wide<NW_> operator%(const wide<NW_>& a, const wide<NW_>& b) {
  return a - (a / b) * b;
}

// Uniform helpers over the two intermediate types.
inline bool z_neg(i128 v) { return v < 0; }
template <int NW_> inline bool z_neg(const wide<NW_>& v) { return v.neg(); }
inline bool z_bit(i128 v, int i) { return ((v >> (i > 127 ? 127 : i)) & 1) != 0; }
template <int NW_> inline bool z_bit(const wide<NW_>& v, int i) { return v.bit(i); }
inline bool z_any_low(i128 v, int n) {
  return n <= 0 ? false : n >= 128 ? v != 0 : ((u128)v & (((u128)1 << n) - 1)) != 0;
}
template <int NW_> inline bool z_any_low(const wide<NW_>& v, int n) { return v.any_low(n); }
inline i128 z_wrap(i128 v, int W_, bool S_) {
  int k = 128 - W_;
  return S_ ? (i128)((u128)v << k) >> k : (i128)(((u128)v << k) >> k);
}
template <int NW_> inline wide<NW_> z_wrap(wide<NW_> v, int W_, bool S_) {
  v.wrap(W_, S_);
  return v;
}
inline i64 z_low64(i128 v) { return (i64)v; }
template <int NW_> inline i64 z_low64(const wide<NW_>& v) { return (i64)v.w[0]; }

// ----- doubles without <cmath> ---------------------------------------------------------------
inline u64 dbits(double d) {
  u64 b;
  __builtin_memcpy(&b, &d, sizeof b);
  return b;
}
// 2^e as a double (0 or inf beyond the range).
inline double pow2(int e) {
  if (e > 1023) return e > 2100 ? pow2(1023) * pow2(1023) : pow2(1023) * pow2(e - 1023);
  if (e < -1022) return e < -2200 ? 0.0 : pow2(-1022) * pow2(e + 1022);
  u64 b = (u64)(e + 1023) << 52;
  double d;
  __builtin_memcpy(&d, &b, sizeof d);
  return d;
}
// x * 2^e in two steps so that intermediate powers stay representable.
inline double ldexp2(double x, int e) { return x * pow2(e / 2) * pow2(e - e / 2); }
// Split d into m * 2^e with |m| < 2^53. Infinities and NaNs read as 2^52.. * 2^972 (huge).
inline void dsplit(double d, i64& m, int& e) {
  u64 b = dbits(d);
  int ef = (int)((b >> 52) & 0x7ff);
  m = (i64)(b & ((1ull << 52) - 1));
  if (ef == 0) {
    e = -1074;
  } else {
    m |= (i64)1 << 52;
    e = ef - 1075;
  }
  if (ef == 0x7ff) m = (i64)1 << 52;  // inf and NaN: saturate or wrap like a huge value
  if (b >> 63) m = -m;
}
// Correctly rounded (to nearest even) double of the integer v times 2^-F.
template <class Z_> inline double z_to_double(const Z_& v, int F_, int bits) {
  bool n = z_neg(v);
  Z_ a = n ? Z_(0) - v : v;
  int top = -1;
  for (int i = bits; i >= 0; --i)
    if (z_bit(a, i)) { top = i; break; }
  if (top < 0) return 0.0;
  int sh = top > 63 ? top - 63 : 0;
  u64 hi = (u64)z_low64(a >> sh);
  if (sh && z_any_low(a, sh)) hi |= 1;  // sticky bit keeps round-to-nearest-even exact
  double r = (double)hi;
  r = ldexp2(r, sh - F_);
  return n ? -r : r;
}
inline double z_to_double(i128 v, int F_, int) {
  bool n = v < 0;
  u128 a = n ? (u128)0 - (u128)v : (u128)v;
  int sh = 0;
  while ((a >> sh) >> 64) ++sh;
  u64 hi = (u64)(a >> sh);
  if (sh && (a & (((u128)1 << sh) - 1))) hi |= 1;
  double r = ldexp2((double)hi, sh - F_);
  return n ? -r : r;
}

// ----- quantization and overflow --------------------------------------------------------------
// Whether dropping bits rounds the floor up by one LSB: qb is the first dropped bit, r the
// OR of the bits below it, neg the sign of the exact value and odd the floor's LSB.
template <ap_q_mode Q_> inline bool round_up(bool qb, bool r, bool neg, bool odd) {
  switch (Q_) {
    case AP_TRN: return false;
    case AP_TRN_ZERO: return neg && (qb || r);
    case AP_RND: return qb;
    case AP_RND_ZERO: return qb && (r || neg);
    case AP_RND_MIN_INF: return qb && r;
    case AP_RND_INF: return qb && (r || !neg);
    case AP_RND_CONV: return qb && (r || odd);
  }
  return false;
}

// Convert the exact value x * 2^-F2 (|x| < 2^xbits) to a W-bit mantissa with F fractional bits,
// quantizing with Q, then applying overflow mode O with N saturation bits. d = F - F2.
// Z must hold W + xbits + 3 bits.
template <class Z_, int W_, bool S_, ap_q_mode Q_, ap_o_mode O_, int N_>
inline Z_ convert(const Z_& x, int d, int xbits) {
  Z_ y;
  if (d >= 0) {
    if (d >= W_ && !(x == Z_(0)))
      y = z_neg(x) ? Z_(0) - (Z_(1) << (W_ + 1)) : (Z_(1) << (W_ + 1));  // low W bits zero, out of range
    else
      y = d >= W_ ? Z_(0) : x << d;
  } else {
    int s = -d > xbits + 1 ? xbits + 1 : -d;  // beyond that, the dropped part keeps its class
    y = x >> s;
    if (round_up<Q_>(z_bit(x, s - 1), z_any_low(x, s - 1), z_neg(x), z_bit(y, 0))) y = y + Z_(1);
  }
  const Z_ mn = S_ ? Z_(0) - (Z_(1) << (W_ - 1)) : Z_(0);
  const Z_ mx = S_ ? (Z_(1) << (W_ - 1)) - Z_(1) : (Z_(1) << W_) - Z_(1);
  Z_ w = z_wrap(y, W_, S_);
  bool sym_min = O_ == AP_SAT_SYM && S_ && y == mn;
  if (w == y && !sym_min) return w;
  switch (O_) {
    case AP_SAT_ZERO: return Z_(0);
    case AP_SAT:
    case AP_SAT_SYM:
      if (mx < y) return mx;
      if (!S_) return Z_(0);
      return O_ == AP_SAT_SYM ? z_wrap(mn | Z_(1), W_, S_) : mn;  // -max (W = 1: -1)
    default: break;
  }
  if (N_ == 0) return w;
  // Wrap with N saturated bits: the sign bit takes the sign of the value and the N - 1 bits
  // below it its complement (signed); the top N bits become ones (unsigned).
  const int n = N_ > W_ ? W_ : N_;
  bool neg = z_neg(y);
  Z_ r = w;
  if (S_) {
    r = neg ? (r | (Z_(1) << (W_ - 1))) : (r & ~(Z_(1) << (W_ - 1)));
    for (int i = W_ - n; i < W_ - 1; ++i) r = neg ? (r & ~(Z_(1) << i)) : (r | (Z_(1) << i));
  } else {
    for (int i = W_ - n; i < W_; ++i) r = r | (Z_(1) << i);
  }
  return z_wrap(r, W_, S_);
}

// ----- storage --------------------------------------------------------------------------------
template <int W_, bool S_, bool Big_ = (W_ > 64)> struct store;

// The narrowest C integer holding W bits: arrays of narrow types stay compact and contiguous,
// which lets the compiler vectorise loops over them (an ap_fixed<16, 6> takes two bytes).
template <int W_, bool S_> struct word_of {
  typedef typename select<
      (W_ <= 8), typename select<S_, signed char, unsigned char>::type,
      typename select<(W_ <= 16), typename select<S_, short, unsigned short>::type,
                      typename select<(W_ <= 32), typename select<S_, int, unsigned>::type,
                                      typename select<S_, i64, u64>::type>::type>::type>::type type;
};

template <int W_, bool S_> struct store<W_, S_, false> {
  typedef typename word_of<W_, S_>::type word;
  word V_;
  i128 z() const { return (i128)V_; }
  void load(i128& out) const { out = (i128)V_; }
  template <int NW_> void load(wide<NW_>& out) const { out = wide<NW_>((i128)V_); }
  void set(i128 v) { V_ = (word)z_wrap(v, W_, S_); }
  template <int NW_> void set(const wide<NW_>& v) { set((i128)(i64)v.w[0]); }
  bool get_bit(int i) const { return ((u64)V_ >> (i > 63 ? 63 : i)) & 1; }
  void set_bit(int i, bool b) {
    u64 m = 1ull << i;
    set((i128)(word)(b ? ((u64)V_ | m) : ((u64)V_ & ~m)));
  }
  bool is_zero() const { return V_ == 0; }
};

template <int W_, bool S_> struct store<W_, S_, true> {
  enum { NW_ = W_ / 64 + 1 };
  wide<NW_> V_;
  template <int NW2_> void load(wide<NW2_>& out) const {
    for (int i = 0; i < NW2_; ++i) out.w[i] = i < NW_ ? V_.w[i] : (V_.neg() ? ~0ull : 0ull);
  }
  void load(i128& out) const {  // only used when the value fits (W <= 126)
    out = (i128)(((u128)V_.w[1] << 64) | V_.w[0]);
  }
  void set(i128 v) {
    V_ = wide<NW_>(v);
    V_.wrap(W_, S_);
  }
  template <int NW2_> void set(const wide<NW2_>& v) {
    for (int i = 0; i < NW_; ++i) V_.w[i] = i < NW2_ ? v.w[i] : (v.neg() ? ~0ull : 0ull);
    V_.wrap(W_, S_);
  }
  bool get_bit(int i) const { return V_.bit(i); }
  void set_bit(int i, bool b) {
    V_.set_bit(i, b);
    V_.wrap(W_, S_);
  }
  bool is_zero() const { return V_.zero(); }
};

// Intermediate integer able to hold `bits` bits: __int128 when possible.
template <int Bits_> struct zt {
  typedef typename select<(Bits_ <= 126), i128, wide<Bits_ / 64 + 1> >::type type;
};

}  // namespace apx

// ----- the class templates ------------------------------------------------------------------
template <int W_, int I_, bool S_, ap_q_mode Q_, ap_o_mode O_, int N_, bool K_> struct ap_num;
template <int W_> struct ap_int;
template <int W_> struct ap_uint;
template <int W_, int I_, ap_q_mode Q_ = AP_TRN, ap_o_mode O_ = AP_WRAP, int N_ = 0> struct ap_fixed;
template <int W_, int I_, ap_q_mode Q_ = AP_TRN, ap_o_mode O_ = AP_WRAP, int N_ = 0> struct ap_ufixed;

template <int W_, bool S_> using ap_int_base = ap_num<W_, W_, S_, AP_TRN, AP_WRAP, 0, true>;
template <int W_, int I_, bool S_, ap_q_mode Q_ = AP_TRN, ap_o_mode O_ = AP_WRAP, int N_ = 0>
using ap_fixed_base = ap_num<W_, I_, S_, Q_, O_, N_, false>;

#include "ap_num.h"

#endif  // NNHLS_AP_COMMON_H
