// snaptext.js - a domain's snapshots (GET .../snapshots: kxl snapshot-list --json's rows) as the
// Devices dialog shows them: the size of the memory saved, the date in the browser's time, and
// whether it can be reverted to. Pure, no DOM.
//
// A snapshot only some disks have (on_all_disks false) cannot be reverted to, only deleted.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

// QEMU's way: three significant digits ("0 B", "50.1 MiB").
export function snapshotSize(bytes) {
  let v = Number(bytes) || 0;
  let u = 0;
  while (v >= 1000 && u + 1 < UNITS.length) {
    v /= 1024;
    u += 1;
  }
  return `${u ? Number(v.toPrecision(3)) : v} ${UNITS[u]}`;
}

const pad = (n) => String(n).padStart(2, '0');

// seconds since the epoch -> "2026-12-07 00:12:00" (local time)
export function snapshotDate(seconds) {
  const d = new Date(seconds * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// [{name, size, date, partial}] in the API's order (those on every disk first).
export function snapshotRows(list) {
  return (Array.isArray(list) ? list : []).map((s) => ({
    name: s.name,
    size: snapshotSize(s.vm_state_size),
    date: snapshotDate(s.date),
    partial: !s.on_all_disks,
  }));
}
