import { describe, expect, it } from 'vitest';
import { targetOptions } from './pki';

describe('cert issue/install target flags', () => {
  it('files: paths, owner, key mode, and --reload split into argv words (no shell)', () => {
    expect(targetOptions({ certPath: '/etc/app/tls.crt', keyPath: '/etc/app/tls.key', crlPath: '/etc/app/ca.crl', owner: 'app:app', keyMode: '0400', reload: '  systemctl  reload app.service ' })).toEqual({
      files: { certPath: '/etc/app/tls.crt', keyPath: '/etc/app/tls.key', caPath: undefined, crlPath: '/etc/app/ca.crl', owner: 'app:app', keyMode: '0400', reload: ['systemctl', 'reload', 'app.service'] },
    });
  });
  it('files without --cert-path and --key-path is kind invalid-input', () => {
    expect(() => targetOptions({ crlPath: '/x.crl' })).toThrow(expect.objectContaining({ kind: 'invalid-input' }));
  });
  it('mqtt: only what was given; nothing at all by default', () => {
    expect(targetOptions({ owner: 'root:root', keyMode: '0600', mqttIdentity: true })).toEqual({});
    expect(targetOptions({ mqttPort: 8884, mqttIdentity: false })).toEqual({ mqtt: { port: 8884, identityAsUsername: false } });
  });
});
