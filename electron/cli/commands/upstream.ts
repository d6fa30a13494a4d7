import type { Command } from 'commander';
import { leaf, parseIntOption, runWith, type CliIo } from '../context';
import { table } from '../table';

interface PushFlags {
  mqtt?: string;
  http?: string;
  topicPrefix?: string;
  clientId?: string;
  username?: string;
  passwordFile?: string;
  ca?: string;
  cert?: string;
  key?: string;
  insecure?: boolean;
  maxAttempts?: number;
}

export function registerUpstream(program: Command, io: CliIo): void {
  const upstream = program.command('upstream').description('forward flushed data to the cloud once back online (Outpost is a client, never a broker)');

  leaf(upstream, 'push', 'forward stored records in order per stream: MQTT QoS 1 and/or HTTP(S) POST')
    .option('--mqtt <url>', 'broker URL, e.g. mqtts://broker.example:8883')
    .option('--http <url>', 'HTTP(S) endpoint receiving NDJSON batches')
    .option('--topic-prefix <prefix>', 'MQTT topic prefix (default outpost): <prefix>/<device>/<stream>')
    .option('--client-id <id>', 'MQTT client id')
    .option('--username <name>', 'MQTT user name')
    .option('--password-file <file>', 'file holding the MQTT password')
    .option('--ca <file>', 'CA certificate for TLS')
    .option('--cert <file>', 'client certificate (mTLS)')
    .option('--key <file>', 'client key (mTLS)')
    .option('--insecure', 'do not verify the server certificate')
    .option('--max-attempts <n>', 'give up after n failures in a row (default 8)', parseIntOption('--max-attempts'))
    .action(
      runWith(io, async (ctx, flags: PushFlags) => {
        const tls = flags.ca || flags.cert || flags.key || flags.insecure ? { caFile: flags.ca, certFile: flags.cert, keyFile: flags.key, insecure: flags.insecure } : undefined;
        const result = await ctx.api.invoke('upstream:push', {
          mqtt: flags.mqtt ? { url: flags.mqtt, topicPrefix: flags.topicPrefix, clientId: flags.clientId, username: flags.username, passwordFile: flags.passwordFile, tls } : undefined,
          http: flags.http ? { url: flags.http, tls } : undefined,
          maxAttempts: flags.maxAttempts,
        });
        return { data: result, human: `forwarded ${result.recordsForwarded} records from ${result.segmentsForwarded} segments` };
      }),
    );

  leaf(upstream, 'status', 'per stream and target: waiting, in flight, forwarded or failed').action(
    runWith(io, async (ctx) => {
      const { streams } = await ctx.api.invoke('upstream:status', {});
      const human = streams.length
        ? table(['TARGET', 'DEVICE', 'STREAM', 'STATUS', 'PENDING', 'RECORDS', 'NEXT ATTEMPT', 'LAST ERROR'], streams.map((s) => [s.target, s.deviceId.slice(0, 8), s.stream, s.status, String(s.segmentsPending), String(s.recordsForwarded), s.nextAttemptAt ?? '-', s.lastError ?? '-']))
        : 'nothing pushed yet';
      return { data: { streams }, human };
    }),
  );

  leaf(upstream, 'check', 'does the configured upstream answer (TCP, and the TLS handshake for mqtts/https)? "LAN only" otherwise').action(
    runWith(io, async (ctx) => {
      const reach = await ctx.api.invoke('upstream:check', {});
      const human = reach.state === 'no-upstream' ? 'LAN only: no upstream configured (outpost upstream set --mqtt URL, or push once)' : reach.state === 'upstream-reachable' ? `upstream reachable: ${reach.target ?? ''}` : `LAN only: ${reach.target ?? ''} does not answer${reach.error ? ` (${reach.error})` : ''}`;
      return { data: reach, human };
    }),
  );

  leaf(upstream, 'set', 'configure the upstream without pushing, and whether the app pushes by itself once it is reachable')
    .option('--mqtt <url>', 'broker URL, e.g. mqtts://broker.example:8883')
    .option('--http <url>', 'HTTP(S) endpoint receiving NDJSON batches')
    .option('--topic-prefix <prefix>', 'MQTT topic prefix (default outpost)')
    .option('--ca <file>', 'CA certificate for TLS')
    .option('--cert <file>', 'client certificate (mTLS)')
    .option('--key <file>', 'client key (mTLS)')
    .option('--insecure', 'do not verify the server certificate')
    .option('--none', 'forget the configured upstream')
    .option('--auto-push', 'push waiting segments as soon as the upstream becomes reachable (the app and browser mode)')
    .option('--no-auto-push', 'only push when asked (the default)')
    .option('--check-interval <seconds>', 're-check the upstream this often (default 30)', parseIntOption('--check-interval'))
    .action(
      runWith(io, async (ctx, flags: PushFlags & { none?: boolean; autoPush?: boolean; checkInterval?: number }) => {
        const tls = flags.ca || flags.cert || flags.key || flags.insecure ? { caFile: flags.ca, certFile: flags.cert, keyFile: flags.key, insecure: flags.insecure } : undefined;
        const target = flags.none ? null : flags.mqtt || flags.http ? { mqtt: flags.mqtt ? { url: flags.mqtt, topicPrefix: flags.topicPrefix, tls } : undefined, http: flags.http ? { url: flags.http, tls } : undefined } : undefined;
        // With both --auto-push and --no-auto-push defined, commander leaves it undefined unless one is given.
        const settings = await ctx.api.invoke('upstream:settings', { target, autoPush: flags.autoPush, checkIntervalSeconds: flags.checkInterval });
        const where = [settings.target?.mqtt?.url, settings.target?.http?.url].filter(Boolean).join(' and ') || 'none';
        return { data: settings, human: `upstream: ${where}; automatic push ${settings.autoPush ? 'on' : 'off'}; checked every ${settings.checkIntervalSeconds} s` };
      }),
    );
}
