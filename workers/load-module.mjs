// Loads a table module: in populate's worker threads (populate-worker.mjs) and in the
// `dj populate` command. Plain JS with no import of datajoint itself, like the worker entry.
// A TypeScript module needs tsx's loader registered in the thread that imports it (loader
// hooks do not cross threads), so it is registered here, once per thread, and only when a
// TypeScript module is loaded: JavaScript modules never need tsx.

let tsLoader = null;

/** Whether `url` names a TypeScript module (.ts .mts .cts .tsx). */
export function isTypeScript(url) {
  return /\.(m|c)?tsx?$/.test(url);
}

/** Import `url` (a file URL or a package specifier), registering tsx first for TypeScript. */
export function loadModule(url) {
  if (!isTypeScript(url)) return import(url);
  tsLoader ??= import('tsx/esm/api').then(
    (m) => m.register(),
    () => {
      tsLoader = null;
      throw new Error(`The table module ${url} is TypeScript: install tsx (npm i -D tsx) so it can be loaded, or point at compiled JavaScript`);
    },
  );
  return tsLoader.then(() => import(url));
}
