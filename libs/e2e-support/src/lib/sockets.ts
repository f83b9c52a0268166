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

/** Which of `pids` hold the socket listening on `port` (processes that share one accept queue). */
export function listenerHolders(port: number, pids: number[]): number[] {
  const listening = new Set(tcpTable().filter((e) => e.localPort === port && e.state === TCP_LISTEN).map((e) => e.inode));
  if (listening.size === 0) return [];
  return pids.filter((pid) => [...socketInodes(pid)].some((inode) => listening.has(inode)));
}

/**
 * The client-side ports of the connections to `port` that a process holds (the clients it
 * accepted and has not closed). Read it from a stopped process (SIGSTOP) right before a
 * SIGKILL: requests on exactly these connections may fail with it.
 */
export function acceptedClientPorts(pid: number, port: number): number[] {
  const mine = socketInodes(pid);
  return tcpTable().filter((e) => e.localPort === port && e.state !== TCP_LISTEN && mine.has(e.inode)).map((e) => e.remotePort);
}

/**
 * Open file descriptors of a process: all of them, and those that are its own rather than a
 * client's connection on `port` (the listening socket is its own). How many keep-alive
 * connections clients hold open depends on the load, not on the process.
 */
export function openFds(pid: number, port: number): { total: number; clientConnections: number; own: number } {
  const onPort = new Set(tcpTable().filter((e) => e.localPort === port && e.state !== TCP_LISTEN).map((e) => e.inode));
  let total = 0;
  let clientConnections = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed while we looked
    }
    total += 1;
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode !== undefined && onPort.has(inode)) clientConnections += 1;
  }
  return { total, clientConnections, own: total - clientConnections };
}
