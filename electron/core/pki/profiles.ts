import type { ProfileName } from '../../../shared/contract/pki';

export type KeyUsageName = 'digitalSignature' | 'keyEncipherment' | 'keyAgreement';
export type ExtendedUsageName = 'serverAuth' | 'clientAuth';

/**
 * What a certificate of each kind may say. Data, not code: the signer copies nothing from a CSR except its public
 * key, and SANs only where `csrSans` allows them and the technician approved each one.
 */
export interface Profile {
  name: ProfileName;
  version: number;
  description: string;
  keyUsage: KeyUsageName[];
  extendedKeyUsage: ExtendedUsageName[];
  /** `required`: the certificate names the device (its addresses, hostnames, mDNS name); `none`: no SANs at all. */
  sans: 'required' | 'optional' | 'none';
  /** Whether a CSR may ask for SANs (each must be in the approved set). */
  csrSans: boolean;
  lifetimeDays: number;
  /** Renew once this fraction of the lifetime is used (smallstep's needs-renewal default is 2/3). */
  renewAt: number;
  /** notBefore is moved back by this much, for device clocks a little behind the laptop's. */
  backdateMinutes: number;
  /** Install targets this profile is meant for. */
  targets: Array<'docker' | 'mqtt' | 'files'>;
}

export const PROFILES: Record<ProfileName, Profile> = {
  'docker-server': {
    name: 'docker-server',
    version: 1,
    description: 'the device’s Docker engine on 2376 (serverAuth only)',
    keyUsage: ['digitalSignature'],
    extendedKeyUsage: ['serverAuth'],
    sans: 'required',
    csrSans: true,
    lifetimeDays: 730,
    renewAt: 2 / 3,
    backdateMinutes: 5,
    targets: ['docker', 'files'],
  },
  'docker-client': {
    name: 'docker-client',
    version: 1,
    description: 'the laptop (or a script) talking to Docker engines over mTLS (clientAuth only)',
    keyUsage: ['digitalSignature'],
    extendedKeyUsage: ['clientAuth'],
    sans: 'none',
    csrSans: false,
    lifetimeDays: 365,
    renewAt: 2 / 3,
    backdateMinutes: 5,
    targets: ['files'],
  },
  'mqtt-server': {
    name: 'mqtt-server',
    version: 1,
    description: 'the device’s mosquitto listener (serverAuth only)',
    keyUsage: ['digitalSignature'],
    extendedKeyUsage: ['serverAuth'],
    sans: 'required',
    csrSans: true,
    lifetimeDays: 730,
    renewAt: 2 / 3,
    backdateMinutes: 5,
    targets: ['mqtt', 'files'],
  },
  'mqtt-client': {
    name: 'mqtt-client',
    version: 1,
    description: 'a service (or the laptop’s upstream link) connecting to a broker (clientAuth only)',
    keyUsage: ['digitalSignature'],
    extendedKeyUsage: ['clientAuth'],
    sans: 'none',
    csrSans: false,
    lifetimeDays: 365,
    renewAt: 2 / 3,
    backdateMinutes: 5,
    targets: ['files'],
  },
  'device-identity': {
    name: 'device-identity',
    version: 1,
    description: 'who the device is, to the site’s services (clientAuth, the device’s names as SANs)',
    keyUsage: ['digitalSignature'],
    extendedKeyUsage: ['clientAuth'],
    sans: 'optional',
    csrSans: true,
    lifetimeDays: 1095,
    renewAt: 2 / 3,
    backdateMinutes: 5,
    targets: ['files'],
  },
};

export function profile(name: ProfileName): Profile {
  return PROFILES[name];
}

/** smallstep's `needs-renewal`: true once `renewAt` of the lifetime has passed (or the certificate has expired). */
export function needsRenewal(cert: { notBefore: Date; notAfter: Date }, now: Date, renewAt = 2 / 3): boolean {
  const lifetime = cert.notAfter.getTime() - cert.notBefore.getTime();
  return now.getTime() >= cert.notBefore.getTime() + lifetime * renewAt;
}

export { EXPIRY_WARNING_DAYS, expiryState } from '../../../shared/contract/pki-names';
