/**
 * A campaign's activity log, pure: who may appear in it (an actor) and which actions it
 * records. The orchestrator writes an entry in the same transaction as each change it
 * makes (src/store/campaign-activity-repository.ts); the API, the dashboard and the CLI
 * read the entries back.
 *
 * Actors: an API token (its name and role, from the API or a dashboard session), `cli`
 * (a command run on a machine with the database), `system` (the scheduler sweep, the
 * reputation breaker, the quota and account checks, the completion check).
 */
import type { TokenRole } from '../store/schema.js';

export type ActorRole = TokenRole | 'cli' | 'system';

export interface Actor {
  name: string;
  role: ActorRole;
}

export const CLI_ACTOR: Actor = Object.freeze({ name: 'cli', role: 'cli' });
export const SYSTEM_ACTOR: Actor = Object.freeze({ name: 'system', role: 'system' });

/** The actor for a token's principal (API or dashboard session). */
export function tokenActor(principal: { name: string; role: TokenRole }): Actor {
  return { name: principal.name, role: principal.role };
}

export const ACTIVITY_ACTIONS = [
  'created',
  'edited',
  'tested',
  'scheduled',
  'unscheduled',
  'started',
  'paused',
  'resumed',
  'cancelled',
  'finished',
  'schedule-missed',
  // Canary wave (canary-wave.ts): the wave was chosen and written; it is out and the rest
  // waits until the persisted deadline; the rest was released.
  'canary-wave',
  'canary-waiting',
  'canary-released',
] as const;
export type ActivityAction = (typeof ACTIVITY_ACTIONS)[number];

export interface ActivityEntry {
  action: ActivityAction;
  actor: Actor;
  detail: string | null;
  /** Epoch ms. */
  at: number;
}

/** One line for people (CLI, dashboard): "2026-11-28 14:03:09 UTC  scheduled  by ci (editor)  for 2026-12-01T09:00:00.000Z". */
export function describeActivity(e: ActivityEntry): string {
  const when = new Date(e.at).toISOString().replace('T', ' ').slice(0, 19);
  const who = e.actor.role === e.actor.name ? e.actor.name : `${e.actor.name} (${e.actor.role})`;
  return `${when} UTC  ${e.action}  by ${who}${e.detail ? `  ${e.detail}` : ''}`;
}
