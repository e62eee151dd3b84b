/** What a consumer gets from `npm install seqstream`: the license, and fixtures `verify --self-test` checks. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';

describe('the published package', () => {
  it('ships LICENSE and the forward, chunk and safetensors fixtures', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const files = new Set((JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path));
    expect(files.has('LICENSE')).toBe(true);
    for (const f of ['lstm_l1_forward.json', 'gru_head_softmax_forward.json', 'rnn_tanh_stream_chunks.json', 'lstm_head_safetensors.json', 'lstm_head_safetensors.safetensors']) {
      expect(files.has(`test/fixtures/pytorch/${f}`), f).toBe(true);
    }
  }, 90_000);

  it('seqstream verify --self-test checks the bundled fixtures and exits 0', async () => {
    const out: string[] = [];
    expect(await main(['verify', '--self-test', '--engine', 'fused'], (s) => out.push(s), () => {})).toBe(0);
    const summary = out[out.length - 1];
    expect(summary).toMatch(/^(\d+) passed, 0 failed$/);
    expect(Number(/^(\d+)/.exec(summary)![1])).toBeGreaterThanOrEqual(13);
    expect(await main(['verify'], () => {}, () => {})).toBe(2);
  }, 90_000);
});
