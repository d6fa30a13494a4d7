import { CertificateIcon } from '../components/icons';
import { EmptyState } from '../components/empty-state';

export function CertificatesView() {
  return (
    <EmptyState title="Certificates" icon={<CertificateIcon size={26} />} points={['Site CA', 'Device identity', 'Docker TLS', 'MQTT mTLS']}>
      Run an offline certificate authority for the site from this laptop, then issue each device its identity and
      install the certificates that secure its Docker API (TLS) and its MQTT link (mutual TLS) — no internet needed.
    </EmptyState>
  );
}
