import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidOptionError, SeqstreamError } from '../errors.js';
import type { KeyedCheckpoint } from '../streams/internal/keyedCheckpoint.js';
import type { StateStore } from '../streams/stateStore.js';
import { processAlive, writeFileDurably } from './internal/writeFileDurably.js';
import { booleanOption, functionOption } from '../options.js';

/** Options of {@link FileStateStore}. */
export interface FileStateStoreOptions {
  /** File name prefix inside the directory. Default `'keyed'`. */
  prefix?: string;
  /** Checkpoints kept; older ones are deleted after a new one is durable. At least 2 so a torn newest file still leaves a good one. Default 2. */
  keep?: number;
  /** fsync the file and the directory (turn off only for tests on throwaway data). Default true. */
  fsync?: boolean;
  /**
   * Called for each checkpoint file `load` skips as unreadable (code `SEQ_STORE_CORRUPT`).
   * Default: a process warning (`process.emitWarning`, code `SEQ_STORE_CORRUPT`) naming the file
   * and the reason, printed on stderr by Node unless warnings are silenced.
   */
  onCorrupt?: (file: string, error: SeqstreamError) => void;
  /**
   * What `load` does when checkpoint files exist but none is intact: `false` rejects with
   * `SEQ_STORE_NO_INTACT` (so a service never silently restarts from offset 0 with fresh state);
   * `true` resolves `undefined`, a deliberate fresh start. An empty or missing directory always
   * resolves `undefined`. Default false.
   */
  freshStartIfAllCorrupt?: boolean;
}

const MAGIC = Buffer.from('SEQKCP01', 'latin1');
const DIGEST = 32;
const PREAMBLE = 16; // magic + u32 header length + u32 reserved

/**
 * A {@link StateStore} in a directory: each checkpoint is one binary file (JSON header with keys,
 * offset and model, then the float32 states, then a sha256 of all of it), written atomically —
 * temp file, fsync, rename, fsync of the directory — and the last `keep` (2) are kept. `load`
 * returns the newest file whose checksum holds, so a torn or corrupt newest file falls back to
 * the previous one (reported through `onCorrupt`, by default a process warning). Retention counts
 * only intact checkpoints, so the newest intact one is never deleted to make room while a corrupt
 * file is kept. If files exist and none is intact, `load` rejects with `SEQ_STORE_NO_INTACT`
 * unless `freshStartIfAllCorrupt` is set. Keys must be strings or finite numbers. One writer per directory: two stores
 * saving into the same directory would number their files alike (readers may share it freely;
 * `load` removes only temp files of processes that are gone). A failed write rejects with
 * `SEQ_STORE_WRITE`.
 *
 * @example
 * ```ts
 * import { FileStateStore } from 'seqstream/adapters/fileStateStore';
 * const store = new FileStateStore('./state');
 * const cp = await store.load();                    // newest intact checkpoint or undefined
 * const model = cp?.model ? RecurrentModel.fromJSON(cp.model) : freshModel;
 * replayFrom((cp?.offset ?? -1) + 1).pipe(
 *   recurrentByKey(model, { resumeFrom: cp, checkpoint: { store, everyEvents: 10_000, everyMs: 5_000 } }),
 * );
 * ```
 */
export class FileStateStore<K extends string | number = string | number> implements StateStore<K> {
  readonly dir: string;
  private readonly prefix: string;
  private readonly keep: number;
  private readonly fsync: boolean;
  private readonly onCorrupt: (file: string, error: SeqstreamError) => void;
  private readonly freshStartIfAllCorrupt: boolean;
  /** Checkpoint names known to be intact (written by this store or decoded) or corrupt. */
  private readonly intact = new Map<string, boolean>();
  private seq = -1;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(dir: string, options: FileStateStoreOptions = {}) {
    if (typeof dir !== 'string' || dir.length === 0) throw new InvalidOptionError('dir', 'a directory path', dir);
    const prefix = options.prefix ?? 'keyed';
    if (typeof prefix !== 'string' || !/^[A-Za-z0-9_-]+$/.test(prefix)) throw new InvalidOptionError('prefix', 'letters, digits, _ or -', prefix);
    const keep = options.keep ?? 2;
    if (!Number.isInteger(keep) || keep < 2) throw new InvalidOptionError('keep', 'an integer >= 2', keep);
    this.dir = dir;
    this.prefix = prefix;
    this.keep = keep;
    this.fsync = booleanOption('fsync', options.fsync, true);
    this.onCorrupt = functionOption<NonNullable<FileStateStoreOptions['onCorrupt']>>('onCorrupt', options.onCorrupt) ?? warnCorrupt;
    this.freshStartIfAllCorrupt = booleanOption('freshStartIfAllCorrupt', options.freshStartIfAllCorrupt, false);
  }

  /** Writes one checkpoint atomically, then deletes all but the newest `keep` intact ones. Saves run one at a time. */
  save(checkpoint: KeyedCheckpoint<K>): Promise<void> {
    const run = this.chain.then(() => this.saveNow(checkpoint));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * The newest checkpoint whose checksum and header are intact; `undefined` when there is no
   * checkpoint file. Rejects with `SEQ_STORE_NO_INTACT` when files exist but all are corrupt
   * (unless `freshStartIfAllCorrupt`).
   */
  load(): Promise<KeyedCheckpoint<K> | undefined> {
    const run = this.chain.then(() => this.loadNow());
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Checkpoint file names, newest first. */
  async files(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const re = new RegExp(`^${this.prefix}-(\\d{12})\\.ckpt$`);
    return names
      .filter((n) => re.test(n))
      .sort()
      .reverse();
  }

  private async saveNow(cp: KeyedCheckpoint<K>): Promise<void> {
    const bytes = encodeCheckpoint(cp);
    await mkdir(this.dir, { recursive: true });
    if (this.seq < 0) {
      const existing = await this.files();
      this.seq = existing.length ? Number(existing[0].slice(this.prefix.length + 1, this.prefix.length + 13)) : 0;
    }
    const seq = ++this.seq;
    const name = `${this.prefix}-${String(seq).padStart(12, '0')}.ckpt`;
    const tmp = join(this.dir, `.${name}.tmp-${process.pid}`);
    try {
      await writeFileDurably(join(this.dir, name), tmp, bytes, this.fsync);
    } catch (err) {
      throw new SeqstreamError('SEQ_STORE_WRITE', `Cannot write checkpoint '${name}' in '${this.dir}': ${(err as Error).message}`, { dir: this.dir, cause: err });
    }
    this.intact.set(name, true);
    await this.prune();
  }

  /**
   * Keeps the newest `keep` intact checkpoints and deletes every other checkpoint file. A file
   * this store has not seen is checked once (read and checksum), so a corrupt file never takes
   * the place of an intact one in the count.
   */
  private async prune(): Promise<void> {
    const all = await this.files();
    let kept = 0;
    const doomed: string[] = [];
    for (const name of all) {
      if (kept < this.keep && (await this.isIntact(name))) kept++;
      else doomed.push(name);
    }
    for (const name of doomed) {
      await unlink(join(this.dir, name)).catch(() => undefined);
      this.intact.delete(name);
    }
  }

  private async isIntact(name: string): Promise<boolean> {
    let known = this.intact.get(name);
    if (known === undefined) {
      try {
        decodeCheckpoint(await readFile(join(this.dir, name)), join(this.dir, name));
        known = true;
      } catch {
        known = false;
      }
      this.intact.set(name, known);
    }
    return known;
  }

  private async loadNow(): Promise<KeyedCheckpoint<K> | undefined> {
    const names = await this.files();
    // Temp files of a process that is gone are leftovers of a crash mid-save; they were never
    // checkpoints. A live process's temp file may be a save in progress: leave it alone.
    try {
      for (const n of await readdir(this.dir)) {
        const m = n.startsWith(`.${this.prefix}-`) ? /\.tmp-(\d+)$/.exec(n) : null;
        if (m && !processAlive(Number(m[1]))) await unlink(join(this.dir, n)).catch(() => undefined);
      }
    } catch {
      /* no directory yet */
    }
    for (const name of names) {
      const file = join(this.dir, name);
      try {
        const cp = decodeCheckpoint<K>(await readFile(file), file);
        this.intact.set(name, true);
        return cp;
      } catch (e) {
        if (!(e instanceof SeqstreamError) || e.code !== 'SEQ_STORE_CORRUPT') throw e;
        this.intact.set(name, false);
        this.onCorrupt(file, e);
      }
    }
    if (names.length === 0 || this.freshStartIfAllCorrupt) return undefined;
    throw new SeqstreamError(
      'SEQ_STORE_NO_INTACT',
      `None of the ${names.length} checkpoint files in '${this.dir}' is intact (newest: ${names[0]}); ` +
        'refusing to start from offset 0 with fresh state. Restore a checkpoint, or pass freshStartIfAllCorrupt: true to start over.',
      { dir: this.dir, files: names },
    );
  }
}

/** The default `onCorrupt`: a process warning that names the file and the reason. */
function warnCorrupt(file: string, error: SeqstreamError): void {
  process.emitWarning(`${error.message}; load() skips it and tries the next older one`, { type: 'SeqstreamWarning', code: 'SEQ_STORE_CORRUPT', detail: `file: ${file}` });
}

/**
 * Serialises a checkpoint: magic `SEQKCP01`, header length, JSON header (everything but the
 * states), float32 states (little-endian), sha256 of all that.
 *
 * @example
 * ```ts
 * const bytes = encodeCheckpoint(control.capture());
 * const back = decodeCheckpoint(bytes); // same checkpoint
 * ```
 */
export function encodeCheckpoint<K>(cp: KeyedCheckpoint<K>): Buffer {
  if (endianness() !== 'LE') throw new SeqstreamError('SEQ_STORE_PLATFORM', 'FileStateStore writes little-endian floats and needs a little-endian host', {});
  for (const k of cp.keys) {
    if (typeof k !== 'string' && !(typeof k === 'number' && Number.isFinite(k))) {
      throw new SeqstreamError('SEQ_STORE_KEY', `FileStateStore stores string or finite number keys, received ${typeof k}`, { key: String(k) });
    }
  }
  const { state, ...rest } = cp;
  const header = Buffer.from(JSON.stringify({ ...rest, stateLength: state.length }), 'utf8');
  const pad = (4 - ((PREAMBLE + header.length) % 4)) % 4;
  const pre = Buffer.alloc(PREAMBLE);
  MAGIC.copy(pre, 0);
  pre.writeUInt32LE(header.length, 8);
  pre.writeUInt32LE(pad, 12);
  const body = Buffer.from(state.buffer, state.byteOffset, state.byteLength);
  const hash = createHash('sha256').update(pre).update(header).update(Buffer.alloc(pad)).update(body).digest();
  return Buffer.concat([pre, header, Buffer.alloc(pad), body, hash]);
}

/**
 * Parses {@link encodeCheckpoint} output; throws `SEQ_STORE_CORRUPT` when the magic, checksum,
 * header or lengths do not add up.
 *
 * @example
 * ```ts
 * try { decodeCheckpoint(readFileSync(file)); } catch (e) { if (e.code === 'SEQ_STORE_CORRUPT') useThePreviousOne(); }
 * ```
 */
export function decodeCheckpoint<K>(buf: Buffer, file = 'checkpoint'): KeyedCheckpoint<K> {
  const corrupt = (why: string): never => {
    throw new SeqstreamError('SEQ_STORE_CORRUPT', `Checkpoint ${file} is unreadable: ${why}`, { file, why });
  };
  if (buf.length < PREAMBLE + DIGEST || !buf.subarray(0, 8).equals(MAGIC)) corrupt('bad magic or too short');
  const payload = buf.subarray(0, buf.length - DIGEST);
  const digest = createHash('sha256').update(payload).digest();
  if (!digest.equals(buf.subarray(buf.length - DIGEST))) corrupt('checksum mismatch (torn or damaged file)');
  const headerLen = buf.readUInt32LE(8);
  const pad = buf.readUInt32LE(12);
  if (PREAMBLE + headerLen + pad > payload.length) corrupt('header length out of range');
  let header: Omit<KeyedCheckpoint<K>, 'state'> & { stateLength: number };
  try {
    header = JSON.parse(payload.subarray(PREAMBLE, PREAMBLE + headerLen).toString('utf8'));
  } catch {
    return corrupt('header is not JSON');
  }
  const start = PREAMBLE + headerLen + pad;
  if (header.format !== 'seqstream-keyed-checkpoint' || header.version !== 1) corrupt('not a seqstream keyed checkpoint v1');
  if ((payload.length - start) !== header.stateLength * 4) corrupt('state length does not match header');
  // Copy into a fresh, aligned buffer that the checkpoint owns.
  const state = new Float32Array(header.stateLength);
  new Uint8Array(state.buffer).set(payload.subarray(start));
  const { stateLength: _n, ...rest } = header;
  return { ...rest, state };
}
