/**
 * Was an open or a click a person, a machine, or can we not tell? One pure decision,
 * `classifyEngagement(input, config)`, for every Open and Click SES reports; the event
 * writer stores its answer on the event row, and every human/machine figure (stats,
 * dashboard, `subscribers inactive`) is counted from that one column.
 *
 * Rules, first match wins (the reason names the rule):
 *  1. `ses-automated`  the event itself says it was automated (an `automated`/`isAutomated`
 *                      flag on SES's open/click object; the published SES schema has none
 *                      today, so this only acts if SES adds one);
 *  2. `trap-link`      a click on the hidden footer link no person can see (TRAP_LINK_PATH
 *                      under PUBLIC_URL);
 *  3. `scanner-agent`  a user agent of a known scanner, security gateway or HTTP library;
 *  4. `apple-mpp`      an open fetched by Apple Mail Privacy Protection: its proxy sends the
 *                      bare user agent `Mozilla/5.0` from Apple's address space (17.0.0.0/8,
 *                      2620:149::/32, 2a01:b740::/32), whether or not the reader ever looks;
 *  5. `before-read`    a click within SCANNER_CLICK_WINDOW_S of delivery (or of SES accepting
 *                      the message when the Delivery is not known yet): link scanners at the
 *                      receiving gateway follow every link as the message arrives;
 *  6. `link-burst`     this click and clicks on other links of the same message within one
 *                      second: ≥ 3 distinct links, or one of them the trap link;
 *  7. `no-agent`       a click without a user agent (every browser sends one);
 *  8. `mail-client`    an open or click with a browser or mail client user agent (incl. the
 *                      Gmail and Yahoo image proxies, which fetch when the reader opens) → human;
 *  9. otherwise unknown (an open without a user agent, an agent we do not recognise).
 */
export const ENGAGEMENT_CLASSES = ['human', 'machine', 'unknown'] as const;
export type EngagementClass = (typeof ENGAGEMENT_CLASSES)[number];

export type EngagementReason =
  | 'ses-automated'
  | 'trap-link'
  | 'scanner-agent'
  | 'apple-mpp'
  | 'before-read'
  | 'link-burst'
  | 'no-agent'
  | 'mail-client'
  | 'unrecognised';

export interface EngagementInput {
  type: 'open' | 'click';
  userAgent: string | null;
  ipAddress: string | null;
  /** The clicked link (the original URL; SES reports it, not its tracking redirect). */
  link: string | null;
  /** SES's own automated-interaction flag when the event carries one. */
  sesAutomated: boolean;
  /** When the open/click happened (ms). */
  at: number;
  /** When the message was delivered, else when SES accepted it (ms); null when unknown. */
  deliveredAt: number | null;
  /** Other clicks of the same message already stored (link, time). */
  otherClicks: ReadonlyArray<{ link: string | null; at: number }>;
}

export interface EngagementConfig {
  /** Links that are the hidden trap (a click starting with one of these). */
  trapLinks: readonly string[];
  /** SCANNER_CLICK_WINDOW_S in ms. */
  scannerClickWindowMs: number;
}

export interface EngagementDecision {
  class: EngagementClass;
  reason: EngagementReason;
  /** The burst rule fired: the other clicks of the message within the window are machine too. */
  burst: boolean;
}

/** The path of the hidden trap link under PUBLIC_URL (the page it opens says so). */
export const TRAP_LINK_PATH = '/r/footer';

/** The trap link for a PUBLIC_URL. */
export function trapLinkFor(publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${TRAP_LINK_PATH}`;
}

export const BURST_WINDOW_MS = 1000;
export const BURST_DISTINCT_LINKS = 3;

const SCANNER_AGENT =
  /(?:bot|crawler|spider)\b|\b(?:python-requests|python-urllib|aiohttp|curl|wget|go-http-client|java|okhttp|apache-httpclient|libwww-perl|node-fetch|axios|undici|scrapy|headlesschrome|phantomjs|barracuda|mimecast|proofpoint|symantec|trendmicro|sophos|forcepoint|fireeye|zscaler|ironport|safelinks|urldefense|virustotal|urlscan|linkexpander|facebookexternalhit|slackbot|microsoft office existence discovery|ms-office|skypeuripreview)\b/i;
const MAIL_PROXY = /GoogleImageProxy|YahooMailProxy/;
const MAIL_CLIENT = /^Mozilla\/5\.0 \(|Thunderbird|Outlook|Microsoft Office|Apple-Mail|iPhone|Android/;
const APPLE_PROXY_AGENT = 'Mozilla/5.0';

/** Apple's address space (where Mail Privacy Protection fetches from). */
export function isAppleAddress(ip: string | null): boolean {
  if (!ip) return false;
  const v = ip.trim().toLowerCase();
  if (/^17\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v)) return true;
  return v.startsWith('2620:149:') || v.startsWith('2a01:b740:');
}

function isTrap(link: string | null, config: EngagementConfig): boolean {
  if (!link) return false;
  return config.trapLinks.some((t) => link === t || link.startsWith(`${t}?`) || link.startsWith(`${t}/`) || link.startsWith(`${t}#`));
}

const decision = (cls: EngagementClass, reason: EngagementReason, burst = false): EngagementDecision => ({ class: cls, reason, burst });

export function classifyEngagement(input: EngagementInput, config: EngagementConfig): EngagementDecision {
  const agent = input.userAgent?.trim() ?? '';
  if (input.sesAutomated) return decision('machine', 'ses-automated');
  if (input.type === 'click' && isTrap(input.link, config)) return decision('machine', 'trap-link', true);
  if (agent && SCANNER_AGENT.test(agent)) return decision('machine', 'scanner-agent');
  if (input.type === 'open' && (agent === APPLE_PROXY_AGENT || isAppleAddress(input.ipAddress))) return decision('machine', 'apple-mpp');
  if (input.type === 'click') {
    if (input.deliveredAt !== null && input.at - input.deliveredAt < config.scannerClickWindowMs) return decision('machine', 'before-read');
    const near = input.otherClicks.filter((c) => Math.abs(c.at - input.at) <= BURST_WINDOW_MS);
    const links = new Set([input.link ?? '', ...near.map((c) => c.link ?? '')]);
    if (near.some((c) => isTrap(c.link, config)) || links.size >= BURST_DISTINCT_LINKS) return decision('machine', 'link-burst', true);
    if (!agent) return decision('machine', 'no-agent');
  }
  if (agent && (MAIL_PROXY.test(agent) || MAIL_CLIENT.test(agent))) return decision('human', 'mail-client');
  return decision('unknown', 'unrecognised');
}
