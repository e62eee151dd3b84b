/*
 * seqstream training kernel: float64 matrix-vector products with WebAssembly SIMD128 (f64x2).
 *
 * Built by tools/build-kernels.sh into src/kernels/trainKernel.wasm.ts (base64,
 * committed), driven by src/kernels/trainKernel.ts. Every hot product of truncated BPTT is one of these:
 * gate pre-activations W[x|h], the backward products W_hh^T dg and W_ih^T dg (on transposed
 * copies), and the weight gradients dW[r] = sum over the window's columns (one call per row).
 * No libc, no allocation, no stack: JavaScript owns the memory layout and passes byte offsets.
 *
 *   out[r] (+)= sum_{k<n} W[r*ldw + k] * x[k]    for r < rows
 *
 * Two rows at a time share each load of x; four f64x2 accumulators per row hide the add latency.
 * Float64 throughout, so results equal the JavaScript loops up to summation order.
 */
#include <wasm_simd128.h>

static inline double hsum(v128_t a) { return wasm_f64x2_extract_lane(a, 0) + wasm_f64x2_extract_lane(a, 1); }

__attribute__((export_name("matvec"))) void matvec(const double *W, int ldw, const double *x, double *out, int rows, int n,
                                                   int accumulate) {
  int r = 0;
  for (; r + 1 < rows; r += 2) {
    const double *w0 = W + r * ldw, *w1 = w0 + ldw;
    v128_t a0 = wasm_f64x2_splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    int k = 0;
    for (; k + 8 <= n; k += 8) {
      v128_t x0 = wasm_v128_load(x + k), x1 = wasm_v128_load(x + k + 2), x2 = wasm_v128_load(x + k + 4), x3 = wasm_v128_load(x + k + 6);
      a0 = wasm_f64x2_add(a0, wasm_f64x2_mul(wasm_v128_load(w0 + k), x0));
      a1 = wasm_f64x2_add(a1, wasm_f64x2_mul(wasm_v128_load(w0 + k + 2), x1));
      a2 = wasm_f64x2_add(a2, wasm_f64x2_mul(wasm_v128_load(w0 + k + 4), x2));
      a3 = wasm_f64x2_add(a3, wasm_f64x2_mul(wasm_v128_load(w0 + k + 6), x3));
      b0 = wasm_f64x2_add(b0, wasm_f64x2_mul(wasm_v128_load(w1 + k), x0));
      b1 = wasm_f64x2_add(b1, wasm_f64x2_mul(wasm_v128_load(w1 + k + 2), x1));
      b2 = wasm_f64x2_add(b2, wasm_f64x2_mul(wasm_v128_load(w1 + k + 4), x2));
      b3 = wasm_f64x2_add(b3, wasm_f64x2_mul(wasm_v128_load(w1 + k + 6), x3));
    }
    double s0 = hsum(wasm_f64x2_add(wasm_f64x2_add(a0, a1), wasm_f64x2_add(a2, a3)));
    double s1 = hsum(wasm_f64x2_add(wasm_f64x2_add(b0, b1), wasm_f64x2_add(b2, b3)));
    for (; k < n; k++) {
      s0 += w0[k] * x[k];
      s1 += w1[k] * x[k];
    }
    if (accumulate) {
      out[r] += s0;
      out[r + 1] += s1;
    } else {
      out[r] = s0;
      out[r + 1] = s1;
    }
  }
  for (; r < rows; r++) {
    const double *w0 = W + r * ldw;
    v128_t a0 = wasm_f64x2_splat(0), a1 = a0;
    int k = 0;
    for (; k + 4 <= n; k += 4) {
      a0 = wasm_f64x2_add(a0, wasm_f64x2_mul(wasm_v128_load(w0 + k), wasm_v128_load(x + k)));
      a1 = wasm_f64x2_add(a1, wasm_f64x2_mul(wasm_v128_load(w0 + k + 2), wasm_v128_load(x + k + 2)));
    }
    double s0 = hsum(wasm_f64x2_add(a0, a1));
    for (; k < n; k++) s0 += w0[k] * x[k];
    out[r] = accumulate ? out[r] + s0 : s0;
  }
}
