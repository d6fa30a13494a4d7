import { Button, Tooltip } from '@mantine/core';
import { useState } from 'react';
import { bundleFileName, chooseSavePath, downloadBase64 } from '../../components/save-file';
import { useOutpost } from '../../store/context';

/**
 * "Save support bundle…": the device's facts, containers, logs, events and deploy history in one zip with secrets
 * redacted, for a hand-off. The desktop app asks where to save it; browser mode downloads it.
 */
export function SaveBundleButton({ deviceId, deviceName, size = 'compact-xs' }: { deviceId: string; deviceName: string; size?: 'compact-xs' | 'xs' }) {
  const saveBundle = useOutpost((s) => s.saveSupportBundle);
  const [busy, setBusy] = useState(false);

  async function run() {
    const name = bundleFileName(deviceName);
    const path = await chooseSavePath(name);
    if (path === null) return; // the technician cancelled the dialog
    setBusy(true);
    const r = await saveBundle(deviceId, deviceName, path);
    setBusy(false);
    if (r?.zipBase64) downloadBase64(name, r.zipBase64, 'application/zip');
  }

  return (
    <Tooltip label="Facts, containers, logs, events and deploy history in one zip, secrets redacted" withArrow>
      <Button size={size} variant="subtle" loading={busy} onClick={() => void run()} data-testid="save-bundle">
        Save support bundle…
      </Button>
    </Tooltip>
  );
}
