import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, freePort } from './ports.js';
import { natsServerConfig } from '../../src/cluster/jetstream/natsServerConfig.js';

/** Path of nats-server, or null. */
export function findNatsServer(): string | null {
  const which = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' });
  return which.status === 0 && which.stdout.trim() ? which.stdout.trim() : null;
}

/** Whether the NATS tests must run (CI installs nats-server) or may skip with a reason. */
export function natsSkipReason(): string | null {
  if (findNatsServer()) return null;
  if (process.env.CI === 'true') throw new Error('nats-server is missing under CI=true: .ci/run installs it (apt-get install nats-server)');
  return 'nats-server is not installed (apt-get install nats-server): skipping the JetStream cluster tests';
}

/** One real nats-server process on loopback; `stop()`/`kill()` then `start()` restarts it with the same store. */
export class NatsServer {
  private proc: ChildProcess | undefined;
  log = '';
  constructor(
    readonly port: number,
    readonly config: string,
    readonly dir: string,
  ) {}
  /** Process id while running. */
  get pid(): number | undefined {
    return this.proc?.pid;
  }
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    const proc = spawn(findNatsServer()!, ['-c', this.config], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr!.on('data', (d: Buffer) => {
      this.log = (this.log + d.toString()).slice(-20_000);
    });
    this.proc = proc;
    for (let i = 0; i < 200; i++) {
      if (proc.exitCode !== null) throw new Error(`nats-server exited: ${this.log}`);
      if (await accepts(this.port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`nats-server did not listen on ${this.port}: ${this.log}`);
  }
  /** Stops it with `signal` and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(signal);
    });
  }
  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Starts one JetStream server (with the `<stream>.key.*` mapping and, if asked, an MQTT listener). */
export async function startNatsServer(o: { stream: string; partitions: number; mqtt?: boolean }): Promise<NatsServer & { mqttPort?: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'seqstream-nats-'));
  const port = await freePort();
  const mqttPort = o.mqtt ? await freePort() : undefined;
  const config = join(dir, 'nats.conf');
  writeFileSync(config, natsServerConfig({ stream: o.stream, partitions: o.partitions, port, storeDir: join(dir, 'js'), mqttPort }));
  const s = Object.assign(new NatsServer(port, config, dir), { mqttPort });
  await s.start();
  return s;
}

/**
 * Starts a 3-node cluster (routes on loopback); resolves when every server has joined the
 * JetStream meta group (its log names the metadata leader), so R3 assets can be placed. A cluster
 * that has not formed in 30 s (a port picked by `freePort` taken by another test meanwhile, a slow
 * start on a loaded machine) is torn down and started again on fresh ports, up to 3 times.
 */
export async function startNatsCluster(o: { stream: string; partitions: number }): Promise<NatsServer[]> {
  let logs = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    const servers = await startClusterOnce(o).catch((e: Error) => {
      logs = e.message;
      return null;
    });
    if (servers === null) continue;
    for (let i = 0; i < 600 && !servers.every((s) => /metadata leader/.test(s.log)); i++) await new Promise((r) => setTimeout(r, 50));
    if (servers.every((s) => /metadata leader/.test(s.log))) return servers;
    logs = servers.map((s, i) => `--- n${i}:\n${s.log.slice(-2000)}`).join('\n');
    await Promise.all(servers.map((s) => s.dispose()));
  }
  throw new Error(`the 3-node nats cluster did not form in 3 attempts:\n${logs}`);
}

async function startClusterOnce(o: { stream: string; partitions: number }): Promise<NatsServer[]> {
  const ports = await Promise.all([0, 1, 2].map(() => freePort()));
  const routePorts = await Promise.all([0, 1, 2].map(() => freePort()));
  const routes = routePorts.map((p) => `nats-route://127.0.0.1:${p}`);
  const servers = ports.map((port, i) => {
    const dir = mkdtempSync(join(tmpdir(), `seqstream-nats${i}-`));
    const config = join(dir, 'nats.conf');
    writeFileSync(config, natsServerConfig({ stream: o.stream, partitions: o.partitions, port, serverName: `n${i}`, storeDir: join(dir, 'js'), cluster: { name: 'seqstream', port: routePorts[i], routes } }));
    return new NatsServer(port, config, dir);
  });
  try {
    await Promise.all(servers.map((s) => s.start()));
  } catch (e) {
    await Promise.all(servers.map((s) => s.dispose()));
    throw e;
  }
  return servers;
}
