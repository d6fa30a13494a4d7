import { z } from 'zod';
import { channel } from './define';
import { LinkOptions } from './link';
import { DEVICE_PATH_MESSAGE, DEVICE_PATH_RE, FILE_OWNER_MESSAGE, FILE_OWNER_RE, INSTALL_TARGETS, KEY_ALGORITHMS, KEY_MODE_MESSAGE, KEY_MODE_RE, PROFILE_NAMES, PROVISION_STAGES } from './pki-names';

export * from './pki-names';

export const KeyAlgorithm = z.enum(KEY_ALGORITHMS);
export type KeyAlgorithm = z.infer<typeof KeyAlgorithm>;

export const ProfileName = z.enum(PROFILE_NAMES);
export type ProfileName = z.infer<typeof ProfileName>;

export const InstallTarget = z.enum(INSTALL_TARGETS);
export type InstallTarget = z.infer<typeof InstallTarget>;

/** A site CA: its certificate and chain are public; its key lives only in the vault, encrypted. */
export const CaInfo = z.object({
  id: z.string(),
  name: z.string(),
  subject: z.string(),
  algorithm: z.string(),
  imported: z.boolean(),
  notBefore: z.string(),
  notAfter: z.string(),
  certificatePem: z.string(),
  chainPem: z.string(),
  createdAt: z.string(),
  issued: z.number().int(),
});
export type CaInfo = z.infer<typeof CaInfo>;

export const SubjectAltName = z.object({ type: z.enum(['dns', 'ip']), value: z.string() });
export type SubjectAltName = z.infer<typeof SubjectAltName>;

/** Files to paths on the device: the generic install target (the reload command is argv, never a shell string). */
const filesTarget = (path: () => z.ZodString) =>
  z
    .object({
      certPath: path(),
      keyPath: path(),
      /** The site CA certificate and chain. */
      caPath: path().optional(),
      /** The CA's CRL, rewritten on every revoke (for services that check it). */
      crlPath: path().optional(),
      owner: z.string().regex(FILE_OWNER_RE, FILE_OWNER_MESSAGE).default('root:root'),
      /** The key's mode; the certificates are 0644. */
      keyMode: z.string().regex(KEY_MODE_RE, KEY_MODE_MESSAGE).default('0600'),
      /** Run after the files change (argv, e.g. ["systemctl", "reload", "nginx"]). */
      reload: z.array(z.string().min(1).max(500)).max(32).optional(),
    })
    .strict();
/** What a request may ask for: absolute file paths without . or .. segments. */
export const FilesTarget = filesTarget(() => z.string().regex(DEVICE_PATH_RE, DEVICE_PATH_MESSAGE));
/**
 * The same target as an installation record holds it: read as it was written, also by versions whose path rule was
 * only "absolute" (a stricter rule for new requests must not make an older record, and the certificate list, unreadable).
 */
const RecordedFilesTarget = filesTarget(() => z.string().regex(/^\/[^\0\n]{1,500}$/, 'an absolute path'));
export type FilesTarget = z.infer<typeof FilesTarget>;

export const MqttTargetOptions = z
  .object({
    port: z.number().int().min(1).max(65_535).default(8883),
    /** The client certificate's CN becomes the MQTT username (mosquitto's use_identity_as_username). */
    identityAsUsername: z.boolean().default(true),
  })
  .strict();
export type MqttTargetOptions = z.infer<typeof MqttTargetOptions>;

export const Installation = z.object({ target: z.string(), paths: z.array(z.string()), at: z.string(), files: RecordedFilesTarget.optional(), mqtt: MqttTargetOptions.optional() });
export type Installation = z.infer<typeof Installation>;

export const CertificateRecord = z.object({
  serial: z.string(),
  caId: z.string(),
  profile: ProfileName,
  deviceId: z.string().nullable(),
  deviceName: z.string().nullable(),
  subject: z.string(),
  sans: z.array(SubjectAltName),
  notBefore: z.string(),
  notAfter: z.string(),
  issuedAt: z.string(),
  spkiSha256: z.string(),
  /** Where the private key was made: on the device (never left it) or on the laptop and sent over SSH. */
  keyOrigin: z.enum(['device', 'laptop']),
  status: z.enum(['valid', 'revoked']),
  revokedAt: z.string().nullable(),
  revokeReason: z.string().nullable(),
  replaces: z.string().nullable(),
  installed: z.array(Installation),
  pem: z.string(),
});
export type CertificateRecord = z.infer<typeof CertificateRecord>;

/** One reason a request cannot be signed; every reason is listed, not just the first. */
export const Problem = z.object({ stage: z.enum(['request', 'policy', 'certificate']), code: z.string(), message: z.string() });
export type Problem = z.infer<typeof Problem>;

const Passphrase = z.string().min(1).max(1024).optional();
const Ref = z.string().min(1).max(200);

export const CaCreate = z
  .object({
    name: z.string().min(1).max(100),
    algorithm: KeyAlgorithm.default('ec-p256'),
    validityDays: z.number().int().min(1).max(36_500).default(3650),
    passphrase: Passphrase,
  })
  .strict();

export const CaImport = z
  .object({
    name: z.string().min(1).max(100),
    /** PEM: the CA certificate first, then its chain up to the company root. */
    certificatePem: z.string().min(1).max(200_000).optional(),
    keyPem: z.string().min(1).max(100_000).optional(),
    keyPassphrase: z.string().max(1024).optional(),
    /** PKCS#12 bundle (key + certificate + chain), base64. */
    pkcs12Base64: z.string().min(1).max(1_000_000).optional(),
    pkcs12Password: z.string().max(1024).optional(),
    passphrase: Passphrase,
  })
  .strict()
  .refine((a) => a.pkcs12Base64 !== undefined || (a.certificatePem !== undefined && a.keyPem !== undefined), { message: 'give a PEM certificate and key, or a PKCS#12 bundle' });

export const ClockStatus = z.object({
  deviceId: z.string(),
  deviceName: z.string(),
  deviceTime: z.string(),
  laptopTime: z.string(),
  /** Device minus laptop, in seconds. */
  skewSeconds: z.number(),
  ok: z.boolean(),
  maxSkewSeconds: z.number(),
});
export type ClockStatus = z.infer<typeof ClockStatus>;

export const PlannedChange = z.object({
  action: z.enum(['write', 'merge', 'remove', 'run', 'keep']),
  path: z.string().optional(),
  owner: z.string().optional(),
  mode: z.string().optional(),
  detail: z.string(),
});
export type PlannedChange = z.infer<typeof PlannedChange>;

export const InstallPlan = z.object({
  target: InstallTarget,
  deviceName: z.string(),
  changes: z.array(PlannedChange),
  restart: z.string().nullable(),
  unchanged: z.boolean(),
  notes: z.array(z.string()),
});
export type InstallPlan = z.infer<typeof InstallPlan>;

export const IssueArgs = z
  .object({
    device: Ref,
    profile: ProfileName,
    caId: Ref.optional(),
    /** SANs the technician approves on top of the device's known names and addresses. */
    extraSans: z.array(z.string().min(1).max(253)).max(50).default([]),
    install: InstallTarget.optional(),
    /** Show the install plan only; change nothing on the device. */
    planOnly: z.boolean().default(false),
    setClock: z.boolean().default(false),
    /** Generate the key on the laptop when the device has no openssl (recorded: the key left the laptop). */
    allowLaptopKey: z.boolean().default(true),
    lifetimeDays: z.number().int().min(1).max(3650).optional(),
    /** A short-lived certificate (minutes; for tests and tight rotation), instead of lifetimeDays. */
    lifetimeMinutes: z.number().int().min(1).max(525_600).optional(),
    /** For --install files: where the files go. */
    files: FilesTarget.optional(),
    /** For --install mqtt: the TLS listener. */
    mqtt: MqttTargetOptions.optional(),
    link: LinkOptions.default({}),
    passphrase: Passphrase,
    /** For a renewal: the serial this certificate replaces. */
    replaces: z.string().max(64).optional(),
  })
  .strict();
export type IssueArgs = z.input<typeof IssueArgs>;

export const IssueResult = z.object({
  certificate: CertificateRecord.nullable(),
  caPem: z.string(),
  chainPem: z.string(),
  clock: ClockStatus.nullable(),
  plan: InstallPlan.nullable(),
  installed: z.boolean(),
  notes: z.array(z.string()),
});
export type IssueResult = z.infer<typeof IssueResult>;

/** Where one device's provisioning is: the steps a technician watches, in order. */
export const ProvisionStage = z.enum(PROVISION_STAGES);
export type ProvisionStage = z.infer<typeof ProvisionStage>;

/** One device's outcome in a bulk run: ok with its certificate, or the stage it failed at and why (with a kind). */
export const BulkOutcome = z.object({
  deviceId: z.string(),
  deviceName: z.string(),
  ok: z.boolean(),
  /** The last stage reached: `done`, or the stage that failed. */
  stage: ProvisionStage,
  attempts: z.number().int(),
  error: z.object({ kind: z.string(), message: z.string() }).optional(),
  result: IssueResult.optional(),
});
export type BulkOutcome = z.infer<typeof BulkOutcome>;

/** A bulk run: every device's outcome; `pki:bulk-retry` with its id runs the failed devices again (only those). */
export const BulkSummary = z.object({
  runId: z.string(),
  profile: ProfileName,
  install: InstallTarget.nullable(),
  total: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  outcomes: z.array(BulkOutcome),
});
export type BulkSummary = z.infer<typeof BulkSummary>;

export const pkiChannels = {
  'pki:ca-list': channel(z.object({}).strict().default({}), z.array(CaInfo)),
  'pki:ca-create': channel(CaCreate, CaInfo),
  'pki:ca-import': channel(CaImport, CaInfo),
  'pki:ca-export': channel(z.object({ caId: Ref }).strict(), z.object({ ca: CaInfo, pem: z.string() })),
  'pki:sign-csr': channel(
    z.object({ csrPem: z.string().min(1).max(100_000), profile: ProfileName, caId: Ref.optional(), approvedSans: z.array(z.string().min(1).max(253)).max(50).default([]), commonName: z.string().min(1).max(64).optional(), passphrase: Passphrase }).strict(),
    CertificateRecord,
  ),
  'pki:cert-list': channel(z.object({ deviceId: z.string().optional(), caId: z.string().optional() }).strict().default({}), z.array(CertificateRecord)),
  'pki:issue': channel(IssueArgs, IssueResult),
  'pki:issue-bulk': channel(IssueArgs.omit({ device: true }).extend({ devices: z.array(Ref).min(1).max(500), concurrency: z.number().int().min(1).max(64).default(8) }).strict(), BulkSummary),
  /** Runs only the failed devices of a bulk run again (optionally setting their clocks this time); the summary is updated in place. */
  'pki:bulk-retry': channel(z.object({ runId: z.string().min(1).max(64), setClock: z.boolean().optional(), link: LinkOptions.default({}), passphrase: Passphrase }).strict(), BulkSummary),
  'pki:install': channel(
    z.object({ serial: z.string().min(1).max(64), target: InstallTarget, planOnly: z.boolean().default(false), files: FilesTarget.optional(), mqtt: MqttTargetOptions.optional(), link: LinkOptions.default({}), passphrase: Passphrase }).strict(),
    IssueResult,
  ),
  /**
   * The laptop's own client certificate from a CA (docker-client for engines, mqtt-client for the upstream broker):
   * issued on first call, key sealed in the vault. With outDir, the core writes cert.pem, key.pem (0600) and ca.pem
   * there for tools that read files (the buffers' upstream forwarder); the key never crosses the IPC boundary.
   */
  'pki:laptop-client': channel(
    z.object({ caId: Ref.optional(), profile: z.enum(['docker-client', 'mqtt-client']), outDir: z.string().min(1).max(1000).optional(), passphrase: Passphrase }).strict(),
    z.object({ certificate: CertificateRecord, caPem: z.string(), written: z.array(z.string()) }),
  ),
  'pki:renew': channel(z.object({ serial: z.string().min(1).max(64), link: LinkOptions.default({}), passphrase: Passphrase, setClock: z.boolean().default(false) }).strict(), IssueResult),
  'pki:revoke': channel(
    z.object({ serial: z.string().min(1).max(64), reason: z.enum(['unspecified', 'keyCompromise', 'superseded', 'cessationOfOperation']).default('unspecified'), passphrase: Passphrase, push: z.boolean().default(true), link: LinkOptions.default({}) }).strict(),
    z.object({ certificate: CertificateRecord, crlPem: z.string(), pushedTo: z.array(z.object({ deviceName: z.string(), target: z.string().optional(), ok: z.boolean(), message: z.string() })), notes: z.array(z.string()) }),
  ),
  /** What a certificate for each device would say under a profile, before anything is made: the wizard's SANs preview. */
  'pki:preview': channel(
    z.object({ devices: z.array(Ref).min(1).max(500), profile: ProfileName, extraSans: z.array(z.string().min(1).max(253)).max(50).default([]) }).strict(),
    z.object({
      profile: z.object({ name: ProfileName, description: z.string(), lifetimeDays: z.number().int(), targets: z.array(InstallTarget), sans: z.enum(['required', 'optional', 'none']) }),
      devices: z.array(z.object({ deviceId: z.string(), deviceName: z.string(), commonName: z.string().optional(), sans: z.array(SubjectAltName).optional(), error: z.object({ kind: z.string(), message: z.string() }).optional() })),
    }),
  ),
  'pki:clock-check': channel(z.object({ device: Ref, link: LinkOptions.default({}), maxSkewSeconds: z.number().int().min(1).default(300) }).strict(), ClockStatus),
  'pki:clock-set': channel(z.object({ device: Ref, link: LinkOptions.default({}) }).strict(), ClockStatus),
};

export const pkiEvents = {
  'pki:progress': z.object({
    deviceId: z.string(),
    deviceName: z.string(),
    /** The bulk run this step belongs to, when it is part of one. */
    runId: z.string().optional(),
    stage: ProvisionStage,
    /** What is happening, in words (`installing Docker TLS and restarting the engine`). */
    step: z.string(),
    done: z.boolean(),
    error: z.string().optional(),
    kind: z.string().optional(),
  }),
  'pki:changed': z.object({ serials: z.array(z.string()) }),
};
