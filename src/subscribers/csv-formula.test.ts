import { describe, expect, it } from 'vitest';
import { neutraliseFormula, restoreFormula } from './csv-formula.js';

describe('CSV formula neutralising', () => {
  it('prefixes cells that start with = + - @, tab or CR with a quote', () => {
    expect(neutraliseFormula('=cmd|calc@example.com')).toBe("'=cmd|calc@example.com");
    expect(neutraliseFormula('=HYPERLINK("http://evil.example","x")')).toBe('\'=HYPERLINK("http://evil.example","x")');
    expect(neutraliseFormula('+1')).toBe("'+1");
    expect(neutraliseFormula('-5')).toBe("'-5");
    expect(neutraliseFormula('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(neutraliseFormula('\t=1')).toBe("'\t=1");
    expect(neutraliseFormula('\r=1')).toBe("'\r=1");
  });

  it('leaves every other cell alone, including one that begins with a quote', () => {
    for (const v of ['', 'Ada', 'a=b', 'x-1', "'hello", "O'Brien", ' =1', '1+1']) expect(neutraliseFormula(v)).toBe(v);
  });

  it('import strips exactly the prefix export adds', () => {
    expect(restoreFormula("'=1")).toBe('=1');
    expect(restoreFormula("''=1")).toBe("'=1");
    expect(restoreFormula("'hello")).toBe("'hello");
    expect(restoreFormula("'")).toBe("'");
    expect(restoreFormula("''")).toBe("''");
    expect(restoreFormula('=1')).toBe('=1');
  });

  it('round-trips every value, whatever quotes it begins with', () => {
    const values = ['=1', "'=1", "''=1", "'", "''", "'a", 'plain', '-', "'-", '@', '\t', "'\r", '', "'''@x"];
    for (const v of values) expect(restoreFormula(neutraliseFormula(v)), JSON.stringify(v)).toBe(v);
  });
});
