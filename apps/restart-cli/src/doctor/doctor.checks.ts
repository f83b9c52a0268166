import { parseEnvFile } from './env-file';
import { parseNginx, parseNginxTime } from './nginx-conf';
import { parseUnitFile, parseUnitTimespan, unitValue } from './systemd-unit';
import { STOP_MARGIN_MS, type DeploymentFiles, type DoctorCheck } from './doctor.types';

const pass = (id: string, title: string, detail: string): DoctorCheck => ({ id, title, ok: true, detail });
const fail = (id: string, title: string, detail: string, fix: string): DoctorCheck => ({ id, title, ok: false, detail, fix });

/** Nginx's default upstream `keepalive_timeout` when the block does not set one. */
const NGINX_UPSTREAM_KEEPALIVE_DEFAULT_MS = 60_000;
const WRAPPERS = /^(npm|npx|nx|yarn|pnpm|sh|bash|dash|zsh|pm2)$/;

/**
 * Runs every check of the timeout chain and the signal path on already-read files.
 * Pure: the command reads the files, this decides.
 */
export function runDoctorChecks(files: DeploymentFiles): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  if (files.env.text === undefined) {
    checks.push(fail('env-file', 'environment file present', `${files.env.path} not found`, `create ${files.env.path} (KEY=value lines) or pass --env-file`));
  }
  const env = parseEnvFile(files.env.text ?? '');
  const ms = (name: string): number | { missing: string } => {
    const v = env.get(name);
    if (v === undefined || !/^\d+$/.test(v)) return { missing: `${name} is ${v === undefined ? 'not set' : `'${v}', not milliseconds`} in ${files.env.path}; set ${name}=<milliseconds> there` };
    return Number(v);
  };
  checks.push(...keepAliveChain(files, ms));
  if (files.units.length === 0) {
    checks.push(fail('units', 'systemd unit files present', 'no *.service file in the systemd directory', 'add edu_agents.service / edu_agents@.service under <deployment>/systemd'));
  }
  for (const unit of files.units) checks.push(...unitChecks(unit.path, unit.text, ms));
  checks.push(...nextUpstream(files));
  return checks;
}

type Ms = (name: string) => number | { missing: string };

function keepAliveChain(files: DeploymentFiles, ms: Ms): DoctorCheck[] {
  const title = 'nginx upstream keepalive_timeout < KEEP_ALIVE_TIMEOUT_MS < HEADERS_TIMEOUT_MS';
  if (files.nginx.text === undefined) return [fail('keepalive-chain', title, `${files.nginx.path} not found`, 'ship the nginx config or pass --deployment')];
  const upstreamTimeouts = parseNginx(files.nginx.text).filter((d) => d.name === 'keepalive_timeout' && d.context.some((c) => c.startsWith('upstream')));
  const raw = upstreamTimeouts[upstreamTimeouts.length - 1]?.args[0];
  const nginxMs = raw === undefined ? NGINX_UPSTREAM_KEEPALIVE_DEFAULT_MS : parseNginxTime(raw);
  const keepAlive = ms('KEEP_ALIVE_TIMEOUT_MS');
  const headers = ms('HEADERS_TIMEOUT_MS');
  if (typeof keepAlive !== 'number') return [fail('keepalive-chain', title, keepAlive.missing, `set KEEP_ALIVE_TIMEOUT_MS above nginx's upstream keepalive_timeout`)];
  if (typeof headers !== 'number') return [fail('keepalive-chain', title, headers.missing, `set HEADERS_TIMEOUT_MS above KEEP_ALIVE_TIMEOUT_MS`)];
  if (nginxMs === undefined) return [fail('keepalive-chain', title, `cannot read keepalive_timeout '${raw}'`, 'write it as e.g. 60s')];
  const detail = `${nginxMs}ms${raw === undefined ? ' (nginx default)' : ''} < ${keepAlive}ms < ${headers}ms`;
  if (!(nginxMs < keepAlive)) {
    return [fail('keepalive-chain', title, detail, `nginx must close idle upstream connections before Node does: set the upstream keepalive_timeout below ${keepAlive}ms, or KEEP_ALIVE_TIMEOUT_MS above ${nginxMs}ms`)];
  }
  if (!(keepAlive < headers)) return [fail('keepalive-chain', title, detail, `set HEADERS_TIMEOUT_MS above KEEP_ALIVE_TIMEOUT_MS (e.g. ${keepAlive + 1000})`)];
  return [pass('keepalive-chain', title, detail)];
}

function unitChecks(path: string, text: string, ms: Ms): DoctorCheck[] {
  const unit = parseUnitFile(text);
  const get = (key: string) => unitValue(unit, 'Service', key);
  const checks: DoctorCheck[] = [];
  const stopTitle = `${path}: TimeoutStopSec > SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS + QC_CLOSE_TIMEOUT_MS + ${STOP_MARGIN_MS}ms`;
  const parts = ['SHUTDOWN_DELAY_MS', 'SHUTDOWN_TIMEOUT_MS', 'QC_CLOSE_TIMEOUT_MS'].map(ms);
  const missing = parts.find((p): p is { missing: string } => typeof p !== 'number');
  const stopRaw = get('TimeoutStopSec');
  const stopMs = stopRaw === undefined ? undefined : parseUnitTimespan(stopRaw);
  if (missing) checks.push(fail('timeout-stop', stopTitle, missing.missing, 'set the shutdown budget explicitly so doctor can compare it with TimeoutStopSec'));
  else if (stopMs === undefined) checks.push(fail('timeout-stop', stopTitle, `TimeoutStopSec is ${stopRaw ?? 'not set (systemd default 90s applies silently)'}`, 'set TimeoutStopSec= explicitly in [Service]'));
  else {
    const need = (parts as number[]).reduce((a, b) => a + b, 0) + STOP_MARGIN_MS;
    const detail = `TimeoutStopSec=${stopRaw} (${stopMs}ms) vs ${need}ms needed`;
    checks.push(stopMs > need ? pass('timeout-stop', stopTitle, detail)
      : fail('timeout-stop', stopTitle, detail, `raise TimeoutStopSec above ${Math.ceil(need / 1000)}s, or lower SHUTDOWN_TIMEOUT_MS, or systemd will SIGKILL a draining instance`));
  }
  const exec = get('ExecStart') ?? '';
  const words = exec.replace(/^[-@+!:]+/, '').split(/\s+/).filter(Boolean);
  const prog = (words[0] ?? '').split('/').pop() ?? '';
  const viaEnv = prog === 'env' ? (words.find((w, i) => i > 0 && !w.includes('=')) ?? '').split('/').pop() ?? '' : prog;
  const execTitle = `${path}: ExecStart runs node directly`;
  if (/^node(js)?[0-9]*$/.test(viaEnv)) checks.push(pass('exec-start', execTitle, exec));
  else checks.push(fail('exec-start', execTitle, exec ? `ExecStart=${exec}` : 'no ExecStart',
    WRAPPERS.test(viaEnv) ? `${viaEnv} does not forward SIGTERM reliably; use ExecStart=/usr/bin/node dist/apps/api/main.js` : 'use ExecStart=/usr/bin/node dist/apps/api/main.js'));
  const killMode = get('KillMode');
  checks.push(killMode === 'mixed' ? pass('kill-mode', `${path}: KillMode=mixed`, 'SIGTERM to the main process only, SIGKILL to the rest at the end')
    : fail('kill-mode', `${path}: KillMode=mixed`, `KillMode=${killMode ?? '(unset: control-group)'}`, 'set KillMode=mixed so SIGTERM reaches node alone and Chrome is closed by the app'));
  const reload = get('ExecReload') ?? '';
  const reloadTitle = `${path}: ExecReload sends SIGHUP to the main process (hot handoff)`;
  checks.push(/kill\s+(-s\s*)?-?(SIG)?HUP\s+\$\{?MAINPID\}?/.test(reload) ? pass('exec-reload', reloadTitle, `ExecReload=${reload}`)
    : fail('exec-reload', reloadTitle, reload ? `ExecReload=${reload}` : 'no ExecReload', 'set ExecReload=/bin/kill -HUP $MAINPID so that `systemctl reload` hands over to a new process without dropping a connection'));
  const notifyAccess = get('NotifyAccess');
  checks.push(notifyAccess === 'all' ? pass('notify-access', `${path}: NotifyAccess=all`, 'the successor of a handoff may send MAINPID= and READY=1')
    : fail('notify-access', `${path}: NotifyAccess=all`, `NotifyAccess=${notifyAccess ?? '(unset: none)'}`, 'set NotifyAccess=all: after a handoff the successor sends MAINPID= and READY=1 before it is the main process; without it systemd ignores them and stops the unit when the old process exits'));
  const killSignal = get('KillSignal');
  checks.push(killSignal === undefined || killSignal === 'SIGTERM' || killSignal === 'TERM'
    ? pass('kill-signal', `${path}: KillSignal=SIGTERM`, killSignal ? `KillSignal=${killSignal}` : 'unset (systemd default SIGTERM)')
    : fail('kill-signal', `${path}: KillSignal=SIGTERM`, `KillSignal=${killSignal}`, 'set KillSignal=SIGTERM: the API drains on SIGTERM'));
  return checks;
}

const REQUIRED_NEXT_UPSTREAM = ['error', 'http_503', 'non_idempotent'];

function nextUpstream(files: DeploymentFiles): DoctorCheck[] {
  const title = 'nginx proxy_next_upstream retries on error, http_503 and non_idempotent';
  if (files.nginx.text === undefined) return [];
  const directives = parseNginx(files.nginx.text).filter((d) => d.name === 'proxy_next_upstream' && !d.args.includes('off'));
  if (directives.length === 0) return [fail('next-upstream', title, 'no proxy_next_upstream directive', `add proxy_next_upstream ${REQUIRED_NEXT_UPSTREAM.join(' ')} timeout; to the proxied locations`)];
  const bad = directives.filter((d) => REQUIRED_NEXT_UPSTREAM.some((r) => !d.args.includes(r)));
  if (bad.length) {
    const d = bad[0];
    const lacking = REQUIRED_NEXT_UPSTREAM.filter((r) => !d.args.includes(r));
    return [fail('next-upstream', title, `in ${d.context.join(' > ') || 'main'}: proxy_next_upstream ${d.args.join(' ')}`, `add ${lacking.join(' ')} to proxy_next_upstream so a draining instance's 503 is retried on the other one`)];
  }
  return [pass('next-upstream', title, directives.map((d) => d.args.join(' ')).join('; '))];
}
