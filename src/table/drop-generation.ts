/**
 * A count of the drops (tables or whole schemas) seen by this thread, so that state cached on
 * the assumption that a table exists can tell it may be gone: the jobs tables (`~~name`) of
 * populate remember that they were declared, and a schema dropped with them would otherwise
 * leave them "declared" for good. This module sits below both schema/ and populate/, so the
 * schema side says that it dropped something without knowing who cares (no import of populate).
 *
 * Worker threads have their own copy of this module; the main thread's count travels with each
 * task, and a thread that sees it change counts a drop of its own (drops made on another thread).
 */
let generation = 0;
/** The main thread's count as last seen by this (worker) thread. */
let seenElsewhere = 0;

/** How many drops this thread has seen: a value cached under another count may be stale. */
export const dropGeneration = (): number => generation;

/** Tables or schemas were dropped: what was cached about any table is to be checked again. */
export function noteDrop(): void {
  generation++;
}

/** A worker thread: the count `other` of the thread it works for; a change means drops there. */
export function noteDropsElsewhere(other: number): void {
  if (other === seenElsewhere) return;
  seenElsewhere = other;
  generation++;
}
