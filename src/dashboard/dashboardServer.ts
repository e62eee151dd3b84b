import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { InvalidOptionError, SeqstreamError } from '../errors.js';
import { DashboardStore, resolveStoreOptions, type DashboardEvent, type DashboardStoreOptions } from './dashboardStore.js';
import { DashboardClient } from './internal/dashboardClient.js';
import { loadPageFiles, type PageFile } from './internal/pageFiles.js';
import { checkRequest, isLoopbackAddress, LOOPBACK_HOSTS, requestToken, TOKEN_COOKIE, type DashboardGatePolicy } from './internal/requestGate.js';
import { integerOption } from '../options.js';

/** Options of {@link DashboardServer} and the `dashboard()` operator. */
export interface DashboardOptions extends DashboardStoreOptions {
  /** Port; 0 picks a free one (read it from `url` or `onListening`). Default 0. */
  port?: number;
  /** Address to bind. Default `'127.0.0.1'`. Any other address needs `token`. */
  host?: string;
  /** Secret every request must carry (`?token=` once, then a cookie). Default none (loopback only). */
  token?: string;
  /** Host names the `Host` header may name. Default loopback names when bound to loopback, else `'*'`. */
  allowedHosts?: '*' | readonly string[];
  /** Origins allowed to open the live socket. Default `'same-host'`. */
  allowedOrigins?: 'same-host' | '*' | readonly string[];
  /** Milliseconds between updates sent to each page. Default 250. */
  updateIntervalMs?: number;
  /** Pages connected at once; more get HTTP 503. Default 16. */
  maxClients?: number;
  /** A page whose socket holds more than this many unsent bytes misses ticks (counted). Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Most stream-list rows one page may ask for per tick. Default 200. */
  maxRows?: number;
  /** Page title and model description shown on the page. Default `{ title: 'seqstream' }`. */
  info?: DashboardInfo;
  /** Called once listening, with the page's URL (token included when there is one). */
  onListening?: (url: string) => void;
}

/** What the page shows about the pipeline (model info panel). Values are shown as text. */
export interface DashboardInfo {
  title?: string;
  [field: string]: string | number | boolean | null | undefined;
}

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The dashboard's web server: the page (HTML, JS, CSS and uPlot, all served from the package) and
 * one websocket per page for live updates.
 *
 * 1. Events go into a bounded {@link DashboardStore} with {@link DashboardServer.push} (O(1), no
 *    I/O); pipeline errors are counted with {@link DashboardServer.reportError}.
 * 2. Every `updateIntervalMs` each page gets one message: counters, the rows of the stream list it
 *    shows (sorted and filtered server-side, so 10,000 keys cost the page ~50 rows), new alerts,
 *    and the full-rate points of the one stream it has selected.
 * 3. A page whose socket is backed up (slow, stalled) misses ticks, counted as `droppedFrames` and
 *    shown; nothing queues for it. A hidden tab gets counters only, every 2 s.
 * 4. Every request passes the gate: `Host` allowlist (403 `SEQ_DASHBOARD_HOST`, stops DNS
 *    rebinding), `Origin` (403 `SEQ_DASHBOARD_ORIGIN`), token when set (401 `SEQ_DASHBOARD_TOKEN`).
 *    Responses carry a strict Content-Security-Policy; the page renders stream values as text only.
 *
 * Why websockets rather than server-sent events: the page tells the server what it shows (sort,
 * window, selected stream, hidden) and the server sends only that; `ws` is already a dependency and
 * exposes `bufferedAmount`, which is what lets a slow page be detected and skipped.
 *
 * @example
 * ```ts
 * import { DashboardServer } from 'seqstream/dashboard';
 * const board = new DashboardServer({ port: 8080 });
 * console.error(`dashboard: ${await board.listen()}`);
 * board.push({ key: 'pump-1', x: [0.4], y: [0.41], score: 0.01 });
 * await board.close();
 * ```
 */
export class DashboardServer {
  readonly store: DashboardStore;
  private readonly options: ResolvedOptions;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<DashboardClient>();
  private files: Map<string, PageFile> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastRateMark = 0;
  private info: DashboardInfo;
  private address: { host: string; port: number } | null = null;
  private policy: DashboardGatePolicy | null = null;
  private closed = false;

  constructor(options: DashboardOptions = {}) {
    this.options = resolveOptions(options);
    this.store = new DashboardStore(options);
    this.info = { title: 'seqstream', ...(options.info ?? {}) };
    this.http = createServer((req, res) => this.onRequest(req, res));
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 });
    this.http.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  /** Starts listening; resolves to the page URL (`SEQ_DASHBOARD_LISTEN` when the port is taken). */
  async listen(): Promise<string> {
    this.files = loadPageFiles();
    const o = this.options;
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error) => reject(new SeqstreamError('SEQ_DASHBOARD_LISTEN', `dashboard cannot listen on ${o.host}:${o.port}: ${e.message}`, { host: o.host, port: o.port }));
      this.http.once('error', onError);
      this.http.listen(o.port, o.host, () => {
        this.http.off('error', onError);
        resolve();
      });
    });
    if (this.closed) {
      this.http.close();
      throw new SeqstreamError('SEQ_DASHBOARD_CLOSED', 'the dashboard was closed while it started');
    }
    const a = this.http.address() as AddressInfo;
    this.address = { host: a.address, port: a.port };
    this.policy = {
      allowedHosts: o.allowedHosts ?? (isLoopbackAddress(a.address) ? LOOPBACK_HOSTS : '*'),
      allowedOrigins: o.allowedOrigins,
      token: o.token,
    };
    this.timer = setInterval(() => this.tick(), o.updateIntervalMs);
    this.timer.unref();
    const url = this.url;
    o.onListening?.(url);
    return url;
  }

  /** The page URL, `http://127.0.0.1:<port>/` (with `?token=` when a token is set). */
  get url(): string {
    if (!this.address) throw new SeqstreamError('SEQ_DASHBOARD_NOT_LISTENING', 'the dashboard is not listening yet');
    const host = this.address.host.includes(':') ? `[${this.address.host}]` : this.address.host;
    return `http://${host}:${this.address.port}/${this.options.token ? `?token=${encodeURIComponent(this.options.token)}` : ''}`;
  }

  /** Records one output (see {@link DashboardEvent}); a bad one is counted, never thrown. */
  push(event: DashboardEvent): void {
    this.store.push(event);
  }

  /** Counts a pipeline error by its `code` (shown under "errors by code"). */
  reportError(error: { code?: string } | string): void {
    this.store.countError(typeof error === 'string' ? error : (error.code ?? 'UNKNOWN'));
  }

  /** Replaces the model/pipeline description shown on the page. */
  setInfo(info: DashboardInfo): void {
    this.info = { title: this.info.title, ...info };
  }

  /** Pages connected now. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Stops the server and closes every page's socket. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    this.http.closeAllConnections?.();
    if (this.http.listening) await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private tick(): void {
    const now = Date.now();
    if (now - this.lastRateMark >= 1000) {
      this.store.markRates(now);
      this.lastRateMark = now;
    }
    for (const c of this.clients) c.tick(now, this.info);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const refusal = checkRequest(req, this.policy ?? { allowedHosts: LOOPBACK_HOSTS, allowedOrigins: 'same-host', token: this.options.token });
    const headers: Record<string, string> = {
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
      'Cache-Control': 'no-store',
    };
    if (refusal) {
      res.writeHead(refusal.status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end(`${refusal.code}: ${refusal.message}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end();
      return;
    }
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/favicon.ico') {
      res.writeHead(204, headers).end();
      return;
    }
    const file = path === '/index.html' ? this.files?.get('/') : this.files?.get(path);
    if (!file) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    if (this.options.token && path === '/') {
      // The page's own requests (scripts, the socket) then carry the token without it in their URLs.
      headers['Set-Cookie'] = `${TOKEN_COOKIE}=${encodeURIComponent(requestToken(req) ?? '')}; HttpOnly; SameSite=Strict; Path=/`;
    }
    res.writeHead(200, { ...headers, 'Content-Type': file.contentType, 'Content-Length': String(file.body.length) });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const fail = (status: number, code: string, message: string) => {
      socket.end(`HTTP/1.1 ${status} ${status === 503 ? 'Service Unavailable' : status === 401 ? 'Unauthorized' : status === 404 ? 'Not Found' : 'Forbidden'}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${code}: ${message}\n`);
    };
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/ws') return fail(404, 'SEQ_DASHBOARD_PATH', 'no such socket');
    const refusal = checkRequest(req, this.policy ?? { allowedHosts: LOOPBACK_HOSTS, allowedOrigins: 'same-host', token: this.options.token });
    if (refusal) return fail(refusal.status, refusal.code, refusal.message);
    if (this.clients.size >= this.options.maxClients) return fail(503, 'SEQ_DASHBOARD_TOO_MANY_CLIENTS', `at most ${this.options.maxClients} pages`);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private accept(ws: WebSocket): void {
    const o = this.options;
    const client = new DashboardClient(ws, this.store, { maxRows: o.maxRows, maxBufferedBytes: o.maxBufferedBytes, hiddenIntervalMs: 2000 });
    this.clients.add(client);
    ws.on('message', (data, isBinary) => {
      const code = isBinary ? 'SEQ_DASHBOARD_BAD_MESSAGE' : client.receive(data.toString());
      if (code) this.store.countError(code);
      else client.tick(Date.now(), this.info); // answer a new view at once, not a tick later
    });
    ws.on('close', () => this.clients.delete(client));
    ws.on('error', () => this.clients.delete(client));
    client.tick(Date.now(), this.info);
  }
}

type ResolvedOptions = Required<Pick<DashboardOptions, 'port' | 'host' | 'allowedOrigins' | 'updateIntervalMs' | 'maxClients' | 'maxBufferedBytes' | 'maxRows'>> & {
  token: string | null;
  allowedHosts: '*' | readonly string[] | undefined;
  onListening: ((url: string) => void) | undefined;
};

/**
 * Checks every option (`SEQ_INVALID_OPTION`) and fills in defaults.
 *
 * @example
 * ```ts
 * resolveOptions({ port: 0 }).host; // '127.0.0.1'
 * ```
 */
export function resolveOptions(options: DashboardOptions): ResolvedOptions {
  const o: ResolvedOptions = {
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    token: options.token ?? null,
    allowedHosts: options.allowedHosts,
    allowedOrigins: options.allowedOrigins ?? 'same-host',
    updateIntervalMs: options.updateIntervalMs ?? 250,
    maxClients: options.maxClients ?? 16,
    maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024,
    maxRows: options.maxRows ?? 200,
    onListening: options.onListening,
  };
  const int = (name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER) => {
    integerOption(name, v, undefined, min, max);
  };
  int('port', o.port, 0, 65535);
  int('updateIntervalMs', o.updateIntervalMs, 10);
  int('maxClients', o.maxClients, 1);
  int('maxBufferedBytes', o.maxBufferedBytes, 1024);
  int('maxRows', o.maxRows, 1);
  resolveStoreOptions(options);
  if (typeof o.host !== 'string' || o.host === '') throw new InvalidOptionError('host', 'an address string', o.host);
  if (o.token !== null && (typeof o.token !== 'string' || o.token.length < 8)) throw new InvalidOptionError('token', 'a string of at least 8 characters', o.token);
  if (!isLoopbackAddress(o.host) && o.token === null) throw new InvalidOptionError('token', `a secret when host is not loopback (host ${o.host})`, o.token);
  if (o.onListening !== undefined && typeof o.onListening !== 'function') throw new InvalidOptionError('onListening', 'a function', o.onListening);
  return o;
}
