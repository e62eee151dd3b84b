import { SeqstreamError } from '../../errors.js';

/** The NATS client modules, loaded on first use. */
export interface NatsModules {
  transport: typeof import('@nats-io/transport-node');
  jetstream: typeof import('@nats-io/jetstream');
  kv: typeof import('@nats-io/kv');
  obj: typeof import('@nats-io/obj');
}

let loaded: Promise<NatsModules> | undefined;

async function importOptional<T>(name: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new SeqstreamError('SEQ_DEPENDENCY_MISSING', `the JetStream cluster binding needs the optional package '${name}': run \`npm install ${name}\``, { package: name, usedBy: 'seqstream/cluster/jetstream' });
    }
    throw err;
  }
}

/**
 * Loads `@nats-io/transport-node`, `@nats-io/jetstream`, `@nats-io/kv` and `@nats-io/obj` (optional
 * peers) the first time the JetStream binding connects; `SEQ_DEPENDENCY_MISSING` names a missing one.
 *
 * @example
 * ```ts
 * const { transport } = await loadNats();
 * const nc = await transport.connect({ servers: 'nats://127.0.0.1:4222' });
 * ```
 */
export function loadNats(): Promise<NatsModules> {
  loaded ??= (async () => ({
    transport: await importOptional('@nats-io/transport-node', () => import('@nats-io/transport-node')),
    jetstream: await importOptional('@nats-io/jetstream', () => import('@nats-io/jetstream')),
    kv: await importOptional('@nats-io/kv', () => import('@nats-io/kv')),
    obj: await importOptional('@nats-io/obj', () => import('@nats-io/obj')),
  }))();
  loaded.catch(() => {
    loaded = undefined;
  });
  return loaded;
}
