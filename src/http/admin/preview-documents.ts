/**
 * Workspace preview documents in Redis: the HTML a reader would get, kept a few minutes
 * under a random id so the sandboxed preview iframes can load it as a document of its own
 * (with its own CSP forbidding scripts) rather than as srcdoc inheriting the dashboard's.
 * Redis holds only the id's sha256, as for sessions; every server of a fleet can serve it.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKeys } from '../../queue/redis-keys.js';
import { randomToken } from './sessions.js';

const ID_PATTERN = /^[A-Za-z0-9_-]{32}$/;

export class PreviewDocuments {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly ttlSeconds = 600,
  ) {}

  private key(id: string): string {
    return redisKeys(this.prefix).previewDocument(createHash('sha256').update(id).digest('hex'));
  }

  async put(html: string): Promise<string> {
    const id = randomToken(24);
    await this.redis.set(this.key(id), html, 'EX', this.ttlSeconds);
    return id;
  }

  async get(id: string): Promise<string | null> {
    if (!ID_PATTERN.test(id)) return null;
    return this.redis.get(this.key(id));
  }
}

/**
 * The preview document's policy: no script at all (`sandbox` without allow-scripts, and no
 * script source), no forms, no plugins; images and fonts from anywhere (as a mail client
 * loads them); framed only by the dashboard itself.
 */
export const PREVIEW_CSP = "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; font-src https: data:; sandbox; frame-ancestors 'self'; base-uri 'none'; form-action 'none'";
