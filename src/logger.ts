import { pino, type Logger } from 'pino';

export type { Logger };

/** One pino logger per process; JSON on stderr so CLI stdout stays clean for data. */
export function createLogger(level: string, name = 'newsletter'): Logger {
  return pino({ name, level }, pino.destination(2));
}
