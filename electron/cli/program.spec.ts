import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, COMMAND_MODULES, commandNamed } from './program';

const io = { stdout: () => undefined, stderr: () => undefined, env: {}, setExitCode: () => undefined };

describe('command modules', () => {
  it('each module registers exactly the top-level names the table gives it, and no name twice', async () => {
    const seen: string[] = [];
    for (const { names, load } of COMMAND_MODULES) {
      const program = new Command('outpost');
      (await load())(program, io);
      const registered = program.commands.map((c) => c.name());
      expect(registered).toEqual([...names]);
      seen.push(...registered);
    }
    expect(new Set(seen).size).toBe(seen.length);
    const whole = await buildProgram(io);
    expect(whole.commands.map((c) => c.name())).toEqual(seen);
  });

  it('a run registers only the module of the command it names', async () => {
    const program = await buildProgram(io, 'trust-store');
    expect(program.commands.map((c) => c.name())).toEqual(['trust', 'trust-store']);
  });

  it('finds the command past root options, and loads everything for help, a bare call or a typo', () => {
    expect(commandNamed(['info', '--json'])).toBe('info');
    expect(commandNamed(['--passphrase-file', 'flush', 'flush', 'dev1'])).toBe('flush');
    expect(commandNamed(['--passphrase-file=/p', 'ca', 'list'])).toBe('ca');
    expect(commandNamed(['--help'])).toBeUndefined();
    expect(commandNamed(['help', 'flush'])).toBeUndefined();
    expect(commandNamed([])).toBeUndefined();
    expect(commandNamed(['flsuh', 'dev1'])).toBeUndefined();
    expect(commandNamed(['--', 'info'])).toBeUndefined();
  });
});
