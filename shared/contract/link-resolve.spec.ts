import { describe, expect, it } from 'vitest';
import { describeLink, effectiveLink, siteDefaultsFor } from './link-resolve';

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

describe('siteDefaultsFor: a site\'s own set over the set for every site', () => {
  const table = { all: { user: 'pi', identityFile: '/keys/all' }, sites: { 'plant-3': { user: 'ops', port: 2222 } } };
  it('gives a device tagged with a site that site\'s values, field by field over every site\'s', () => {
    expect(siteDefaultsFor(table, { tags: { site: 'plant-3' } })).toEqual({ user: 'ops', port: 2222, identityFile: '/keys/all' });
  });
  it('gives an untagged device, a new address, or a site without its own set the defaults for every site', () => {
    expect(siteDefaultsFor(table, { tags: {} })).toEqual({ user: 'pi', identityFile: '/keys/all' });
    expect(siteDefaultsFor(table, {})).toEqual({ user: 'pi', identityFile: '/keys/all' });
    expect(siteDefaultsFor(table, { tags: { site: 'plant-9' } })).toEqual({ user: 'pi', identityFile: '/keys/all' });
  });
  it('keeps the precedence: run > device > site > every site > built-in', () => {
    const device = { ssh: { port: 2200 }, tags: { site: 'plant-3' } };
    expect(effectiveLink(device, { identityFile: '/keys/run' }, siteDefaultsFor(table, device))).toEqual({
      user: 'ops',
      port: 2200,
      identityFile: '/keys/run',
      from: { user: 'site default', port: 'device', identityFile: 'this run' },
    });
  });
});
