/** Types of bin/compiled.js (plain JS: the package bin runs before any TypeScript loader). */
export function currentCompiled(relative: string, root?: string): string | null;
export function copyAssets(root?: string): void;
