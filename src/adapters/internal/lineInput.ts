import { parse as parseCsvSync } from 'csv-parse/sync';
import { describe, InvalidInputError } from '../../errors.js';
import type { AssemblerInput, EventAssembler } from './eventAssembler.js';
import { LineSplitter } from './lineSplitter.js';
import type { ResolvedLineOptions } from './sensorOptions.js';

/** One byte input (a file, a readable, one TCP connection) decoded line by line into events. */
export interface LineInput {
  push(chunk: Buffer | string): void;
  /** End of this input: flushes a last line without newline. */
  end(): void;
  /** Where a replay would resume. */
  readonly position: { line: number; byteOffset: number };
}

/**
 * Framing is by line on purpose, also for CSV: a broken line (bad quote, binary garbage) then
 * costs exactly that line, and reading goes on from the next one. A streaming CSV parser cannot
 * promise that: after an unclosed quote, csv-parse's `skip_records_with_error` swallows the rest
 * of the input. The price: a quoted CSV field cannot hold a newline (sensor data never needs it).
 * Lines with quotes are parsed by csv-parse; lines without (nearly all sensor data) are split
 * directly, which gives the same fields about 100 times faster.
 */
export function createLineInput(
  options: ResolvedLineOptions,
  assembler: EventAssembler,
  origin: { source: string; defaultKey: string; input?: AssemblerInput },
  start?: { line?: number; byteOffset?: number },
): LineInput {
  let columns = options.columns;
  const { source, defaultKey, input } = origin;

  const onLine = (text: string, line: number, byteOffset: number): void => {
    if (assembler.isClosed) return;
    if (text.trim() === '') return;
    const where = { source, line, byteOffset };
    if (options.format === 'ndjson') {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (e) {
        return assembler.problem(new InvalidInputError('SEQ_SENSOR_JSON', `Line ${line} of ${source} is not valid JSON: ${(e as Error).message}`, where));
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return assembler.problem(new InvalidInputError('SEQ_SENSOR_NOT_OBJECT', `Line ${line} of ${source} must be a JSON object, received ${describe(value)}`, where));
      }
      return assembler.accept(value as Record<string, unknown>, { source, line, byteOffset, defaultKey, input, text });
    }
    let fields: string[];
    if (text.includes('"')) {
      try {
        const rows = parseCsvSync(text, { delimiter: options.delimiter, trim: true, relax_column_count: true }) as string[][];
        fields = rows[0] ?? [];
      } catch (e) {
        return assembler.problem(new InvalidInputError('SEQ_SENSOR_CSV_SYNTAX', `Line ${line} of ${source} is not valid CSV: ${(e as Error).message}`, { ...where, csvCode: (e as { code?: string }).code }));
      }
    } else {
      fields = text.split(options.delimiter);
      for (let i = 0; i < fields.length; i++) fields[i] = fields[i].trim();
    }
    if (!columns) {
      if (fields.some((f) => f === '') || new Set(fields).size !== fields.length) {
        // The next line gets its chance to be the header: one bad header line must not poison a connection.
        return assembler.problem(new InvalidInputError('SEQ_SENSOR_CSV_HEADER', `Header line ${line} of ${source} must hold distinct, non-empty column names, received ${describe(text)}`, where));
      }
      columns = fields;
      return;
    }
    if (fields.length !== columns.length) {
      return assembler.problem(new InvalidInputError('SEQ_SENSOR_CSV_COLUMNS', `Line ${line} of ${source} has ${fields.length} fields, the header has ${columns.length}`, { ...where, expected: columns.length, received: fields.length }));
    }
    const record: Record<string, unknown> = Object.create(null);
    for (let i = 0; i < columns.length; i++) record[columns[i]] = fields[i];
    assembler.accept(record, { source, line, byteOffset, defaultKey, input, text });
  };

  const splitter = new LineSplitter(
    options.maxLineLength,
    {
      line: onLine,
      overlong: (line, byteOffset, length) =>
        assembler.problem(
          new InvalidInputError('SEQ_SENSOR_LINE_TOO_LONG', `Line ${line} of ${source} is longer than ${options.maxLineLength} bytes (option maxLineLength); dropped`, {
            source,
            line,
            byteOffset,
            maxLineLength: options.maxLineLength,
            length,
          }),
        ),
    },
    start,
  );
  return {
    push: (chunk) => splitter.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk),
    end: () => splitter.end(),
    get position() {
      return splitter.position;
    },
  };
}
