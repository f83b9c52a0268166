import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The `st` code of a listening socket in /proc/net/tcp{,6}. */
const TCP_LISTEN = '0A';

interface TcpEntry {
  localPort: number;
  remotePort: number;
  state: string;
  inode: string;
}

function tcpTable(): TcpEntry[] {
  const entries: TcpEntry[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue; // no IPv6 here
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      entries.push({ localPort: parseInt(f[1].split(':')[1], 16), remotePort: parseInt(f[2].split(':')[1], 16), state: f[3], inode: f[9] });
    }
  }
  return entries;
}

/** Socket inodes a process holds open (empty once it is gone). */
export function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes; // gone
  }
  for (const fd of fds) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // closed while we looked
    }
  }
  return inodes;
}

/** Which of `pids` hold the socket listening on 127.0.0.1:`port` (the kernel's one accept queue). */
export function listenerHolders(port: number, pids: number[]): number[] {
  const listening = new Set(tcpTable().filter((e) => e.localPort === port && e.state === TCP_LISTEN).map((e) => e.inode));
  if (listening.size === 0) return [];
  return pids.filter((pid) => [...socketInodes(pid)].some((inode) => listening.has(inode)));
}

/** The client-side ports of the connections to `port` that a process holds: the clients it accepted and has not closed. */
export function acceptedClientPorts(pid: number, port: number): number[] {
  const mine = socketInodes(pid);
  return tcpTable().filter((e) => e.localPort === port && e.state !== TCP_LISTEN && mine.has(e.inode)).map((e) => e.remotePort);
}

/** `stat` fields after the command name. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** True while `pid` runs or is stopped; a zombie or an exiting process counts as gone. */
export function isRunning(pid: number): boolean {
  const f = statFields(pid);
  if (!f) return false;
  return f[0] !== 'Z' && f[0] !== 'X' && (Number(f[6]) & 0x4) === 0;
}

/** The state letter of a process (R, S, T for stopped, Z, ...), undefined when gone. */
export function stateOf(pid: number): string | undefined {
  return statFields(pid)?.[0];
}

/** Live processes whose command line contains `text` (a run's directory names every process of the run). */
export function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((arg) => arg.includes(text)) && isRunning(pid)) found.push(pid);
    } catch {
      // gone while we looked
    }
  }
  return found;
}

/** Open fds of a process and its soft RLIMIT_NOFILE. */
export function fdUsage(pid: number): { open: number; limit: number } {
  const open = readdirSync(`/proc/${pid}/fd`).length;
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  return { open, limit: Number(line?.split(/\s+/)[3]) };
}

/** Sends a signal; false when the process is gone. */
export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}
