/**
 * Test helper: lists what is wrong with a PyTorch reference fixture, checked against the schema in
 * test/fixtures/pytorch/README.md (fields present or absent by kind, and every tensor's shape).
 * An empty list means well-formed. Not a test file itself (vitest only collects `*.test.ts`).
 */
import { spawnSync } from 'node:child_process';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const GATES: Record<string, number> = { rnn_tanh: 1, rnn_relu: 1, lstm: 4, gru: 3 };
const MODES: Record<string, string> = { rnn_tanh: 'RNN_TANH', rnn_relu: 'RNN_RELU', lstm: 'LSTM', gru: 'GRU' };

/** Shape of a rectangular nested array of finite numbers, or a string saying why it is not one. */
export function shapeOf(value: unknown): number[] | string {
  if (typeof value === 'number') return Number.isFinite(value) ? [] : `non-finite number ${value}`;
  if (!Array.isArray(value)) return `not a number or array (${typeof value})`;
  if (value.length === 0) return [0];
  const inner = value.map(shapeOf);
  for (const s of inner) if (typeof s === 'string') return s;
  const first = JSON.stringify(inner[0]);
  if (inner.some((s) => JSON.stringify(s) !== first)) return 'ragged array';
  return [value.length, ...(inner[0] as number[])];
}

/** Problems of fixture `fx` (empty when it is a well-formed forward, stream-chunk or TBPTT file). */
export function fixtureProblems(fx: Json): string[] {
  const problems: string[] = [];
  const expect = (cond: boolean, what: string) => {
    if (!cond) problems.push(what);
  };
  const tensor = (obj: Json, name: string, shape: number[], where = name) => {
    if (obj?.[name] === undefined) return problems.push(`${where}: missing`);
    const s = shapeOf(obj[name]);
    if (typeof s === 'string') problems.push(`${where}: ${s}`);
    else if (JSON.stringify(s) !== JSON.stringify(shape)) problems.push(`${where}: shape [${s}], expected [${shape}]`);
  };
  const absent = (obj: Json, name: string, where = name) => expect(obj?.[name] === undefined, `${where}: should be absent`);

  expect(fx?.schema_version === 1, 'schema_version must be 1');
  expect(typeof fx?.case === 'string' && fx.case.length > 0, 'case must be a non-empty string');
  expect(typeof fx?.description === 'string', 'description must be a string');
  const gen = fx?.generator ?? {};
  for (const k of ['script', 'torch_version', 'python', 'platform', 'seed']) expect(k in gen, `generator.${k}: missing`);
  expect(gen.dtype === 'float64', 'generator.dtype must be float64');
  expect(gen.inputs_exactly_float32_representable === true, 'generator.inputs_exactly_float32_representable must be true');
  const cfg = fx?.config ?? {};
  const cell: string = cfg.cell;
  const G = GATES[cell];
  if (!G) return [...problems, `config.cell: unknown '${cell}'`];
  expect(cfg.torch_mode === MODES[cell], `config.torch_mode must be ${MODES[cell]}`);
  expect(cfg.num_gates === G, `config.num_gates must be ${G}`);
  expect(cfg.batch_first === true && cfg.bias === true && cfg.bidirectional === false && cfg.dropout === 0, 'config: batch_first/bias/bidirectional/dropout');
  expect(Array.isArray(cfg.gate_order) && cfg.gate_order.length === G, 'config.gate_order length');
  const { input_size: I, hidden_size: H, num_layers: L, batch_size: B, seq_len: T } = cfg;
  for (const [k, v] of Object.entries({ I, H, L, B, T })) expect(Number.isInteger(v) && (v as number) > 0, `config size ${k}`);
  const O: number | undefined = cfg.head_out_features;
  const lstm = cell === 'lstm';

  // Parameters: per layer, then the optional head.
  const paramShapes: Record<string, number[]> = {};
  for (let k = 0; k < L; k++) {
    paramShapes[`weight_ih_l${k}`] = [G * H, k === 0 ? I : H];
    paramShapes[`weight_hh_l${k}`] = [G * H, H];
    paramShapes[`bias_ih_l${k}`] = [G * H];
    paramShapes[`bias_hh_l${k}`] = [G * H];
  }
  if (O !== undefined) {
    paramShapes['head.weight'] = [O, H];
    paramShapes['head.bias'] = [O];
  }
  const checkParams = (obj: Json, where: string) => {
    expect(
      JSON.stringify(Object.keys(obj ?? {}).sort()) === JSON.stringify(Object.keys(paramShapes).sort()),
      `${where}: names [${Object.keys(obj ?? {})}] differ from [${Object.keys(paramShapes)}]`,
    );
    for (const [n, s] of Object.entries(paramShapes)) tensor(obj, n, s, `${where}.${n}`);
  };
  checkParams(fx.params, 'params');
  tensor(fx, 'x', [B, T, I]);
  tensor(fx, 'h0', [L, B, H]);
  if (lstm) tensor(fx, 'c0', [L, B, H]);
  else absent(fx, 'c0');

  if (fx.windows !== undefined) {
    // TBPTT file.
    const { tbptt_k1: k1, tbptt_k2: k2 } = cfg;
    expect(Number.isInteger(k1) && Number.isInteger(k2) && k1 >= 1 && k1 <= k2, 'config.tbptt_k1/k2: need 1 <= k1 <= k2');
    expect(O !== undefined, 'config.head_out_features: missing');
    expect(cfg.loss === 'mse_mean', 'config.loss must be mse_mean');
    expect(L === 1, 'TBPTT files are single-layer');
    tensor(fx, 'target', [B, T, O ?? 0]);
    const count = Math.floor(T / k1);
    expect(cfg.num_windows === count && fx.windows.length === count, `num_windows must be floor(T/k1) = ${count}`);
    const opt = cfg.optimizer;
    expect(opt === null || opt?.type === 'SGD' || opt?.type === 'Adam', 'config.optimizer must be null, SGD or Adam');
    const clip = cfg.clip_grad_norm ?? null;
    fx.windows.forEach((w: Json, i: number) => {
      const at = `windows[${i}]`;
      const end = (i + 1) * k1;
      const start = Math.max(0, end - k2);
      const len = end - start;
      expect(w.index === i && w.start === start && w.length === len, `${at}: index/start/length must be ${i}/${start}/${len}`);
      if (w.loss_start !== undefined || k1 !== k2) {
        expect(w.loss_start === end - k1 && w.loss_length === k1, `${at}: loss_start/loss_length must be ${end - k1}/${k1}`);
      }
      for (const s of ['h_start', 'h_end', 'grad_h_start']) tensor(w, s, [1, B, H], `${at}.${s}`);
      for (const s of ['c_start', 'c_end', 'grad_c_start']) {
        if (lstm) tensor(w, s, [1, B, H], `${at}.${s}`);
        else absent(w, s, `${at}.${s}`);
      }
      tensor(w, 'output', [B, len, H], `${at}.output`);
      tensor(w, 'y', [B, len, O ?? 0], `${at}.y`);
      tensor(w, 'target', [B, len, O ?? 0], `${at}.target`);
      tensor(w, 'grad_x', [B, len, I], `${at}.grad_x`);
      expect(typeof w.loss === 'number' && Number.isFinite(w.loss), `${at}.loss must be a finite number`);
      if (w.grad_norm !== undefined) expect(typeof w.grad_norm === 'number' && w.grad_norm >= 0, `${at}.grad_norm`);
      checkParams(w.grads, `${at}.grads`);
      if (clip !== null) checkParams(w.grads_after_clip, `${at}.grads_after_clip`);
      else absent(w, 'grads_after_clip', `${at}.grads_after_clip`);
      if (opt) {
        checkParams(w.params_before_step, `${at}.params_before_step`);
        checkParams(w.params_after_step, `${at}.params_after_step`);
      } else absent(w, 'params_after_step', `${at}.params_after_step`);
    });
    return problems;
  }

  tensor(fx, 'output', [B, T, H]);
  tensor(fx, 'h_n', [L, B, H]);
  if (lstm) {
    tensor(fx, 'c_n', [L, B, H]);
    tensor(fx, 'c_all', [B, T, H]);
  } else {
    absent(fx, 'c_n');
    absent(fx, 'c_all');
  }
  if (L > 1) tensor(fx, 'layer_outputs', [L, B, T, H]);
  if (O !== undefined) {
    expect(['identity', 'sigmoid', 'softmax'].includes(cfg.head_activation), 'config.head_activation must be identity|sigmoid|softmax');
    tensor(fx, 'y', [B, T, O]);
  } else absent(fx, 'y');
  const err = fx.torch_float32_vs_float64;
  for (const k of ['output', 'h_n', ...(lstm ? ['c_n'] : [])]) {
    expect(typeof err?.[k]?.max_abs === 'number', `torch_float32_vs_float64.${k}.max_abs: missing`);
  }
  if (fx.chunks !== undefined) {
    const lengths: number[] = fx.chunk_lengths;
    expect(Array.isArray(lengths) && lengths.reduce((a, b) => a + b, 0) === T, 'chunk_lengths must sum to T');
    let start = 0;
    fx.chunks.forEach((c: Json, j: number) => {
      const at = `chunks[${j}]`;
      expect(c.start === start && c.length === lengths[j], `${at}: start/length must be ${start}/${lengths[j]}`);
      tensor(c, 'x', [B, c.length, I], `${at}.x`);
      tensor(c, 'output', [B, c.length, H], `${at}.output`);
      tensor(c, 'h_n', [L, B, H], `${at}.h_n`);
      if (lstm) tensor(c, 'c_n', [L, B, H], `${at}.c_n`);
      start += c.length;
    });
    expect(typeof fx.concat_equals_full?.max_abs_diff_output === 'number', 'concat_equals_full: missing');
  }
  return problems;
}

/** Flattens nested arrays of numbers. */
export function flat(value: unknown): number[] {
  return Array.isArray(value) ? value.flatMap(flat) : [value as number];
}

/** Largest |a - ref| and whether every element is within `1e-5 + 1e-4 * |ref|` (the README's float32 tolerance). */
export function closeTo(actual: unknown, reference: unknown): { maxAbs: number; ok: boolean } {
  const a = flat(actual);
  const r = flat(reference);
  if (a.length !== r.length) return { maxAbs: Infinity, ok: false };
  let maxAbs = 0;
  let ok = true;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - r[i]);
    maxAbs = Math.max(maxAbs, d);
    if (!(d <= 1e-5 + 1e-4 * Math.abs(r[i]))) ok = false;
  }
  return { maxAbs, ok };
}

/**
 * A Python interpreter that can `import torch`, or null. When `$SEQSTREAM_PYTHON` is set only that
 * one is tried (set it to `none` to skip the PyTorch tests); else `python3`, then `/usr/bin/python3`
 * (Debian's python3-torch installs there, while a pyenv/venv `python3` first on PATH may lack it),
 * then `python`.
 */
export function findTorchPython(env: NodeJS.ProcessEnv = process.env): string | null {
  const forced = env.SEQSTREAM_PYTHON;
  const candidates = forced ? [forced] : ['python3', '/usr/bin/python3', 'python'];
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    if (probe.status === 0) return candidate;
  }
  return null;
}
