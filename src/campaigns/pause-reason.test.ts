import { describe, expect, it } from 'vitest';
import { describePause, isPauseCode, PAUSE_CODES } from './pause-reason.js';

describe('pause reasons', () => {
  it('derives the text people read from the code, with the note after it', () => {
    expect(describePause(null)).toBeNull();
    expect(describePause('editor')).toBe('paused by an editor');
    expect(describePause('breaker', 'bounce rate 6.00% (6/100) reached the limit 5.00%')).toBe(
      'reputation breaker: bounce rate 6.00% (6/100) reached the limit 5.00%',
    );
    for (const code of PAUSE_CODES) expect(describePause(code)).not.toBe(code);
  });

  it('recognises only the closed set of codes', () => {
    expect(isPauseCode('quota')).toBe(true);
    expect(isPauseCode('paused by editor')).toBe(false);
    expect(isPauseCode(undefined)).toBe(false);
  });
});
