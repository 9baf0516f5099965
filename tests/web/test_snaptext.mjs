// test_snaptext.mjs - web/src/snaptext.js (a domain's snapshots from QEMU's listing) under
// node's test runner. The page's modules are ES modules in a package without "type": the
// file is imported from a copy named .mjs.
//   node tests/web/test_snaptext.mjs WEB_SRC_DIR
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'kxl-snaptext-'));
copyFileSync(join(process.argv[2], 'snaptext.js'), join(dir, 'snaptext.mjs'));
const { parseSnapshots } = await import(join(dir, 'snaptext.mjs'));
rmSync(dir, { recursive: true });

// QEMU 7.2's "info snapshots", as kxl snapshot-list prints it (CRLF from the monitor)
const listing = 'List of snapshots present on all disks:\r\n'
  + 'ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT\r\n'
  + '--        ui-snap            69.5 MiB 2026-12-07 00:16:11 00:00:21.417           \r\n'
  + '--        before.upgrade_2      0 B 2026-12-07 00:17:02 00:01:02.003\r\n'
  + '\r\n'
  + "List of partial (non-loadable) snapshots on 'xvda':\r\n"
  + 'ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT\r\n'
  + '1         old                   0 B 2026-12-06 23:00:00 00:00:01.000\r\n';

test('snapshots on every disk, then partial ones', () => {
  assert.deepEqual(parseSnapshots(listing), [
    { name: 'ui-snap', size: '69.5 MiB', date: '2026-12-07 00:16:11', clock: '00:00:21.417', partial: false },
    { name: 'before.upgrade_2', size: '0 B', date: '2026-12-07 00:17:02', clock: '00:01:02.003', partial: false },
    { name: 'old', size: '0 B', date: '2026-12-06 23:00:00', clock: '00:00:01.000', partial: true },
  ]);
});

test('no snapshot', () => {
  assert.deepEqual(parseSnapshots('There is no snapshot available.\n'), []);
  assert.deepEqual(parseSnapshots(''), []);
  assert.deepEqual(parseSnapshots(null), []);
  assert.deepEqual(parseSnapshots('List of snapshots present on all disks:\nID        TAG  VM SIZE DATE VM CLOCK ICOUNT\n'), []);
});

test('a line it cannot read in full still names the snapshot', () => {
  const [s] = parseSnapshots('ID TAG VM SIZE DATE\n--  odd  something else\n');
  assert.equal(s.name, 'odd');
  assert.equal(s.date, '');
});
