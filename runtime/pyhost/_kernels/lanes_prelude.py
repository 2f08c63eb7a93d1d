"""C++ support for the lane-batched CPU build of a kernel (see ``lanes.py``): PH_L launch indices
run together, each value of the kernel held as GCC vectors of PH_W lanes (PH_K of them, so that
independent vectors hide the latency of a dependent chain such as mandelbrot's).

Inside ``namespace ph_lanes`` the kernel type names (``ph_f64``, ``ph_bool``...) name lane types,
so the scalar translator's expression text (``((ph_f64)px) * step``) means the same per lane:
``V<A> op V<B>`` converts both sides to ``decltype(A() op B())`` as C++ does for scalars, and
every helper that can fail or touch memory runs lane by lane, only on the lanes of the mask its
``ph_ctx`` (the ``ph_err`` argument of the scalar code) carries, with the scalar helper itself.
Vector +, -, *, / and conversions round as the scalar ones (no contraction, no reassociation),
so each lane gets the scalar path's bits.

CPU only (never seen by NVRTC); GCC >= 9 (vector ?:, __builtin_convertvector). Elsewhere
PH_LANES_ON is 0 and the entry point runs the scalar loop alone.
"""

LANES_PRELUDE = r"""// ---- pyhost lanes: PH_L indices at once on the CPU (GCC vector extensions) ----
#if !PH_CUDA && PH_LANES_WANTED && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 9
#define PH_LANES_ON 1
#if defined(__AVX512F__)
#define PH_W 8
#elif defined(__AVX__)
#define PH_W 4
#else
#define PH_W 2
#endif
#define PH_L 32
#define PH_K (PH_L / PH_W)
#define PH_AI inline __attribute__((always_inline))
#define PH_LI static PH_AI
#define PH_PARTS _Pragma("GCC unroll 16") for (int ph_k = 0; ph_k < PH_K; ++ph_k)
#define PH_EACH for (int ph_l = 0; ph_l < PH_L; ++ph_l)
namespace ph_lanes {
template <bool C, typename T = void> struct en {};
template <typename T> struct en<true, T> { typedef T type; };
template <typename T> T&& dv();
template <typename T> struct is_sc { enum { ok = 0 }; };
#define PH_SC(T) template <> struct is_sc<T> { enum { ok = 1 }; };
PH_SC(bool) PH_SC(char) PH_SC(signed char) PH_SC(unsigned char) PH_SC(short) PH_SC(unsigned short)
PH_SC(int) PH_SC(unsigned int) PH_SC(long) PH_SC(unsigned long) PH_SC(long long)
PH_SC(unsigned long long) PH_SC(float) PH_SC(double)
#undef PH_SC
template <int N> struct sint;
template <> struct sint<1> { typedef signed char type; };
template <> struct sint<2> { typedef short type; };
template <> struct sint<4> { typedef int type; };
template <> struct sint<8> { typedef long long type; };

// A lane mask (a bool per lane): -1 on, 0 off.
struct M {
  typedef long long mt __attribute__((vector_size(8 * PH_W)));
  mt v[PH_K];
  M() = default;
  PH_AI M(bool b) { PH_PARTS v[ph_k] = (mt){} + (b ? -1LL : 0LL); }
  bool operator[](int l) const { return v[l / PH_W][l % PH_W] != 0; }
  void set(int l, bool b) { v[l / PH_W][l % PH_W] = b ? -1LL : 0LL; }
};
// PH_L lanes of a number.
template <typename T> struct V {
  typedef T vt __attribute__((vector_size(sizeof(T) * PH_W)));
  typedef typename sint<sizeof(T)>::type it __attribute__((vector_size(sizeof(T) * PH_W)));
  vt v[PH_K];
  V() = default;
  template <typename S, typename = typename en<is_sc<S>::ok>::type>
  PH_AI V(S x) { PH_PARTS v[ph_k] = (vt){} + (T)x; }
  template <typename U>
  PH_AI explicit V(const V<U>& o) { PH_PARTS v[ph_k] = __builtin_convertvector(o.v[ph_k], vt); }
  PH_AI explicit V(const M& m) { PH_PARTS v[ph_k] = __builtin_convertvector(m.v[ph_k] & 1, vt); }
  T operator[](int l) const { return v[l / PH_W][l % PH_W]; }
  void set(int l, T x) { v[l / PH_W][l % PH_W] = x; }
  PH_AI static it cond(const M& m, int k) { return __builtin_convertvector(m.v[k], it); }
};
template <typename T> struct lt { typedef V<T> type; };
template <> struct lt<bool> { typedef M type; };
template <typename T> struct is_lane { enum { ok = 0 }; };
template <typename T> struct is_lane<V<T> > { enum { ok = 1 }; };
template <> struct is_lane<M> { enum { ok = 1 }; };
template <typename... A> struct any_lane { enum { ok = 0 }; };
template <typename A, typename... R> struct any_lane<A, R...> {
  enum { ok = is_lane<A>::ok || any_lane<R...>::ok };
};

#define PH_BIN(op)                                                                           \
  template <typename A, typename B>                                                         \
  PH_LI V<decltype(A() op B())> operator op(const V<A>& a, const V<B>& b) {                 \
    typedef decltype(A() op B()) R;                                                         \
    V<R> x(a), y(b), r;                                                                     \
    PH_PARTS r.v[ph_k] = x.v[ph_k] op y.v[ph_k];                                            \
    return r;                                                                               \
  }                                                                                         \
  template <typename A, typename B, typename = typename en<is_sc<B>::ok>::type>             \
  PH_LI V<decltype(A() op B())> operator op(const V<A>& a, B b) {                           \
    return a op V<decltype(A() op B())>(b);                                                 \
  }                                                                                         \
  template <typename A, typename B, typename = typename en<is_sc<A>::ok>::type>             \
  PH_LI V<decltype(A() op B())> operator op(A a, const V<B>& b) {                           \
    return V<decltype(A() op B())>(a) op b;                                                 \
  }
PH_BIN(+) PH_BIN(-) PH_BIN(*) PH_BIN(/) PH_BIN(&) PH_BIN(|) PH_BIN(^)
#undef PH_BIN
#define PH_CMP(op)                                                                           \
  template <typename A, typename B>                                                         \
  PH_LI M operator op(const V<A>& a, const V<B>& b) {                                       \
    typedef decltype(A() + B()) R;                                                          \
    V<R> x(a), y(b);                                                                        \
    M r;                                                                                    \
    PH_PARTS r.v[ph_k] = __builtin_convertvector(x.v[ph_k] op y.v[ph_k], M::mt);            \
    return r;                                                                               \
  }                                                                                         \
  template <typename A, typename B, typename = typename en<is_sc<B>::ok>::type>             \
  PH_LI M operator op(const V<A>& a, B b) {                                                 \
    return a op V<decltype(A() + B())>(b);                                                  \
  }                                                                                         \
  template <typename A, typename B, typename = typename en<is_sc<A>::ok>::type>             \
  PH_LI M operator op(A a, const V<B>& b) {                                                 \
    return V<decltype(A() + B())>(a) op b;                                                  \
  }
PH_CMP(<) PH_CMP(<=) PH_CMP(>) PH_CMP(>=) PH_CMP(==) PH_CMP(!=)
#undef PH_CMP
template <typename T> PH_LI V<T> operator-(const V<T>& a) {
  V<T> r;
  PH_PARTS r.v[ph_k] = -a.v[ph_k];
  return r;
}
template <typename T> PH_LI V<T> operator~(const V<T>& a) {
  V<T> r;
  PH_PARTS r.v[ph_k] = ~a.v[ph_k];
  return r;
}
// Masks: logic, and Python's order of bools (False < True).
#define PH_MOP(op, expr)                                \
  PH_LI M operator op(const M& a, const M& b) {         \
    M r;                                                \
    PH_PARTS r.v[ph_k] = expr;                          \
    return r;                                           \
  }
PH_MOP(&, a.v[ph_k] & b.v[ph_k]) PH_MOP(|, a.v[ph_k] | b.v[ph_k])
PH_MOP(^, a.v[ph_k] ^ b.v[ph_k]) PH_MOP(&&, a.v[ph_k] & b.v[ph_k])
PH_MOP(||, a.v[ph_k] | b.v[ph_k]) PH_MOP(==, ~(a.v[ph_k] ^ b.v[ph_k]))
PH_MOP(!=, a.v[ph_k] ^ b.v[ph_k]) PH_MOP(<, ~a.v[ph_k] & b.v[ph_k])
PH_MOP(>, a.v[ph_k] & ~b.v[ph_k]) PH_MOP(<=, ~a.v[ph_k] | b.v[ph_k])
PH_MOP(>=, a.v[ph_k] | ~b.v[ph_k])
#undef PH_MOP
PH_LI M operator!(const M& a) {
  M r;
  PH_PARTS r.v[ph_k] = ~a.v[ph_k];
  return r;
}
// One vector test (GCC otherwise moves every lane to a general register to OR them).
PH_LI bool ph_any(const M& m) {
  M::mt r = m.v[0];
  for (int k = 1; k < PH_K; ++k) r |= m.v[k];
#if defined(__AVX512F__) && PH_W == 8
  return __builtin_ia32_ptestmq512(r, r, 0xFF) != 0;
#elif defined(__AVX__) && PH_W == 4
  return !__builtin_ia32_ptestz256(r, r);
#elif defined(__SSE4_1__) && PH_W == 2
  return !__builtin_ia32_ptestz128(r, r);
#else
  long long x = 0;
  for (int l = 0; l < PH_W; ++l) x |= r[l];
  return x != 0;
#endif
}
PH_LI bool ph_all(const M& m) { return !ph_any(!m); }
template <typename T> PH_LI V<T> ph_sel(const M& m, const V<T>& a, const V<T>& b) {
  V<T> r;
  PH_PARTS r.v[ph_k] = V<T>::cond(m, ph_k) ? a.v[ph_k] : b.v[ph_k];
  return r;
}
PH_LI M ph_sel(const M& m, const M& a, const M& b) {
  M r;
  PH_PARTS r.v[ph_k] = (m.v[ph_k] & a.v[ph_k]) | (~m.v[ph_k] & b.v[ph_k]);
  return r;
}
template <typename T> PH_LI T ph_sel(bool m, const T& a, const T& b) { return m ? a : b; }

// One lane of a value (scalars, arrays: the value itself) and setting one lane.
template <typename T> PH_LI T lane(const T& x, int) { return x; }
template <typename T> PH_LI T lane(const V<T>& x, int l) { return x[l]; }
PH_LI bool lane(const M& x, int l) { return x[l]; }
template <typename T> PH_LI void put(V<T>& r, int l, T x) { r.set(l, x); }
PH_LI void put(M& r, int l, bool x) { r.set(l, x); }

// What the scalar code calls ph_err: where each lane records its first error, and the lanes on.
struct ph_ctx {
  int* err;
  const M* m;
  bool on(int l) const { return (*m)[l]; }
};

// Helpers that can fail: the scalar helper, lane by lane, on the lanes of the mask only.
#define PH_FAIL2(name)                                                                      \
  template <typename A, typename B>                                                        \
  static inline typename lt<decltype(::name(lane(dv<A>(), 0), lane(dv<B>(), 0), 0,         \
                                            (int*)0))>::type                               \
  name(const A& a, const B& b, int site, const ph_ctx& c) {                                \
    typename lt<decltype(::name(lane(a, 0), lane(b, 0), 0, (int*)0))>::type r = 0;        \
    PH_EACH if (c.on(ph_l)) put(r, ph_l, ::name(lane(a, ph_l), lane(b, ph_l), site,       \
                                                c.err + ph_l));                            \
    return r;                                                                              \
  }
PH_FAIL2(ph_div) PH_FAIL2(ph_floordiv_i) PH_FAIL2(ph_mod_i) PH_FAIL2(ph_mod_f)
PH_FAIL2(ph_floordiv_f) PH_FAIL2(ph_ipow) PH_FAIL2(ph_shl) PH_FAIL2(ph_shr)
#undef PH_FAIL2
PH_LI void ph_failif(const ph_ctx& c, const M& bad, int site) {
  if (ph_any(bad)) PH_EACH if (c.on(ph_l) && bad[ph_l]) ::ph_fail(c.err + ph_l, site);
}

// Pure helpers: every lane (the scalar ones stay visible for uniform arguments).
#define PH_PURE1(name)                                                                      \
  using ::name;                                                                            \
  template <typename T> static inline typename lt<decltype(::name(T()))>::type name(const V<T>& x) { \
    typename lt<decltype(::name(T()))>::type r;                                            \
    PH_EACH put(r, ph_l, ::name(x[ph_l]));                                                 \
    return r;                                                                              \
  }
#define PH_PURE2(name)                                                                      \
  using ::name;                                                                            \
  template <typename A, typename B, typename = typename en<any_lane<A, B>::ok>::type>       \
  static inline V<decltype(::name(lane(dv<A>(), 0), lane(dv<B>(), 0)))> name(const A& a,   \
                                                                             const B& b) { \
    V<decltype(::name(lane(a, 0), lane(b, 0)))> r;                                         \
    PH_EACH r.set(ph_l, ::name(lane(a, ph_l), lane(b, ph_l)));                             \
    return r;                                                                              \
  }
PH_PURE1(ph_sqrt) PH_PURE1(ph_cbrt) PH_PURE1(ph_exp) PH_PURE1(ph_exp2) PH_PURE1(ph_expm1)
PH_PURE1(ph_log) PH_PURE1(ph_log2) PH_PURE1(ph_log10) PH_PURE1(ph_log1p) PH_PURE1(ph_sin)
PH_PURE1(ph_cos) PH_PURE1(ph_tan) PH_PURE1(ph_asin) PH_PURE1(ph_acos) PH_PURE1(ph_atan)
PH_PURE1(ph_sinh) PH_PURE1(ph_cosh) PH_PURE1(ph_tanh) PH_PURE1(ph_asinh) PH_PURE1(ph_acosh)
PH_PURE1(ph_atanh) PH_PURE1(ph_fabs) PH_PURE1(ph_floor) PH_PURE1(ph_ceil) PH_PURE1(ph_trunc)
PH_PURE1(ph_rint) PH_PURE1(ph_erf) PH_PURE1(ph_erfc) PH_PURE1(ph_gamma) PH_PURE1(ph_lgamma)
PH_PURE1(ph_isnan) PH_PURE1(ph_isinf) PH_PURE1(ph_isfinite)
PH_PURE2(ph_atan2) PH_PURE2(ph_pow) PH_PURE2(ph_fmod) PH_PURE2(ph_hypot) PH_PURE2(ph_copysign)
#undef PH_PURE1
#undef PH_PURE2
// pyhost.random on all lanes at once: the prelude's Philox-4x32-10, each 32-bit word in a 64-bit
// vector lane (the 32x32 -> 64 products are exact), the same integer steps and an exact double
// conversion, so every lane gets the scalar function's bits.
typedef unsigned long long ph_u64v __attribute__((vector_size(8 * PH_W)));
// The low 32 bits of each 64-bit lane of a and b multiplied into 64 bits (one pmuludq; GCC
// makes a full 64-bit multiply of a * b even when both are known to be below 2^32).
PH_LI ph_u64v ph_mul32(ph_u64v a, ph_u64v b) {
#if defined(__AVX512F__) && PH_W == 8
  typedef int v16si __attribute__((vector_size(64)));
  typedef long long v8di __attribute__((vector_size(64)));
  return (ph_u64v)__builtin_ia32_pmuludq512_mask((v16si)a, (v16si)b, (v8di){}, (unsigned char)0xFF);
#elif defined(__AVX2__) && PH_W == 4
  typedef int v8si __attribute__((vector_size(32)));
  return (ph_u64v)__builtin_ia32_pmuludq256((v8si)a, (v8si)b);
#elif defined(__SSE2__) && PH_W == 2
  typedef int v4si __attribute__((vector_size(16)));
  return (ph_u64v)__builtin_ia32_pmuludq128((v4si)a, (v4si)b);
#else
  return (a & 0xFFFFFFFFull) * (b & 0xFFFFFFFFull);
#endif
}
// Both forms run the rounds of all PH_K parts together (round by round, not part by part): a
// round is a chain of dependent multiplies, and PH_K independent chains side by side keep the
// multipliers busy (part by part, 1.35x slower on Monte Carlo pi). The two 32-bit words of a
// lane's state live in the low halves of 64-bit lanes; pmuludq reads the low halves only, so
// the high halves are left dirty until the two output words are masked at the end. The output
// (hi * 2^26 + lo) * 2^-53 is formed as one integer below 2^53 and converted once: the same
// double as the prelude's two exact conversions, one multiply and one exact add.
PH_LI V<double> ph_random_out(const ph_u64v* c0, const ph_u64v* c1) {
  typedef double dv __attribute__((vector_size(8 * PH_W)));
  typedef long long sv __attribute__((vector_size(8 * PH_W)));
  const ph_u64v m = (ph_u64v){} + 0xFFFFFFFFull;
  V<double> out;
  PH_PARTS {
    const ph_u64v bits = (((c0[ph_k] & m) >> 5) << 26) | ((c1[ph_k] & m) >> 6);
    out.v[ph_k] = __builtin_convertvector((sv)bits, dv) * (1.0 / 9007199254740992.0);
  }
  return out;
}
// A seed per lane: the key schedule in vectors too.
PH_LI V<double> ph_random_lanes(const V<long long>& seed, const V<long long>& counter) {
  typedef ph_u64v uv;
  uv c0[PH_K], c1[PH_K], c2[PH_K], c3[PH_K], k0[PH_K], k1[PH_K];
  PH_PARTS {
    const uv s = (uv)seed.v[ph_k], c = (uv)counter.v[ph_k];
    c0[ph_k] = c;
    c1[ph_k] = c >> 32;
    c2[ph_k] = c3[ph_k] = (uv){};
    k0[ph_k] = s;
    k1[ph_k] = s >> 32;
  }
  _Pragma("GCC unroll 10") for (int r = 0; r < 10; ++r) {
    PH_PARTS {
      if (r) {
        k0[ph_k] += 0x9E3779B9ull;
        k1[ph_k] += 0xBB67AE85ull;
      }
      const uv p0 = ph_mul32(c0[ph_k], (uv){} + 0xD2511F53ull);
      const uv p1 = ph_mul32(c2[ph_k], (uv){} + 0xCD9E8D57ull);
      const uv n0 = (p1 >> 32) ^ c1[ph_k] ^ k0[ph_k], n2 = (p0 >> 32) ^ c3[ph_k] ^ k1[ph_k];
      c1[ph_k] = p1;
      c3[ph_k] = p0;
      c0[ph_k] = n0;
      c2[ph_k] = n2;
    }
  }
  return ph_random_out(c0, c1);
}
// The usual case, one seed for all lanes: the key schedule is computed once, in scalars; round 0
// by hand (c2 = c3 = 0 there, and GCC cannot fold a pmuludq by zero).
PH_LI V<double> ph_random_key(long long seed, const V<long long>& counter) {
  typedef ph_u64v uv;
  unsigned k0[10], k1[10];
  k0[0] = (unsigned)seed;
  k1[0] = (unsigned)((unsigned long long)seed >> 32);
  for (int r = 1; r < 10; ++r) {
    k0[r] = k0[r - 1] + 0x9E3779B9u;
    k1[r] = k1[r - 1] + 0xBB67AE85u;
  }
  uv c0[PH_K], c1[PH_K], c2[PH_K], c3[PH_K];
  PH_PARTS {
    const uv c = (uv)counter.v[ph_k];
    const uv q0 = ph_mul32(c, (uv){} + 0xD2511F53ull);
    c0[ph_k] = (c >> 32) ^ (unsigned long long)k0[0];
    c1[ph_k] = (uv){};
    c2[ph_k] = (q0 >> 32) ^ (unsigned long long)k1[0];
    c3[ph_k] = q0;
  }
  _Pragma("GCC unroll 9") for (int r = 1; r < 10; ++r) {
    PH_PARTS {
      const uv p0 = ph_mul32(c0[ph_k], (uv){} + 0xD2511F53ull);
      const uv p1 = ph_mul32(c2[ph_k], (uv){} + 0xCD9E8D57ull);
      const uv n0 = (p1 >> 32) ^ c1[ph_k] ^ (unsigned long long)k0[r];
      const uv n2 = (p0 >> 32) ^ c3[ph_k] ^ (unsigned long long)k1[r];
      c1[ph_k] = p1;
      c3[ph_k] = p0;
      c0[ph_k] = n0;
      c2[ph_k] = n2;
    }
  }
  return ph_random_out(c0, c1);
}
PH_LI V<double> ph_random_on(long long seed, const V<long long>& c) { return ph_random_key(seed, c); }
PH_LI V<double> ph_random_on(const V<long long>& seed, const V<long long>& c) {
  return ph_random_lanes(seed, c);
}
PH_LI long long ph_seed_of(long long s) { return s; }
template <typename T> PH_LI V<long long> ph_seed_of(const V<T>& s) { return V<long long>(s); }
using ::ph_random;
template <typename A, typename B, typename = typename en<any_lane<A, B>::ok>::type>
PH_LI V<double> ph_random(const A& seed, const B& counter) {
  return ph_random_on(ph_seed_of(seed), V<long long>(counter));
}
using ::ph_f2i;
template <typename T> PH_LI V<long long> ph_f2i(const V<T>& x) {
  V<long long> r;
  PH_EACH r.set(ph_l, (long long)x[ph_l]);
  return r;
}
// As the prelude's, for numbers, masks and lanes alike.
template <typename T> PH_LI T ph_min(T a, T b) { return ph_sel(b < a, b, a); }
template <typename T> PH_LI T ph_max(T a, T b) { return ph_sel(b > a, b, a); }
template <typename T> PH_LI T ph_iabs(T a) { return ph_sel(a < 0, (T)(0 - a), a); }

// Array elements. A whole batch of consecutive in-bounds elements (the usual x[i], out[y, x])
// moves at once; anything else goes lane by lane through the scalar helper.
template <typename I> PH_LI bool ph_uniform(const I& i, long long b) {
  if (!is_lane<I>::ok) return true;
  PH_EACH if ((long long)lane(i, ph_l) != b) return false;
  return true;
}
template <typename I> PH_LI bool ph_consec(const I& i, long long b) {
  if (!is_lane<I>::ok) return false;
  PH_EACH if ((long long)lane(i, ph_l) != b + ph_l) return false;
  return true;
}
template <typename T, typename I>
PH_LI long long ph_contig(const ::ph_array<T, 1>& a, const ph_ctx& c, const I& i) {
  long long b = (long long)lane(i, 0);
  if (b < 0 || b > a.shape[0] - PH_L || !ph_consec(i, b) || !ph_all(*c.m)) return -1;
  return b;
}
template <typename T, typename I, typename J>
PH_LI long long ph_contig(const ::ph_array<T, 2>& a, const ph_ctx& c, const I& i, const J& j) {
  long long r = (long long)lane(i, 0), b = (long long)lane(j, 0);
  if (r < 0 || r >= a.shape[0] || b < 0 || b > a.shape[1] - PH_L || !ph_uniform(i, r) ||
      !ph_consec(j, b) || !ph_all(*c.m))
    return -1;
  return r * a.shape[1] + b;
}
template <typename T, typename I, typename J, typename K>
PH_LI long long ph_contig(const ::ph_array<T, 3>& a, const ph_ctx& c, const I& i, const J& j,
                          const K& k) {
  long long r = (long long)lane(i, 0), s = (long long)lane(j, 0), b = (long long)lane(k, 0);
  if (r < 0 || r >= a.shape[0] || s < 0 || s >= a.shape[1] || b < 0 || b > a.shape[2] - PH_L ||
      !ph_uniform(i, r) || !ph_uniform(j, s) || !ph_consec(k, b) || !ph_all(*c.m))
    return -1;
  return (r * a.shape[1] + s) * a.shape[2] + b;
}
template <typename T> PH_LI void ph_run_ld(V<T>& r, const T* p) {
  __builtin_memcpy(&r.v, p, sizeof r.v);
}
PH_LI void ph_run_ld(M& r, const bool* p) { PH_EACH r.set(ph_l, p[ph_l]); }
template <typename T> PH_LI void ph_run_st(T* p, const V<T>& x) {
  __builtin_memcpy(p, &x.v, sizeof x.v);
}
template <typename T, typename X> PH_LI void ph_run_st(T* p, const X& x) {
  PH_EACH p[ph_l] = (T)lane(x, ph_l);
}
template <typename T, int N, typename... I>
static inline typename lt<T>::type ph_ld(const ::ph_array<T, N>& a, int site, const ph_ctx& c,
                                         const I&... idx) {
  typename lt<T>::type r = 0;
  long long o = ph_contig(a, c, idx...);
  if (o >= 0) {
    ph_run_ld(r, a.data + o);
    return r;
  }
  PH_EACH if (c.on(ph_l)) put(r, ph_l, ::ph_ld(a, site, c.err + ph_l, lane(idx, ph_l)...));
  return r;
}
template <typename T, int N, typename X, typename... I>
static inline void ph_st(const ::ph_array<T, N>& a, int site, const ph_ctx& c, const X& x,
                         const I&... idx) {
  long long o = ph_contig(a, c, idx...);
  if (o >= 0) {
    ph_run_st(a.data + o, x);
    return;
  }
  PH_EACH if (c.on(ph_l)) ::ph_st(a, site, c.err + ph_l, lane(x, ph_l), lane(idx, ph_l)...);
}
template <typename T, int N, typename X, typename... I>
static inline V<T> ph_atomic_add(const ::ph_array<T, N>& a, int site, const ph_ctx& c,
                                 const X& x, const I&... idx) {
  V<T> r = 0;
  PH_EACH if (c.on(ph_l)) r.set(ph_l, ::ph_atomic_add(a, site, c.err + ph_l, lane(x, ph_l),
                                                      lane(idx, ph_l)...));
  return r;
}

// The launch indices of lanes f .. f + PH_L - 1 (x fastest), as the scalar loop decomposes them.
PH_LI void ph_tids(long long f, long long n0, long long n1, int dims, V<long long>& x,
                   V<long long>& y, V<long long>& z) {
  long long a = dims == 1 ? f : f % n0, r = dims == 1 ? 0 : f / n0;
  long long b = dims == 3 ? r % n1 : r, d = dims == 3 ? r / n1 : 0;
  PH_EACH {
    x.set(ph_l, a);
    y.set(ph_l, b);
    z.set(ph_l, d);
    if (dims > 1 && ++a == n0) {
      a = 0;
      if (++b == n1 && dims == 3) {
        b = 0;
        ++d;
      }
    } else if (dims == 1) {
      ++a;
    }
  }
}
// The lanes' errors in index order: the first one recorded wins, as in the scalar loop.
PH_LI void ph_merge(int* err, const int* errs) {
  PH_EACH if (errs[ph_l]) ::ph_fail(err, errs[ph_l]);
}

typedef V<float> ph_f32;
typedef V<double> ph_f64;
typedef V<int> ph_i32;
typedef V<long long> ph_i64;
typedef V<unsigned int> ph_u32;
typedef V<unsigned char> ph_u8;
typedef M ph_bool;
}  // namespace ph_lanes
#else
#define PH_LANES_ON 0
#define PH_L 1
#endif
// ---- end of lanes ----
"""
