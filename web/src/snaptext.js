// snaptext.js - a domain's snapshots from QEMU's listing (GET .../snapshots: "info snapshots",
// as kxl snapshot-list prints it). Pure, no DOM.
//
//   List of snapshots present on all disks:
//   ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT
//   --        s1                 50.1 MiB 2026-12-07 00:12:00 00:00:12.345
//
// A snapshot only some disks have (QEMU's "partial" list) cannot be reverted to, only deleted.

const DATE = /(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)/;
const CLOCK = /\d\d:\d\d:\d\d\.\d+/;

// [{name, size, date, clock, partial}] in QEMU's order.
export function parseSnapshots(listing) {
  const out = [];
  let partial = false;
  let inTable = false;
  for (const raw of (listing || '').split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    if (/^List of /.test(line)) {
      partial = !/present on all disks/.test(line);
      inTable = false;
      continue;
    }
    if (/^ID\s+TAG\b/.test(line)) {
      inTable = true;
      continue;
    }
    if (!inTable) continue;
    const words = line.split(/\s+/);
    if (words.length < 2) continue;
    const rest = line.slice(line.indexOf(words[1], words[0].length) + words[1].length);
    const date = rest.match(DATE);
    const clock = date ? rest.slice(date.index + date[0].length).match(CLOCK) : null;
    out.push({
      name: words[1],
      size: date ? rest.slice(0, date.index).trim() : '',
      date: date ? date[1] : '',
      clock: clock ? clock[0] : '',
      partial,
    });
  }
  return out;
}
