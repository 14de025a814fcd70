import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { InputError } from '../errors.js';

function num(name: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new InputError(`--${name} must be a number ≥ ${min}`, value);
  return n;
}

export function registerSesSimulator(program: Command): void {
  program
    .command('ses-simulator')
    .description('run the strict local SES simulator (SES v1 Query API) for tests, benches and demos')
    .option('--port <port>', 'port to listen on (0 = any free port)', '0')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--rate <perSecond>', 'max send rate (recipients per sliding second)', '14')
    .option('--quota <per24h>', 'max recipients per 24 hours', '50000')
    .option('--latency <ms>', 'delay before every answer')
    .option('--notify-url <url>', 'POST SNS-signed SES notifications here (mailbox simulator addresses, Send events)')
    .option('--topic-arn <arn>', 'TopicArn on the notifications')
    .option('--format <format>', 'notification format: event | identity', 'event')
    .option('--no-send-events', 'do not publish a Send event per accepted message')
    .option('--deliver-all', 'publish Delivery for every recipient, not only simulator addresses')
    .option('--certs-out <file>', 'write {certUrl: pem} of the signing certificate here (for SNS_CERTS)')
    .action(
      async (opts: {
        port: string;
        host: string;
        rate: string;
        quota: string;
        latency?: string;
        notifyUrl?: string;
        topicArn?: string;
        format: string;
        sendEvents: boolean;
        deliverAll?: boolean;
        certsOut?: string;
      }) => {
        if (opts.format !== 'event' && opts.format !== 'identity') throw new InputError('--format must be event or identity', opts.format);
        if (opts.notifyUrl !== undefined && !/^https?:\/\//.test(opts.notifyUrl)) throw new InputError('--notify-url must be an http(s) URL', opts.notifyUrl);
        const { startSesSimulator } = await import('../simulator/ses-simulator.js');
        const sim = await startSesSimulator({
          port: num('port', opts.port),
          host: opts.host,
          maxSendRate: num('rate', opts.rate, 0),
          max24HourSend: num('quota', opts.quota, 0),
          latencyMs: num('latency', opts.latency),
          notifyUrl: opts.notifyUrl,
          topicArn: opts.topicArn,
          notificationFormat: opts.format,
          sendEvents: opts.sendEvents,
          deliverAll: opts.deliverAll ?? false,
          // A long-running process must not keep every raw message in memory.
          keepRaw: false,
        });
        if (opts.certsOut) {
          // Notifications may be turned on later only in-process; from the CLI a cert exists iff --notify-url.
          await writeFile(opts.certsOut, JSON.stringify(sim.certs(), null, 2));
        }
        console.log(`SES simulator listening on ${sim.url} (rate ${opts.rate}/s, quota ${opts.quota}/24h)`);
        console.log(`SES_ENDPOINT=${sim.url}`);
        console.log(`stats: GET ${sim.url}/_simulator/stats`);
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        const s = sim.stats();
        await sim.close();
        console.log(`accepted ${s.accepted} messages, throttled ${s.throttledRate + s.throttledQuota}, worst second ${s.worstSecond}`);
      },
    );
}
