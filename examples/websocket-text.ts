/**
 * Websocket text -> char tokenizer -> embedding -> GRU, with state kept per session by
 * `websocketByKey` (one batched `recurrentByKey` for all sessions).
 *
 *   npx tsx examples/websocket-text.ts
 *
 * Starts a server on loopback, connects two clients with their own session ids, and has each
 * send a few lines. Every line advances that client's own GRU state; the reply is the model's
 * guess of the next character (untrained weights here: load yours with Embedding.split + loadStateDict).
 */
import { randomUUID } from 'node:crypto';
import { firstValueFrom, Subject, take, toArray } from 'rxjs';
import { websocketClient } from 'seqstream/adapters/websocketClient';
import { websocketByKey } from 'seqstream/adapters/websocketByKey';
import { websocketServer } from 'seqstream/adapters/websocketServer';
import { CharTokenizer, Embedding } from 'seqstream/text';
import { RecurrentModel } from 'seqstream/cells';

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
websocketByKey(server, model, { encodeText: (text) => tokenizer.encode(text).map((id) => embedding.lookup(id)) })
  .pipe(
    server.reply(({ seq, tokens, y }) => {
      const probs = y ?? new Float32Array(0);
      const best = probs.reduce((b, p, i) => (p > probs[b] ? i : b), 0);
      return { type: 'output', seq, chars: tokens, next: tokenizer.vocabulary.token(best), p: Number(probs[best]?.toFixed(3)) };
    }),
  )
  .subscribe();
console.log(`listening on ${server.url}`);

async function client(name: string, lines: string[]): Promise<void> {
  const out = new Subject<string>();
  const replies = firstValueFrom(
    websocketClient<Record<string, unknown>>(`${server.url}/?session=${name}-${randomUUID()}`, { outgoing: out }).pipe(take(lines.length + 1), toArray()),
  );
  for (const line of lines) out.next(line);
  for (const r of await replies) console.log(name.padEnd(6), JSON.stringify(r));
}

await Promise.all([client('alice', ['the quick', ' brown fox', ' jumps']), client('bob', ['pack my', ' box!'])]);
console.log(server.stats());
await server.close();
