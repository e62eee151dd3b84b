import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { from } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint, FileStateStore } from '../../src/adapters/fileStateStore.js';
import { RecurrentModel, seededRandom } from '../../src/cells/index.js';
import { recurrentByKey, type KeyedCheckpoint } from '../../src/streams/index.js';
import type { SeqstreamError } from '../../src/errors.js';
import { onnxRuntimeStatus } from '../../src/kernels/onnxRuntime.js';
import { CRASH_TOTAL, crashEvent, crashModel, outputLine } from './fixtures/keyedCrashEvents.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const worker = join(here, 'fixtures', 'keyedCrashWorker.ts');
const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'seqstream-keyed-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function checkpointOf(keys: string[], offset: number, fill: number): KeyedCheckpoint<string> {
  return {
    format: 'seqstream-keyed-checkpoint',
    version: 1,
    offset,
    events: offset + 1,
    cell: 'gru',
    hiddenSize: 3,
    numLayers: 1,
    keys,
    state: new Float32Array(keys.length * 3).fill(fill),
    modelVersion: 0,
    model: null,
  };
}

/** Runs the worker; with `killAt`, SIGKILLs it once its progress passes that many events (or after `killAfterMs`). */
function runWorker(dir: string, out: string, kill?: { atEvents?: number; afterMs?: number }, engine = ''): Promise<{ killed: boolean; start: number }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, SEQSTREAM_ENGINE: engine };
    const child = spawn(process.execPath, ['--import', 'tsx', worker, dir, out], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let start = -1;
    let stderr = '';
    let buf = '';
    let killed = false;
    const killNow = (): void => {
      if (!killed) {
        killed = true;
        child.kill('SIGKILL');
      }
    };
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('start ')) {
          start = Number(line.slice(6));
          if (kill?.afterMs !== undefined) setTimeout(killNow, kill.afterMs);
        }
        if (kill?.atEvents !== undefined && line.startsWith('at ') && Number(line.slice(3)) >= kill.atEvents) killNow();
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' && killed) resolve({ killed: true, start });
      else if (code === 0) resolve({ killed: false, start });
      else reject(new Error(`worker exited ${code ?? signal}: ${stderr}`));
    });
  });
}

describe('FileStateStore', () => {
  it('round-trips a checkpoint through its binary form', () => {
    const cp = { ...checkpointOf(['a', 'b'], 41, 0.25), extra: { optimizer: { step: 3, m: [0.5] } } };
    cp.state[1] = -1.5e-7;
    const back = decodeCheckpoint<string>(encodeCheckpoint(cp));
    expect(back).toEqual(cp);
    expect(() => encodeCheckpoint({ ...cp, keys: [{} as never, 'b'] })).toThrowError(expect.objectContaining({ code: 'SEQ_STORE_KEY' }));
  });

  it('returns undefined for an empty or missing directory', async () => {
    expect(await new FileStateStore(join(tempDir(), 'nope')).load()).toBeUndefined();
  });

  it('keeps the last 2 checkpoints and falls back to the previous one when the newest is torn or corrupt', async () => {
    const dir = tempDir();
    const store = new FileStateStore<string>(dir);
    for (let i = 0; i < 4; i++) await store.save(checkpointOf(['a', 'b', 'c'], 100 * i, i));
    const files = await store.files();
    expect(files).toHaveLength(2);
    expect((await store.load())!.offset).toBe(300);

    // Torn: the newest file cut short (as a crash mid-write on a store without atomic rename would leave it).
    const newest = join(dir, files[0]);
    const good = readFileSync(newest);
    writeFileSync(newest, good.subarray(0, good.length - 20));
    const corrupt: Array<[string, string]> = [];
    const reader = new FileStateStore<string>(dir, { onCorrupt: (f, e) => corrupt.push([f, e.code]) });
    const cp = (await reader.load())!;
    expect(cp.offset).toBe(200);
    expect(Array.from(cp.state)).toEqual(new Array(9).fill(2));
    expect(corrupt).toEqual([[newest, 'SEQ_STORE_CORRUPT']]);

    // Corrupt: one flipped byte inside the state.
    const flipped = Buffer.from(good);
    flipped[flipped.length - 40] ^= 0x10;
    writeFileSync(newest, flipped);
    expect((await reader.load())!.offset).toBe(200);

    // A leftover temp file of a process that died mid-save is ignored and removed; a live
    // process's temp file (a save in progress, e.g. another store instance) is left alone.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    writeFileSync(join(dir, `.keyed-000000000099.ckpt.tmp-${dead}`), 'partial');
    writeFileSync(join(dir, `.keyed-000000000098.ckpt.tmp-${process.pid}`), 'in progress');
    expect((await reader.load())!.offset).toBe(200);
    expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([`.keyed-000000000098.ckpt.tmp-${process.pid}`]);
    rmSync(join(dir, `.keyed-000000000098.ckpt.tmp-${process.pid}`));

    // Both bad: no silent fresh start, unless asked for.
    writeFileSync(join(dir, files[1]), 'garbage');
    await expect(reader.load()).rejects.toMatchObject({ code: 'SEQ_STORE_NO_INTACT' });
    const fresh = new FileStateStore<string>(dir, { freshStartIfAllCorrupt: true, onCorrupt: () => undefined });
    expect(await fresh.load()).toBeUndefined();

    // Numbering continues after existing files, so a new save is the newest.
    await fresh.save(checkpointOf(['z'], 999, 9));
    expect((await new FileStateStore<string>(dir).load())!.offset).toBe(999);
  });

  it('reports a corrupt newest checkpoint by default: a process warning naming the file and the reason', async () => {
    const dir = tempDir();
    const store = new FileStateStore<string>(dir, { fsync: false });
    for (let i = 0; i < 2; i++) await store.save(checkpointOf(['a'], i, i));
    const newest = join(dir, (await store.files())[0]);
    writeFileSync(newest, readFileSync(newest).subarray(0, 30));
    const warnings: Error[] = [];
    const listener = (w: Error): void => void warnings.push(w);
    process.on('warning', listener);
    try {
      expect((await new FileStateStore<string>(dir).load())!.offset).toBe(0);
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
    } finally {
      process.off('warning', listener);
    }
    const mine = warnings.filter((w) => (w as Error & { code?: string }).code === 'SEQ_STORE_CORRUPT');
    expect(mine).toHaveLength(1);
    expect(mine[0].message).toContain(newest);
    expect(mine[0].message).toMatch(/checksum mismatch|too short/);
  });

  it('retention never deletes the newest intact checkpoint to keep a corrupt one', async () => {
    const dir = tempDir();
    const first = new FileStateStore<string>(dir, { fsync: false });
    for (let i = 1; i <= 2; i++) await first.save(checkpointOf(['a'], i, i));
    const [newest, older] = await first.files();
    writeFileSync(join(dir, newest), 'torn');
    // After a fallback (the service resumed from `older`), the next save must keep `older`: it is
    // the only intact checkpoint besides the new one.
    const resumed = new FileStateStore<string>(dir, { fsync: false, onCorrupt: () => undefined });
    expect((await resumed.load())!.offset).toBe(1);
    await resumed.save(checkpointOf(['a'], 3, 3));
    const after = await resumed.files();
    expect(after).toContain(older);
    expect(after).not.toContain(newest);
    // The same for a store that saves without loading first (it checks files it has not seen).
    writeFileSync(join(dir, after[0]), 'torn again');
    const blind = new FileStateStore<string>(dir, { fsync: false });
    await blind.save(checkpointOf(['a'], 4, 4));
    const last = await blind.files();
    expect(last).toHaveLength(2);
    expect(last).toContain(older);
    // Torn newest of the two: the fallback is still the intact `older`, not nothing.
    writeFileSync(join(dir, last[0]), 'torn');
    expect((await new FileStateStore<string>(dir, { onCorrupt: () => undefined }).load())!.offset).toBe(1);
  });

  it('invalid options throw SEQ_INVALID_OPTION', () => {
    for (const o of [{ keep: 1 }, { prefix: '../x' }, { fsync: 'no' as never }, { onCorrupt: 1 as never }, { freshStartIfAllCorrupt: 1 as never }]) {
      expect(() => new FileStateStore('x', o)).toThrowError(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
    }
    expect(() => new FileStateStore('')).toThrowError(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
  });

  it('recurrentByKey checkpoints to files and resumes with the same outputs (in process)', async () => {
    const dir = tempDir();
    const model = RecurrentModel.create({ cell: 'gru', inputSize: 3, hiddenSize: 5, seed: 2 });
    const rnd = seededRandom(4);
    const events = Array.from({ length: 300 }, (_, i) => ({ key: i % 7, x: [rnd(), rnd(), rnd()], offset: i }));
    const full: Float32Array[] = [];
    from(events).pipe(recurrentByKey<number>(model)).subscribe((o) => full.push(o.y));
    const store = new FileStateStore<number>(dir);
    const s2 = from(events.slice(0, 150)).pipe(recurrentByKey<number>(model, { checkpoint: { store, onComplete: true } }));
    await new Promise<void>((resolve, reject) => s2.subscribe({ complete: resolve, error: reject }));
    const cp = (await store.load())!;
    expect(cp.offset).toBe(149);
    expect([...cp.keys].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const rest: Array<[number, Float32Array]> = [];
    from(events.slice(150))
      .pipe(recurrentByKey<number>(RecurrentModel.fromJSON(cp.model), { resumeFrom: cp }))
      .subscribe((o) => rest.push([o.offset as number, o.y]));
    expect(rest).toHaveLength(150);
    // The step kernel is batch-invariant, so resuming (which batches differently) is bit-exact.
    for (const [off, y] of rest) expect(Array.from(y)).toEqual(Array.from(full[off]));
  });

  // On each step engine ('' is the default, auto: wasm at this size; 'native' is onnxruntime for every batch).
  const engines = onnxRuntimeStatus().available || process.env.CI === 'true' ? ['', 'native'] : [''];
  it.each(engines)('survives SIGKILL at random points: restart + replay gives exactly the uninterrupted outputs (engine %j)', async (engine) => {
    const dir = tempDir();
    const out = join(dir, 'outputs.txt');
    // Uninterrupted reference, in this process.
    const expected = new Map<number, string>();
    const model = crashModel();
    process.env.SEQSTREAM_ENGINE = engine; // read when the operator subscribes, just below
    from(Array.from({ length: CRASH_TOTAL }, (_, i) => crashEvent(i)))
      .pipe(recurrentByKey<string>(model))
      .subscribe((o) => expected.set(o.offset as number, outputLine(o.offset as number, o.key, o.y)));
    delete process.env.SEQSTREAM_ENGINE;
    expect(expected.size).toBe(CRASH_TOTAL);

    const rnd = seededRandom(Date.now() % 100_000);
    const starts: number[] = [];
    let killedRuns = 0;
    let progress = 0;
    for (let run = 0; run < 4; run++) {
      // Kill either after some events or after a random delay (which may fall mid-checkpoint).
      progress = Math.min(CRASH_TOTAL - 200, progress + 200 + Math.floor(rnd() * 700));
      const kill = run % 2 === 0 ? { atEvents: progress } : { afterMs: 20 + Math.floor(rnd() * 120) };
      const r = await runWorker(dir, out, kill, engine);
      starts.push(r.start);
      if (r.killed) killedRuns++;
      else break; // finished before the kill: nothing left to interrupt
    }
    const last = await runWorker(dir, out, undefined, engine);
    expect(last.killed).toBe(false);
    starts.push(last.start);
    expect(killedRuns).toBeGreaterThanOrEqual(2);
    // Every restart resumed from a checkpoint (not from scratch), and no further back than the previous start.
    for (let i = 1; i < starts.length; i++) expect(starts[i]).toBeGreaterThanOrEqual(starts[i - 1]);
    expect(starts[starts.length - 1]).toBeGreaterThan(0);

    // Outputs: every offset present, and every line (replayed duplicates included) bit-identical to
    // the uninterrupted run: the step kernel rounds a row the same whatever batch it lands in.
    const seen = new Map<number, string>();
    const text = readFileSync(out, 'utf8');
    const lines = text.split('\n');
    if (!text.endsWith('\n')) lines.pop(); // a line torn by SIGKILL is never the final run's
    const same = (a: string, b: string): void => expect(a.trim()).toBe(b.trim());
    for (const line of lines) {
      if (!line) continue;
      const off = Number(line.slice(0, line.indexOf(' ')));
      const prev = seen.get(off);
      if (prev !== undefined) same(line, prev);
      else seen.set(off, line + '\n');
    }
    expect(seen.size).toBe(CRASH_TOTAL);
    for (const [off, line] of expected) same(seen.get(off) as string, line);
    console.log(`SIGKILL replay (engine ${JSON.stringify(engine)}): ${killedRuns} kills, restarts from offsets ${starts.join(', ')}; all ${CRASH_TOTAL} outputs bit-identical to the uninterrupted run`);
    expect(existsSync(dir)).toBe(true);
  }, 120_000); // six child processes, each loading tsx: slow on a loaded machine

  it('reports a store error code on the stream when the directory cannot be written', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), 'x');
    const store = new FileStateStore<string>(join(dir, 'file', 'sub'));
    const model = RecurrentModel.create({ cell: 'rnn_tanh', inputSize: 1, hiddenSize: 2, seed: 1 });
    const err = await new Promise<SeqstreamError>((resolve) =>
      from([{ key: 'a', x: [1], offset: 0 }]).pipe(recurrentByKey<string>(model, { checkpoint: { store } })).subscribe({ error: resolve }),
    );
    expect(err.code).toBe('SEQ_STORE_WRITE');
  });
});
