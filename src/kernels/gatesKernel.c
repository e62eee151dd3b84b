/*
 * seqstream step kernel: one recurrent layer for a batch of rows, WebAssembly SIMD128, float32.
 *
 * Built by tools/build-kernels.sh into src/kernels/gatesKernel.wasm.ts (base64, committed),
 * driven by src/kernels/gatesKernel.ts. No libc, no allocation: the JavaScript side owns the
 * memory and passes pointers (byte offsets into the instance's linear memory); the sizes it lays
 * out (row stride, pre-activation columns, gate tile, packed and staged weights) come from the
 * exports below, so this file is the one place that knows them.
 *
 * Math (PyTorch nn.RNN / nn.LSTM / nn.GRU, both biases):
 *   gi = W_ih x + b_ih, gh = W_hh h + b_hh   (G*H rows each, gate blocks in PyTorch order)
 *   rnn:  h' = tanh(gi + gh) | relu(gi + gh)
 *   lstm: i,f,g,o from gi + gh; c' = f*c + i*g; h' = o*tanh(c')
 *   gru:  r,z from gi + gh; n = tanh(gi_n + r*gh_n); h' = n + z*(h - n)
 *
 * Layout. Every gate block is padded from H to Hp = roundup(H, 4) columns so each block starts on
 * a 4-lane boundary; padded columns have zero weights and zero bias, so with zero padded state
 * lanes every cell computes exactly 0 there and the padding stays 0. A layer has P pre-activation
 * columns in "segments"; each segment reads the input x (kx values), the old h (kh values) or both:
 *   rnn:  P = Hp,   one segment [0,Hp) reading x and h (bias b_ih + b_hh)
 *   lstm: P = 4Hp,  one segment [0,4Hp) reading x and h (bias b_ih + b_hh)
 *   gru:  P = 4Hp,  [0,2Hp) r,z reading x and h (b_ih + b_hh); [2Hp,3Hp) n from x only (b_in);
 *                   [3Hp,4Hp) n from h only (b_hn) - r multiplies W_hn h + b_hn, as PyTorch does.
 * So LSTM and RNN need one accumulation over K = I + H inputs, and GRU wastes no multiply on zeros.
 * A segment's weights are packed in column blocks of CW = 16 columns (the last block of a segment
 * may be 4, 8 or 12 wide): block b holds, for k = 0..K-1, its CW weights of input k contiguously
 * (x inputs first, then h inputs). The inner loop broadcasts one input value and multiply-adds it
 * into 16 columns held in registers, reading the weights once, in order.
 *
 * Rows are processed in tiles of `rt` rows: for each column block, 4-row micro tiles reuse the
 * block's weights from L1; the 0-3 rows left over (all of batch 1) go one at a time through pairs
 * of blocks (32 columns, 8 accumulators); then the tile's rows are combined (the nonlinear part)
 * in SIMD with float32 exp/tanh approximations accurate to a few ulp (Cephes polynomials, in
 * gatesKernelMath.h). Every column of every row is the same in-order sum over k on every path.
 */
#include <wasm_simd128.h>

#define CW 16

enum { RNN_TANH = 0, RNN_RELU = 1, LSTM = 2, GRU = 3 };

typedef struct {
  int c0, ncols, useX, useH;
} Segment;

static int segments(int kind, int Hp, Segment *s) {
  if (kind == GRU) {
    s[0] = (Segment){0, 2 * Hp, 1, 1};
    s[1] = (Segment){2 * Hp, Hp, 1, 0};
    s[2] = (Segment){3 * Hp, Hp, 0, 1};
    return 3;
  }
  s[0] = (Segment){0, (kind == LSTM ? 4 : 1) * Hp, 1, 1};
  return 1;
}

static int gates_of(int kind) { return kind == LSTM ? 4 : kind == GRU ? 3 : 1; }

/* ---- layout sizes: the JavaScript side allocates from these and never recomputes them ---- */

/* Row stride of h and c in kernel memory: H padded to a multiple of 4 lanes. */
__attribute__((export_name("padded_hidden"))) int padded_hidden(int H) { return (H + 3) & ~3; }

/* P, the pre-activation columns of one row (also the floats of a packed bias). */
__attribute__((export_name("preact_size"))) int preact_size(int kind, int H) {
  return (kind == LSTM || kind == GRU ? 4 : 1) * padded_hidden(H);
}

/* Rows of the gate scratch tile: about 256 KB (L2-resident), a multiple of 4, between 4 and 128. */
__attribute__((export_name("tile_rows"))) int tile_rows(int kind, int H) {
  int rt = (65536 / preact_size(kind, H)) & ~3;
  return rt < 4 ? 4 : rt > 128 ? 128 : rt;
}

/*
 * Byte offset, from the start of a staging area, of the raw PyTorch-layout weights that pack()
 * reads: part 0 wih [G*H*kx], 1 whh [G*H*H], 2 bih [G*H], 3 bhh [G*H]; part 4 is the area's size.
 * Each part starts 16-byte aligned.
 */
__attribute__((export_name("staged_offset"))) int staged_offset(int kind, int kx, int H, int part) {
  int GH = gates_of(kind) * H;
  int len[4] = {GH * kx, GH * H, GH, GH};
  int at = 0;
  for (int i = 0; i < part && i < 4; i++) at += (len[i] * 4 + 15) & ~15;
  return at;
}

/* Floats of packed weights for a layer with kx inputs and hidden size H. */
__attribute__((export_name("packed_size"))) int packed_size(int kind, int kx, int H) {
  int Hp = padded_hidden(H);
  Segment s[3];
  int n = segments(kind, Hp, s), total = 0;
  for (int i = 0; i < n; i++) total += s[i].ncols * ((s[i].useX ? kx : 0) + (s[i].useH ? H : 0));
  return total;
}

/*
 * Packs PyTorch-layout weights (wih [G*H, kx], whh [G*H, H], bih, bhh [G*H]) into `w` (packed_size
 * floats) and `bias` (P floats).
 */
__attribute__((export_name("pack"))) void pack(int kind, int kx, int H, const float *wih, const float *whh,
                                               const float *bih, const float *bhh, float *w, float *bias) {
  int Hp = padded_hidden(H);
  Segment s[3];
  int n = segments(kind, Hp, s);
  for (int si = 0; si < n; si++) {
    Segment g = s[si];
    int K = (g.useX ? kx : 0) + (g.useH ? H : 0);
    for (int c0 = 0; c0 < g.ncols; c0 += CW) {
      int wd = g.ncols - c0 < CW ? g.ncols - c0 : CW;
      for (int k = 0; k < K; k++) {
        for (int jj = 0; jj < wd; jj++) {
          int col = g.c0 + c0 + jj;
          int gate = col / Hp, j = col % Hp;
          if (kind == GRU && gate == 3) gate = 2; /* the h-only n block */
          float v = 0.0f;
          if (j < H) {
            int row = gate * H + j;
            if (g.useX && k < kx) v = wih[row * kx + k];
            else v = whh[row * H + (k - (g.useX ? kx : 0))];
          }
          *w++ = v;
        }
      }
      for (int jj = 0; jj < wd; jj++) {
        int col = g.c0 + c0 + jj;
        int gate = col / Hp, j = col % Hp;
        float v = 0.0f;
        if (j < H) {
          if (kind == GRU && gate == 2) v = bih[2 * H + j];
          else if (kind == GRU && gate == 3) v = bhh[2 * H + j];
          else v = bih[gate * H + j] + bhh[gate * H + j];
        }
        bias[col] = v;
      }
    }
  }
}

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/*
 * acc + a * b. Built with -DRELAXED_MADD (the gatesKernelRelaxed variant, relaxed SIMD), this is
 * f32x4.relaxed_madd: one fused multiply-add where the CPU has FMA (rounded once), which the
 * runtime picks once per process, so a row's result is still the same in every batch within
 * that variant. Without it, a multiply and an add (rounded twice), exactly as before.
 */
#ifdef RELAXED_MADD
#define MADD(acc, a, b) ((v128_t)__builtin_wasm_relaxed_madd_f32x4((__f32x4)(a), (__f32x4)(b), (__f32x4)(acc)))
#else
#define MADD(acc, a, b) wasm_f32x4_add(acc, wasm_f32x4_mul(a, b))
#endif

/*
 * R rows x V vectors (4V columns) of one column block: out[r] = bias + sum_k in[r][k] * w[k].
 * Row r reads its inputs at xr[r] (kx values) and hr[r] (kh values): rows are addressed by
 * pointer, so a batch can be any set of rows of a larger state slab (stepped by index).
 * R and V are compile-time constants at every call, so the accumulators live in registers.
 */
ALWAYS_INLINE void micro(const int R, const int V, const float *const *xr, int kx, const float *const *hr, int kh,
                         const float *w, int ws, const float *bias, float *out, int os) {
  v128_t acc[4][4];
  for (int r = 0; r < R; r++)
    for (int v = 0; v < V; v++) acc[r][v] = wasm_v128_load(bias + 4 * v);
  for (int k = 0; k < kx; k++, w += ws) {
    v128_t wv[4];
    for (int v = 0; v < V; v++) wv[v] = wasm_v128_load(w + 4 * v);
    for (int r = 0; r < R; r++) {
      v128_t s = wasm_v128_load32_splat(xr[r] + k);
      for (int v = 0; v < V; v++) acc[r][v] = MADD(acc[r][v], s, wv[v]);
    }
  }
  for (int k = 0; k < kh; k++, w += ws) {
    v128_t wv[4];
    for (int v = 0; v < V; v++) wv[v] = wasm_v128_load(w + 4 * v);
    for (int r = 0; r < R; r++) {
      v128_t s = wasm_v128_load32_splat(hr[r] + k);
      for (int v = 0; v < V; v++) acc[r][v] = MADD(acc[r][v], s, wv[v]);
    }
  }
  for (int r = 0; r < R; r++)
    for (int v = 0; v < V; v++) wasm_v128_store(out + r * os + 4 * v, acc[r][v]);
}

/*
 * One row, 32 columns: two adjacent full column blocks (weights at w0 and w0 + CW * (kx + kh)),
 * 8 accumulators. Every column gets the same in-order sum over k as in micro(), so the result is
 * bit-identical to the 4-row tiles. At batch 1 there is no other row to share a weight load with:
 * twice the independent accumulators of micro(1, 4, ...) and half the broadcasts per column make
 * LSTM I=40 H=128 ~10% faster. Not inlined on purpose: V8 allocates registers per function, and
 * inside layer_step_rows the 8 accumulators spilled to the stack (~50% slower than micro(1, 4)).
 */
__attribute__((noinline)) static void row_block_pair(const float *xr, int kx, const float *hr, int kh, const float *w0,
                                                     const float *bias, float *out) {
  const float *w1 = w0 + CW * (kx + kh);
  v128_t a0 = wasm_v128_load(bias), a1 = wasm_v128_load(bias + 4), a2 = wasm_v128_load(bias + 8),
         a3 = wasm_v128_load(bias + 12), a4 = wasm_v128_load(bias + 16), a5 = wasm_v128_load(bias + 20),
         a6 = wasm_v128_load(bias + 24), a7 = wasm_v128_load(bias + 28);
  for (int pass = 0; pass < 2; pass++) {
    const float *in = pass == 0 ? xr : hr;
    int kn = pass == 0 ? kx : kh;
    for (int k = 0; k < kn; k++, w0 += CW, w1 += CW) {
      v128_t s = wasm_v128_load32_splat(in + k);
      a0 = MADD(a0, s, wasm_v128_load(w0));
      a1 = MADD(a1, s, wasm_v128_load(w0 + 4));
      a2 = MADD(a2, s, wasm_v128_load(w0 + 8));
      a3 = MADD(a3, s, wasm_v128_load(w0 + 12));
      a4 = MADD(a4, s, wasm_v128_load(w1));
      a5 = MADD(a5, s, wasm_v128_load(w1 + 4));
      a6 = MADD(a6, s, wasm_v128_load(w1 + 8));
      a7 = MADD(a7, s, wasm_v128_load(w1 + 12));
    }
  }
  wasm_v128_store(out, a0);
  wasm_v128_store(out + 4, a1);
  wasm_v128_store(out + 8, a2);
  wasm_v128_store(out + 12, a3);
  wasm_v128_store(out + 16, a4);
  wasm_v128_store(out + 20, a5);
  wasm_v128_store(out + 24, a6);
  wasm_v128_store(out + 28, a7);
}

/* One row's pre-activations for a whole segment (batch 1, or the rows after a batch's 4-row tiles). */
static void row_segment(const float *xr, int kx, const float *hr, int kh, const float *w, const float *bias, int ncols,
                        float *out) {
  int K = kx + kh, c0 = 0;
  for (; c0 + 2 * CW <= ncols; c0 += 2 * CW) row_block_pair(xr, kx, hr, kh, w + c0 * K, bias + c0, out + c0);
  if (c0 + CW <= ncols) {
    micro(1, 4, &xr, kx, &hr, kh, w + c0 * K, CW, bias + c0, out + c0, 0);
    c0 += CW;
  }
  /* A narrow last block (4, 8 or 12 columns): one vector at a time. */
  int wd = ncols - c0;
  for (int v = 0; v < wd / 4; v++) micro(1, 1, &xr, kx, &hr, kh, w + c0 * K + 4 * v, wd, bias + c0 + 4 * v, out + c0 + 4 * v, 0);
}

/*
 * Pre-activations of rows [0, rows) for one segment (row r's inputs at xr[r], hr[r]), into out (row
 * stride os): 4-row tiles per column block, then the remaining rows one at a time. Either way every
 * column is the same in-order sum over k, so a row's result is bit-identical whatever batch it is
 * stepped in (keyed replay after a crash relies on it).
 */
static void gemm_segment(const float *const *xr, int kx, const float *const *hr, int kh, const float *w,
                         const float *bias, int ncols, float *out, int os, int rows) {
  int K = kx + kh;
  int tiled = rows & ~3;
  for (int c0 = 0; c0 < ncols && tiled > 0; c0 += CW) {
    int wd = ncols - c0 < CW ? ncols - c0 : CW;
    const float *wb = w + c0 * K;
    const float *bb = bias + c0;
    float *ob = out + c0;
    if (wd == CW) {
      for (int r = 0; r < tiled; r += 4) {
        micro(4, 2, xr + r, kx, hr + r, kh, wb, CW, bb, ob + r * os, os);
        micro(4, 2, xr + r, kx, hr + r, kh, wb + 8, CW, bb + 8, ob + r * os + 8, os);
      }
    } else {
      /* A narrow last block (4, 8 or 12 columns): one vector at a time. */
      for (int v = 0; v < wd / 4; v++)
        for (int r = 0; r < tiled; r += 4)
          micro(4, 1, xr + r, kx, hr + r, kh, wb + 4 * v, wd, bb + 4 * v, ob + r * os + 4 * v, os);
    }
  }
  for (int r = tiled; r < rows; r++) row_segment(xr[r], kx, hr[r], kh, w, bias, ncols, out + r * os);
}

/* ---- float32 nonlinearities: exp_n, sigmoid_n, tanh_n, tanh4, NL_WAYS (and SPLAT, ADD, SUB, MUL) ---- */

#include "gatesKernelMath.h"

/* ---- combine: the cell's nonlinear part for one row, all Hp lanes ---- */

/*
 * The gate nonlinearities are applied in place over whole runs of lanes (NL_WAYS vectors at a
 * time), then the state update reads them back.
 */
ALWAYS_INLINE void activate_lanes(int use_tanh, float *g, int n) {
  const int N = NL_WAYS;
  int j = 0;
  for (; j + 4 * N <= n; j += 4 * N) {
    v128_t v[NL_WAYS];
    EACH v[u] = wasm_v128_load(g + j + 4 * u);
    if (use_tanh) tanh_n(N, v);
    else sigmoid_n(N, v);
    EACH wasm_v128_store(g + j + 4 * u, v[u]);
  }
  for (; j < n; j += 4) {
    v128_t v = wasm_v128_load(g + j);
    if (use_tanh) tanh_n(1, &v);
    else sigmoid_n(1, &v);
    wasm_v128_store(g + j, v);
  }
}

__attribute__((noinline)) static void sigmoid_lanes(float *g, int n) { activate_lanes(0, g, n); }

__attribute__((noinline)) static void tanh_lanes(float *g, int n) { activate_lanes(1, g, n); }

/* LSTM state update from activated gates i, f, g, o (Hp lanes each): c' = f*c + i*g; h' = o*tanh(c'). */
__attribute__((noinline)) static void lstm_update(const float *g, float *h, float *c, int Hp) {
  const int N = NL_WAYS;
  int j = 0;
  for (; j + 4 * N <= Hp; j += 4 * N) {
    v128_t cn[NL_WAYS], t[NL_WAYS];
    EACH cn[u] = ADD(MUL(wasm_v128_load(g + Hp + j + 4 * u), wasm_v128_load(c + j + 4 * u)),
                     MUL(wasm_v128_load(g + j + 4 * u), wasm_v128_load(g + 2 * Hp + j + 4 * u)));
    EACH wasm_v128_store(c + j + 4 * u, cn[u]);
    EACH t[u] = cn[u];
    tanh_n(N, t);
    EACH wasm_v128_store(h + j + 4 * u, MUL(wasm_v128_load(g + 3 * Hp + j + 4 * u), t[u]));
  }
  for (; j < Hp; j += 4) {
    v128_t cn = ADD(MUL(wasm_v128_load(g + Hp + j), wasm_v128_load(c + j)), MUL(wasm_v128_load(g + j), wasm_v128_load(g + 2 * Hp + j)));
    wasm_v128_store(c + j, cn);
    wasm_v128_store(h + j, MUL(wasm_v128_load(g + 3 * Hp + j), tanh4(cn)));
  }
}

static void combine_row(int kind, float *g, float *h, float *c, int Hp) {
  if (kind == LSTM) {
    sigmoid_lanes(g, 2 * Hp); /* i, f */
    tanh_lanes(g + 2 * Hp, Hp); /* g */
    sigmoid_lanes(g + 3 * Hp, Hp); /* o */
    lstm_update(g, h, c, Hp);
  } else if (kind == GRU) {
    sigmoid_lanes(g, 2 * Hp); /* r, z */
    for (int j = 0; j < Hp; j += 4) {
      v128_t r = wasm_v128_load(g + j), z = wasm_v128_load(g + Hp + j);
      v128_t n = tanh4(ADD(wasm_v128_load(g + 2 * Hp + j), MUL(r, wasm_v128_load(g + 3 * Hp + j))));
      wasm_v128_store(h + j, ADD(n, MUL(z, SUB(wasm_v128_load(h + j), n))));
    }
  } else if (kind == RNN_TANH) {
    for (int j = 0; j < Hp; j += 4) wasm_v128_store(h + j, tanh4(wasm_v128_load(g + j)));
  } else {
    for (int j = 0; j < Hp; j += 4) wasm_v128_store(h + j, wasm_f32x4_max(wasm_v128_load(g + j), SPLAT(0.0f)));
  }
}

#define MAX_TILE 128

/*
 * One step of one layer for `rows` rows, in place.
 *   x:     input rows, row stride xs floats, kx values each (layer 0: the inputs; layer k: layer k-1's new h)
 *   xidx:  0, or the row of x that batch row r reads (x + xidx[r] * xs)
 *   h, c:  this layer's state rows, row stride Hp (c unused unless LSTM); overwritten with the new state
 *   hidx:  0, or the state row that batch row r steps (h + hidx[r] * Hp, same for c): a batch is then
 *          any set of distinct rows of a state slab, stepped where they are, with no copies
 *   w, bias: from pack(); gates: scratch of rt * P floats (16-byte aligned)
 * The arithmetic for a row is the same whichever rows it shares a batch with and however it is
 * addressed, so every row's result is bit-identical across batchings.
 */
__attribute__((export_name("layer_step_rows"))) void layer_step_rows(int kind, int kx, int H, const float *x, int xs,
                                                                     const int *xidx, float *h, float *c,
                                                                     const int *hidx, const float *w,
                                                                     const float *bias, float *gates, int rows,
                                                                     int rt) {
  int Hp = padded_hidden(H);
  Segment s[3];
  int n = segments(kind, Hp, s);
  int P = s[n - 1].c0 + s[n - 1].ncols;
  if (rt > MAX_TILE) rt = MAX_TILE;
  const float *xr[MAX_TILE];
  const float *hr[MAX_TILE];
  for (int r0 = 0; r0 < rows; r0 += rt) {
    int tr = rows - r0 < rt ? rows - r0 : rt;
    for (int r = 0; r < tr; r++) {
      int b = r0 + r;
      xr[r] = x + (xidx ? xidx[b] : b) * xs;
      hr[r] = h + (hidx ? hidx[b] : b) * Hp;
    }
    const float *ws = w;
    for (int si = 0; si < n; si++) {
      Segment g = s[si];
      int kxs = g.useX ? kx : 0, khs = g.useH ? H : 0;
      gemm_segment(xr, kxs, hr, khs, ws, bias + g.c0, g.ncols, gates + g.c0, P, tr);
      ws += g.ncols * (kxs + khs);
    }
    for (int r = 0; r < tr; r++) {
      int row = hidx ? hidx[r0 + r] : r0 + r;
      combine_row(kind, gates + r * P, h + row * Hp, c + row * Hp, Hp);
    }
  }
}

/* layer_step_rows over contiguous rows: x row r at x + r * xs, state row r at h + r * Hp. */
__attribute__((export_name("layer_step"))) void layer_step(int kind, int kx, int H, const float *x, int xs, float *h,
                                                           float *c, const float *w, const float *bias, float *gates,
                                                           int rows, int rt) {
  layer_step_rows(kind, kx, H, x, xs, 0, h, c, 0, w, bias, gates, rows, rt);
}

/* ---- input checks ---- */

/*
 * Index of the first of x[0..n) that is NaN or +-Infinity (all exponent bits set), or n when all
 * are finite. x is 16-byte aligned. Four vectors (16 floats) per round OR their "exponent all
 * ones" lanes together, so a clean block costs one compare per 4 floats and one branch per 16;
 * a round with a hit is searched value by value.
 */
__attribute__((export_name("first_non_finite"))) int first_non_finite(const float *x, int n) {
  const v128_t e = wasm_i32x4_splat(0x7f800000);
  const int *bits = (const int *)x;
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    v128_t a = wasm_i32x4_eq(wasm_v128_and(wasm_v128_load(x + i), e), e);
    v128_t b = wasm_i32x4_eq(wasm_v128_and(wasm_v128_load(x + i + 4), e), e);
    v128_t c = wasm_i32x4_eq(wasm_v128_and(wasm_v128_load(x + i + 8), e), e);
    v128_t d = wasm_i32x4_eq(wasm_v128_and(wasm_v128_load(x + i + 12), e), e);
    if (wasm_v128_any_true(wasm_v128_or(wasm_v128_or(a, b), wasm_v128_or(c, d)))) break;
  }
  for (; i < n; i++)
    if ((bits[i] & 0x7f800000) == 0x7f800000) return i;
  return n;
}
