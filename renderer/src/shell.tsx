import { ActionIcon, AppShell, Group, MantineProvider, NavLink, Text, Tooltip } from '@mantine/core';
import { MoonIcon, SunIcon } from './components/icons';
import { Notices } from './components/notices';
import { StatusBar } from './components/status-bar';
import { UnlockDialog } from './components/vault-dialog';
import { useOutpost } from './store/context';
import { theme } from './theme';
import { VIEWS } from './views';

export function Shell({ fallbackTransport }: { fallbackTransport: string }) {
  const colorScheme = useOutpost((s) => s.colorScheme);
  return (
    <MantineProvider theme={theme} forceColorScheme={colorScheme}>
      <AppShell header={{ height: 48 }} navbar={{ width: 212, breakpoint: 0 }} footer={{ height: 30 }} padding="lg" data-testid="shell">
        <AppShell.Header>
          <Header />
        </AppShell.Header>
        <AppShell.Navbar p="xs">
          <Navigation />
        </AppShell.Navbar>
        <AppShell.Main className="outpost-main">
          <CurrentView />
        </AppShell.Main>
        <AppShell.Footer>
          <StatusBar fallbackTransport={fallbackTransport} />
        </AppShell.Footer>
      </AppShell>
      <Notices />
      <UnlockDialog />
    </MantineProvider>
  );
}

function Header() {
  const colorScheme = useOutpost((s) => s.colorScheme);
  const toggle = useOutpost((s) => s.toggleColorScheme);
  const label = colorScheme === 'dark' ? 'Switch to light theme' : 'Switch to dark theme';
  return (
    <Group h="100%" px="md" justify="space-between">
      <Group gap={8}>
        <img src={new URL('../../resources/icon.svg', import.meta.url).href} width={22} height={22} alt="" />
        <Text fw={650} size="md" data-testid="app-title">
          Outpost
        </Text>
        <Text size="xs" c="dimmed">
          field kit for offline edge sites
        </Text>
      </Group>
      <Tooltip label={label}>
        <ActionIcon variant="subtle" color="gray" onClick={toggle} aria-label={label} data-testid="theme-toggle">
          {colorScheme === 'dark' ? <SunIcon /> : <MoonIcon />}
        </ActionIcon>
      </Tooltip>
    </Group>
  );
}

function Navigation() {
  const view = useOutpost((s) => s.view);
  const navigate = useOutpost((s) => s.navigate);
  return (
    <nav aria-label="Sections">
      {VIEWS.map(({ id, label, Icon }) => (
        <NavLink
          key={id}
          component="button"
          label={label}
          leftSection={<Icon />}
          active={view === id}
          onClick={() => navigate(id)}
          data-testid={`nav-${id}`}
          aria-current={view === id ? 'page' : undefined}
          className="outpost-nav-link"
        />
      ))}
    </nav>
  );
}

function CurrentView() {
  const view = useOutpost((s) => s.view);
  const entry = VIEWS.find((v) => v.id === view) ?? VIEWS[0];
  const { Component } = entry;
  return (
    <section data-testid={`view-${entry.id}`} aria-label={entry.label}>
      <Component />
    </section>
  );
}
