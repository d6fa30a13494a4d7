import { describe, expect, it } from 'vitest';
import { FilesTarget } from '../../../../shared/contract';
import { EMPTY_FILES_FORM, filesTargetFromForm, formatArgv } from './files-target-form';

const good = { ...EMPTY_FILES_FORM, certPath: '/etc/app/tls.crt', keyPath: '/etc/app/tls.key' };

describe('the wizard’s files-target form', () => {
  it('builds the contract’s FilesTarget, with the CLI’s defaults and the reload as argv words', () => {
    const r = filesTargetFromForm({ ...good, caPath: ' /etc/app/ca.crt ', owner: 'app:app', keyMode: '0400', reload: ['touch', '/run/app reloaded'] });
    expect(r.errors).toEqual({});
    expect(r.target).toEqual({ certPath: '/etc/app/tls.crt', keyPath: '/etc/app/tls.key', caPath: '/etc/app/ca.crt', owner: 'app:app', keyMode: '0400', reload: ['touch', '/run/app reloaded'] });
    expect(FilesTarget.parse(r.target)).toEqual(r.target);
    expect(filesTargetFromForm({ ...good, owner: '', keyMode: '' }).target).toEqual({ certPath: '/etc/app/tls.crt', keyPath: '/etc/app/tls.key', owner: 'root:root', keyMode: '0600' });
  });

  it('refuses relative paths, traversal, directories, shared paths, bad owners and non-octal modes, each with a message', () => {
    const r = filesTargetFromForm({ certPath: 'etc/app/tls.crt', keyPath: '/etc/app/../shadow', caPath: '/etc/app/', owner: 'root;rm', keyMode: '0800', reload: [] });
    expect(r.target).toBeNull();
    expect(r.errors.certPath).toMatch(/absolute path \(start with \/\)/);
    expect(r.errors.keyPath).toMatch(/no \. or \.\. segments/);
    expect(r.errors.caPath).toMatch(/not a directory/);
    expect(r.errors.owner).toMatch(/user or user:group/);
    expect(r.errors.keyMode).toMatch(/octal/);
    expect(filesTargetFromForm({ ...EMPTY_FILES_FORM }).errors).toMatchObject({ certPath: expect.stringMatching(/^required/), keyPath: expect.stringMatching(/^required/) });
    expect(filesTargetFromForm({ ...good, keyPath: good.certPath }).errors.keyPath).toMatch(/different paths/);
    expect(filesTargetFromForm({ ...good, keyMode: '600' }).errors).toEqual({});
    expect(filesTargetFromForm({ ...good, keyMode: '06000' }).errors.keyMode).toMatch(/octal/);
    expect(filesTargetFromForm({ ...good, reload: Array.from({ length: 33 }, () => 'x') }).errors.reload).toMatch(/at most 32/);
    expect(filesTargetFromForm({ ...good, reload: ['systemctl reload nginx'] }).errors.reload).toMatch(/^the program is one word: enter "systemctl"/);
    expect(filesTargetFromForm({ ...good, reload: ['touch', '/run/a b'] }).errors).toEqual({});
  });

  it('the contract refuses what the form refuses (the CLI gets the same rules)', () => {
    expect(FilesTarget.safeParse({ certPath: '/etc/app/../../root/.ssh/authorized_keys', keyPath: '/etc/app/k' }).success).toBe(false);
    expect(FilesTarget.safeParse({ certPath: '/etc/app/./c', keyPath: '/etc/app/k' }).success).toBe(false);
    expect(FilesTarget.safeParse({ certPath: '/etc/app/c..d', keyPath: '/etc/app/.k' }).success).toBe(true);
  });

  it('shows the reload as the device receives it', () => {
    expect(formatArgv(['systemctl', 'reload', 'nginx'])).toBe('systemctl reload nginx');
    expect(formatArgv(['touch', '/run/a b; rm -rf /'])).toBe('touch "/run/a b; rm -rf /"');
  });
});
