import { Badge, Group, Stack, Tabs, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { LinkOverride } from '../../components/link-override';
import { useOutpost } from '../../store/context';
import { networkDevices } from './containers-panel';
import { ContainersPanel } from './containers-panel';
import { DeployWizard } from './deploy-wizard';
import { HistoryPanel } from './history-panel';
import { ImagesPanel } from './images-panel';
import { PendingRolloutsBanner } from './pending-rollouts';

type Section = 'containers' | 'images' | 'deploy' | 'history';

/** Containers running on the site's devices, the offline image cache, deploys and their history. */
export function WorkloadsView() {
  const [section, setSection] = useState<Section>('containers');
  const followWorkloads = useOutpost((s) => s.followWorkloads);
  const deploying = useOutpost((s) => s.deploying);
  const imageCount = useOutpost((s) => s.images.length);
  const loadImages = useOutpost((s) => s.loadImages);
  const loadHistory = useOutpost((s) => s.loadHistory);
  const devices = useOutpost((s) => s.devices);

  useEffect(() => followWorkloads(), [followWorkloads]);
  useEffect(() => {
    void loadImages();
    void loadHistory();
  }, [loadImages, loadHistory]);

  return (
    <Stack gap="md" data-testid="workloads-view">
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={3}>Workloads</Title>
          <Text size="sm" c="dimmed">
            Containers on the site&apos;s devices, the offline image cache, and health-gated deploys.
          </Text>
        </div>
        <LinkOverride devices={networkDevices(devices)} />
      </Group>
      <PendingRolloutsBanner />
      <Tabs value={section} onChange={(v) => setSection((v as Section | null) ?? 'containers')} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="containers" data-testid="workloads-tab-containers">
            Containers
          </Tabs.Tab>
          <Tabs.Tab value="images" data-testid="workloads-tab-images" rightSection={imageCount > 0 ? <Badge size="xs" variant="light">{imageCount}</Badge> : null}>
            Image cache
          </Tabs.Tab>
          <Tabs.Tab value="deploy" data-testid="workloads-tab-deploy" rightSection={deploying ? <Badge size="xs" color="blue">running</Badge> : null}>
            Deploy
          </Tabs.Tab>
          <Tabs.Tab value="history" data-testid="workloads-tab-history">
            History
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="containers" pt="md">
          <ContainersPanel />
        </Tabs.Panel>
        <Tabs.Panel value="images" pt="md">
          <ImagesPanel />
        </Tabs.Panel>
        <Tabs.Panel value="deploy" pt="md">
          <DeployWizard />
        </Tabs.Panel>
        <Tabs.Panel value="history" pt="md">
          <HistoryPanel />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
