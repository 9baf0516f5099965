// test_snaptext.mjs - web/src/snaptext.js (a domain's snapshots, as GET .../snapshots gives
// them, as the Devices dialog shows them) under node's test runner. The page's modules are ES
// modules in a package without "type": the file is imported from a copy named .mjs.
//   node tests/web/test_snaptext.mjs WEB_SRC_DIR
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env.TZ = 'UTC';
const dir = mkdtempSync(join(tmpdir(), 'kxl-snaptext-'));
copyFileSync(join(process.argv[2], 'snaptext.js'), join(dir, 'snaptext.mjs'));
const { snapshotRows, snapshotSize } = await import(join(dir, 'snaptext.mjs'));
rmSync(dir, { recursive: true });

// two rows as kxl snapshot-list --json prints them
const list = [
  { name: 'ui-snap', id: '1', vm_state_size: 72876032, date: 1796602571.5, vm_clock_ns: 21417000000,
    icount: null, disks: ['xvda', 'xvdb'], on_all_disks: true },
  { name: 'old', id: '2', vm_state_size: 0, date: 1796598000, vm_clock_ns: 1000000000,
    icount: null, disks: ['xvda'], on_all_disks: false },
];

test('rows in the API order, partial ones marked', () => {
  assert.deepEqual(snapshotRows(list), [
    { name: 'ui-snap', size: '69.5 MiB', date: '2026-12-07 00:16:11', partial: false },
    { name: 'old', size: '0 B', date: '2026-12-06 23:00:00', partial: true },
  ]);
});

test('sizes as QEMU writes them', () => {
  assert.equal(snapshotSize(0), '0 B');
  assert.equal(snapshotSize(999), '999 B');
  assert.equal(snapshotSize(1000), '0.977 KiB');
  assert.equal(snapshotSize(52531200), '50.1 MiB');
});

test('no snapshot', () => {
  assert.deepEqual(snapshotRows([]), []);
  assert.deepEqual(snapshotRows(null), []);
});
