/**
 * Quick start: an LSTM with a sigmoid head, stepped event by event over a live stream.
 *   npx tsx examples/quickstart.ts
 */
import { interval, map, take } from 'rxjs';
import { RecurrentModel } from 'seqstream/cells';
import { recurrent } from 'seqstream/streams';

const model = RecurrentModel.create({ cell: 'lstm', inputSize: 2, hiddenSize: 16, head: { outputSize: 1, activation: 'sigmoid' }, seed: 42 });

interval(10)
  .pipe(
    take(10),
    map((i) => [Math.sin(i / 3), Math.cos(i / 3)]),
    recurrent(model), // one step per event; hidden state carried across events
  )
  .subscribe((y) => console.log('y =', y[0].toFixed(4)));
