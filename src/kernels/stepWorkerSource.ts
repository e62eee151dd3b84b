/**
 * Source of the step worker (plain CommonJS, run with `new Worker(source, { eval: true })` so it needs
 * no file on disk and works from `src` under tsx/vitest as well as from `dist`). It mirrors
 * `KernelContext` in `wasmStepper.ts`: same kernel module, same weight packing, same gate tile, so
 * every row it steps is bit-identical to the main thread's (the kernel is batch-invariant).
 *
 * Protocol (see `stepPool.ts`): `ctl` is an Int32Array over a SharedArrayBuffer:
 *   [0] SEQ   job counter, bumped by the main thread to wake the worker
 *   [1] DONE  last job finished (the worker stores SEQ here and notifies)
 *   [2] MODEL model id of the job, [3] ROWS rows of the job, [4] ERROR 1 when the job threw
 *   [5] READY 1 once the worker runs its loop
 * Model weights, drops and the shared data buffer arrive as messages on `port`, read synchronously
 * with `receiveMessageOnPort` right after each wake-up (the main thread posts before it notifies).
 * Data buffer (float32, unpadded rows): x [rows*I], then per layer h [rows*H] and, for LSTM, c [rows*H].
 *
 * @example
 * ```ts
 * const worker = new Worker(stepWorkerSource, { eval: true, workerData: { module, ctl, port }, transferList: [port] });
 * ```
 */
export const stepWorkerSource = String.raw`
'use strict';
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { module, ctl: ctlBuffer, port } = workerData;
const ctl = new Int32Array(ctlBuffer);
const SEQ = 0, DONE = 1, MODEL = 2, ROWS = 3, ERROR = 4, READY = 5;
const PAGE = 65536;
const align = (p) => (p + 15) & ~15;
const models = new Map();
let data = new Float32Array(0);

function createContext(cfg) {
  const k = new WebAssembly.Instance(module, {}).exports;
  const { kind, H, I, G, hasC, kxs } = cfg;
  const Hp = (H + 3) & ~3;
  const P = (G === 1 ? 1 : 4) * Hp;
  const layers = kxs.map((kx) => ({ kx, w: 0, bias: 0, h: 0, c: 0 }));
  const ctx = { k, f32: new Float32Array(k.memory.buffer), kind, H, Hp, P, I, G, hasC, layers, capacity: 0, rt: 4, gates: 0, x: 0, stage: 0, weights: null };
  return ctx;
}

function layout(ctx, capacity) {
  const { k, P, Hp, H, I, G, layers } = ctx;
  let top = align(k.__heap_base.value);
  const alloc = (floats) => { const p = top; top = align(top + floats * 4); return p; };
  ctx.rt = Math.max(4, Math.min(128, Math.floor(65536 / P) & ~3));
  for (const l of layers) { l.w = alloc(k.packed_size(ctx.kind, l.kx, H)); l.bias = alloc(P); }
  ctx.gates = alloc(ctx.rt * P);
  ctx.x = alloc(capacity * I);
  for (const l of layers) { l.h = alloc(capacity * Hp); l.c = ctx.hasC ? alloc(capacity * Hp) : 0; }
  const maxKx = Math.max(...layers.map((l) => l.kx));
  const end = top + (G * H * (maxKx + H) + 2 * G * H) * 4 + 64;
  const have = k.memory.buffer.byteLength;
  if (end > have) k.memory.grow(Math.ceil((end - have) / PAGE));
  ctx.f32 = new Float32Array(k.memory.buffer);
  ctx.stage = top;
  for (const l of layers) {
    ctx.f32.fill(0, l.h >> 2, (l.h >> 2) + capacity * Hp);
    if (l.c) ctx.f32.fill(0, l.c >> 2, (l.c >> 2) + capacity * Hp);
  }
  ctx.capacity = capacity;
}

function pack(ctx) {
  const { k, f32 } = ctx;
  ctx.weights.forEach((src, i) => {
    const l = ctx.layers[i];
    const wih = ctx.stage;
    const whh = align(wih + src.weightIh.length * 4);
    const bih = align(whh + src.weightHh.length * 4);
    const bhh = align(bih + src.biasIh.length * 4);
    f32.set(src.weightIh, wih >> 2);
    f32.set(src.weightHh, whh >> 2);
    f32.set(src.biasIh, bih >> 2);
    f32.set(src.biasHh, bhh >> 2);
    k.pack(ctx.kind, l.kx, ctx.H, wih, whh, bih, bhh, l.w, l.bias);
  });
}

function step(ctx, B) {
  if (B > ctx.capacity) { layout(ctx, Math.max(B, ctx.capacity * 2, 1)); pack(ctx); }
  const { f32, k, H, Hp, I, layers, hasC } = ctx;
  const stride = hasC ? 2 : 1;
  const hAt = (i) => B * I + i * stride * B * H;
  f32.set(data.subarray(0, B * I), ctx.x >> 2);
  for (let i = 0; i < layers.length; i++) {
    copyIn(f32, data, hAt(i), layers[i].h >> 2, B, H, Hp);
    if (hasC) copyIn(f32, data, hAt(i) + B * H, layers[i].c >> 2, B, H, Hp);
  }
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i];
    const xPtr = i === 0 ? ctx.x : layers[i - 1].h;
    const xs = i === 0 ? I : Hp;
    k.layer_step(ctx.kind, l.kx, H, xPtr, xs, l.h, l.c, l.w, l.bias, ctx.gates, B, ctx.rt);
  }
  for (let i = 0; i < layers.length; i++) {
    copyOut(f32, data, hAt(i), layers[i].h >> 2, B, H, Hp);
    if (hasC) copyOut(f32, data, hAt(i) + B * H, layers[i].c >> 2, B, H, Hp);
  }
}

function copyIn(f32, src, from, at, B, H, Hp) {
  if (H === Hp) { f32.set(src.subarray(from, from + B * H), at); return; }
  for (let b = 0; b < B; b++) {
    const s = from + b * H, d = at + b * Hp;
    for (let j = 0; j < H; j++) f32[d + j] = src[s + j];
  }
}

function copyOut(f32, dst, to, at, B, H, Hp) {
  if (H === Hp) { dst.set(f32.subarray(at, at + B * H), to); return; }
  for (let b = 0; b < B; b++) {
    const s = at + b * Hp, d = to + b * H;
    for (let j = 0; j < H; j++) dst[d + j] = f32[s + j];
  }
}

function handle(msg) {
  if (msg.type === 'model') {
    let ctx = models.get(msg.id);
    if (!ctx) { ctx = createContext(msg.config); models.set(msg.id, ctx); }
    ctx.weights = msg.layers;
    if (ctx.capacity > 0) pack(ctx);
  } else if (msg.type === 'drop') {
    models.delete(msg.id);
  } else if (msg.type === 'buffer') {
    data = new Float32Array(msg.buffer);
  }
}

Atomics.store(ctl, READY, 1);
Atomics.notify(ctl, READY);
let seen = Atomics.load(ctl, SEQ);
for (;;) {
  Atomics.wait(ctl, SEQ, seen);
  const seq = Atomics.load(ctl, SEQ);
  if (seq === seen) continue;
  seen = seq;
  let error = 0;
  try {
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) handle(m.message);
    const rows = Atomics.load(ctl, ROWS);
    if (rows < 0) break;
    const ctx = models.get(Atomics.load(ctl, MODEL));
    if (!ctx || !ctx.weights) throw new Error('unknown model');
    step(ctx, rows);
  } catch (e) {
    error = 1;
  }
  Atomics.store(ctl, ERROR, error);
  Atomics.store(ctl, DONE, seen);
  Atomics.notify(ctl, DONE);
}
Atomics.store(ctl, DONE, seen);
Atomics.notify(ctl, DONE);
port.close();
`;
