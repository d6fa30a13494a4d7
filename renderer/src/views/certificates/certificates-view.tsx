import { Alert, Button, Collapse, Group, Stack, Text, Title } from '@mantine/core';
import { useEffect, useMemo, useState } from 'react';
import { LinkOverride } from '../../components/link-override';
import { useOutpost } from '../../store/context';
import { CaPanel } from './ca-panel';
import { CertificatesTable } from './certificates-table';
import { ProvisionWizard } from './provision-wizard';
import { networkDevices } from '../workloads/containers-panel';

/** The site CAs, every issued certificate with its expiry, and the provisioning wizard for one or many devices. */
export function CertificatesView() {
  const vault = useOutpost((s) => s.vault);
  const openUnlock = useOutpost((s) => s.openUnlockDialog);
  const loadPki = useOutpost((s) => s.loadPki);
  const cas = useOutpost((s) => s.cas.length);
  const devices = useOutpost((s) => s.devices);
  const reachable = useMemo(() => networkDevices(devices), [devices]);
  const [wizard, setWizard] = useState(false);
  const locked = vault !== null && !vault.unlocked;

  useEffect(() => {
    void loadPki();
  }, [loadPki]);

  return (
    <Stack gap="md" data-testid="certificates-view">
      <Group justify="space-between" align="center">
        <Title order={3}>Certificates</Title>
        <Group gap="xs">
          <LinkOverride devices={reachable} />
          <Button onClick={() => setWizard((w) => !w)} disabled={cas === 0} variant={wizard ? 'default' : 'filled'} data-testid="provision-open">
            {wizard ? 'Hide provisioning' : 'Provision devices'}
          </Button>
        </Group>
      </Group>
      {locked && (
        <Alert color="orange" variant="light" data-testid="certificates-vault-locked">
          <Group justify="space-between">
            <Text size="sm">The CA keys are sealed in the vault: unlock it to create a CA, issue, renew or revoke.</Text>
            <Button size="xs" color="orange" onClick={() => openUnlock(true)} data-testid="certificates-unlock">
              Unlock the vault
            </Button>
          </Group>
        </Alert>
      )}
      <CaPanel />
      <Collapse in={wizard}>{wizard && <ProvisionWizard />}</Collapse>
      <CertificatesTable />
    </Stack>
  );
}
