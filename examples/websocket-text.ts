/**
 * Websocket text -> char tokenizer -> embedding -> GRU, with state kept per connection.
 *
 *   npx tsx examples/websocket-text.ts
 *
 * Starts a server on loopback, connects two clients with their own session ids, and has each
 * send a few lines. Every line advances that client's own GRU state; the reply is the model's
 * guess of the next character (untrained weights here: load yours with Embedding.split + loadStateDict).
 */
import { filter, firstValueFrom, map, Subject, take, toArray } from 'rxjs';
import { websocketClient } from '../src/adapters/websocketClient.js';
import { websocketServer } from '../src/adapters/websocketServer.js';
import { CharTokenizer, Embedding } from '../src/text/index.js';
import { RecurrentModel, type ModelState } from '../src/cells/index.js';

const corpus = 'the quick brown fox jumps over the lazy dog. pack my box with five dozen liquor jugs.';
const tokenizer = CharTokenizer.fromText(corpus, { padToken: '<pad>' });
const embedding = Embedding.create({ numEmbeddings: tokenizer.vocabSize, embeddingDim: 8, paddingIdx: tokenizer.padId, seed: 1 });
const model = RecurrentModel.create({
  cell: 'gru',
  inputSize: embedding.embeddingDim,
  hiddenSize: 32,
  head: { outputSize: tokenizer.vocabSize, activation: 'softmax' },
  seed: 2,
});

const server = await websocketServer({ port: 0, maxConnections: 16, messagesPerSecond: 20 });
const states = new Map<string, ModelState>();
server.lifecycle.subscribe((e) => {
  if (e.type === 'end') states.delete(e.key); // session gone for good: free its state
});
const vector = new Float32Array(embedding.embeddingDim);
server.events
  .pipe(
    filter((e) => e.text !== undefined),
    map((e) => {
      let state = states.get(e.key);
      if (!state || e.reset) states.set(e.key, (state = model.createState()));
      let probs: Float32Array = new Float32Array(0);
      for (const id of tokenizer.encode(e.text!)) probs = model.step(state, embedding.lookup(id, vector));
      const best = probs.reduce((b, p, i) => (p > probs[b] ? i : b), 0);
      return { key: e.key, seq: e.seq, chars: e.text!.length, next: tokenizer.vocabulary.token(best), p: Number(probs[best]?.toFixed(3)) };
    }),
    server.reply(),
  )
  .subscribe();
console.log(`listening on ${server.url}`);

async function client(name: string, lines: string[]): Promise<void> {
  const out = new Subject<string>();
  const replies = firstValueFrom(
    websocketClient<Record<string, unknown>>(`${server.url}/?session=${name}`, { outgoing: out }).pipe(take(lines.length + 1), toArray()),
  );
  for (const line of lines) out.next(line);
  for (const r of await replies) console.log(name.padEnd(6), JSON.stringify(r));
}

await Promise.all([client('alice', ['the quick', ' brown fox', ' jumps']), client('bob', ['pack my', ' box!'])]);
console.log(server.stats());
await server.close();
