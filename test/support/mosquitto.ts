import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, freePort } from './ports.js';

/** A real Mosquitto broker on loopback for tests. `stop()` then `start()` restarts it on the same port. */
export interface MosquittoBroker {
  readonly port: number;
  /** `mqtt://127.0.0.1:<port>` */
  readonly url: string;
  /** Starts (or restarts) the broker; resolves once it accepts TCP connections. */
  start(): Promise<void>;
  /** Stops the broker (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Stops it and removes its config directory. */
  dispose(): Promise<void>;
}

/** Broker settings for {@link startMosquitto}. */
export interface MosquittoOptions {
  /** Keep sessions and queued messages across `stop()`/`start()` (mosquitto writes them on SIGTERM). Default false. */
  persistence?: boolean;
  /** mosquitto's `max_queued_messages` per client (its default: 1000). Default: not set. */
  maxQueuedMessages?: number;
}

/** Path of the mosquitto binary, or null. */
export function findMosquitto(): string | null {
  for (const p of ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/local/bin/mosquitto']) if (existsSync(p)) return p;
  const which = spawnSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' });
  return which.status === 0 && which.stdout.trim() ? which.stdout.trim() : null;
}

/**
 * Starts `mosquitto -c <config>` on a free loopback port, anonymous access allowed (mosquitto 2.x
 * needs `listener <port> 127.0.0.1` and `allow_anonymous true` in a config file for that).
 * Throws a clear message when mosquitto is not installed.
 */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<MosquittoBroker> {
  const bin = findMosquitto();
  if (!bin) throw new Error('mosquitto is not installed: the MQTT tests need a real broker. Install it with `apt-get install -y mosquitto` (CI: .ci/run does this).');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'seqstream-mosquitto-'));
  const config = join(dir, 'mosquitto.conf');
  let persistence = ['persistence false'];
  if (options.persistence) {
    // Started as root, mosquitto drops to the `mosquitto` user before it writes its database:
    // that user must be able to reach and write the data directory.
    const data = join(dir, 'data');
    mkdirSync(data);
    chmodSync(dir, 0o711);
    chmodSync(data, 0o777);
    persistence = ['persistence true', `persistence_location ${data}/`];
  }
  const queue = options.maxQueuedMessages !== undefined ? [`max_queued_messages ${options.maxQueuedMessages}`] : [];
  writeFileSync(config, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', ...persistence, ...queue, 'log_dest stderr', 'log_type error', ''].join('\n'), { mode: 0o644 });
  let child: ChildProcess | null = null;

  const start = async () => {
    if (child) return;
    let stderr = '';
    let exited: number | null = null;
    const proc = spawn(bin, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('exit', (code) => {
      exited = code ?? -1;
      if (child === proc) child = null;
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (exited !== null) throw new Error(`mosquitto exited with code ${exited} before listening on 127.0.0.1:${port}: ${stderr.trim()}`);
      if (await accepts(port)) return;
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`mosquitto did not listen on 127.0.0.1:${port} within 10 s: ${stderr.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const stop = async () => {
    const proc = child;
    if (!proc) return;
    child = null;
    if (proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      proc.kill('SIGTERM');
    });
  };

  await start();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    start,
    stop,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A one-shot fake broker on loopback: it answers the CONNECT with a CONNACK, then resets the
 * socket on the client's next packet (the client sees ECONNRESET as 'error' before 'close'), and
 * takes no further connections. Resolves with its `mqtt://` URL.
 */
export async function startResettingBroker(): Promise<string> {
  const fake = createServer((socket) => {
    fake.close();
    socket.once('data', () => {
      socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
      socket.once('data', () => socket.resetAndDestroy());
    });
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
  return `mqtt://127.0.0.1:${(fake.address() as { port: number }).port}`;
}
