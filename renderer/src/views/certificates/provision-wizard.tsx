import { Alert, Badge, Button, Checkbox, Group, MultiSelect, Paper, Select, Stack, Stepper, TagsInput, Text } from '@mantine/core';
import { useMemo, useState } from 'react';
import type { InstallTarget, ProfileName } from '../../../../shared/contract';
import { INSTALL_TARGETS, PROFILE_NAMES } from '../../../../shared/contract/pki-names';
import type { Preview } from '../../store/pki-slice';
import { CancelJobButton } from '../../components/cancel-job-button';
import { useOutpost } from '../../store/context';
import { networkDevices } from '../workloads/containers-panel';
import { EMPTY_FILES_FORM, filesTargetFromForm, formatArgv, type FilesForm } from './files-target-form';
import { FilesTargetFields } from './files-target-fields';
import { ProvisionProgress, ReviewTable } from './provision-steps';

const TARGET_LABEL: Record<InstallTarget, string> = {
  docker: 'Docker daemon TLS (daemon.json, restart, verify over mTLS)',
  mqtt: 'MQTT (mosquitto listener)',
  files: 'Files (paths, owner, mode)',
};

/**
 * Provisioning for one or many devices: pick them, a profile and an install target; review the names each
 * certificate will carry and each device's clock (set it from here); then watch each device go through its steps,
 * and retry only the ones that failed.
 */
export function ProvisionWizard({ initialDevices = [] }: { initialDevices?: string[] }) {
  const devices = useOutpost((s) => s.devices);
  const cas = useOutpost((s) => s.cas);
  const previewCertificates = useOutpost((s) => s.previewCertificates);
  const checkClocks = useOutpost((s) => s.checkClocks);
  const provision = useOutpost((s) => s.provisionDevices);
  const provisioning = useOutpost((s) => s.provisioning);
  const reset = useOutpost((s) => s.resetProvisioning);
  const candidates = useMemo(() => networkDevices(devices), [devices]);
  const [step, setStep] = useState(0);
  const [chosen, setChosen] = useState<string[]>(initialDevices);
  const [profile, setProfile] = useState<ProfileName>('device-identity');
  const [caId, setCaId] = useState<string | null>(null);
  const [install, setInstall] = useState<InstallTarget | 'none'>('none');
  const [extraSans, setExtraSans] = useState<string[]>([]);
  const [setClock, setSetClock] = useState(false);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [previewing, setPreviewing] = useState(false);
  const [filesForm, setFilesForm] = useState<FilesForm>(EMPTY_FILES_FORM);
  const [filesTouched, setFilesTouched] = useState(false);
  const ca = caId ?? (cas.length === 1 ? (cas[0]?.id ?? null) : null);
  const targets = preview?.profile.name === profile ? preview.profile.targets : [...INSTALL_TARGETS];
  // The files target: the same paths on every device, checked with the contract's rules before anything runs.
  const files = useMemo(() => filesTargetFromForm(filesForm), [filesForm]);
  const filesInvalid = install === 'files' && !files.target;

  async function review() {
    if (filesInvalid) {
      setFilesTouched(true);
      return;
    }
    setPreviewing(true);
    const p = await previewCertificates({ devices: chosen, profile, extraSans });
    setPreviewing(false);
    if (!p) return;
    setPreview(p);
    if (install !== 'none' && !p.profile.targets.includes(install)) setInstall('none');
    setStep(1);
    await checkClocks(chosen);
  }

  function start() {
    setStep(2);
    if (filesInvalid) return;
    const filesTarget = install === 'files' && files.target ? { files: files.target } : {};
    void provision({ devices: chosen, profile, caId: ca ?? undefined, extraSans, install: install === 'none' ? undefined : install, ...filesTarget, setClock, concurrency: 8 });
  }

  return (
    <Paper withBorder radius="md" p="md" data-testid="provision-wizard">
      <Stepper active={step} onStepClick={(s) => !provisioning && s < step && setStep(s)} size="sm">
        <Stepper.Step label="Devices and profile" description="what to issue, where to install">
          <Stack gap="sm" mt="md">
            {cas.length === 0 && (
              <Alert color="orange" variant="light">
                Create or import a site CA first.
              </Alert>
            )}
            <MultiSelect
              label="Devices"
              placeholder="pick one or many"
              data={candidates.map((d) => ({ value: d.id, label: d.name }))}
              value={chosen}
              onChange={setChosen}
              searchable
              data-testid="provision-devices"
            />
            <Group grow align="flex-start">
              <Select label="Profile" data={[...PROFILE_NAMES]} value={profile} onChange={(v) => v && setProfile(v as ProfileName)} allowDeselect={false} data-testid="provision-profile" />
              {cas.length > 1 && <Select label="Site CA" placeholder="which CA signs" data={cas.map((c) => ({ value: c.id, label: c.name }))} value={ca} onChange={setCaId} data-testid="provision-ca" />}
              <Select
                label="Install target"
                data={[{ value: 'none', label: 'None: keep it in the device store (/etc/outpost/pki)' }, ...targets.map((t) => ({ value: t, label: TARGET_LABEL[t] }))]}
                value={install}
                onChange={(v) => v && setInstall(v as InstallTarget | 'none')}
                allowDeselect={false}
                data-testid="provision-install"
              />
            </Group>
            {install === 'files' && (
              <FilesTargetFields
                form={filesForm}
                errors={filesTouched ? files.errors : {}}
                onChange={(f) => {
                  setFilesForm(f);
                  setFilesTouched(true);
                }}
              />
            )}
            <TagsInput
              label="Extra names (SANs)"
              description="Added to each device's addresses, hostnames and mDNS name; the preview shows the result."
              value={extraSans}
              onChange={setExtraSans}
              data-testid="provision-extra-sans"
            />
            <Group justify="flex-end">
              <Button disabled={chosen.length === 0 || cas.length === 0 || (cas.length > 1 && !ca)} loading={previewing} onClick={() => void review()} data-testid="provision-review">
                Review
              </Button>
            </Group>
          </Stack>
        </Stepper.Step>
        <Stepper.Step label="Review" description="names, clocks">
          {preview && <ReviewTable preview={preview} />}
          <Stack gap="xs" mt="md">
            <Checkbox
              label="Set device clocks that are off by more than 5 minutes (from this laptop) while provisioning"
              checked={setClock}
              onChange={(e) => setSetClock(e.currentTarget.checked)}
              data-testid="provision-set-clock"
            />
            {install === 'files' && files.target && (
              <Text size="xs" c="dimmed" data-testid="provision-files-summary">
                Files: certificate to {files.target.certPath}, key to {files.target.keyPath} (mode {files.target.keyMode})
                {files.target.caPath ? `, CA to ${files.target.caPath}` : ''}, owned by {files.target.owner};{' '}
                {files.target.reload ? `then runs ${formatArgv(files.target.reload)} (as argv, when something changed)` : 'no reload command'}.
              </Text>
            )}
            {install === 'docker' && (
              <Text size="xs" c="dimmed">
                Docker TLS restarts each engine; one that does not come back healthy is rolled back to its previous files.
              </Text>
            )}
          </Stack>
          <Group justify="space-between" mt="md">
            <Button variant="default" onClick={() => setStep(0)}>
              Back
            </Button>
            <Button color="teal" disabled={!preview || preview.devices.every((d) => d.error) || filesInvalid} onClick={start} data-testid="provision-start">
              Provision {chosen.length} device{chosen.length === 1 ? '' : 's'}
            </Button>
          </Group>
        </Stepper.Step>
        <Stepper.Step label="Provision" description="per-device progress" loading={provisioning}>
          <ProvisionProgress deviceIds={chosen} withInstall={install !== 'none'} />
          <Group justify="flex-end" mt="md">
            <CancelJobButton kind="provision" label="Cancel" />
            <Button
              variant="default"
              disabled={provisioning}
              onClick={() => {
                reset();
                setPreview(null);
                setStep(0);
              }}
              data-testid="provision-new"
            >
              New run
            </Button>
          </Group>
        </Stepper.Step>
      </Stepper>
      {step === 0 && chosen.length > 1 && (
        <Badge mt="xs" variant="light">
          {chosen.length} devices, 8 at a time
        </Badge>
      )}
    </Paper>
  );
}
