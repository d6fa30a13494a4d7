import { Stack, Text, Title } from '@mantine/core';
import { SiteLinkDefaultsCard } from './site-link-defaults';

/** Laptop-wide settings: what applies to every device unless the device or a run says otherwise. */
export function SettingsView() {
  return (
    <Stack gap="md" maw={900}>
      <div>
        <Title order={3}>Settings</Title>
        <Text size="sm" c="dimmed">
          Kept in this laptop&apos;s store, shared with the CLI (<code>outpost link defaults</code>).
        </Text>
      </div>
      <SiteLinkDefaultsCard />
    </Stack>
  );
}
