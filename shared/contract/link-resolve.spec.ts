import { describe, expect, it } from 'vitest';
import { describeLink, effectiveLink } from './link-resolve';

const bare = { ssh: {} };
const own = { ssh: { user: 'admin', port: 2200, identityFile: '/keys/device' } };
const site = { user: 'pi', port: 2222, identityFile: '/keys/site' };

describe('effectiveLink: run override > device > site default > built-in', () => {
  it('uses built-in root / 22 / the laptop key when nothing is set', () => {
    expect(effectiveLink(bare, {})).toEqual({ user: 'root', port: 22, identityFile: null, from: { user: 'built-in', port: 'built-in', identityFile: 'built-in' } });
  });

  it('takes the site defaults for a device without its own', () => {
    expect(effectiveLink(bare, {}, site)).toEqual({ user: 'pi', port: 2222, identityFile: '/keys/site', from: { user: 'site default', port: 'site default', identityFile: 'site default' } });
  });

  it("puts the device's own settings before the site's", () => {
    expect(effectiveLink(own, {}, site)).toEqual({ user: 'admin', port: 2200, identityFile: '/keys/device', from: { user: 'device', port: 'device', identityFile: 'device' } });
  });

  it('puts a run override before everything', () => {
    const e = effectiveLink(own, { user: 'tech', port: 22, identityFile: '/keys/run' }, site);
    expect(e).toEqual({ user: 'tech', port: 22, identityFile: '/keys/run', from: { user: 'this run', port: 'this run', identityFile: 'this run' } });
  });

  it('resolves each field on its own: a device with only a port still takes the site user and key', () => {
    const e = effectiveLink({ ssh: { port: 2200 } }, { identityFile: '/keys/run' }, { user: 'pi' });
    expect(e).toEqual({ user: 'pi', port: 2200, identityFile: '/keys/run', from: { user: 'site default', port: 'device', identityFile: 'this run' } });
  });

  it('treats an empty override field as unset (an untouched form)', () => {
    expect(effectiveLink(bare, { user: '  ', identityFile: '' }, site).from).toEqual({ user: 'site default', port: 'site default', identityFile: 'site default' });
  });

  it('describes the result for a technician', () => {
    expect(describeLink(effectiveLink(bare, {}, { user: 'pi' }), '10.0.4.17')).toBe('pi@10.0.4.17:22, the laptop key (user: site default, port: built-in, key: built-in)');
  });
});
