/** Whether `url` names a TypeScript module (.ts .mts .cts .tsx). */
export function isTypeScript(url: string): boolean;
/**
 * Import `url` (a file URL or a package specifier), registering tsx first for TypeScript;
 * `preload` (a JavaScript module URL the TypeScript module imports) is imported before that.
 */
export function loadModule(url: string, preload?: string): Promise<Record<string, unknown>>;
