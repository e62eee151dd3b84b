/**
 * Voice activity with the shipped model: tags a WAV file, or the microphone through sox, and
 * prints each speech segment as soon as it is decided.
 *
 *   npx tsx examples/voice-activity.ts [clip.wav]     # without a file: speech made by espeak-ng
 *   sox -d -t raw -r 16000 -e signed -b 16 -c 1 - | npx tsx examples/voice-activity.ts --stdin
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, Observable } from 'rxjs';
import { wavSamples } from 'seqstream/adapters/wavSamples';
import { voiceActivity } from 'seqstream/tagging';

const arg = process.argv[2];

if (arg === '--stdin') {
  // Raw 16-bit mono PCM at 16 kHz, as sox writes it above; one block per chunk that arrives.
  const blocks$ = new Observable<Float32Array>((subscriber) => {
    process.stdin.on('data', (chunk: Buffer) => {
      const block = new Float32Array(chunk.length >> 1);
      for (let i = 0; i < block.length; i++) block[i] = chunk.readInt16LE(2 * i) / 32768;
      subscriber.next(block);
    });
    process.stdin.on('end', () => subscriber.complete());
  });
  blocks$.pipe(voiceActivity({ sampleRate: 16000 })).subscribe((s) => console.log(JSON.stringify(s)));
} else {
  let file = arg;
  if (!file) {
    file = join(mkdtempSync(join(tmpdir(), 'seqstream-vad-')), 'speech.wav');
    const made = spawnSync('espeak-ng', ['-w', file, 'Voice activity detection finds the parts of a recording where someone speaks.']);
    if (made.status !== 0) file = 'test/fixtures/vad/valid_0005.wav'; // espeak-ng not installed: a clip from the repository
  }
  // Any rate and channel count: decoded to mono and resampled by the tagger.
  const { samples, sampleRate } = wavSamples(readFileSync(file));
  const blocks = Array.from({ length: Math.ceil(samples.length / 1600) }, (_, i) => samples.subarray(i * 1600, (i + 1) * 1600));
  console.log(`${file}: ${(samples.length / sampleRate).toFixed(2)} s at ${sampleRate} Hz`);
  from(blocks)
    .pipe(voiceActivity({ sampleRate }))
    .subscribe((s) => s.kind === 'segment' && console.log(`speech ${s.start.toFixed(2)} s - ${s.end.toFixed(2)} s`));
}
