// Preloaded into a server under test by `dist/idle-memory.js` (`node --require`): on SIGUSR2 it
// writes `$PROBE_DIR/<pid>-<n>.json` with process.memoryUsage(), the heap spaces, the active
// resources by kind and the GCs since the previous dump by kind (forced ones left out), then
// forces a GC and adds the memory after it. With PROBE_HEAP_PROFILE=1 the second dump starts a
// sampling heap profile and the third writes it to `$PROBE_DIR/<pid>.heapprofile`.
'use strict';
const v8 = require('node:v8');
const vm = require('node:vm');
const fs = require('node:fs');
const path = require('node:path');
const inspector = require('node:inspector');
const { PerformanceObserver, performance } = require('node:perf_hooks');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const dir = process.env.PROBE_DIR;
let gcs = [];
let forcedUntil = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries())
    if (e.startTime > forcedUntil)
      gcs.push({ kind: e.detail ? e.detail.kind : e.kind, ms: e.duration });
}).observe({ entryTypes: ['gc'] });

let dumps = 0;
let session;
process.on('SIGUSR2', () => {
  const n = dumps++;
  const mem = process.memoryUsage();
  const spaces = Object.fromEntries(
    v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]),
  );
  const resources = {};
  for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] || 0) + 1;
  const gcByKind = {};
  for (const e of gcs) {
    const k = (gcByKind[e.kind] ??= { count: 0, ms: 0, maxMs: 0 });
    k.count++;
    k.ms += e.ms;
    k.maxMs = Math.max(k.maxMs, e.ms);
  }
  gcs = [];
  const finish = () => {
    gc();
    gc();
    const afterGc = process.memoryUsage();
    forcedUntil = performance.now();
    fs.writeFileSync(
      path.join(dir, `${process.pid}-${n}.json`),
      JSON.stringify({ mem, afterGc, spaces, resources, gcByKind }),
    );
  };
  if (process.env.PROBE_HEAP_PROFILE === '1' && n === 2) {
    session.post('HeapProfiler.stopSampling', (error, result) => {
      if (!error)
        fs.writeFileSync(
          path.join(dir, `${process.pid}.heapprofile`),
          JSON.stringify(result.profile),
        );
      finish();
    });
    return;
  }
  finish();
  if (process.env.PROBE_HEAP_PROFILE === '1' && n === 1) {
    session = new inspector.Session();
    session.connect();
    session.post('HeapProfiler.enable', () =>
      session.post('HeapProfiler.startSampling', { samplingInterval: 4096 }),
    );
  }
});
