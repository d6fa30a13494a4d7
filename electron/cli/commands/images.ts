import type { Command } from 'commander';
import { leaf, runWith, type CliIo } from '../context';
import { table } from '../table';

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

export function registerImages(program: Command, io: CliIo): void {
  const images = program.command('images').description('the laptop’s offline image cache');
  leaf(images, 'import <file>', 'import a docker save archive or an OCI image layout archive (verified by digest)').action(
    runWith(io, async ({ api }, file: string) => {
      const list = await api.invoke('workloads:images-import', { path: file });
      return { data: list, human: list.map((i) => `imported ${i.repoTags.join(',') || '<untagged>'} ${i.id.slice(7, 19)} (${i.layers.length} layers, ${mib(i.size)})`).join('\n') };
    }),
  );
  leaf(images, 'list', 'cached images and the devices running them').action(
    runWith(io, async ({ api }) => {
      const list = await api.invoke('workloads:images-list', {});
      return { data: list, human: table(['ID', 'TAGS', 'LAYERS', 'SIZE', 'DEVICES'], list.map((i) => [i.id.slice(7, 19), i.repoTags.join(','), String(i.layers.length), mib(i.size), i.devices.map((d) => d.slice(0, 8)).join(',')])) };
    }),
  );
  leaf(images, 'verify [image]', 're-hash every cached blob').action(
    runWith(io, async ({ api }, ref?: string) => {
      const out = await api.invoke('workloads:images-verify', { ref });
      if (out.some((o) => !o.ok)) io.setExitCode(1);
      return { data: out, human: out.map((o) => `${o.id.slice(7, 19)} ${o.ok ? 'ok' : o.problems.join('; ')}`).join('\n') };
    }),
  );
  leaf(images, 'remove <image>', 'remove an image (tag or ID) and blobs nothing else uses').action(
    runWith(io, async ({ api }, ref: string) => {
      const out = await api.invoke('workloads:images-remove', { ref });
      return { data: out, human: `removed ${out.removed.join(',')} (${mib(out.blobsFreed)} freed)` };
    }),
  );
}
