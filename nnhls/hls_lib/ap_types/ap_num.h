// nnhls arbitrary-precision types: the ap_num class template and its operators.
// Private helper of ap_common.h; include ap_int.h or ap_fixed.h instead.
#ifndef NNHLS_AP_NUM_H
#define NNHLS_AP_NUM_H

#define APX_T1 int W1_, int I1_, bool S1_, ap_q_mode Q1_, ap_o_mode O1_, int N1_, bool K1_
#define APX_A1 W1_, I1_, S1_, Q1_, O1_, N1_, K1_
#define APX_T2 int W2_, int I2_, bool S2_, ap_q_mode Q2_, ap_o_mode O2_, int N2_, bool K2_
#define APX_A2 W2_, I2_, S2_, Q2_, O2_, N2_, K2_

namespace apx {

// Result type: ap_int / ap_uint when both operands are integers, else ap_fixed / ap_ufixed.
template <int W_, int I_, bool S_, bool K_> struct rt { typedef ap_fixed<W_, I_> type; };
template <int W_, int I_> struct rt<W_, I_, false, false> { typedef ap_ufixed<W_, I_> type; };
template <int W_, int I_> struct rt<W_, I_, true, true> { typedef ap_int<W_> type; };
template <int W_, int I_> struct rt<W_, I_, false, true> { typedef ap_uint<W_> type; };

// The ap type standing for a C integer operand.
template <class T_, bool Ok_ = (bool)cint<T_>::ok> struct cnum {};
template <class T_> struct cnum<T_, true> {
  typedef ap_num<cint<T_>::width, cint<T_>::width, (bool)cint<T_>::sign, AP_TRN, AP_WRAP, 0, true>
      type;
};

// Full-precision result types of binary operators (the vendor's documented widening rules).
template <APX_T1, APX_T2> struct ar {
  enum {
    F1_ = W1_ - I1_,
    F2_ = W2_ - I2_,
    K_ = K1_ && K2_,
    S_ = S1_ || S2_,
    pF = imax(F1_, F2_),
    pI = imax(I1_ + (S2_ && !S1_), I2_ + (S1_ && !S2_)) + 1,
    pW = pI + pF,
    mW = W1_ + W2_,
    mI = I1_ + I2_,
    dW = W1_ + imax(F2_, 0) + S2_,
    dI = I1_ + F2_ + S2_,
    modW = imin(W1_, W2_ + (S1_ && !S2_))
  };
  typedef typename rt<pW, pI, S_, K_>::type plus;
  typedef typename rt<pW, pI, true, K_>::type minus;
  typedef typename rt<mW, mI, S_, K_>::type mult;
  typedef typename rt<dW, dI, S_, K_>::type div;
  typedef typename rt<pW - 1, pI - 1, S_, K_>::type logic;
  typedef typename rt<modW, modW, S1_, true>::type mod;
};

// Implicit conversion: integers convert to a C integer, fixed-point values to double.
template <class D_, bool K_, int W_, bool S_> struct conv {
  operator double() const { return static_cast<const D_*>(this)->to_double(); }
};
template <class D_, int W_, bool S_> struct conv<D_, true, W_, S_> {
  typedef typename select<(W_ <= 32), typename select<S_, int, unsigned>::type,
                          typename select<S_, long long, unsigned long long>::type>::type ret;
  operator ret() const { return (ret) static_cast<const D_*>(this)->to_int64(); }
};

template <class P_> struct bit_ref {
  P_& p;
  int i;
  bit_ref(P_& p_, int i_) : p(p_), i(i_) {}
  bit_ref(const bit_ref&) = default;
  operator bool() const { return p.get_bit(i); }
  bool operator~() const { return !p.get_bit(i); }
  bit_ref& operator=(bool b) {
    p.set_bit(i, b);
    return *this;
  }
  bit_ref& operator=(const bit_ref& o) { return *this = (bool)o; }
  int length() const { return 1; }
};

template <class P_> struct range_ref {
  enum { width = P_::width };
  P_& p;
  int hi, lo;
  range_ref(P_& p_, int h, int l) : p(p_), hi(h), lo(l) {}
  range_ref(const range_ref&) = default;
  ap_uint<P_::width> get() const { return p.get_range(hi, lo); }
  template <class T_> range_ref& operator=(const T_& v) {
    p.set_range(hi, lo, v);
    return *this;
  }
  range_ref& operator=(const range_ref& o) {
    p.set_range(hi, lo, o.get());
    return *this;
  }
  int length() const { return (hi > lo ? hi - lo : lo - hi) + 1; }
  unsigned to_uint() const { return get().to_uint(); }
  int to_int() const { return get().to_int(); }
  u64 to_uint64() const { return get().to_uint64(); }
  i64 to_int64() const { return get().to_int64(); }
  bool operator!() const { return get() == 0; }
};

}  // namespace apx

template <int W_, int I_, bool S_, ap_q_mode Q_, ap_o_mode O_, int N_, bool K_>
struct ap_num : apx::store<W_, S_>, apx::conv<ap_num<W_, I_, S_, Q_, O_, N_, K_>, K_, W_, S_> {
  static_assert(W_ >= 1, "ap types need a width of at least 1 bit");
  // Declared types stay within 1024 bits (the vendor's default AP_INT_MAX_W); full-precision
  // operator results may be wider (two 1024-bit factors give a 2048-bit product), up to the
  // vendor's own ceiling.
  static_assert(W_ <= 32768, "nnhls ap types support widths from 1 to 32768 bits");
  static_assert(O_ != AP_WRAP_SM, "AP_WRAP_SM is not supported by the nnhls emulation headers");

  static const int width = W_;
  static const int iwidth = I_;
  static const ap_q_mode qmode = Q_;
  static const ap_o_mode omode = O_;
  enum { F_ = W_ - I_ };
  typedef apx::store<W_, S_> base;
  // Conversions into ap_int / ap_uint drop fractional bits towards zero (C's double -> int, and
  // the vendor's rule); fixed-point types quantize with their own mode.
  static const ap_q_mode CQ_ = K_ ? AP_TRN_ZERO : Q_;

  // ----- construction (quantize first, then overflow) ----------------------------------------
  ap_num() { this->set(0); }
  ap_num(const ap_num&) = default;
  ap_num& operator=(const ap_num&) = default;
  template <APX_T2> ap_num(const ap_num<APX_A2>& o) { from_num(o, apx::tag_<(W_ <= 64 && W2_ <= 64)>()); }
  template <class T_>
  ap_num(T_ v, typename apx::enable_if<apx::cint<T_>::ok, int>::type = 0) {
    *this = ap_num(apx::cnum<T_>::type::raw(v));
  }
  ap_num(double d) { from_double(d, apx::tag_<(W_ <= 64)>()); }
  ap_num(float f) { from_double((double)f, apx::tag_<(W_ <= 64)>()); }
  template <class P_> ap_num(const apx::range_ref<P_>& r) { *this = ap_num(r.get()); }
  template <class P_> ap_num(const apx::bit_ref<P_>& b) { *this = ap_num((bool)b); }

  // The value whose raw bits are those of the integer v (wrapped to W bits).
  template <class T_> static ap_num raw(T_ v) {
    ap_num r;
    r.set((apx::i128)v);
    return r;
  }

  // ----- conversions -----------------------------------------------------------------------
  double to_double() const {
    typename apx::zt<W_ + 1>::type z;
    this->load(z);
    return apx::z_to_double(z, F_, W_);
  }
  float to_float() const { return (float)to_double(); }
  // Integer part, truncated towards zero, wrapped to 64 bits.
  apx::i64 to_int64() const {
    typedef typename apx::zt<W_ + 66>::type Z_;
    Z_ z;
    this->load(z);
    if (F_ <= 0) return -F_ >= 64 ? 0 : apx::z_low64(z << -F_);
    int s = F_ > W_ + 1 ? W_ + 1 : F_;
    bool n = apx::z_neg(z);
    Z_ q = n ? Z_(0) - ((Z_(0) - z) >> s) : z >> s;
    return apx::z_low64(q);
  }
  apx::u64 to_uint64() const { return (apx::u64)to_int64(); }
  int to_int() const { return (int)to_int64(); }
  unsigned to_uint() const { return (unsigned)to_int64(); }
  long to_long() const { return (long)to_int64(); }
  unsigned long to_ulong() const { return (unsigned long)to_int64(); }
  bool to_bool() const { return !this->is_zero(); }
  int length() const { return W_; }
  bool is_neg() const { return S_ && this->get_bit(W_ - 1); }

  // ----- bits ----------------------------------------------------------------------------------
  apx::bit_ref<ap_num> operator[](int i) { return apx::bit_ref<ap_num>(*this, i); }
  bool operator[](int i) const { return this->get_bit(i); }
  apx::bit_ref<ap_num> bit(int i) { return (*this)[i]; }
  bool bit(int i) const { return this->get_bit(i); }
  apx::range_ref<ap_num> range(int hi, int lo) { return apx::range_ref<ap_num>(*this, hi, lo); }
  apx::range_ref<ap_num> range() { return range(W_ - 1, 0); }
  ap_uint<W_> range(int hi, int lo) const { return get_range(hi, lo); }
  ap_uint<W_> range() const { return get_range(W_ - 1, 0); }
  apx::range_ref<ap_num> operator()(int hi, int lo) { return range(hi, lo); }
  ap_uint<W_> operator()(int hi, int lo) const { return get_range(hi, lo); }

  ap_uint<W_> get_range(int hi, int lo) const {
    if (hi < lo) return reversed(lo, hi);
    typedef typename apx::zt<W_ + 2>::type Z_;
    Z_ z;
    this->load(z);
    Z_ m = (Z_(1) << (hi - lo + 1)) - Z_(1);
    return ap_uint<W_>::raw_z((z >> lo) & m);
  }
  template <class T_>
  typename apx::enable_if<apx::cint<T_>::ok>::type set_range(int hi, int lo, T_ v) {
    set_range(hi, lo, apx::cnum<T_>::type::raw(v));
  }
  template <class P_> void set_range(int hi, int lo, const apx::range_ref<P_>& v) {
    set_range(hi, lo, v.get());
  }
  template <APX_T2> void set_range(int hi, int lo, const ap_num<APX_A2>& v) {
    if (hi < lo) {
      for (int i = lo; i >= hi; --i) this->set_bit(i, v.get_bit(lo - i));
      return;
    }
    typedef typename apx::zt<apx::imax(W_, W2_) + 2>::type Z_;
    Z_ z, x;
    this->load(z);
    v.load(x);
    Z_ m = ((Z_(1) << (hi - lo + 1)) - Z_(1)) << lo;
    this->set((z & ~m) | ((x << lo) & m));
  }
  template <class Z_> static ap_num raw_z(const Z_& z) {
    ap_num r;
    r.set(z);
    return r;
  }

  // ----- compound assignment and increments ------------------------------------------------
#define APX_COMPOUND(OP)                                   \
  template <class T_> ap_num& operator OP##=(const T_& b) {  \
    *this = ap_num(*this OP b);                            \
    return *this;                                          \
  }
  APX_COMPOUND(+)
  APX_COMPOUND(-)
  APX_COMPOUND(*)
  APX_COMPOUND(/)
  APX_COMPOUND(%)
  APX_COMPOUND(&)
  APX_COMPOUND(|)
  APX_COMPOUND(^)
  APX_COMPOUND(<<)
  APX_COMPOUND(>>)
#undef APX_COMPOUND
  ap_num& operator++() { return *this += 1; }
  ap_num& operator--() { return *this -= 1; }
  ap_num operator++(int) {
    ap_num t = *this;
    ++*this;
    return t;
  }
  ap_num operator--(int) {
    ap_num t = *this;
    --*this;
    return t;
  }

  // ----- shifts of the raw bits (same type, like the vendor's) -----------------------------
  ap_num shift_left(int n) const {
    if (n < 0) return shift_right(-n);
    typedef typename apx::zt<2 * W_ + 4>::type Z_;
    Z_ z;
    this->load(z);
    return raw_z(z << (n > W_ ? W_ : n));
  }
  ap_num shift_right(int n) const {
    if (n < 0) return shift_left(-n);
    typedef typename apx::zt<W_ + 2>::type Z_;
    Z_ z;
    this->load(z);
    return raw_z(z >> (n > W_ ? W_ : n));
  }

 private:
  template <APX_T2> void from_num(const ap_num<APX_A2>& o, apx::tag_<true>) {
    apx::i128 x;
    o.load(x);
    this->set(apx::convert<apx::i128, W_, S_, CQ_, O_, N_>(x, F_ - (W2_ - I2_), 64));
  }
  template <APX_T2> void from_num(const ap_num<APX_A2>& o, apx::tag_<false>) {
    typedef apx::wide<(W_ + W2_ + 4) / 64 + 1> Z_;
    Z_ x;
    o.load(x);
    this->set(apx::convert<Z_, W_, S_, CQ_, O_, N_>(x, F_ - (W2_ - I2_), W2_));
  }
  template <bool Fast_> void from_double(double d, apx::tag_<Fast_>) {
    typedef typename apx::select<Fast_, apx::i128, apx::wide<(W_ + 60) / 64 + 1> >::type Z_;
    apx::i64 m;
    int e;
    apx::dsplit(d, m, e);
    this->set(apx::convert<Z_, W_, S_, CQ_, O_, N_>(Z_((apx::i128)m), F_ + e, 53));
  }
  ap_uint<W_> reversed(int lo, int hi) const {  // bits lo..hi in reverse order (range(lo, hi) with lo < hi)
    ap_uint<W_> r;
    for (int i = hi; i <= lo; ++i) r.set_bit(lo - i, this->get_bit(i));
    (void)hi;
    return r;
  }
};

// ----- binary operators between ap types ------------------------------------------------------
template <APX_T1, APX_T2>
inline typename apx::ar<APX_A1, APX_A2>::plus operator+(const ap_num<APX_A1>& a, const ap_num<APX_A2>& b) {
  typedef typename apx::ar<APX_A1, APX_A2>::plus R_;
  typedef typename apx::zt<R_::width + 1>::type Z_;
  Z_ x, y;
  a.load(x);
  b.load(y);
  return R_::raw_z((x << (R_::F_ - (W1_ - I1_))) + (y << (R_::F_ - (W2_ - I2_))));
}
template <APX_T1, APX_T2>
inline typename apx::ar<APX_A1, APX_A2>::minus operator-(const ap_num<APX_A1>& a, const ap_num<APX_A2>& b) {
  typedef typename apx::ar<APX_A1, APX_A2>::minus R_;
  typedef typename apx::zt<R_::width + 1>::type Z_;
  Z_ x, y;
  a.load(x);
  b.load(y);
  return R_::raw_z((x << (R_::F_ - (W1_ - I1_))) - (y << (R_::F_ - (W2_ - I2_))));
}
template <APX_T1, APX_T2>
inline typename apx::ar<APX_A1, APX_A2>::mult operator*(const ap_num<APX_A1>& a, const ap_num<APX_A2>& b) {
  typedef typename apx::ar<APX_A1, APX_A2>::mult R_;
  typedef typename apx::zt<R_::width + 1>::type Z_;
  Z_ x, y;
  a.load(x);
  b.load(y);
  return R_::raw_z(x * y);
}
// Quotient with the dividend's fractional bits (plus the divisor's), truncated towards zero.
template <APX_T1, APX_T2>
inline typename apx::ar<APX_A1, APX_A2>::div operator/(const ap_num<APX_A1>& a, const ap_num<APX_A2>& b) {
  typedef typename apx::ar<APX_A1, APX_A2>::div R_;
  typedef typename apx::zt<apx::imax(R_::width, W2_) + 2>::type Z_;
  Z_ x, y;
  a.load(x);
  b.load(y);
  return R_::raw_z((x << apx::imax(W2_ - I2_, 0)) / y);
}
template <APX_T1, APX_T2>
inline typename apx::ar<APX_A1, APX_A2>::mod operator%(const ap_num<APX_A1>& a, const ap_num<APX_A2>& b) {
  static_assert(K1_ && K2_, "% needs integer operands");
  typedef typename apx::ar<APX_A1, APX_A2>::mod R_;
  typedef typename apx::zt<apx::imax(W1_, W2_) + 2>::type Z_;
  Z_ x, y;
  a.load(x);
  b.load(y);
  return R_::raw_z(x % y);
}
#define APX_BITOP(OP)                                                                        \
  template <APX_T1, APX_T2>                                                                  \
  inline typename apx::ar<APX_A1, APX_A2>::logic operator OP(const ap_num<APX_A1>& a,        \
                                                             const ap_num<APX_A2>& b) {      \
    typedef typename apx::ar<APX_A1, APX_A2>::logic R_;                                       \
    typedef typename apx::zt<R_::width + 1>::type Z_;                                          \
    Z_ x, y;                                                                                  \
    a.load(x);                                                                               \
    b.load(y);                                                                               \
    return R_::raw_z((x << (R_::F_ - (W1_ - I1_)))OP(y << (R_::F_ - (W2_ - I2_))));                   \
  }
APX_BITOP(&)
APX_BITOP(|)
APX_BITOP(^)
#undef APX_BITOP

// Sign of a - b, exactly (binary points aligned).
template <APX_T1, APX_T2> inline int ap_cmp(const ap_num<APX_A1>& a, const ap_num<APX_A2>& b) {
  typedef apx::ar<APX_A1, APX_A2> A_;
  typedef typename apx::zt<A_::pW + 1>::type Z_;
  Z_ x, y;
  a.load(x);
  b.load(y);
  x = x << (A_::pF - (W1_ - I1_));
  y = y << (A_::pF - (W2_ - I2_));
  return x < y ? -1 : (y < x ? 1 : 0);
}
#define APX_CMP(OP)                                                                            \
  template <APX_T1, APX_T2>                                                                    \
  inline bool operator OP(const ap_num<APX_A1>& a, const ap_num<APX_A2>& b) {                  \
    return ap_cmp(a, b) OP 0;                                                                  \
  }                                                                                            \
  template <APX_T1, class T_>                                                                   \
  inline typename apx::enable_if<apx::cint<T_>::ok, bool>::type operator OP(                    \
      const ap_num<APX_A1>& a, T_ b) {                                                          \
    return ap_cmp(a, apx::cnum<T_>::type::raw(b)) OP 0;                                \
  }                                                                                            \
  template <APX_T1, class T_>                                                                   \
  inline typename apx::enable_if<apx::cint<T_>::ok, bool>::type operator OP(                    \
      T_ b, const ap_num<APX_A1>& a) {                                                          \
    return ap_cmp(apx::cnum<T_>::type::raw(b), a) OP 0;                                \
  }                                                                                            \
  template <APX_T1, class T_>                                                                   \
  inline typename apx::enable_if<apx::cfloat<T_>::ok, bool>::type operator OP(                  \
      const ap_num<APX_A1>& a, T_ b) {                                                          \
    return a.to_double() OP(double) b;                                                         \
  }                                                                                            \
  template <APX_T1, class T_>                                                                   \
  inline typename apx::enable_if<apx::cfloat<T_>::ok, bool>::type operator OP(                  \
      T_ b, const ap_num<APX_A1>& a) {                                                          \
    return (double)b OP a.to_double();                                                         \
  }
APX_CMP(==)
APX_CMP(!=)
APX_CMP(<)
APX_CMP(>)
APX_CMP(<=)
APX_CMP(>=)
#undef APX_CMP

// Mixed with C integers (widened like the vendor: int is a 32-bit signed ap type), and with
// float / double for integer types (computed in floating point, as the vendor does). For
// fixed-point types a floating operand is ambiguous in the vendor's library: deleted here.

#define APX_ARITH_INT(OP)                                                                      \
  template <APX_T1, class T_>                                                                   \
  inline auto operator OP(const ap_num<APX_A1>& a, T_ b)                                        \
      ->typename apx::enable_if<apx::cint<T_>::ok,                                              \
                                decltype(a OP apx::cnum<T_>::type::raw(b))>::type {             \
    return a OP apx::cnum<T_>::type::raw(b);                                                    \
  }                                                                                            \
  template <APX_T1, class T_>                                                                   \
  inline auto operator OP(T_ b, const ap_num<APX_A1>& a)                                        \
      ->typename apx::enable_if<apx::cint<T_>::ok,                                              \
                                decltype(apx::cnum<T_>::type::raw(b) OP a)>::type {             \
    return apx::cnum<T_>::type::raw(b) OP a;                                                    \
  }                                                                                            \
  template <APX_T1, class T_>                                                                   \
  inline typename apx::enable_if<apx::cfloat<T_>::ok && K1_, T_>::type operator OP(               \
      const ap_num<APX_A1>& a, T_ b) {                                                          \
    return (T_)a.to_double() OP b;                                                              \
  }                                                                                            \
  template <APX_T1, class T_>                                                                   \
  inline typename apx::enable_if<apx::cfloat<T_>::ok && K1_, T_>::type operator OP(               \
      T_ b, const ap_num<APX_A1>& a) {                                                          \
    return b OP(T_) a.to_double();                                                              \
  }                                                                                            \
  template <APX_T1, class T_>                                                                   \
  typename apx::enable_if<apx::cfloat<T_>::ok && !K1_, void>::type operator OP(                  \
      const ap_num<APX_A1>& a, T_ b) = delete;                                                  \
  template <APX_T1, class T_>                                                                   \
  typename apx::enable_if<apx::cfloat<T_>::ok && !K1_, void>::type operator OP(                  \
      T_ b, const ap_num<APX_A1>& a) = delete;
APX_ARITH_INT(+)
APX_ARITH_INT(-)
APX_ARITH_INT(*)
APX_ARITH_INT(/)
#undef APX_ARITH_INT

#define APX_INT_ONLY(OP)                                                                       \
  template <APX_T1, class T_>                                                                   \
  inline auto operator OP(const ap_num<APX_A1>& a, T_ b)                                        \
      ->typename apx::enable_if<apx::cint<T_>::ok,                                              \
                                decltype(a OP apx::cnum<T_>::type::raw(b))>::type {             \
    return a OP apx::cnum<T_>::type::raw(b);                                                    \
  }                                                                                            \
  template <APX_T1, class T_>                                                                   \
  inline auto operator OP(T_ b, const ap_num<APX_A1>& a)                                        \
      ->typename apx::enable_if<apx::cint<T_>::ok,                                              \
                                decltype(apx::cnum<T_>::type::raw(b) OP a)>::type {             \
    return apx::cnum<T_>::type::raw(b) OP a;                                                    \
  }
APX_INT_ONLY(%)
APX_INT_ONLY(&)
APX_INT_ONLY(|)
APX_INT_ONLY(^)
#undef APX_INT_ONLY

// ----- unary operators and shifts ---------------------------------------------------------------
template <APX_T1>
inline typename apx::rt<W1_ + 1, I1_ + 1, true, K1_>::type operator-(const ap_num<APX_A1>& a) {
  typedef typename apx::rt<W1_ + 1, I1_ + 1, true, K1_>::type R_;
  typedef typename apx::zt<W1_ + 2>::type Z_;
  Z_ x;
  a.load(x);
  return R_::raw_z(Z_(0) - x);
}
template <APX_T1> inline ap_num<APX_A1> operator+(const ap_num<APX_A1>& a) { return a; }
template <APX_T1> inline ap_num<APX_A1> operator~(const ap_num<APX_A1>& a) {
  typedef typename apx::zt<W1_ + 1>::type Z_;
  Z_ x;
  a.load(x);
  return ap_num<APX_A1>::raw_z(~x);
}
template <APX_T1> inline bool operator!(const ap_num<APX_A1>& a) { return a.is_zero(); }
template <APX_T1, class T_>
inline typename apx::enable_if<apx::cint<T_>::ok, ap_num<APX_A1> >::type operator<<(const ap_num<APX_A1>& a, T_ n) {
  return a.shift_left((int)n);
}
template <APX_T1, class T_>
inline typename apx::enable_if<apx::cint<T_>::ok, ap_num<APX_A1> >::type operator>>(const ap_num<APX_A1>& a, T_ n) {
  return a.shift_right((int)n);
}
template <APX_T1, APX_T2>
inline ap_num<APX_A1> operator<<(const ap_num<APX_A1>& a, const ap_num<APX_A2>& n) {
  return a.shift_left(n.to_int());
}
template <APX_T1, APX_T2>
inline ap_num<APX_A1> operator>>(const ap_num<APX_A1>& a, const ap_num<APX_A2>& n) {
  return a.shift_right(n.to_int());
}

// ----- range / bit references used as values ------------------------------------------------------
#define APX_REF_OP(OP)                                                                           \
  template <class P_, class T_>                                                                    \
  inline auto operator OP(const apx::range_ref<P_>& r, const T_& t)->decltype(r.get() OP t) {      \
    return r.get() OP t;                                                                         \
  }                                                                                              \
  template <class T_, class P_>                                                                    \
  inline auto operator OP(const T_& t, const apx::range_ref<P_>& r)->decltype(t OP r.get()) {      \
    return t OP r.get();                                                                         \
  }                                                                                              \
  template <class P_, class P2_>                                                                   \
  inline auto operator OP(const apx::range_ref<P_>& r, const apx::range_ref<P2_>& t)               \
      ->decltype(r.get() OP t.get()) {                                                           \
    return r.get() OP t.get();                                                                   \
  }
APX_REF_OP(+)
APX_REF_OP(-)
APX_REF_OP(*)
APX_REF_OP(/)
APX_REF_OP(&)
APX_REF_OP(|)
APX_REF_OP(^)
APX_REF_OP(==)
APX_REF_OP(!=)
APX_REF_OP(<)
APX_REF_OP(>)
APX_REF_OP(<=)
APX_REF_OP(>=)
#undef APX_REF_OP

// ----- printing (templated on the stream so that only <iosfwd> is needed) ---------------------
namespace apx {
template <class Z_> inline void print_int(char* buf, int& n, Z_ z) {  // decimal digits, reversed
  bool neg = z_neg(z);
  if (neg) z = Z_(0) - z;
  do {
    Z_ q = z / Z_(10);
    buf[n++] = (char)('0' + (int)z_low64(z - q * Z_(10)));
    z = q;
  } while (!(z == Z_(0)));
  if (neg) buf[n++] = '-';
}
}  // namespace apx
template <class C_, class Tr_, APX_T1>
inline std::basic_ostream<C_, Tr_>& operator<<(std::basic_ostream<C_, Tr_>& os, const ap_num<APX_A1>& a) {
  if (!K1_) return os << a.to_double();
  typedef typename apx::zt<W1_ + 2>::type Z_;
  Z_ z;
  a.load(z);
  char buf[330];
  int n = 0;
  apx::print_int(buf, n, z);
  while (n) os << buf[--n];
  return os;
}
template <class C_, class Tr_, class P_>
inline std::basic_ostream<C_, Tr_>& operator<<(std::basic_ostream<C_, Tr_>& os, const apx::range_ref<P_>& r) {
  return os << r.get();
}

template <int W_, int I_, bool S_, ap_q_mode Q_, ap_o_mode O_, int N_, bool K_>
const int ap_num<W_, I_, S_, Q_, O_, N_, K_>::width;
template <int W_, int I_, bool S_, ap_q_mode Q_, ap_o_mode O_, int N_, bool K_>
const int ap_num<W_, I_, S_, Q_, O_, N_, K_>::iwidth;
template <int W_, int I_, bool S_, ap_q_mode Q_, ap_o_mode O_, int N_, bool K_>
const ap_q_mode ap_num<W_, I_, S_, Q_, O_, N_, K_>::qmode;
template <int W_, int I_, bool S_, ap_q_mode Q_, ap_o_mode O_, int N_, bool K_>
const ap_o_mode ap_num<W_, I_, S_, Q_, O_, N_, K_>::omode;

// ----- the public types ---------------------------------------------------------------------------
// Thin wrappers: constructors are inherited, and the base constructor lets the results of
// ap_num operators convert back to the derived type.
template <int W_>
struct ap_int : ap_num<W_, W_, true, AP_TRN, AP_WRAP, 0, true> {
  typedef ap_num<W_, W_, true, AP_TRN, AP_WRAP, 0, true> base;
  using base::base;
  ap_int() {}
  ap_int(const base& b) : base(b) {}
};
template <int W_>
struct ap_uint : ap_num<W_, W_, false, AP_TRN, AP_WRAP, 0, true> {
  typedef ap_num<W_, W_, false, AP_TRN, AP_WRAP, 0, true> base;
  using base::base;
  ap_uint() {}
  ap_uint(const base& b) : base(b) {}
};
template <int W_, int I_, ap_q_mode Q_, ap_o_mode O_, int N_>
struct ap_fixed : ap_num<W_, I_, true, Q_, O_, N_, false> {
  typedef ap_num<W_, I_, true, Q_, O_, N_, false> base;
  using base::base;
  ap_fixed() {}
  ap_fixed(const base& b) : base(b) {}
};
template <int W_, int I_, ap_q_mode Q_, ap_o_mode O_, int N_>
struct ap_ufixed : ap_num<W_, I_, false, Q_, O_, N_, false> {
  typedef ap_num<W_, I_, false, Q_, O_, N_, false> base;
  using base::base;
  ap_ufixed() {}
  ap_ufixed(const base& b) : base(b) {}
};

#undef APX_T1
#undef APX_A1
#undef APX_T2
#undef APX_A2

#endif  // NNHLS_AP_NUM_H
