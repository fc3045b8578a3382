/** Whether `url` names a TypeScript module (.ts .mts .cts .tsx). */
export function isTypeScript(url: string): boolean;
/** Import `url` (a file URL or a package specifier), registering tsx first for TypeScript. */
export function loadModule(url: string): Promise<Record<string, unknown>>;
