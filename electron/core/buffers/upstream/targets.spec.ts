import { describe, expect, it } from 'vitest';
import { OutpostError } from '../../../../shared/errors';
import { upstreamError } from './targets';

const err = (message: string, code?: string | number) => Object.assign(new Error(message), code === undefined ? {} : { code });

describe('upstreamError', () => {
  it('calls certificate trouble on either side, and refused credentials, auth', () => {
    expect(upstreamError('u', err('unable to verify the first certificate', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'))).toMatchObject({ kind: 'auth', message: expect.stringContaining('--ca') });
    expect(upstreamError('u', err('certificate has expired', 'CERT_HAS_EXPIRED')).kind).toBe('auth');
    expect(upstreamError('u', err("Hostname/IP does not match certificate's altnames", 'ERR_TLS_CERT_ALTNAME_INVALID')).kind).toBe('auth');
    expect(upstreamError('u', err('error:0A00045C:SSL routines::tlsv13 alert certificate required', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'))).toMatchObject({ kind: 'auth', message: expect.stringContaining('--cert') });
    expect(upstreamError('u', err('sslv3 alert bad certificate')).kind).toBe('auth');
    expect(upstreamError('u', err('Connection refused: Not authorized', 5)).kind).toBe('auth');
    expect(upstreamError('u', err('Not authorized', 135)).kind).toBe('auth');
  });

  it('calls everything else unreachable, and keeps an OutpostError as it is', () => {
    expect(upstreamError('mqtt://x', err('connect ECONNREFUSED 127.0.0.1:1883', 'ECONNREFUSED'))).toMatchObject({ kind: 'unreachable', message: 'mqtt://x: connect ECONNREFUSED 127.0.0.1:1883' });
    expect(upstreamError('u', undefined)).toMatchObject({ kind: 'unreachable', message: 'u: connection closed' });
    const own = new OutpostError('disk-full', 'full');
    expect(upstreamError('u', own)).toBe(own);
  });
});
