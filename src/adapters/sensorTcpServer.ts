import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Observable } from 'rxjs';
import { InvalidOptionError, SeqstreamError } from '../errors.js';
import { EventAssembler } from './internal/eventAssembler.js';
import { createLineInput } from './internal/lineInput.js';
import { resolveLineOptions, type SensorEvent, type SensorLineOptions } from './internal/sensorOptions.js';
import { integerOption } from '../options.js';

export type { MissingPolicy, OrderPolicy, SensorEvent, SensorLineOptions, SensorMappingOptions } from './internal/sensorOptions.js';

/** Options of {@link sensorTcpServer}. */
export interface SensorTcpServerOptions extends SensorLineOptions {
  /** Port to listen on; 0 picks a free one (see `onListening`). Default 0. */
  port?: number;
  /** Address to bind. Default `'127.0.0.1'` (loopback only; bind `'0.0.0.0'` deliberately). */
  host?: string;
  /** Most simultaneous connections; one more is closed at once and reported with `SEQ_TCP_TOO_MANY_CONNECTIONS`. Default 64. */
  maxConnections?: number;
  /** A connection silent this long (ms) is closed and reported with `SEQ_TCP_IDLE_TIMEOUT`. Default 300000 (5 min). */
  idleTimeoutMs?: number;
  /** Called once the server listens, with its address (learn the port when `port` is 0). */
  onListening?: (address: { host: string; port: number }) => void;
  /** Called for every accepted connection with its id (`'tcp-1'`, `'tcp-2'`, ...) and peer address. Default none. */
  onConnection?: (info: { id: string; remoteAddress: string | undefined; remotePort: number | undefined }) => void;
}

/**
 * A TCP server that many sensors connect to, each sending newline-delimited JSON or CSV lines.
 * (This is the server side; for a feed you connect to, pass your `net.Socket` to
 * `sensorReadable`.)
 *
 * 1. On subscribe, listen on `host:port`; a listen failure (port in use) errors with `SEQ_TCP_LISTEN`.
 * 2. Every connection gets an id (`tcp-<n>`) and its own line framing, CSV header (the first line
 *    of each connection, unless `columns`) and line numbering; `event.source` is `tcp:<id>`.
 *    Without a `key` field, the connection id is the key.
 * 3. Lines become events exactly as in {@link sensorReadable}; per-key state (previous values,
 *    order) is shared across connections, since a key may move to a new connection.
 * 4. Bad input defaults to `invalidInput: 'skip'`: a garbage line, an over-long line or a
 *    non-numeric field from one sensor is reported to `onError` (with `details.source`/`line`)
 *    and dropped; that connection and all others go on. `invalidInput: 'error'` ends the whole
 *    stream instead.
 * 5. Connection trouble (reset, idle timeout, over `maxConnections`) is reported to `onError`
 *    and closes only that connection. When a connection ends, its last unterminated line counts
 *    (after a reset it is dropped, being likely cut off).
 * 6. When a connection closes (cleanly or not), every key it fed that no other open connection
 *    feeds emits the events it holds for reordering (`order: { reorderWindow }`), and the state
 *    of its own key `tcp-<n>` is freed, so `maxKeys` bounds keys in use, not connections ever
 *    made. Keys named by a `key` field keep their state (previous values, newest timestamp):
 *    a sensor may reconnect; beyond `maxKeys` of them a new key is rejected
 *    (`SEQ_SENSOR_TOO_MANY_KEYS`). On a clean end this happens before the server's FIN is sent.
 * 7. The Observable never completes by itself; unsubscribing closes the server and all connections.
 *
 * @example
 * ```ts
 * import { sensorTcpServer } from 'seqstream/adapters/sensorTcpServer';
 * sensorTcpServer({ port: 7070, key: 'sensor', onError: (e) => console.warn(e.code, e.details) })
 *   .subscribe((e) => console.log(e.key, e.x));
 * // sensors: echo '{"sensor":"s1","timestamp":1,"value":3.2}' | nc 127.0.0.1 7070
 * ```
 */
export function sensorTcpServer(options: SensorTcpServerOptions = {}): Observable<SensorEvent> {
  const resolved = resolveLineOptions(options, { invalidInput: 'skip' });
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidOptionError('port', 'an integer in [0, 65535]', port);
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host.length === 0) throw new InvalidOptionError('host', 'a host name or address', host);
  const maxConnections = integerOption('maxConnections', options.maxConnections, 64, 1);
  const idleTimeoutMs = integerOption('idleTimeoutMs', options.idleTimeoutMs, 300_000, 1);
  for (const cb of ['onListening', 'onConnection'] as const) {
    if (options[cb] !== undefined && typeof options[cb] !== 'function') throw new InvalidOptionError(cb, 'a function', options[cb]);
  }

  return new Observable<SensorEvent>((subscriber) => {
    const assembler = new EventAssembler(resolved, (e) => subscriber.next(e), (err) => subscriber.error(err));
    const sockets = new Set<Socket>();
    let nextId = 1;
    const server: Server = createServer((socket) => {
      const id = `tcp-${nextId++}`;
      const source = `tcp:${id}`;
      if (sockets.size >= maxConnections) {
        socket.destroy();
        assembler.report(new SeqstreamError('SEQ_TCP_TOO_MANY_CONNECTIONS', `Connection ${id} refused: ${maxConnections} connections already open (option maxConnections)`, { source, maxConnections }));
        return;
      }
      sockets.add(socket);
      const feed = assembler.openInput(id);
      const input = createLineInput(resolved, assembler, { source, defaultKey: id, input: feed });
      socket.setTimeout(idleTimeoutMs);
      socket.on('timeout', () => {
        assembler.report(new SeqstreamError('SEQ_TCP_IDLE_TIMEOUT', `Connection ${id} was idle for ${idleTimeoutMs} ms (option idleTimeoutMs); closed`, { source, idleTimeoutMs }));
        socket.destroy();
      });
      socket.on('data', (chunk: Buffer) => input.push(chunk));
      socket.on('end', () => {
        input.end();
        // Flushed before our FIN goes out: a client that sees the close knows its events are out.
        assembler.endInput(feed);
        socket.end();
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        assembler.report(new SeqstreamError('SEQ_TCP_CONNECTION', `Connection ${id} failed: ${err.message}`, { source, cause: err.code ?? err.message }));
      });
      socket.on('close', () => {
        sockets.delete(socket);
        // Reset, idle timeout or teardown: no 'end' came, so flush and free here (idempotent).
        assembler.endInput(feed);
      });
      try {
        options.onConnection?.({ id, remoteAddress: socket.remoteAddress, remotePort: socket.remotePort });
      } catch (thrown) {
        assembler.abort(thrown);
      }
    });
    server.on('error', (err: NodeJS.ErrnoException) => {
      assembler.abort(new SeqstreamError('SEQ_TCP_LISTEN', `TCP sensor server on ${host}:${port} failed: ${err.message}`, { host, port, cause: err.code ?? err.message }));
    });
    server.listen(port, host, () => {
      const address = server.address() as AddressInfo;
      try {
        options.onListening?.({ host: address.address, port: address.port });
      } catch (thrown) {
        assembler.abort(thrown);
      }
    });
    return () => {
      assembler.close();
      server.close();
      for (const s of sockets) s.destroy();
      sockets.clear();
    };
  });
}
