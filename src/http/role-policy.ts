/**
 * Who may do what, pure: the one table the API (each route's `config.permission`) and the
 * dashboard (its routes, the buttons and links it shows) both read. A permission names an
 * action; its value is the least role that may take it (roles are ranked in auth.ts).
 *
 * Editors read campaigns, stats and subscribers, and create, test, schedule/send and pause
 * campaigns (stopping is always safe). Resuming (a campaign may have been paused by the
 * reputation breaker), cancelling, erasing a subscriber, the token list and bull-board are
 * for admins.
 */
import { roleAllows, type Role } from './auth.js';

const LEAST_ROLE = {
  'campaigns.read': 'editor',
  'campaigns.create': 'editor',
  'campaigns.test': 'editor',
  'campaigns.send': 'editor',
  'campaigns.pause': 'editor',
  'campaigns.resume': 'admin',
  'campaigns.cancel': 'admin',
  'subscribers.read': 'editor',
  'subscribers.write': 'editor',
  'subscribers.erase': 'admin',
  'tokens.list': 'admin',
  'queues.board': 'admin',
  /** The dashboard's pages and the API reference. */
  'dashboard.view': 'editor',
} as const satisfies Record<string, Role>;

export type Permission = keyof typeof LEAST_ROLE;

export const PERMISSIONS = Object.keys(LEAST_ROLE) as Permission[];

export function leastRole(permission: Permission): Role {
  return LEAST_ROLE[permission];
}

export function may(role: Role, permission: Permission): boolean {
  return roleAllows(role, LEAST_ROLE[permission]);
}

/** The permission a dashboard campaign button needs (calling off a schedule is part of sending). */
export function campaignActionPermission(action: 'send' | 'unschedule' | 'pause' | 'resume' | 'cancel'): Permission {
  return action === 'unschedule' ? 'campaigns.send' : `campaigns.${action}`;
}
