// cfgtext.js - xl.cfg text as the UI writes it: pure functions, no requests. The create form's
// fields become a file a person can read (comments say what each key is), and the autostart
// order is the "order=N" of its startup key.

// A string in double quotes as the xl.cfg parser reads it back.
export function quote(s) {
  return `"${String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

// The non-empty, trimmed lines of a textarea's value.
export function lines(text) {
  return String(text || '').split('\n').map((l) => l.trim()).filter((l) => l);
}

// A disk line: a bare path becomes a writable disk (xvda, xvdb, ...); a spec stays as it is.
function diskSpec(line, i) {
  if (line.includes(',') || line.includes('=')) return line;
  return `${line},raw,xvd${String.fromCharCode(97 + i)},rw`;
}

// A network line: a bare bridge name becomes bridge=NAME; a spec stays as it is.
function vifSpec(line) {
  return line.includes('=') ? line : `bridge=${line}`;
}

function list(items) {
  return items.length ? `[ ${items.map(quote).join(', ')} ]` : '[]';
}

// The config file of the create form's values: {name, memory, vcpus, disks, networks, kernel,
// ramdisk, extra, vnc}.
export function configText(f) {
  const disks = lines(f.disks).map(diskSpec);
  const vifs = lines(f.networks).map(vifSpec);
  const out = [
    `# ${f.name}.cfg - written by kxl's web UI (New domain). The syntax is Xen's xl.cfg:`,
    '# KEY = VALUE, strings in double quotes (kxl.cfg(5) says what each key means).',
    '',
    '# The domain\'s name, as kxl list shows it',
    `name = ${quote(f.name)}`,
    '# Guest RAM in MiB, and virtual CPUs',
    `memory = ${Number(f.memory)}`,
    `vcpus = ${Number(f.vcpus)}`,
  ];
  if (f.kernel) {
    out.push('', '# Direct kernel boot: no firmware or bootloader', 'type = "pvh"',
      `kernel = ${quote(f.kernel)}`);
    if (f.ramdisk) out.push(`ramdisk = ${quote(f.ramdisk)}`);
    if (f.extra) out.push(`extra = ${quote(f.extra)}`);
  } else {
    out.push('', '# Boots from its first disk, through the firmware (SeaBIOS)', 'type = "hvm"');
  }
  out.push('', '# Disks: target, format, virtual device, access', `disk = ${list(disks)}`);
  out.push('', '# Network interfaces', `vif = ${list(vifs)}`);
  if (f.vnc) out.push('', '# A graphical console on a VNC server (its Unix socket: kxl vncviewer)', 'vnc = 1');
  return `${out.join('\n')}\n`;
}

const STARTUP = /^(\s*startup\s*=\s*)(["'])(.*?)\2(.*)$/m;

// The order=N of the text's startup key, or null.
export function startupOrder(text) {
  const m = STARTUP.exec(text);
  const o = m && /(?:^|,)\s*order=(-?\d+)/.exec(m[3]);
  return o ? Number(o[1]) : null;
}

// The text with order=N in its startup key (added when it has none; null removes it), the
// key's other settings (up=, down=) kept.
export function withStartupOrder(text, order) {
  const m = STARTUP.exec(text);
  const others = m ? m[3].split(',').map((s) => s.trim()).filter((s) => s && !s.startsWith('order=')) : [];
  const parts = order === null ? others : [`order=${order}`, ...others];
  if (!m) {
    if (!parts.length) return text;
    const sep = text.endsWith('\n') || !text ? '' : '\n';
    return `${text}${sep}# Start at host boot in this order (lower first)\nstartup = "${parts.join(',')}"\n`;
  }
  if (!parts.length) return text.replace(STARTUP, '');
  return text.replace(STARTUP, (_, head, q, __, tail) => `${head}${q}${parts.join(',')}${q}${tail}`);
}

// The line an error message names ("FILE:LINE: ..."), or 0.
export function errorLine(message) {
  const m = /^[^\n]*?\.cfg:(\d+):/.exec(message || '');
  return m ? Number(m[1]) : 0;
}
