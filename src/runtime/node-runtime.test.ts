import { describe, expect, it } from 'vitest';
import { MIN_NODE_MAJOR, nodeMajor, unsupportedNodeMessage } from './node-runtime.js';

describe('supported Node runtime', () => {
  it('refuses majors older than 22 with a message that says how to get 24', () => {
    const msg = unsupportedNodeMessage('v20.20.2');
    expect(msg).toContain('Node.js v20.20.2 is not supported');
    expect(msg).toContain('npm ci');
    expect(unsupportedNodeMessage('v21.7.3')).not.toBeNull();
  });

  it('accepts 22 and 24', () => {
    expect(unsupportedNodeMessage('v22.23.0')).toBeNull();
    expect(unsupportedNodeMessage('v24.22.3')).toBeNull();
    expect(MIN_NODE_MAJOR).toBe(22);
  });

  it('reads the major of process.version strings and rejects anything else', () => {
    expect(nodeMajor('v24.22.3')).toBe(24);
    expect(nodeMajor('22.1.0')).toBe(22);
    expect(() => nodeMajor('latest')).toThrow(/not a Node.js version/);
  });
});
