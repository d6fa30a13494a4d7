import { describe, expect, it } from 'vitest';
import { pickBaud, scoreBaud, MIN_SCORED_BYTES } from './baud';
import { parseEnvironment, planBringUp, validateSettings, type DeviceEnvironment } from './bring-up';
import { planSend } from './file-send';
import { parseIdentity, preferredHostKey } from './identify';
import { localEchoOf, mapInput, mapOutput, type LineMap } from './line-map';
import { LineStamper } from './session-log';
import { assignFor } from './profiles';
import { SiteProfile } from '../../../shared/contract';

describe('scoreBaud', () => {
  it('scores console text as plausible and wrong-rate garbage as not', () => {
    expect(scoreBaud(Buffer.from('\r\nDebian GNU/Linux 12 gw ttyS0\r\n\r\ngw login: ')).score).toBe(1);
    expect(scoreBaud(Buffer.from('\x1b[01;32mroot@gw\x1b[00m:~# µs')).score).toBe(1);
    const garbage = Buffer.from([0xf8, 0x80, 0x00, 0xfe, 0x9c, 0xe0, 0x78, 0x00, 0xff, 0x86, 0x18, 0xe6]);
    expect(scoreBaud(garbage).score).toBeLessThan(0.5);
  });

  it('a silent or near-silent rate proves nothing', () => {
    expect(scoreBaud(Buffer.alloc(0))).toMatchObject({ score: 0, reason: 'no answer' });
    expect(scoreBaud(Buffer.from('ok\n').subarray(0, MIN_SCORED_BYTES - 1)).score).toBe(0);
  });

  it('picks the best plausible rate with a confidence, or none', () => {
    const c = pickBaud([
      { baud: 9600, score: 0.3, bytes: 20, reason: '' },
      { baud: 115200, score: 1, bytes: 40, reason: '' },
    ]);
    expect(c).toMatchObject({ baud: 115200, confidence: 0.85 });
    expect(pickBaud([{ baud: 9600, score: 0.5, bytes: 20, reason: '' }]).baud).toBeNull();
  });
});

describe('line maps', () => {
  const table: Array<[LineMap, string, string, string, string]> = [
    // map, received, shown, typed, sent
    [{}, 'a\r\nb', 'a\r\nb', 'ls\r', 'ls\r'],
    [{ inCrToNl: true }, 'a\rb', 'a\nb', 'x', 'x'],
    [{ inNlToCrNl: true }, 'a\nb', 'a\r\nb', 'x', 'x'],
    [{ inIgnoreCr: true }, 'a\r\nb', 'a\nb', 'x', 'x'],
    [{ outCrToNl: true }, 'x', 'x', 'ls\r', 'ls\n'],
    [{ outCrToCrNl: true }, 'x', 'x', 'ls\r', 'ls\r\n'],
    [{ outDelToBs: true }, 'x', 'x', 'ab\x7f', 'ab\b'],
  ];
  it.each(table)('%j', (map, received, shown, typed, sent) => {
    expect(mapInput(Buffer.from(received), map).toString()).toBe(shown);
    expect(mapOutput(Buffer.from(typed), map).toString()).toBe(sent);
  });
  it('local echo shows Enter as a new line and Backspace as an erase', () => {
    expect(localEchoOf(Buffer.from('a\r\x7f')).toString()).toBe('a\r\n\b \b');
  });
});

describe('parseIdentity', () => {
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl root@gw';
  it('reads every tagged fact and ignores noise', () => {
    const id = parseIdentity(
      [
        'H=gw-17',
        'M=eth0 DC:A6:32:01:02:03',
        'M=dummy0 00:00:00:00:00:00',
        'A=eth0 inet 10.0.4.17/24',
        'A=eth0 inet6 fe80::1/64',
        'A=lo inet 127.0.0.1/8',
        'O=Debian GNU/Linux 12 (bookworm)',
        'U=aarch64',
        'S=10000000abcdef01',
        '[   12.3] eth0: link up',
        'D=1',
        'K=docker',
        'Q=/var/run/docker.sock',
        `P=${key}`,
      ].join('\n'),
    );
    expect(id).toMatchObject({
      hostname: 'gw-17',
      macs: [{ interface: 'eth0', mac: 'dc:a6:32:01:02:03' }],
      addresses: [
        { interface: 'eth0', address: '10.0.4.17', prefix: 24, family: 'inet' },
        { interface: 'eth0', address: 'fe80::1', prefix: 64, family: 'inet6' },
      ],
      os: 'Debian GNU/Linux 12 (bookworm)',
      arch: 'aarch64',
      serial: '10000000abcdef01',
      sshd: true,
      docker: { present: true, tools: ['docker'], sockets: ['/var/run/docker.sock'] },
    });
    expect(preferredHostKey(id.hostKeys)).toMatchObject({ type: 'ssh-ed25519', fingerprint: expect.stringMatching(/^SHA256:/) });
  });
  it('a device with nothing installed still identifies', () => {
    expect(parseIdentity('H=tiny\nS=\nD=0\n')).toMatchObject({ hostname: 'tiny', serial: null, sshd: false, docker: { present: false } });
  });
});

describe('bring-up plans', () => {
  const base: DeviceEnvironment = { init: 'sysv', network: 'ip', sshServices: ['ssh'], hasSshKeygen: true, user: 'root', home: '/root' };
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl outpost-laptop';

  it('reads the probe', () => {
    expect(parseEnvironment('I=systemd\nN=networkmanager\nS=ssh\nG=1\nW=root\nR=/root\n')).toEqual({ init: 'systemd', network: 'networkmanager', sshServices: ['ssh'], hasSshKeygen: true, user: 'root', home: '/root' });
  });

  it('shows the exact, quoted, idempotent commands of each action', () => {
    const plan = planBringUp(base, { authorizeKey: key, sshd: true, hostname: 'gw-17', clock: true }, 1_800_000_000);
    expect(plan.map((a) => a.id)).toEqual(['authorize-key', 'sshd', 'hostname', 'clock']);
    expect(plan[0]?.commands[1]).toBe(`grep -qxF '${key}' ~/.ssh/authorized_keys || echo '${key}' >> ~/.ssh/authorized_keys`);
    expect(plan[1]?.commands).toEqual(['ssh-keygen -A', '(update-rc.d ssh enable 2>/dev/null || true); /etc/init.d/ssh start']);
    expect(plan[3]?.commands[0]).toBe('date -u -s @1800000000 >/dev/null');
  });

  it.each([
    ['networkmanager', /nmcli connection add type ethernet ifname eth0 con-name outpost-eth0 autoconnect yes ipv4.method manual ipv4.addresses 10.0.4.50\/24 ipv4.gateway 10.0.4.1/],
    ['networkd', /printf '%s\\n' '\[Match\]' Name=eth0 '\[Network\]' Address=10.0.4.50\/24 Gateway=10.0.4.1 > \/etc\/systemd\/network\/10-outpost-eth0.network/],
    ['ifupdown', /iface eth0 inet static/],
    ['ip', /ip addr add 10.0.4.50\/24 dev eth0/],
  ] as const)('a static address with %s', (network, pattern) => {
    const plan = planBringUp({ ...base, network }, { network: { mode: 'static', interface: 'eth0', address: '10.0.4.50', prefix: 24, gateway: '10.0.4.1' } }, 0);
    expect(plan[0]?.commands.join('\n')).toMatch(pattern);
  });

  it('refuses values that could break out of a command', () => {
    expect(() => validateSettings({ hostname: 'gw;reboot' })).toThrow(/hostname/);
    expect(() => validateSettings({ network: { mode: 'static', interface: 'eth0', address: '10.0.0.1; rm', prefix: 24 } })).toThrow(/IPv4/);
    expect(() => validateSettings({ authorizeKey: "ssh-ed25519 AAAA' ; reboot" })).toThrow(/public key/);
    expect(planBringUp(base, { authorizeKey: "ssh-ed25519 AAAA x'y" }, 0)[0]?.commands[1]).toContain(`'ssh-ed25519 AAAA x'\\''y'`);
  });
});

describe('site profiles', () => {
  const profile = SiteProfile.parse({ name: 'north', hostnamePattern: 'gw-{n:2}', network: { mode: 'static', interface: 'eth0', poolFrom: '10.0.4.50', poolTo: '10.0.4.51', prefix: 24 } });
  it('gives the next number and the next free address, and the same again to the same device', () => {
    const a = assignFor(profile, 'mac-a');
    expect(a).toEqual({ n: 1, hostname: 'gw-01', address: '10.0.4.50' });
    const withA = { ...profile, assigned: { 'mac-a': a } };
    expect(assignFor(withA, 'mac-a')).toEqual(a);
    expect(assignFor(withA, 'mac-b')).toEqual({ n: 2, hostname: 'gw-02', address: '10.0.4.51' });
    const full = { ...withA, assigned: { ...withA.assigned, 'mac-b': assignFor(withA, 'mac-b') } };
    expect(() => assignFor(full, 'mac-c')).toThrow(/handed out/);
  });
});

describe('file send plan', () => {
  it('chunks base64 into tty-sized lines and checks by sha256', () => {
    const data = Buffer.alloc(1000, 7);
    const plan = planSend(data, '/etc/outpost/key', '0600', 100);
    expect(plan.chunks.every((c) => c.length <= 100 && c.length % 4 === 0)).toBe(true);
    expect(Buffer.from(plan.chunks.join(''), 'base64')).toEqual(data);
    expect(plan.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(() => planSend(data, 'relative', '0600', 100)).toThrow(/absolute/);
  });
});

describe('LineStamper', () => {
  it('stamps each line once, across chunks', () => {
    const s = new LineStamper();
    const t = new Date('2026-11-30T09:00:00.000Z');
    const out = [s.stamp(Buffer.from('ab'), t), s.stamp(Buffer.from('c\nd'), t), s.stamp(Buffer.from('\n'), t)].map((b) => b.toString()).join('');
    expect(out).toBe('[2026-11-30T09:00:00.000Z] abc\n[2026-11-30T09:00:00.000Z] d\n');
  });
});
