import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, renderServerConfig, SHIPPED_NGINX_CONF, testNginxConfig, writeNginxFiles } from '@edu-agents/e2e-support';
import { parseUnitFile, SYSTEMD_DIR } from './support/unit-file';

// The shipped nginx include file as Debian's nginx reads it, and its timeouts
// against the API's keep-alive settings in the shipped environment file.

const shipped = readFileSync(SHIPPED_NGINX_CONF, 'utf8');

function upstreamBlock(): string {
  const match = /upstream edu_agents \{([\s\S]*?)\n\}/.exec(shipped);
  if (!match) throw new Error('no "upstream edu_agents { ... }" block in the shipped config');
  return match[1];
}

function directive(text: string, name: string): string[] {
  const lines = text.split('\n').filter((line) => !line.trim().startsWith('#'));
  return lines.flatMap((line) => {
    const match = new RegExp(`^\\s*${name}\\s+([^;]+);`).exec(line);
    return match ? [match[1].trim()] : [];
  });
}

describe('shipped nginx config', () => {
  it('passes nginx -t inside a minimal http block, ports substituted', async () => {
    const files = writeNginxFiles(await freePort(), [await freePort(), await freePort()]);
    try {
      const result = testNginxConfig(files);
      expect(result.output).toContain('syntax is ok');
      expect(result.status).toBe(0);
    } finally {
      files.remove();
    }
  });

  it('fails nginx -t when a directive is broken, so the check above can fail', async () => {
    const files = writeNginxFiles(await freePort(), [await freePort(), await freePort()]);
    try {
      const conf = join(files.dir, 'edu_agents.conf');
      writeFileSync(conf, readFileSync(conf, 'utf8').replace('proxy_next_upstream_tries 3;', 'proxy_next_upstream_tries;'));
      expect(testNginxConfig(files).status).not.toBe(0);
    } finally {
      files.remove();
    }
  });

  it('keeps ports templatable: two upstream server lines and one listen 80', () => {
    const rendered = renderServerConfig(shipped, 18080, [18000, 18001]);
    expect(rendered).toContain('server 127.0.0.1:18000 max_fails=0;');
    expect(rendered).toContain('server 127.0.0.1:18001 max_fails=0;');
    expect(rendered).toContain('listen 127.0.0.1:18080;');
    expect(shipped).not.toMatch(/^\s*(access_log|error_log|pid)\s+\//m);
  });

  it('closes idle upstream connections before node does: keepalive_timeout < KEEP_ALIVE_TIMEOUT_MS < HEADERS_TIMEOUT_MS', () => {
    const env = parseUnitFile(readFileSync(join(SYSTEMD_DIR, 'edu_agents.env.example'), 'utf8'))[''];
    const [timeout] = directive(upstreamBlock(), 'keepalive_timeout');
    expect(timeout).toMatch(/^\d+s$/);
    const upstreamMs = Number(timeout.replace(/s$/, '')) * 1_000;
    expect(upstreamMs).toBeLessThan(Number(env['KEEP_ALIVE_TIMEOUT_MS'][0]));
    expect(Number(env['KEEP_ALIVE_TIMEOUT_MS'][0])).toBeLessThan(Number(env['HEADERS_TIMEOUT_MS'][0]));
  });

  it('retries errors, timeouts, 502 and 503 for every method, a bounded number of times', () => {
    const [rules] = directive(shipped, 'proxy_next_upstream');
    expect(rules.split(/\s+/)).toEqual(expect.arrayContaining(['error', 'timeout', 'http_502', 'http_503', 'non_idempotent']));
    expect(Number(directive(shipped, 'proxy_next_upstream_tries')[0])).toBeGreaterThan(1);
    expect(directive(shipped, 'proxy_http_version')).toEqual(['1.1']);
    expect(directive(shipped, 'proxy_set_header')).toContain('Connection ""');
    expect(directive(upstreamBlock(), 'keepalive').length).toBe(1);
  });
});
