import { Group, Stack, TagsInput, Text, TextInput } from '@mantine/core';
import type { FilesForm, FilesFormErrors } from './files-target-form';

/**
 * The files target's fields (as the CLI's --cert-path, --key-path, --ca-path, --owner, --key-mode, --reload): the same
 * paths on every selected device. The reload command is entered word by word (argv): no shell ever parses it.
 */
export function FilesTargetFields({ form, errors, onChange }: { form: FilesForm; errors: FilesFormErrors; onChange: (form: FilesForm) => void }) {
  const set = <K extends keyof FilesForm>(key: K, value: FilesForm[K]) => onChange({ ...form, [key]: value });
  return (
    <Stack gap="xs" data-testid="provision-files">
      <Text size="xs" c="dimmed">
        Written on every selected device: the certificate (0644), the device's key (copied on the device; it never leaves it), and the site CA when a path is given.
      </Text>
      <Group grow align="flex-start">
        <TextInput label="Certificate path" placeholder="/etc/app/tls.crt" required value={form.certPath} onChange={(e) => set('certPath', e.currentTarget.value)} error={errors.certPath} data-testid="files-cert-path" />
        <TextInput label="Key path" placeholder="/etc/app/tls.key" required value={form.keyPath} onChange={(e) => set('keyPath', e.currentTarget.value)} error={errors.keyPath} data-testid="files-key-path" />
        <TextInput label="CA path (optional)" placeholder="/etc/app/ca.crt" value={form.caPath} onChange={(e) => set('caPath', e.currentTarget.value)} error={errors.caPath} data-testid="files-ca-path" />
      </Group>
      <Group grow align="flex-start">
        <TextInput label="Owner" description="user or user:group" placeholder="root:root" value={form.owner} onChange={(e) => set('owner', e.currentTarget.value)} error={errors.owner} data-testid="files-owner" />
        <TextInput label="Key mode" description="octal; certificates are 0644" placeholder="0600" value={form.keyMode} onChange={(e) => set('keyMode', e.currentTarget.value)} error={errors.keyMode} data-testid="files-key-mode" />
        <TagsInput
          label="Reload command (optional)"
          description="one word per entry (Enter after each), run as argv after the files change; no shell"
          placeholder="e.g. systemctl ⏎ reload ⏎ nginx"
          value={form.reload}
          onChange={(v) => set('reload', v)}
          splitChars={[]}
          allowDuplicates
          acceptValueOnBlur
          error={errors.reload}
          data-testid="files-reload"
        />
      </Group>
    </Stack>
  );
}
