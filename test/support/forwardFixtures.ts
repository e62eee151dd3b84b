import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadStateDict, type CellKind, type HeadActivation, type ModelState, type RecurrentModel } from '../../src/cells/index.js';

type Nested = number | Nested[];

/** A PyTorch forward fixture as tools/make_fixtures.py writes it (the fields kernel tests read). */
export interface KernelForwardFixture {
  case: string;
  config: { cell: CellKind; input_size: number; hidden_size: number; num_layers: number; batch_size: number; seq_len: number; head_activation?: HeadActivation };
  params: Record<string, Nested>;
  x: number[][][];
  h0: number[][][];
  c0?: number[][][];
  output: number[][][];
  h_n: number[][][];
  c_n?: number[][][];
  c_all?: number[][][];
  y?: number[][][];
  windows?: unknown;
}

/** Directories with PyTorch fixtures here: ../shared's (when present) and the project's own. */
export const FORWARD_FIXTURE_DIRS = ['../shared/fixtures/pytorch', 'test/fixtures/pytorch'].filter((d) => existsSync(d));

/** Every forward fixture (not the windowed training ones) as `[file, fixture]`. */
export function forwardFixtures(): Array<readonly [string, KernelForwardFixture]> {
  return FORWARD_FIXTURE_DIRS.flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => join(d, f)))
    .map((f) => [f, JSON.parse(readFileSync(f, 'utf8')) as KernelForwardFixture] as const)
    .filter(([, fx]) => fx.windows === undefined && Array.isArray(fx.output));
}

/** The fixture's model (its PyTorch weights) and its `h0`/`c0` as a batch state. */
export function fixtureStart(fx: KernelForwardFixture): { model: RecurrentModel; state: ModelState } {
  const { cell, num_layers: L, batch_size: B } = fx.config;
  const model = loadStateDict(fx.params, { cell, nonlinearity: cell === 'rnn_relu' ? 'relu' : 'tanh', headActivation: fx.config.head_activation });
  const state = model.createState(B);
  for (let k = 0; k < L; k++) {
    state.h[k].set(fx.h0[k].flat());
    if (state.c && fx.c0) state.c[k].set(fx.c0[k].flat());
  }
  return { model, state };
}
