import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, META_CONTENT_SECURITY_POLICY } from '../../electron/core/csp';
import { resolveRendererFile } from '../../electron/server/static-files';
import { ensureRendererBuilt } from './support/renderer-build';

// The built renderer must carry its Content-Security-Policy itself (a page loaded without our headers, such as a
// file:// copy, still gets it), and real Chromium must enforce it: no eval, no remote script.

function directives(policy: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of policy.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) out.set(name.toLowerCase(), sources);
  }
  return out;
}

function metaPolicy(html: string): string | undefined {
  const m = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/i.exec(html);
  return m?.[1]?.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
}

describe('the renderer Content-Security-Policy', () => {
  let dir: string;
  let html: string;
  let browser: Browser;
  let page: Server; // serves the built renderer with no CSP header: only the page's own <meta> can protect it
  let remote: Server; // another origin, standing in for any remote host
  let remoteHits = 0;
  const listen = async (server: Server): Promise<number> => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };
  let pagePort = 0;
  let remotePort = 0;

  beforeAll(async () => {
    dir = ensureRendererBuilt();
    html = readFileSync(join(dir, 'index.html'), 'utf8');
    page = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/probe.js') {
        // Same origin, so 'self' lets it run; what it tries inside is what the policy must stop.
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(`
          const tryIt = (f) => { try { f(); return 'allowed'; } catch (e) { return e.name; } };
          window.__probe = { eval: tryIt(() => eval('1 + 1')), fn: tryIt(() => new Function('return 1')()) };`);
        return;
      }
      const found = resolveRendererFile(dir, path);
      if (found.status !== 200) return void res.writeHead(found.status).end();
      res.writeHead(200, { 'content-type': found.headers['content-type']! }).end(readFileSync(found.file));
    });
    remote = createServer((_req, res) => {
      remoteHits++;
      res.writeHead(200, { 'content-type': 'text/javascript' }).end('window.__remoteRan = true;');
    });
    pagePort = await listen(page);
    remotePort = await listen(remote);
    browser = await chromium.launch({
      executablePath: process.env.OUTPOST_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => page?.close(resolve));
    await new Promise((resolve) => remote?.close(resolve));
  });

  it('is in the built index.html, before any script, and forbids remote scripts and eval', () => {
    const policy = metaPolicy(html);
    expect(policy).toBe(META_CONTENT_SECURITY_POLICY);
    expect(html.indexOf('Content-Security-Policy')).toBeLessThan(html.indexOf('<script'));
    for (const p of [policy!, CONTENT_SECURITY_POLICY]) {
      const d = directives(p);
      expect(d.get('default-src')).toEqual(["'self'"]);
      expect(d.get('script-src')).toEqual(["'self'"]); // no 'unsafe-eval', no 'unsafe-inline', no host or scheme sources
      expect(d.get('object-src')).toEqual(["'none'"]);
      expect(d.get('base-uri')).toEqual(["'none'"]);
      const remote = [...d.values()].flat().filter((s) => /^(https?:|\*$|http:\/\/|https:\/\/)/.test(s));
      expect(remote).toEqual([]);
    }
  });

  it('makes Chromium refuse eval, inline and remote scripts in the page as built', async () => {
    const tab = await browser.newPage();
    const violations: string[] = [];
    tab.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await tab.goto(`http://127.0.0.1:${pagePort}/`);
    await tab.addScriptTag({ url: '/probe.js' });
    expect(await tab.evaluate(() => (window as unknown as { __probe: unknown }).__probe)).toEqual({ eval: 'EvalError', fn: 'EvalError' });
    await expect(tab.addScriptTag({ content: 'window.__inlineRan = true;' })).rejects.toThrow();
    await expect(tab.addScriptTag({ url: `http://127.0.0.1:${remotePort}/evil.js` })).rejects.toThrow();
    const ran = await tab.evaluate(() => {
      const w = window as unknown as { __inlineRan?: boolean; __remoteRan?: boolean };
      return { inline: w.__inlineRan ?? false, remote: w.__remoteRan ?? false };
    });
    expect(ran).toEqual({ inline: false, remote: false });
    expect(remoteHits).toBe(0);
    expect(violations.join('\n')).toMatch(/script-src/);
    await tab.close();
  });
});
