import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Device, ParsedArgsOf, ResultOf, SerialIdentity } from '../../../shared/contract';
import { OutpostError } from '../../../shared/errors';
import { saveMerge } from '../discovery/scan';
import type { EventBus, Router } from '../router';
import type { DevicesRepo } from '../store/devices-repo';
import type { KnownHosts } from '../transport/known-hosts';
import { autoBaud } from './autobaud';
import { parseEnvironment, planBringUp, PROBE_SCRIPT, type BringUpSettings } from './bring-up';
import { ConsoleDriver } from './console-driver';
import { sendFile } from './file-send';
import { IDENTIFY_SCRIPT, parseIdentity, preferredHostKey, type Identity } from './identify';
import { assignFor, ProfileStore, settingsFrom } from './profiles';
import { DEFAULT_SETTINGS, SerialLine, type SerialSettings } from './serial-line';
import { SerialTerminal } from './serial-terminal';
import { SessionLog } from './session-log';

export interface SerialDeps {
  router: Router;
  bus: EventBus;
  devices: DevicesRepo;
  knownHosts: KnownHosts;
  /** The laptop's SSH public key line (made on first use). */
  laptopPublicKey: () => Promise<string>;
  dataDir: string;
  /** The port the device's sshd is reached on: its own, else the site's default, else 22. */
  sshPortOf?: (device: Device) => number;
}

type LoginArgs = ParsedArgsOf<'serial:identify'>;
type SessionOpenArgs = Extract<ParsedArgsOf<'sessions:open'>, { kind: 'serial' }>;

export interface SerialHandle {
  /** The `sessions:open` opener for `kind: 'serial'`. */
  openTerminal(args: SessionOpenArgs): Promise<{ id: string; source: SerialTerminal; deviceId: string; title: string }>;
  close(): Promise<void>;
}

/** The console result as the contract words it, and the sighting it makes in the inventory. */
function toIdentity(path: string, baud: number, confidence: number, id: Identity, deviceId: string): SerialIdentity {
  return {
    path,
    baud,
    confidence,
    hostname: id.hostname,
    macs: [...new Set(id.macs.map((m) => m.mac))],
    addresses: reachableAddresses(id),
    interfaces: id.addresses,
    os: id.os,
    arch: id.arch,
    serial: id.serial,
    sshd: id.sshd,
    docker: id.docker.present,
    dockerTools: id.docker.tools,
    hostKeys: id.hostKeys,
    deviceId,
  };
}

/** Addresses worth dialling: IPv4 first, then global IPv6 (link-local needs a zone the laptop cannot know). */
function reachableAddresses(id: Identity): string[] {
  const v4 = id.addresses.filter((a) => a.family === 'inet').map((a) => a.address);
  const v6 = id.addresses.filter((a) => a.family === 'inet6' && !a.address.toLowerCase().startsWith('fe80')).map((a) => a.address);
  return [...new Set([...v4, ...v6])];
}

/** Registers `serial:*`: auto-baud, identify, bring-up, file send, profiles, and the serial terminal sessions. */
export function registerSerialService(deps: SerialDeps): SerialHandle {
  const { router, bus, devices, knownHosts } = deps;
  const profiles = new ProfileStore(join(deps.dataDir, 'serial-profiles'));
  const terminals = new Map<string, SerialTerminal>();
  const busy = new Set<string>();

  const terminalOn = (path: string): SerialTerminal | undefined => [...terminals.values()].find((t) => t.name === path);

  function terminal(sessionId: string): SerialTerminal {
    const t = terminals.get(sessionId);
    if (!t) throw new OutpostError('not-found', `no open serial terminal session ${sessionId}`);
    return t;
  }

  function settingsOf(args: { settings?: Partial<SerialSettings> | undefined }, baudRate: number): SerialSettings {
    return { ...DEFAULT_SETTINGS, ...(args.settings ?? {}), baudRate };
  }

  /**
   * Runs `fn` logged in on the console at `path`: over the terminal session's open line when there is one (the
   * technician watches the commands go by), else on a line opened for this and closed after. One at a time per port.
   */
  async function withConsole<T>(args: LoginArgs, fn: (driver: ConsoleDriver, baud: number, confidence: number) => Promise<T>): Promise<T> {
    if (busy.has(args.path)) throw new OutpostError('conflict', `${args.path} is busy with another console task; wait for it to finish`);
    busy.add(args.path);
    const term = terminalOn(args.path);
    let line = term?.currentLine ?? null;
    if (term && !line) {
      busy.delete(args.path);
      throw new OutpostError('unreachable', `${args.path} is not connected (the terminal is waiting for it to return)`);
    }
    const owned = !line;
    try {
      line ??= await SerialLine.open(args.path, settingsOf(args, args.baud === 'auto' ? DEFAULT_SETTINGS.baudRate : args.baud));
      let baud: number;
      let confidence = 1;
      if (args.baud === 'auto') {
        const choice = await autoBaud(line);
        if (choice.baud === null) {
          const tried = choice.tried.map((t) => `${t.baud}: ${t.reason}`).join('; ');
          throw new OutpostError('protocol', `no baud rate gave readable text on ${args.path} (${tried}); is the device powered, and are TX/RX crossed and GND connected?`);
        }
        baud = choice.baud;
        confidence = choice.confidence;
      } else {
        if (line.settings.baudRate !== args.baud) await line.setBaud(args.baud);
        baud = args.baud;
      }
      if (term) term.settings.baudRate = baud;
      const driver = new ConsoleDriver(line);
      try {
        const { loggedIn } = await driver.login({ user: args.user, password: args.password }, args.timeoutMs);
        try {
          return await fn(driver, baud, confidence);
        } finally {
          // A root shell left open on a console is anyone's: end the login we made, unless the technician's own
          // terminal is on this port (then the session is theirs to end).
          if (loggedIn && owned) {
            driver.logout();
            await line.drain();
          }
        }
      } finally {
        driver.dispose();
      }
    } finally {
      if (owned) await line?.close();
      busy.delete(args.path);
    }
  }

  async function identifyOn(driver: ConsoleDriver): Promise<Identity> {
    const r = await driver.run(IDENTIFY_SCRIPT, { timeoutMs: 20_000 });
    const id = parseIdentity(r.output);
    if (!id.hostname) throw new OutpostError('protocol', `the console answered but not as a Linux shell (output: ${JSON.stringify(r.output.slice(0, 200))})`);
    return id;
  }

  /** The device joins the inventory, merged with its LAN sighting by host key, MAC or hostname. */
  function remember(path: string, id: Identity): Device {
    const key = preferredHostKey(id.hostKeys);
    const result = saveMerge(devices, bus, [
      {
        source: 'serial',
        serialPath: path,
        hostnames: id.hostname ? [id.hostname] : [],
        addresses: reachableAddresses(id),
        macs: [...new Set(id.macs.map((m) => m.mac))],
        ssh: key ? { hostKeyFingerprint: key.fingerprint } : undefined,
        suggestedName: id.hostname || undefined,
      },
    ]);
    const device = result.changed.find((d) => d.serialPath === path) ?? result.changed[0] ?? devices.list().find((d) => d.serialPath === path);
    if (!device) throw new OutpostError('internal', `identified ${path} but could not record it in the inventory`);
    return device;
  }

  /**
   * Pins the host key read over the console for each address the device has (a physical link the technician holds:
   * first contact on the LAN is then already trusted). A different key already pinned is left alone and reported.
   */
  function pinFromConsole(device: Device, id: Identity): Array<{ host: string; port: number; fingerprint: string }> {
    const key = preferredHostKey(id.hostKeys);
    if (!key) return [];
    const blob = Buffer.from(key.publicKey.split(' ')[1] ?? '', 'base64');
    const pinned: Array<{ host: string; port: number; fingerprint: string }> = [];
    for (const host of reachableAddresses(id)) {
      const port = deps.sshPortOf?.(device) ?? device.ssh.port ?? 22;
      const verdict = knownHosts.check(host, port, blob);
      if (verdict.status === 'changed') continue;
      if (verdict.status === 'unknown') knownHosts.pin(host, port, blob);
      pinned.push({ host, port, fingerprint: key.fingerprint });
    }
    return pinned;
  }

  async function resolveSettings(args: ParsedArgsOf<'serial:provision'>, id: Identity): Promise<{ settings: BringUpSettings; values: Record<string, unknown>; commit: () => void }> {
    const publicKey = await deps.laptopPublicKey();
    if (args.profile) {
      const profile = profiles.get(args.profile);
      const deviceKey = id.macs[0]?.mac ?? id.hostname;
      const values = assignFor(profile, deviceKey);
      return {
        settings: settingsFrom(profile, values, publicKey),
        values: { profile: profile.name, deviceKey, ...values },
        commit: () => {
          const fresh = profiles.get(profile.name);
          profiles.save({ ...fresh, assigned: { ...fresh.assigned, [deviceKey]: values } });
        },
      };
    }
    const b = args.bringUp ?? { authorizeLaptopKey: true, sshd: true, clock: false };
    return {
      settings: { authorizeKey: b.authorizeLaptopKey ? publicKey : undefined, sshd: b.sshd, hostname: b.hostname, network: b.network, clock: b.clock },
      values: {},
      commit: () => undefined,
    };
  }

  router.handle('serial:autobaud', async ({ path, rates }) => {
    const term = terminalOn(path);
    const line = term?.currentLine ?? (await SerialLine.open(path, DEFAULT_SETTINGS));
    try {
      const choice = await autoBaud(line, { rates });
      if (term && choice.baud) term.settings.baudRate = choice.baud;
      return choice;
    } finally {
      if (!term) await line.close();
    }
  });

  router.handle('serial:identify', (args) =>
    withConsole(args, async (driver, baud, confidence) => {
      const id = await identifyOn(driver);
      const device = remember(args.path, id);
      pinFromConsole(device, id);
      return toIdentity(args.path, baud, confidence, id, device.id);
    }),
  );

  router.handle('serial:plan', (args) =>
    withConsole(args, async (driver, baud) => {
      const id = await identifyOn(driver);
      const env = parseEnvironment((await driver.run(PROBE_SCRIPT)).output);
      const { settings, values } = await resolveSettings(args, id);
      return { baud, environment: { ...env }, actions: planBringUp(env, settings, Date.now() / 1000), values };
    }),
  );

  router.handle('serial:provision', (args) =>
    withConsole(args, async (driver, baud, confidence): Promise<ResultOf<'serial:provision'>> => {
      const before = await identifyOn(driver);
      const env = parseEnvironment((await driver.run(PROBE_SCRIPT)).output);
      const { settings, commit } = await resolveSettings(args, before);
      const actions = planBringUp(env, settings, Date.now() / 1000);
      const results: ResultOf<'serial:provision'>['actions'] = [];
      let failed = false;
      for (const action of actions) {
        if (failed) {
          results.push({ ...action, ok: false, output: '', error: { kind: 'cancelled', message: 'not run: an earlier step failed' } });
          continue;
        }
        // The clock is read when its step runs, not when it was planned.
        const commands = action.id === 'clock' ? (planBringUp(env, { clock: true }, Date.now() / 1000)[0]?.commands ?? action.commands) : action.commands;
        let output = '';
        try {
          for (const command of commands) {
            bus.emit('serial:progress', { path: args.path, what: `${action.title}: ${command}`, done: results.length, total: actions.length });
            const r = await driver.run(command, { timeoutMs: 60_000 });
            output += r.output ? `${r.output}\n` : '';
            if (r.exitCode !== 0) throw new OutpostError('protocol', `"${command}" exited with ${r.exitCode}: ${r.output.slice(-300)}`);
          }
          results.push({ ...action, commands, ok: true, output });
        } catch (err) {
          failed = true;
          const e = err as OutpostError;
          results.push({ ...action, commands, ok: false, output, error: { kind: e.kind ?? 'internal', message: e.message } });
          if (e.kind === 'timeout' || e.kind === 'unreachable') break;
        }
      }
      bus.emit('serial:progress', { path: args.path, what: 'done', done: actions.length, total: actions.length });
      const after = await identifyOn(driver);
      const device = remember(args.path, after);
      const pinned = pinFromConsole(device, after);
      if (!failed) commit();
      return { baud, actions: results, identity: toIdentity(args.path, baud, confidence, after, device.id), pinned };
    }),
  );

  router.handle('serial:send-file', (args) =>
    withConsole(args, (driver) =>
      sendFile(driver, Buffer.from(args.data, 'base64'), args.to, args.mode, args.chunkBytes, (done, total) => bus.emit('serial:progress', { path: args.path, what: `sending ${args.to}`, done, total })).then((r) => ({ to: args.to, ...r })),
    ),
  );

  router.handle('serial:profiles', () => profiles.list());
  router.handle('serial:profile-save', (p) => profiles.save(p));
  router.handle('serial:profile-delete', ({ name }) => ({ deleted: profiles.delete(name) }));

  router.handle('serial:signal', async ({ sessionId, dtr, rts, brk }) => {
    const line = terminal(sessionId).currentLine;
    if (!line) throw new OutpostError('unreachable', 'the port is not connected');
    if (dtr !== undefined || rts !== undefined) await line.signal({ dtr, rts });
    if (brk) await line.sendBreak();
    return { ok: true };
  });

  router.handle('serial:configure', async ({ sessionId, settings, map }) => {
    await terminal(sessionId).reconfigure(settings ?? {}, map);
    return { ok: true };
  });

  router.handle('serial:log', async ({ sessionId }) => {
    const t = terminal(sessionId);
    await t.log.flush();
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(t.log.file, 'utf8');
    return { file: t.log.file, text, bytes: Buffer.byteLength(text) };
  });

  return {
    async openTerminal(args) {
      if (busy.has(args.path)) throw new OutpostError('conflict', `${args.path} is busy with a console task; wait for it to finish`);
      if (terminalOn(args.path)) throw new OutpostError('conflict', `${args.path} already has a terminal open in Outpost`);
      const id = randomUUID();
      const log = new SessionLog(join(deps.dataDir, 'serial-logs'), args.path);
      const term = new SerialTerminal({
        path: args.path,
        settings: { ...DEFAULT_SETTINGS, ...args.settings },
        map: args.map,
        log,
        onState: (state, message) => bus.emit('serial:state', { sessionId: id, path: args.path, state, message }),
      });
      try {
        await term.start();
      } catch (err) {
        await log.close();
        throw err;
      }
      terminals.set(id, term);
      void term.exit.then(() => terminals.delete(id));
      const device = devices.list().find((d) => d.serialPath === args.path);
      return { id, source: term, deviceId: device?.id ?? args.path, title: `${device && device.name !== args.path ? `${device.name} · ` : ''}${args.path}` };
    },
    async close() {
      for (const t of terminals.values()) t.kill();
      await Promise.all([...terminals.values()].map((t) => t.exit));
      terminals.clear();
    },
  };
}
