/*
 * float32 nonlinearities of the step kernel (Cephes expf / tanhf polynomials), SIMD128, included
 * by gatesKernel.c (the one translation unit tools/build-kernels.sh compiles; its freshness check
 * covers this file too). Needs ALWAYS_INLINE from there.
 */

#define SPLAT(v) wasm_f32x4_splat(v)
#define ADD wasm_f32x4_add
#define SUB wasm_f32x4_sub
#define MUL wasm_f32x4_mul

/*
 * The nonlinearities work on N independent vectors at once, one statement at a time across all N
 * (N is a compile-time constant at every call): each exp/divide is a long chain of dependent
 * operations, and interleaving N chains in program order gives the core independent work at each
 * step (measured: LSTM H=128 combine ~5% faster at N = 4 than at N = 1; it is bound by the FP
 * pipes, not by latency). Every lane gets exactly the operations of the one-vector form, so the
 * same bits.
 */
#define EACH for (int u = 0; u < N; u++)
#define NL_WAYS 4

/*
 * exp(x) in place, N vectors. Two choices keep it short on x86 without changing a bit of its
 * result:
 * - the clamp uses pmin/pmax (one minps/maxps each; f32x4.min/max also order -0 and +0 and
 *   propagate NaN, which costs several instructions): the bounds are not zero, and a NaN x stays NaN;
 * - n = round-to-nearest-even(x * log2 e) comes from adding 1.5 * 2^23, whose float add rounds at
 *   integer granularity (|x * log2 e| <= 127 here), the same value f32x4.nearest gives; the sum's
 *   low bits are then n itself, so 2^n is (bits + 127) << 23 (the magic's own bits shift out)
 *   with no float-to-int conversion (i32x4.trunc_sat is a multi-instruction sequence on x86).
 */
ALWAYS_INLINE void exp_n(const int N, v128_t *x) {
  v128_t t[NL_WAYS], n[NL_WAYS], r[NL_WAYS], p[NL_WAYS];
  EACH x[u] = wasm_f32x4_pmin(wasm_f32x4_pmax(x[u], SPLAT(-87.0f)), SPLAT(88.0f));
  EACH t[u] = ADD(MUL(x[u], SPLAT(1.44269504088896341f)), SPLAT(12582912.0f));
  EACH n[u] = SUB(t[u], SPLAT(12582912.0f));
  EACH r[u] = SUB(x[u], MUL(n[u], SPLAT(0.693359375f)));
  EACH r[u] = ADD(r[u], MUL(n[u], SPLAT(2.12194440e-4f)));
  EACH p[u] = ADD(MUL(SPLAT(1.9875691500e-4f), r[u]), SPLAT(1.3981999507e-3f));
  EACH p[u] = ADD(MUL(p[u], r[u]), SPLAT(8.3334519073e-3f));
  EACH p[u] = ADD(MUL(p[u], r[u]), SPLAT(4.1665795894e-2f));
  EACH p[u] = ADD(MUL(p[u], r[u]), SPLAT(1.6666665459e-1f));
  EACH p[u] = ADD(MUL(p[u], r[u]), SPLAT(5.0000001201e-1f));
  EACH p[u] = ADD(ADD(MUL(MUL(p[u], r[u]), r[u]), r[u]), SPLAT(1.0f));
  EACH x[u] = MUL(p[u], wasm_i32x4_shl(wasm_i32x4_add(t[u], wasm_i32x4_splat(127)), 23));
}

/* sigmoid(x) = 1 / (1 + exp(-x)) in place, N vectors. */
ALWAYS_INLINE void sigmoid_n(const int N, v128_t *x) {
  EACH x[u] = wasm_f32x4_neg(x[u]);
  exp_n(N, x);
  EACH x[u] = wasm_f32x4_div(SPLAT(1.0f), ADD(SPLAT(1.0f), x[u]));
}

/* tanh(x) in place, N vectors. */
ALWAYS_INLINE void tanh_n(const int N, v128_t *x) {
  v128_t ax[NL_WAYS], big[NL_WAYS], z[NL_WAYS], p[NL_WAYS];
  EACH ax[u] = wasm_f32x4_abs(x[u]);
  /* |x| >= 0.625: 1 - 2/(exp(2|x|) + 1), sign restored */
  EACH big[u] = ADD(ax[u], ax[u]);
  exp_n(N, big);
  EACH big[u] = SUB(SPLAT(1.0f), wasm_f32x4_div(SPLAT(2.0f), ADD(big[u], SPLAT(1.0f))));
  EACH big[u] = wasm_v128_or(big[u], wasm_v128_and(x[u], wasm_i32x4_splat((int)0x80000000)));
  /* |x| < 0.625: odd polynomial */
  EACH z[u] = MUL(x[u], x[u]);
  EACH p[u] = ADD(MUL(SPLAT(-5.70498872745e-3f), z[u]), SPLAT(2.06390887954e-2f));
  EACH p[u] = ADD(MUL(p[u], z[u]), SPLAT(-5.37397155531e-2f));
  EACH p[u] = ADD(MUL(p[u], z[u]), SPLAT(1.33314422036e-1f));
  EACH p[u] = ADD(MUL(p[u], z[u]), SPLAT(-3.33332819422e-1f));
  EACH x[u] = wasm_v128_bitselect(ADD(MUL(MUL(p[u], z[u]), x[u]), x[u]), big[u], wasm_f32x4_lt(ax[u], SPLAT(0.625f)));
}

ALWAYS_INLINE v128_t tanh4(v128_t x) {
  tanh_n(1, &x);
  return x;
}
