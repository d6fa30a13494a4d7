import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Api, BringUpArgs, SerialIdentity } from '../../../shared/contract';
import { OutpostError } from '../../../shared/errors';
import { collect, leaf, parseIntOption, runWith, type CliIo, type CommandContext } from '../context';
import { table } from '../table';
import { readSecretFile } from './ssh';

interface LoginOptions {
  baud?: string;
  user?: string;
  passwordFile?: string;
  timeout?: number;
}

function withLoginOptions(cmd: Command): Command {
  return cmd
    .option('--baud <rate>', 'speed, or "auto" to detect it', 'auto')
    .option('--user <user>', 'console login user', 'root')
    .option('--password-file <file>', "the login password, read from a file (or set OUTPOST_DEVICE_PASSWORD); not needed for a console with no login")
    .option('--timeout <ms>', 'give up on the login after this long', parseIntOption('--timeout'), 30_000);
}

function parseBaud(value: string | undefined): number | 'auto' {
  if (value === undefined || value === 'auto') return 'auto';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 50) throw new OutpostError('invalid-input', `--baud must be a rate such as 115200, or auto; got ${JSON.stringify(value)}`);
  return n;
}

function loginArgs(io: CliIo, path: string, o: LoginOptions) {
  return {
    path,
    baud: parseBaud(o.baud),
    user: o.user ?? 'root',
    password: o.passwordFile ? readSecretFile(o.passwordFile, 'password') : io.env.OUTPOST_DEVICE_PASSWORD,
    timeoutMs: o.timeout ?? 30_000,
  };
}

function identityText(id: SerialIdentity): string {
  return [
    `${id.path}: ${id.hostname} (${id.os}, ${id.arch}) at ${id.baud} baud (confidence ${id.confidence})`,
    `  MACs:       ${id.macs.join(', ') || '-'}`,
    `  addresses:  ${id.addresses.join(', ') || '-'}`,
    `  serial:     ${id.serial ?? '-'}`,
    `  sshd:       ${id.sshd ? 'running' : 'not running'};  docker: ${id.docker ? id.dockerTools.join(', ') || 'socket' : 'absent'}`,
    `  host keys:  ${id.hostKeys.map((k) => `${k.type} ${k.fingerprint}`).join('; ') || '-'}`,
  ].join('\n');
}

/** `--static eth0=10.0.4.50/24[,via=10.0.4.1][,dns=1.1.1.1]` → a network setting. */
function parseStatic(spec: string): NonNullable<BringUpArgs['network']> {
  const m = /^([^=]+)=(\d+\.\d+\.\d+\.\d+)\/(\d+)((?:,[a-z]+=[^,]+)*)$/.exec(spec);
  if (!m) throw new OutpostError('invalid-input', `--static wants IFACE=ADDRESS/PREFIX[,via=GATEWAY][,dns=SERVER], got ${JSON.stringify(spec)}`);
  const extra = Object.fromEntries((m[4] ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
  return { mode: 'static', interface: m[1] as string, address: m[2] as string, prefix: Number(m[3]), gateway: extra.via, dns: extra.dns ? [extra.dns] : undefined };
}

/** A profile file (JSON or YAML) is saved under its name, keeping the addresses already handed out; else a stored name. */
async function profileName(api: Api, ref: string): Promise<string> {
  if (!existsSync(ref)) return ref;
  // Loaded here, not at start-up: `outpost info` must not pay for yaml and zod.
  const [{ parse: parseYaml }, { SiteProfile }] = await Promise.all([import('yaml'), import('../../../shared/contract/serial')]);
  const parsed = SiteProfile.safeParse(parseYaml(readFileSync(ref, 'utf8')));
  if (!parsed.success) throw new OutpostError('invalid-input', `${ref} is not a site profile: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`);
  const stored = (await api.invoke('serial:profiles')).find((p) => p.name === parsed.data.name);
  await api.invoke('serial:profile-save', { ...parsed.data, assigned: { ...stored?.assigned, ...parsed.data.assigned } });
  return parsed.data.name;
}

function progressTo(ctx: CommandContext, path: string): () => void {
  return ctx.api.on('serial:progress', (p) => {
    if (p.path === path) ctx.log(p.what === 'done' ? 'bring-up: done' : p.total > 0 && p.what.startsWith('sending') ? `${p.what}: ${p.done}/${p.total} bytes (${Math.round((100 * p.done) / p.total)}%)` : p.what);
  });
}

export function registerSerial(program: Command, io: CliIo): void {
  const serial = program.command('serial').description("the laptop's serial consoles: find, identify and bring up devices over a UART");

  leaf(serial, 'list', 'serial ports on this laptop (USB adapters, on-board UARTs)')
    .option('--path <path>', 'also look at this path (a console server’s pty; repeatable)', collect)
    .action(
      runWith(io, async (_ctx, opts: { path?: string[] }) => {
        const { listSerialPorts } = await import('../../core/discovery/serial-ports');
        const ports = await listSerialPorts(opts.path ?? []);
        return { data: ports, human: ports.length ? table(['PATH', 'BY-ID', 'VENDOR:PRODUCT', 'NAME'], ports.map((p) => [p.path, p.byId ?? '', p.vendorId ? `${p.vendorId}:${p.productId ?? ''}` : '', p.product ?? p.manufacturer ?? ''])) : 'no serial ports' };
      }),
    );

  leaf(serial, 'autobaud <path>', 'find the speed of the console on <path> (tries the common rates, scores what comes back)').action(
    runWith(io, async (ctx, path: string) => {
      const c = await ctx.api.invoke('serial:autobaud', { path });
      const lines = c.tried.map((t) => `  ${String(t.baud).padStart(7)}  ${t.reason}`).join('\n');
      return { data: c, human: `${c.baud ? `${c.baud} baud (confidence ${c.confidence})` : 'no rate gave readable text'}\n${lines}` };
    }),
  );

  withLoginOptions(leaf(serial, 'identify <path>', 'log in on the console and read hostname, MACs, addresses, OS, arch, serial number, sshd and docker; the device joins the inventory')).action(
    runWith(io, async (ctx, path: string, o: LoginOptions) => {
      const id = await ctx.api.invoke('serial:identify', loginArgs(io, path, o));
      return { data: id, human: identityText(id) };
    }),
  );

  withLoginOptions(leaf(serial, 'provision <path>', "bring a device up over its console: the laptop's key, sshd, hostname, network, clock (each step idempotent; commands shown before they run)"))
    .option('--profile <file-or-name>', 'a site profile (JSON/YAML file, saved under its name, or the name of a saved one)')
    .option('--no-key', "do not install the laptop's key")
    .option('--no-sshd', 'do not enable and start sshd')
    .option('--hostname <name>', 'set the hostname')
    .option('--static <spec>', 'static address: IFACE=ADDRESS/PREFIX[,via=GATEWAY][,dns=SERVER]')
    .option('--dhcp <iface>', 'DHCP on this interface')
    .option('--clock', "set the device clock from the laptop's")
    .option('--dry-run', 'only show the commands each step would type')
    .action(
      runWith(io, async (ctx, path: string, o: LoginOptions & { profile?: string; key: boolean; sshd: boolean; hostname?: string; static?: string; dhcp?: string; clock?: boolean; dryRun?: boolean }) => {
        const target = {
          ...loginArgs(io, path, o),
          ...(o.profile
            ? { profile: await profileName(ctx.api, o.profile) }
            : {
                bringUp: {
                  authorizeLaptopKey: o.key,
                  sshd: o.sshd,
                  hostname: o.hostname,
                  network: o.static ? parseStatic(o.static) : o.dhcp ? { mode: 'dhcp' as const, interface: o.dhcp } : undefined,
                  clock: Boolean(o.clock),
                },
              }),
        };
        const plan = await ctx.api.invoke('serial:plan', target);
        const shown = plan.actions.map((a) => `# ${a.title}\n${a.commands.map((c) => `  ${c}`).join('\n')}`).join('\n');
        if (o.dryRun) return { data: plan, human: shown };
        ctx.log(shown);
        const off = progressTo(ctx, path);
        try {
          const r = await ctx.api.invoke('serial:provision', { ...target, baud: plan.baud });
          const failed = r.actions.find((a) => !a.ok);
          const human = [
            ...r.actions.map((a) => `${a.ok ? 'ok    ' : 'FAILED'} ${a.title}${a.error ? `: ${a.error.message}` : ''}`),
            ...r.pinned.map((p) => `pinned ${p.host}:${p.port} ${p.fingerprint} (read over the console)`),
            identityText(r.identity),
          ].join('\n');
          if (failed) io.setExitCode(1);
          return { data: r, human };
        } finally {
          off();
        }
      }),
    );

  withLoginOptions(leaf(serial, 'send <path> <file>', 'send a file to the device over its console (chunked base64, checksum verified on the device)'))
    .requiredOption('--to <device-path>', 'absolute destination path on the device')
    .option('--mode <octal>', 'file mode on the device', '0644')
    .action(
      runWith(io, async (ctx, path: string, file: string, o: LoginOptions & { to: string; mode: string }) => {
        let data: Buffer;
        try {
          data = readFileSync(file);
        } catch (err) {
          throw new OutpostError('invalid-input', `cannot read ${file}: ${(err as Error).message}`);
        }
        const off = progressTo(ctx, path);
        try {
          const r = await ctx.api.invoke('serial:send-file', { ...loginArgs(io, path, o), data: data.toString('base64'), to: o.to, mode: o.mode });
          return { data: r, human: `sent ${r.bytes} bytes to ${r.to} in ${r.chunks} chunks; sha256 ${r.sha256} verified on the device` };
        } finally {
          off();
        }
      }),
    );

  leaf(program, 'console <path>', 'an interactive serial terminal (Ctrl-] then q quits; Ctrl-] then b sends BREAK; Ctrl-] twice sends Ctrl-])')
    .option('--baud <rate>', 'speed', parseIntOption('--baud'), 115200)
    .option('--databits <n>', '5, 6, 7 or 8', parseIntOption('--databits'), 8)
    .option('--parity <p>', 'none, even, odd, mark or space', 'none')
    .option('--stopbits <n>', '1 or 2', parseIntOption('--stopbits'), 1)
    .option('--flow <kind>', 'none, rtscts or xonxoff', 'none')
    .option('--local-echo', 'show what you type (for devices that do not echo)')
    .option('--map <flags>', 'comma-separated line maps: inCrToNl, inNlToCrNl, inIgnoreCr, outCrToNl, outCrToCrNl, outDelToBs')
    .action(runWith(io, async (ctx, path: string, o: ConsoleFlags) => (await import('./serial-console')).runConsole(ctx, io, path, o)));
}

export interface ConsoleFlags {
  baud: number;
  databits: number;
  parity: string;
  stopbits: number;
  flow: string;
  localEcho?: boolean;
  map?: string;
}
