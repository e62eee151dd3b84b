import type { SensorEvent } from '../adapters/sensorFile.js';

/** How `seqstream detect` writes a scored row. */
export interface RowFormat {
  /** Header line for rows whose input columns are `columns` (CSV output), or null (NDJSON). */
  header(columns: string[]): string | null;
  /** The row: its own fields as written, plus `anomaly_score` (and `alert`). */
  row(event: SensorEvent, inputFormat: 'csv' | 'ndjson', score: number, alert: boolean | null): string;
}

const csvCell = (v: unknown): string => {
  const s = typeof v === 'string' ? v : v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * The writer of one output format. CSV input to CSV output appends to the line as read (every
 * field byte for byte); NDJSON input to NDJSON output inserts the new fields before the line's
 * closing brace (numbers keep their spelling). Across formats the parsed record is written.
 *
 * @example
 * ```ts
 * const out = rowFormat('csv');
 * out.header(['timestamp', 'value']); // 'timestamp,value,anomaly_score'
 * ```
 */
export function rowFormat(output: 'csv' | 'ndjson', withAlert: boolean): RowFormat {
  const extraNames = withAlert ? ['anomaly_score', 'alert'] : ['anomaly_score'];
  if (output === 'csv') {
    return {
      header: (columns) => [...columns.map(csvCell), ...extraNames].join(','),
      row(event, inputFormat, score, alert) {
        const tail = alert === null ? `,${score}` : `,${score},${alert ? 1 : 0}`;
        if (inputFormat === 'csv' && event.text !== undefined) return event.text + tail;
        return Object.values(event.record ?? {}).map(csvCell).join(',') + tail;
      },
    };
  }
  return {
    header: () => null,
    row(event, inputFormat, score, alert) {
      const extra = alert === null ? `"anomaly_score":${score}` : `"anomaly_score":${score},"alert":${alert}`;
      const text = event.text?.trimEnd();
      if (inputFormat === 'ndjson' && text !== undefined && text.endsWith('}')) {
        const body = text.slice(0, -1).trimEnd();
        return `${body}${body.endsWith('{') ? '' : ','}${extra}}`;
      }
      const fields = JSON.stringify(event.record ?? {});
      return `${fields.slice(0, -1)}${fields === '{}' ? '' : ','}${extra}}`;
    },
  };
}
