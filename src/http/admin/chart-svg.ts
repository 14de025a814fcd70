/**
 * Inline SVG line chart of cumulative sends, deliveries and bounces over time. Pure: a
 * series in, markup out (no scripts, no CDN). Numbers only reach the markup, never text
 * from subscribers.
 */
import { html, type SafeHtml } from '../../html/html.js';

export interface SeriesPoint {
  /** Milliseconds since the campaign started (bucket end). */
  t: number;
  sent: number;
  delivered: number;
  bounced: number;
}

const LINES = [
  { key: 'sent', label: 'sent', color: '#2563eb' },
  { key: 'delivered', label: 'delivered', color: '#16a34a' },
  { key: 'bounced', label: 'bounced', color: '#dc2626' },
] as const;

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  return m < 120 ? `${m}m` : `${Math.round(m / 60)}h`;
}

export function renderChartSvg(points: SeriesPoint[], options: { width?: number; height?: number } = {}): SafeHtml {
  const width = options.width ?? 640;
  const height = options.height ?? 220;
  const pad = { left: 48, right: 12, top: 12, bottom: 36 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const all = [{ t: 0, sent: 0, delivered: 0, bounced: 0 }, ...points];
  const maxT = Math.max(1000, ...all.map((p) => p.t));
  const maxY = Math.max(1, ...all.map((p) => Math.max(p.sent, p.delivered, p.bounced)));
  const x = (t: number) => (pad.left + (t / maxT) * w).toFixed(1);
  const y = (v: number) => (pad.top + h - (v / maxY) * h).toFixed(1);

  const lines = LINES.map(
    (l) => html`<polyline class="line-${l.key}" fill="none" stroke="${l.color}" stroke-width="2" points="${all.map((p) => `${x(p.t)},${y(p[l.key])}`).join(' ')}"/>`,
  );
  const legend = LINES.map(
    (l, i) =>
      html`<g transform="translate(${pad.left + 8 + i * 100},${height - 10})"><rect width="10" height="10" y="-9" fill="${l.color}"/><text x="14" font-size="11">${l.label}</text></g>`,
  );
  return html`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="sends, deliveries and bounces over time">
<rect x="${pad.left}" y="${pad.top}" width="${w}" height="${h}" fill="#f8fafc" stroke="#cbd5e1"/>
<text x="${pad.left - 4}" y="${pad.top + 10}" font-size="11" text-anchor="end">${maxY}</text>
<text x="${pad.left - 4}" y="${pad.top + h}" font-size="11" text-anchor="end">0</text>
<text x="${pad.left}" y="${pad.top + h + 14}" font-size="11">0s</text>
<text x="${pad.left + w}" y="${pad.top + h + 14}" font-size="11" text-anchor="end">${formatDuration(maxT)}</text>
${lines}${legend}</svg>`;
}
