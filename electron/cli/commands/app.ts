import type { Command } from 'commander';
import { leaf, parseIntOption, runWith, type CliIo } from '../context';
import { defaultDataDir } from '../../core/config';

export function registerApp(program: Command, io: CliIo): void {
  leaf(program, 'info', 'version, data dir and whether the upstream answers (as far as this process checked it)').action(
    runWith(io, async ({ api }) => {
      const info = await api.invoke('app:info', {});
      return {
        data: info,
        human: [`Outpost ${info.version}`, `data dir: ${info.dataDir}`, `upstream: ${!info.upstream || info.upstream.state === 'unknown' ? 'not checked (outpost upstream check)' : info.online ? 'reachable' : 'LAN only'}`].join('\n'),
      };
    }),
  );

  leaf(program, 'serve', 'start browser mode: the UI and API on 127.0.0.1 with a per-launch token')
    .option('--port <port>', 'port to listen on (default: a free one)', parseIntOption('--port'))
    .action(async (opts: { port?: number; json?: boolean }) => {
      const [{ createCore }, { startBridge }, { rendererDistDir }] = await Promise.all([import('../../core/app'), import('../../server/bridge'), import('../../server/paths')]);
      const core = createCore({ dataDir: defaultDataDir(io.env), transport: 'browser' });
      const bridge = await startBridge({ core, staticDir: rendererDistDir(), port: opts.port });
      if (opts.json) io.stdout(`${JSON.stringify({ url: bridge.urlWithToken, port: bridge.port, dataDir: core.config.dataDir })}\n`);
      else io.stdout(`Outpost browser mode: ${bridge.urlWithToken}\n`);
      // Serving first, then the services that were not needed to answer the first page (they may start background work).
      void core.loadAll().catch((err: unknown) => io.stderr(`outpost: a service failed to start: ${String(err)}\n`));
      const stop = () => {
        void bridge.close().then(() => core.close()).then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
