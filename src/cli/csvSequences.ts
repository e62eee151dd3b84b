import { parse as parseCsvSync } from 'csv-parse/sync';
import { SeqstreamError } from '../errors.js';

/** How `seqstream train` reads a CSV file of sequences, see {@link readCsvSequences}. */
export interface CsvSequenceOptions {
  /** Column naming the sequence a row belongs to. Default `sequence`. */
  sequenceColumn?: string;
  /** Column holding the row's label. Default `label`. */
  labelColumn?: string;
  /**
   * `classify`: one label per sequence (every labelled row of a sequence agrees; empty cells are
   * allowed, at least one row names it). `tag`: each row's label is that step's target (an empty
   * cell: no target at that step). Default `classify`.
   */
  task?: 'classify' | 'tag';
  /** Feature columns, in this order. Default: every column but the sequence and label columns. */
  columns?: readonly string[];
}

/** One sequence read from a file: its steps, and a sequence label or one label (or none) per step. */
export interface SequenceRow {
  x: number[][];
  target?: string | number;
  frameTargets?: (string | number | null)[];
}

/**
 * Reads labelled sequences from CSV text: a header line, then one row per step. Rows with the
 * same `sequenceColumn` value form one sequence, in file order (rows of different sequences may
 * interleave); sequences come out in order of first appearance. Every feature cell must be a
 * finite number. Anything else fails with `SEQ_TRAIN_CSV` naming the file, line and column: a
 * line that does not parse or has another field count than the header, a missing column, a
 * non-numeric or empty feature, a `classify` sequence with two labels or none.
 *
 * @example
 * ```ts
 * const rows = readCsvSequences('sequence,x,label\na,0.1,up\na,0.5,up\nb,0.9,down\n', 'seqs.csv');
 * rows[0]; // { x: [[0.1], [0.5]], target: 'up' }
 * ```
 */
export function readCsvSequences(text: string, where: string, options: CsvSequenceOptions = {}): SequenceRow[] {
  const sequenceColumn = options.sequenceColumn ?? 'sequence';
  const labelColumn = options.labelColumn ?? 'label';
  const task = options.task ?? 'classify';
  const fail = (message: string, details: Record<string, unknown> = {}): never => {
    throw new SeqstreamError('SEQ_TRAIN_CSV', `${where}: ${message}`, { path: where, ...details });
  };
  let records: string[][];
  let lineOf: number[];
  try {
    // info: each record's own line in the file (blank lines are skipped, quoted fields may span lines).
    const parsed = parseCsvSync(text, { trim: true, skip_empty_lines: true, bom: true, info: true }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
    records = parsed.map((p) => p.record);
    lineOf = parsed.map((p) => p.info.lines);
  } catch (e) {
    const line = (e as { lines?: number }).lines;
    return fail(`${line ? `line ${line}: ` : ''}not CSV with one field per header column (${(e as Error).message})`, { line });
  }
  if (records.length < 2) fail('expected a header line and at least one row');
  const header = records[0];
  const at = (name: string, what: string): number => {
    const i = header.indexOf(name);
    if (i < 0) fail(`no ${what} column '${name}' in the header [${header.join(', ')}]`, { column: name });
    return i;
  };
  const seqAt = at(sequenceColumn, 'sequence');
  const labelAt = at(labelColumn, 'label');
  const featureNames = options.columns ?? header.filter((_, i) => i !== seqAt && i !== labelAt);
  if (featureNames.length === 0) fail('no feature columns (every column but the sequence and label columns is one)');
  const featureAt = featureNames.map((name) => at(name, 'feature'));
  const sequences = new Map<string, { x: number[][]; labels: string[]; lines: number[] }>();
  for (let r = 1; r < records.length; r++) {
    const fields = records[r];
    const line = lineOf[r];
    const x = featureAt.map((i, k) => {
      const cell = fields[i];
      const v = cell === '' ? NaN : Number(cell);
      if (!Number.isFinite(v)) fail(`line ${line}, column '${featureNames[k]}': expected a finite number, received '${cell}'`, { line, column: featureNames[k] });
      return v;
    });
    const id = fields[seqAt];
    let s = sequences.get(id);
    if (!s) sequences.set(id, (s = { x: [], labels: [], lines: [] }));
    s.x.push(x);
    s.labels.push(fields[labelAt]);
    s.lines.push(line);
  }
  return [...sequences].map(([id, s]) => {
    if (task === 'tag') return { x: s.x, frameTargets: s.labels.map((l) => (l === '' ? null : l)) };
    const named = [...new Set(s.labels.filter((l) => l !== ''))];
    if (named.length !== 1) {
      fail(`sequence '${id}' (first on line ${s.lines[0]}): --task classify needs one label per sequence, found ${named.length === 0 ? 'none' : `[${named.join(', ')}]`} (use --task tag for a label per step)`, { sequence: id, line: s.lines[0] });
    }
    return { x: s.x, target: named[0] };
  });
}
