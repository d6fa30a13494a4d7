export { CertificatesView } from './certificates/certificates-view';
