// CPU time per thread of the browsers this process started, from /proc (Linux): where a browser spends its CPU
// during a step, for browsers whose pages cannot be profiled from here (Firefox). Threads are grouped by process
// kind (Firefox's -contentproc kind, Chromium's --type) and thread name, so a table reads e.g.
// "firefox tab / Socket Thread". Ticks are USER_HZ (100 per second on Linux).
import { readFileSync, readdirSync } from 'node:fs';

const HZ = 100;

function read(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** utime + stime (ticks) and the parent pid from a /proc stat line (comm may hold spaces and parentheses). */
function parseStat(text) {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
}

/** The kind of a browser process from its command line: 'firefox tab', 'chromium renderer', 'firefox main', … */
function kindOf(cmdline, comm) {
  const args = cmdline.split(/[\0 ]/).filter(Boolean);
  const browser = /firefox/.test(cmdline) ? 'firefox' : /chrom/.test(cmdline) ? 'chromium' : comm;
  const type = args.find((a) => a.startsWith('--type='));
  if (type) return `${browser} ${type.slice(7)}`;
  const i = args.indexOf('-contentproc');
  if (i >= 0) return `${browser} ${args[args.length - 1]}`;
  return `${browser} main`;
}

/** Every process descended from `root` (default: this one). */
function descendants(root = process.pid) {
  const parent = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = read(`/proc/${name}/stat`);
    if (stat) parent.set(Number(name), parseStat(stat).ppid);
  }
  const out = [];
  for (const pid of parent.keys()) {
    for (let p = parent.get(pid), hops = 0; p && hops < 16; p = parent.get(p), hops++) {
      if (p === root) {
        out.push(pid);
        break;
      }
    }
  }
  return out;
}

/** Map of 'kind / thread name' -> ticks, summed over the browsers' processes and threads now. */
export function snapshot() {
  const totals = new Map();
  for (const pid of descendants()) {
    const cmdline = read(`/proc/${pid}/cmdline`) ?? '';
    const comm = (read(`/proc/${pid}/comm`) ?? '?').trim();
    const kind = kindOf(cmdline, comm);
    let tasks = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      const stat = read(`/proc/${pid}/task/${tid}/stat`);
      if (!stat) continue;
      // Thread names carry numbers (e.g. "DOM Worker", "IndexedDB #12"): keep the name, drop the number.
      const name = (read(`/proc/${pid}/task/${tid}/comm`) ?? '?').trim().replace(/\s*#?\d+$/, '');
      const key = `${kind} / ${name}`;
      // Per thread id as well, so a thread that ends between two snapshots does not make a difference negative.
      totals.set(`${key}\0${pid}.${tid}`, parseStat(stat).ticks);
    }
  }
  return totals;
}

/** CPU seconds per 'kind / thread' between two snapshots, largest first (threads that started in between count). */
export function difference(before, after) {
  const sums = new Map();
  for (const [id, ticks] of after) {
    const delta = ticks - (before.get(id) ?? 0);
    if (delta <= 0) continue;
    const key = id.slice(0, id.indexOf('\0'));
    sums.set(key, (sums.get(key) ?? 0) + delta / HZ);
  }
  return [...sums].sort((a, b) => b[1] - a[1]);
}
