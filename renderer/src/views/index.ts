import type { ComponentType, SVGProps } from 'react';
import { BufferIcon, CertificateIcon, ConsoleIcon, DevicesIcon, LatencyIcon, SettingsIcon, WorkloadIcon } from '../components/icons';
import type { ViewId } from '../store';
import { BuffersView } from './buffers/buffers-view';
import { CertificatesView } from './certificates-view';
import { ConsoleView } from './console-view';
import { DevicesView } from './devices/devices-view';
import { LatencyView } from './latency-view';
import { WorkloadsView } from './workloads/workloads-view';
import { SettingsView } from './settings/settings-view';

export interface ViewEntry {
  id: ViewId;
  label: string;
  Icon: ComponentType<SVGProps<SVGSVGElement>>;
  Component: ComponentType;
}

/** The sidebar's order is the technician's usual order on site: find devices, trust them, drain, deploy, watch. */
export const VIEWS: readonly ViewEntry[] = [
  { id: 'devices', label: 'Devices', Icon: DevicesIcon, Component: DevicesView },
  { id: 'certificates', label: 'Certificates', Icon: CertificateIcon, Component: CertificatesView },
  { id: 'buffers', label: 'Buffers', Icon: BufferIcon, Component: BuffersView },
  { id: 'workloads', label: 'Workloads', Icon: WorkloadIcon, Component: WorkloadsView },
  { id: 'latency', label: 'Latency', Icon: LatencyIcon, Component: LatencyView },
  { id: 'console', label: 'Console', Icon: ConsoleIcon, Component: ConsoleView },
  { id: 'settings', label: 'Settings', Icon: SettingsIcon, Component: SettingsView },
];
