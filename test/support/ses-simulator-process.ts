/** `newsletter ses-simulator` as a child process, started from the CLI source (tests and benches). */
import { spawn, type ChildProcess } from 'node:child_process';

export interface SimulatorProcess {
  child: ChildProcess;
  /** The endpoint it printed (SES_ENDPOINT=…). */
  url: string;
  /** Everything it has printed on stdout so far. */
  output(): string;
}

/** Start it with `args` (after `ses-simulator`) and wait for the endpoint line. */
export async function startSimulatorProcess(args: string[], stderr: 'pipe' | 'inherit' = 'pipe'): Promise<SimulatorProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'ses-simulator', ...args], { stdio: ['ignore', 'pipe', stderr] });
  let out = '';
  child.stdout!.setEncoding('utf8');
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (c: string) => {
      out += c;
      const m = /SES_ENDPOINT=(\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`simulator exited ${code}: ${out}`)));
  });
  return { child, url, output: () => out };
}
