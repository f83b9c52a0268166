import { readdirSync, readFileSync } from 'node:fs';
import { freePort } from './net';
import { startNginx, type RunningNginx } from './nginx';
import { waitFor } from './wait-for';

// A real nginx (Debian's, installed by the setup) in front of two ports nothing listens on:
// these tests look at its processes, not at what it proxies.

/** Fields of /proc/<pid>/stat after the command name: state, ppid, pgrp, session, ... */
function statFields(pid: number | 'self'): string[] {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

const sessionOf = (pid: number | 'self') => Number(statFields(pid)[3]);

function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((child) => {
      try {
        return Number(statFields(child)[1]) === pid;
      } catch {
        return false; // gone meanwhile
      }
    });
}

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
