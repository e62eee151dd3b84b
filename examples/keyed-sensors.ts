/**
 * Many sensors, one model: each sensor key gets its own LSTM state; readings that arrive together
 * are stepped in one batch. States are checkpointed to ./keyed-state (or the folder given as the first argument; atomic files); run it twice
 * and the second run resumes where the first stopped, replaying the log after the checkpoint.
 *   npx tsx examples/keyed-sensors.ts
 */
import { Observable } from 'rxjs';
import { FileStateStore } from 'seqstream/adapters/fileStateStore';
import { RecurrentModel } from 'seqstream/cells';
import { KeyedRecurrentControl, recurrentByKey, type KeyedEvent } from 'seqstream/streams';

const SENSORS = 200;
const LOG_LENGTH = 20_000;

/** A replayable log: reading `offset` is the same every time (think Kafka partition or a file). */
const readingAt = (offset: number): KeyedEvent<string> => {
  const sensor = offset % SENSORS;
  const t = Math.floor(offset / SENSORS);
  return { key: `sensor-${sensor}`, x: [Math.sin(t / 10 + sensor), Math.cos(t / 7)], offset };
};
const logFrom = (start: number) =>
  new Observable<KeyedEvent<string>>((sub) => {
    let i = start;
    const timer = setInterval(() => {
      // A burst: one reading per sensor, as if they all reported in the same tick.
      for (let n = 0; n < SENSORS && i < LOG_LENGTH; n++) sub.next(readingAt(i++));
      if (i >= LOG_LENGTH) sub.complete();
    }, 2);
    return () => clearInterval(timer);
  });

const stateDir = process.argv[2] ?? './keyed-state';
const store = new FileStateStore<string>(stateDir);
const resumeFrom = await store.load();
const model = resumeFrom?.model
  ? RecurrentModel.fromJSON(resumeFrom.model)
  : RecurrentModel.create({ cell: 'lstm', inputSize: 2, hiddenSize: 32, head: { outputSize: 1, activation: 'sigmoid' }, seed: 7 });
const start = resumeFrom?.offset != null ? resumeFrom.offset + 1 : 0;
console.log(resumeFrom ? `resuming ${resumeFrom.keys.length} keys after offset ${resumeFrom.offset}` : 'fresh start');

const control = new KeyedRecurrentControl<string>();
let outputs = 0;
logFrom(start)
  .pipe(
    recurrentByKey<string>(model, {
      control,
      resumeFrom,
      maxBatch: 256,
      maxKeys: 10_000,
      idleTtlMs: 60_000,
      onEvict: (e) => console.log(`evicted ${String(e.key)} (${e.reason})`),
      onError: (err) => console.warn(`rejected: ${err.code}`),
      checkpoint: { store, everyEvents: 5_000, everyMs: 1_000 },
    }),
  )
  .subscribe({
    next: ({ key, y, offset }) => {
      if (++outputs % 5_000 === 0) console.log(`offset ${offset}: ${key} -> ${y[0].toFixed(4)}`);
    },
    complete: () => {
      console.log(`done: ${outputs} outputs; checkpoint saved in ${stateDir}`);
    },
  });
setTimeout(() => {
  if (control.running) console.log(`after 50 ms: ${control.size} keys, ${control.stats().events} events stepped`);
}, 50);
