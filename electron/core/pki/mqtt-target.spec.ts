import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { listenerConf, parseMosquittoFacts, planMqttTls, type MosquittoFacts } from './mqtt-target';
import { planFiles } from './files-target';

const sha256 = (t: string) => createHash('sha256').update(t).digest('hex');
const b64 = (t: string) => Buffer.from(t).toString('base64');
const options = { port: 8883, identityAsUsername: true };

function facts(over: Partial<MosquittoFacts> = {}): MosquittoFacts {
  return { init: 'systemd', installed: true, version: 'mosquitto version 2.0.11', running: true, user: true, group: true, mainConf: 'pid_file /run/mosquitto/mosquitto.pid\ninclude_dir /etc/mosquitto/conf.d\nlistener 1883 localhost\n', others: [], ...over };
}

const plan = (f: MosquittoFacts, hashes = new Map<string, string>()) =>
  planMqttTls({ deviceName: 'gw', facts: f, options, caPem: 'CA', certPem: 'CERT', crlPem: 'CRL', keySource: '/etc/outpost/pki/mqtt-server/key.pem', hashes, sha256 });

describe('mosquitto target plan', () => {
  it('reads the facts the device script prints', () => {
    const out = `init=sysv\ninstalled=1\nversion=mosquitto version 2.0.11\nrunning=1\ngroup=1\nconf=${b64('include_dir /etc/mosquitto/conf.d\n')}\nother=/etc/mosquitto/conf.d/local.conf ${b64('listener 1884\n')}\n`;
    expect(parseMosquittoFacts(out)).toMatchObject({ init: 'sysv', installed: true, running: true, user: false, group: true, others: [{ path: '/etc/mosquitto/conf.d/local.conf', content: 'listener 1884\n' }] });
  });

  it('writes the four PEMs and its own listener file, restarts through systemd, leaves mosquitto.conf alone', () => {
    const p = plan(facts());
    expect(p.files.map((f) => f.path)).toEqual(['/etc/mosquitto/outpost/ca.pem', '/etc/mosquitto/outpost/cert.pem', '/etc/mosquitto/outpost/key.pem', '/etc/mosquitto/outpost/crl.pem', '/etc/mosquitto/conf.d/outpost-tls.conf']);
    expect(p.files[2]).toMatchObject({ copyFrom: '/etc/outpost/pki/mqtt-server/key.pem', owner: 'root:mosquitto', mode: '0640' });
    expect(p.restartArgv).toEqual(['systemctl', 'restart', 'mosquitto']);
    expect(p.files[4]!.content).toContain('require_certificate true\nuse_identity_as_username true');
  });

  it('adds include_dir to a config without one (every other line kept), and keeps local-only mode when there was no listener', () => {
    const p = plan(facts({ mainConf: 'persistence true\n' }));
    const main = p.files.find((f) => f.path === '/etc/mosquitto/mosquitto.conf');
    expect(main!.content).toBe('persistence true\n# outpost: the mTLS listener lives in conf.d\ninclude_dir /etc/mosquitto/conf.d\n');
    expect(p.changes.find((c) => c.path === '/etc/mosquitto/mosquitto.conf')!.action).toBe('merge');
    expect(p.files.find((f) => f.path.endsWith('outpost-tls.conf'))!.content).toContain('listener 1883 127.0.0.1\nallow_anonymous true');
  });

  it('refuses a port another file already listens on, and a device without mosquitto, before anything changes', () => {
    expect(() => plan(facts({ others: [{ path: '/etc/mosquitto/conf.d/tls.conf', content: '# theirs\nlistener 8883 0.0.0.0\n' }] }))).toThrow(expect.objectContaining({ kind: 'conflict', message: expect.stringContaining('/etc/mosquitto/conf.d/tls.conf') }));
    expect(() => plan(facts({ installed: false }))).toThrow(expect.objectContaining({ kind: 'unsupported' }));
    expect(() => plan(facts({ init: 'none' }))).toThrow(expect.objectContaining({ kind: 'unsupported' }));
  });

  it('is idempotent: nothing to write, nothing restarted when every file already matches', () => {
    const f = facts();
    const first = plan(f);
    const hashes = new Map(first.files.map((x) => [x.path, x.copyFrom ? 'K' : sha256(x.content ?? '')]));
    hashes.set('/etc/outpost/pki/mqtt-server/key.pem', 'K');
    const again = plan(f, hashes);
    expect(again.unchanged).toBe(true);
    expect(again.restartArgv).toBeNull();
  });

  it('the listener file says what mosquitto needs', () => {
    expect(listenerConf({ port: 8884, identityAsUsername: false }, false)).toMatch(/^listener 8884\ncafile .*\ncertfile .*\nkeyfile .*\ncrlfile .*\nrequire_certificate true\nuse_identity_as_username false\n/m);
  });
});

describe('files target plan', () => {
  const spec = { certPath: '/etc/app/tls.crt', keyPath: '/etc/app/tls.key', owner: 'app:app', keyMode: '0400', reload: ['systemctl', 'reload', 'app; rm -rf /'] };
  it('writes with the owner and modes given and keeps the reload as argv', () => {
    const p = planFiles({ deviceName: 'gw', spec, caPem: 'CA', certPem: 'C', crlPem: null, keySource: '/etc/outpost/pki/device-identity/key.pem', hashes: new Map(), sha256 });
    expect(p.files).toEqual([
      { path: '/etc/app/tls.crt', content: 'C', owner: 'app:app', mode: '0644' },
      { path: '/etc/app/tls.key', copyFrom: '/etc/outpost/pki/device-identity/key.pem', owner: 'app:app', mode: '0400' },
    ]);
    expect(p.reloadArgv).toEqual(['systemctl', 'reload', 'app; rm -rf /']);
  });
  it('refuses two files on one path, or the device store as a destination', () => {
    expect(() => planFiles({ deviceName: 'gw', spec: { ...spec, keyPath: spec.certPath }, caPem: '', certPem: '', crlPem: null, keySource: '/k', hashes: new Map(), sha256 })).toThrow(/same path/);
    expect(() => planFiles({ deviceName: 'gw', spec: { ...spec, keyPath: '/k' }, caPem: '', certPem: '', crlPem: null, keySource: '/k', hashes: new Map(), sha256 })).toThrow(/own key store/);
  });
});
