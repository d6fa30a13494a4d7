// A small in-memory Docker engine and SSH link for the rollout's unit specs: containers by id and name, renames,
// health by image, and faults a spec switches on. The lab tests run the same code against real dockerd.
import type Docker from 'dockerode';
import type { Engine } from '../engines/registry';
import type { SshConnection } from '../transport/ssh-connection';

export interface FakeContainer {
  Id: string;
  Name: string;
  Image: string;
  Config: { Labels: Record<string, string> };
  State: { Running: boolean; Status: string; ExitCode: number; Restarting: boolean; Health?: { Status: string } };
  RestartCount: number;
}

export type FakeOp = 'inspect' | 'rename' | 'start' | 'stop' | 'remove' | 'create' | 'list' | 'ssh';

const httpError = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode, json: { message } });

export class FakeEngine {
  readonly containers = new Map<string, FakeContainer>();
  readonly stateFiles = new Map<string, string>();
  /** Images whose containers report healthy; others report `starting` (or `unhealthy` if listed in `unhealthyImages`). */
  readonly healthyImages = new Set<string>();
  readonly unhealthyImages = new Set<string>();
  /** Return an error to make that operation fail (engine down, link cut); called before every operation. */
  fault: (op: FakeOp, target: string) => Error | undefined = () => undefined;
  /** Called after every change, to check an invariant at every instant. */
  afterChange: () => void = () => undefined;
  private seq = 0;

  add(name: string, image: string, labels: Record<string, string> = {}, running = true): FakeContainer {
    const c: FakeContainer = {
      Id: `c${String(++this.seq).padStart(3, '0')}${'0'.repeat(60)}`,
      Name: `/${name}`,
      Image: image,
      Config: { Labels: labels },
      State: { Running: running, Status: running ? 'running' : 'exited', ExitCode: 0, Restarting: false },
      RestartCount: 0,
    };
    this.containers.set(c.Id, c);
    return c;
  }

  byName(name: string): FakeContainer | undefined {
    return [...this.containers.values()].find((c) => c.Name === `/${name}`);
  }

  names(): string[] {
    return [...this.containers.values()].map((c) => c.Name.slice(1)).sort();
  }

  private find(ref: string): FakeContainer {
    const c = this.containers.get(ref) ?? this.byName(ref);
    if (!c) throw httpError(404, `No such container: ${ref}`);
    return c;
  }

  private check(op: FakeOp, target: string): void {
    const err = this.fault(op, target);
    if (err) throw err;
  }

  private health(image: string): { Status: string } {
    return { Status: this.healthyImages.has(image) ? 'healthy' : this.unhealthyImages.has(image) ? 'unhealthy' : 'starting' };
  }

  private handle(ref: string) {
    const run = async <T>(op: FakeOp, fn: (c: FakeContainer) => T): Promise<T> => {
      this.check(op, ref);
      const out = fn(this.find(ref));
      if (op !== 'inspect') this.afterChange();
      return out;
    };
    return {
      inspect: () => run('inspect', (c) => structuredClone({ ...c, State: { ...c.State, ...(c.State.Running ? { Health: this.health(c.Image) } : {}) } })),
      rename: ({ name }: { name: string }) =>
        run('rename', (c) => {
          const holder = this.byName(name);
          if (holder && holder !== c) throw httpError(409, `name ${name} is in use`);
          c.Name = `/${name}`;
        }),
      start: () =>
        run('start', (c) => {
          if (c.State.Running) throw httpError(304, 'already started');
          c.State = { ...c.State, Running: true, Status: 'running' };
        }),
      stop: () =>
        run('stop', (c) => {
          if (!c.State.Running) throw httpError(304, 'already stopped');
          c.State = { ...c.State, Running: false, Status: 'exited' };
        }),
      remove: () =>
        run('remove', (c) => {
          this.containers.delete(c.Id);
        }),
    };
  }

  get docker(): Docker {
    const fake = {
      getContainer: (ref: string) => this.handle(ref),
      createContainer: async (opts: { name: string; Image: string; Labels?: Record<string, string> }) => {
        this.check('create', opts.name);
        if (this.byName(opts.name)) throw httpError(409, `name ${opts.name} is in use`);
        const c = this.add(opts.name, opts.Image, opts.Labels ?? {}, false);
        this.afterChange();
        return { id: c.Id, start: () => this.handle(c.Id).start() };
      },
      listContainers: async () => {
        this.check('list', '');
        return [...this.containers.values()].map((c) => ({ Id: c.Id, Names: [c.Name], Image: c.Image, Labels: c.Config.Labels, State: c.State.Status }));
      },
    };
    return fake as unknown as Docker;
  }

  get ssh(): SshConnection {
    const fake = {
      isOpen: true,
      run: async (argv: string[], opts: { input?: string } = {}) => {
        this.check('ssh', argv.join(' '));
        const script = argv[2] ?? '';
        if (script.includes('read -r line')) {
          const state = String(opts.input ?? '').split('\n')[0] ?? '';
          this.stateFiles.set(argv[5] ?? '', state);
          return { code: 0, stdout: Buffer.alloc(0), stderr: '' };
        }
        if (script.startsWith('for f in')) return { code: 0, stdout: Buffer.from([...this.stateFiles.values()].join('\n') + '\n'), stderr: '' };
        return { code: 0, stdout: Buffer.alloc(0), stderr: '' };
      },
    };
    return fake as unknown as SshConnection;
  }

  engine(): Engine {
    const found = { socket: '/var/run/docker.sock', source: 'docker' as const, product: 'docker' as const, systemd: true, foundAt: '2026-01-01T00:00:00.000Z', tried: [] };
    return { deviceId: 'dev-1', deviceName: 'gw-1', endpoint: { kind: 'ssh', socket: found.socket }, docker: this.docker, ssh: this.ssh, found };
  }
}
