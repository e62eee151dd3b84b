/**
 * Audio tagging end to end: writes a WAV (silence, a 440 Hz tone, noise), extracts MFCC + rms
 * frame by frame with Meyda, and runs an LSTM over the frames as they come, carrying its state.
 * The LSTM is untrained here (a seeded random model): load real weights with
 * `loadStateDict` / `RecurrentModel.fromJSON` to tag for real.
 *
 *   npx tsx examples/audio-tagging.ts
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { map } from 'rxjs';
import { audioFromWav } from 'seqstream/adapters/audioFromWav';
import { RecurrentModel } from 'seqstream/cells';
import { recurrent } from 'seqstream/streams';

// 1. A 16 kHz, 16-bit mono WAV: 0.5 s silence, 1 s of 440 Hz, 0.5 s of noise.
const rate = 16000;
const samples = new Int16Array(2 * rate);
for (let i = 0; i < samples.length; i++) {
  const t = i / rate;
  const v = t < 0.5 ? 0 : t < 1.5 ? 0.5 * Math.sin(2 * Math.PI * 440 * t) : 0.3 * (Math.random() * 2 - 1);
  samples[i] = Math.round(v * 32767);
}
const header = Buffer.alloc(44);
header.write('RIFF', 0);
header.writeUInt32LE(36 + samples.byteLength, 4);
header.write('WAVEfmt ', 8);
header.writeUInt32LE(16, 16);
header.writeUInt16LE(1, 20); // PCM
header.writeUInt16LE(1, 22); // mono
header.writeUInt32LE(rate, 24);
header.writeUInt32LE(rate * 2, 28);
header.writeUInt16LE(2, 32);
header.writeUInt16LE(16, 34);
header.write('data', 36);
header.writeUInt32LE(samples.byteLength, 40);
const path = join(mkdtempSync(join(tmpdir(), 'seqstream-example-')), 'clip.wav');
writeFileSync(path, Buffer.concat([header, Buffer.from(samples.buffer)]));

// 2. Frames of 512 samples every 256 (16 ms), features: 13 MFCCs then rms.
const frames$ = audioFromWav(path, { features: ['mfcc', 'rms'], bufferSize: 512, hopSize: 256 });
console.log(`feature vector: ${frames$.layout.length} values (${frames$.layout.labels.join(', ')})`);

// 3. An LSTM sized from the layout, with a 3-way softmax head. recurrent() takes the frames as
//    they are (they carry their vector in `x`) and steps once per frame, carrying the state.
const model = RecurrentModel.create({
  cell: 'lstm', inputSize: frames$.layout.length, hiddenSize: 16, head: { outputSize: 3, activation: 'softmax' }, seed: 1,
});
const tags = ['silence', 'tone', 'noise'];
const secondsPerFrame = 256 / rate;

frames$
  .pipe(
    recurrent(model),
    map((y, index) => ({ time: index * secondsPerFrame, y })),
  )
  .subscribe({
    next: ({ time, y }) => {
      if (Math.round(time / secondsPerFrame) % 25 !== 0) return;
      const best = y.indexOf(Math.max(...y));
      console.log(`t=${time.toFixed(2)}s -> ${tags[best]} (p=${y[best].toFixed(2)}, untrained)`);
    },
    complete: () => console.log('done'),
  });
