import type { Diagnostic } from '../render/types.js';

export interface FrontMatterResult {
  /** null when the file does not start with a `---` fence. */
  data: Record<string, string> | null;
  /** Lines consumed by the front matter including both fences (0 when absent). */
  lineCount: number;
  diagnostics: Diagnostic[];
}

/**
 * Jekyll front matter, the subset issue files use: `key: value` lines between `---` fences.
 * Tolerant on purpose (the corpus has blank lines inside and a mistyped date): anything it
 * cannot read becomes a warning with its line, never an exception.
 */
export function parseFrontMatter(lines: string[], file: string): FrontMatterResult {
  const diagnostics: Diagnostic[] = [];
  if (lines[0]?.trimEnd() !== '---') return { data: null, lineCount: 0, diagnostics };
  const data: Record<string, string> = {};
  for (let i = 1; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const line = raw.trimEnd();
    if (line === '---' || line === '...') return { data, lineCount: i + 1, diagnostics };
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const m = /^([A-Za-z_][\w-]*)\s*:\s?(.*)$/.exec(line);
    if (!m) {
      diagnostics.push({ severity: 'warning', file, line: i + 1, message: `front matter line not understood, ignored: ${line.slice(0, 60)}` });
      continue;
    }
    data[m[1] as string] = unquote((m[2] ?? '').trim());
  }
  diagnostics.push({ severity: 'error', file, line: 1, message: 'front matter is not closed (no second `---` line)' });
  return { data: null, lineCount: 0, diagnostics };
}

function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) {
    try {
      return JSON.parse(v) as string;
    } catch {
      return v.slice(1, -1);
    }
  }
  if (v.length >= 2 && v.startsWith("'") && v.endsWith("'")) return v.slice(1, -1).replace(/''/g, "'");
  return v;
}

/**
 * Jekyll dates: `YYYY-MM-DD[ HH:MM[:SS]][ ±HHMM]`. Returns an ISO timestamp or null when the
 * value does not read as a date (e.g. `2024-04-17 14:4g5:00 -0000` in the corpus).
 */
export function parseJekyllDate(value: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', zone] = m;
  let offset = 'Z';
  if (zone && zone !== 'Z') offset = zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const date = new Date(`${y}-${mo}-${d}T${h.padStart(2, '0')}:${mi}:${s}${offset}`);
  if (Number.isNaN(date.getTime())) return null;
  // Reject dates that JS silently rolls over (2024-02-31).
  if (!zone || zone === 'Z' || /^[+-]00:?00$/.test(zone)) {
    if (date.getUTCMonth() + 1 !== Number(mo) || date.getUTCDate() !== Number(d)) return null;
  }
  return date.toISOString();
}
