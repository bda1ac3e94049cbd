import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * How many TCP connections process `pid` holds to `port` on the remote side (Linux: its socket fds matched against
 * /proc/net/tcp and tcp6), e.g. the API's connections to Redis. Undefined when /proc cannot be read.
 */
export function connectionsTo(pid: number, port: number): number | undefined {
  try {
    const inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode) inodes.add(inode);
      } catch {
        // closed meanwhile
      }
    }
    const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
    let count = 0;
    for (const table of ['tcp', 'tcp6']) {
      let text: string;
      try {
        text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const fields = line.trim().split(/\s+/);
        // fields: sl local_address rem_address st … inode (10th)
        if (fields[2]?.endsWith(`:${hexPort}`) && fields[3] === '01' && inodes.has(fields[9] ?? '')) count++;
      }
    }
    return count;
  } catch {
    return undefined;
  }
}
