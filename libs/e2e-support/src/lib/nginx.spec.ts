import { readFileSync } from 'node:fs';
import { freePort } from './net';
import { startNginx, type RunningNginx } from './nginx';
import { processParents } from './processes';
import { waitFor } from './wait-for';

// A real nginx (Debian's, installed by the setup) in front of two ports nothing listens on:
// these tests look at its processes, not at what it proxies.

/** The session of a process: field 6 of /proc/<pid>/stat (after the command name: state, ppid, pgrp, session). */
function sessionOf(pid: number | 'self'): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[3]);
}

const childrenOf = (pid: number) => [...processParents()].filter(([, parent]) => parent === pid).map(([child]) => child);

describe('startNginx', () => {
  let nginx: RunningNginx | undefined;
  afterEach(async () => {
    await nginx?.stop();
    nginx = undefined;
  });

  it('runs nginx in the caller session by default, and in a session of its own with ownSession, as systemd starts a service', async () => {
    const upstreams = [await freePort(), await freePort()];
    nginx = await startNginx(upstreams);
    expect(sessionOf(nginx.process.pid as number)).toBe(sessionOf('self'));
    await nginx.stop();

    nginx = await startNginx(upstreams, { ownSession: true });
    const pid = nginx.process.pid as number;
    expect(sessionOf(pid)).toBe(pid);
    expect(sessionOf(pid)).not.toBe(sessionOf('self'));
  });

  it('starts one worker by default and as many as workerProcesses asks for', async () => {
    const upstreams = [await freePort(), await freePort()];
    nginx = await startNginx(upstreams);
    const one = nginx.process.pid as number;
    await waitFor('nginx to start its worker', () => childrenOf(one).length === 1);
    expect(readFileSync(nginx.files.mainConf, 'utf8')).toContain('worker_processes 1;');
    await nginx.stop();

    nginx = await startNginx(upstreams, { workerProcesses: 2 });
    const two = nginx.process.pid as number;
    await waitFor('nginx to start two workers', () => childrenOf(two).length === 2);
    expect(readFileSync(nginx.files.mainConf, 'utf8')).toContain('worker_processes 2;');
  });
});
