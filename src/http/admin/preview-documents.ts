/**
 * Workspace preview documents in Redis: the HTML a reader would get, which the sandboxed
 * preview iframes load as a document of its own (with its own CSP forbidding scripts)
 * rather than as srcdoc inheriting the dashboard's. One document per session and page
 * (`slot`: a random id the workspace page makes when it loads), overwritten by every
 * preview of that page, so typing for an hour keeps one document in Redis, not thousands.
 * The key is derived from the session's secret CSRF token and the slot (hashed): only the
 * session that made a preview can load it; every server of a fleet can serve it.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKeys } from '../../queue/redis-keys.js';

/** What the page sends as its slot: 16–64 URL-safe characters. */
export const SLOT_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

export class PreviewDocuments {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly ttlSeconds = 600,
  ) {}

  private key(owner: string, slot: string): string {
    return redisKeys(this.prefix).previewDocument(createHash('sha256').update(`${owner}\n${slot}`).digest('hex'));
  }

  /** `owner`: a secret of the session (its CSRF token). */
  async put(owner: string, slot: string, html: string): Promise<void> {
    if (!SLOT_PATTERN.test(slot)) throw new TypeError('invalid preview slot');
    await this.redis.set(this.key(owner, slot), html, 'EX', this.ttlSeconds);
  }

  async get(owner: string, slot: string): Promise<string | null> {
    if (!SLOT_PATTERN.test(slot)) return null;
    return this.redis.get(this.key(owner, slot));
  }
}

/**
 * The preview document's policy: no script at all (`sandbox` without allow-scripts, and no
 * script source), no forms, no plugins; images and fonts from anywhere (as a mail client
 * loads them); framed only by the dashboard itself.
 */
export const PREVIEW_CSP = "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; font-src https: data:; sandbox; frame-ancestors 'self'; base-uri 'none'; form-action 'none'";
