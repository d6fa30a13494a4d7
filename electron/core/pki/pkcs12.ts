import { OutpostError } from '../../../shared/errors';

/** PKCS#12 bundles are not read yet: convert with `openssl pkcs12 -in ca.p12 -nodes` and import the PEM. */
export async function pkcs12ToPem(_bundle: Buffer, _password: string): Promise<{ certificatePem: string; keyPem: string }> {
  throw new OutpostError('unsupported', 'PKCS#12 import is not built yet: convert it with `openssl pkcs12 -in ca.p12 -out ca.pem` and import the PEM (certificate, chain and key)');
}
