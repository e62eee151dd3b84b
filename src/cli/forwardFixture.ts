import type { HeadActivation } from '../cells/types.js';

/** A batch of sequences: `[batch][time][features]` (or `[layers][batch][hidden]` for states). */
export type N3 = number[][][];

/** The fields of a forward or stream-chunk fixture (schema of `fixtures/pytorch/README.md`). */
export interface ForwardFixture {
  case?: string;
  config: { cell: string; num_layers?: number; head_activation?: HeadActivation };
  params: Record<string, unknown>;
  x: N3;
  h0: N3;
  c0?: N3;
  output: N3;
  h_n: N3;
  c_n?: N3;
  c_all?: N3;
  y?: N3;
  layer_outputs?: number[][][][];
  chunks?: Array<{ start: number; length: number; x: N3; output: N3; h_n: N3; c_n?: N3 }>;
}
