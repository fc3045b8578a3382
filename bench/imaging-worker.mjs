// Worker thread of bench/main-job.bench.ts's baseline: the main job's analysis on movies sent
// by message, with no DataJoint at all (plain worker_threads), to measure how well the
// analysis itself scales over threads on this machine at this moment.
import { parentPort } from 'node:worker_threads';

const { register } = await import('tsx/esm/api');
register();
const { correctMotion, summaryImages } = await import('../examples/imaging/register.ts');
const { detectCells } = await import('../examples/imaging/segment.ts');
const { extractTraces } = await import('../examples/imaging/traces.ts');

parentPort.on('message', ({ movies, maxShift, params, fps }) => {
  for (const m of movies) {
    const shifts = correctMotion(m, maxShift);
    const img = summaryImages(m, shifts);
    const rois = detectCells(img.corr, m.height, m.width, params);
    extractTraces(m, shifts, rois.map((r) => r.mask), fps);
  }
  parentPort.postMessage('done');
});
parentPort.postMessage('ready');
