import { createLogger } from './logger';

const at = () => new Date('2026-01-01T00:00:00Z');

describe('createLogger', () => {
  it('writes one human-readable line with key=value fields, quoting what needs it', () => {
    const lines: string[] = [];
    createLogger('text', 'info', (l) => lines.push(l), at).info('phase draining', { reason: 'received SIGTERM', inFlight: 2 });
    expect(lines).toEqual(['2026-01-01T00:00:00.000Z INFO  phase draining reason="received SIGTERM" inFlight=2']);
  });

  it('writes JSON lines with LOG_FORMAT=json', () => {
    const lines: string[] = [];
    createLogger('json', 'info', (l) => lines.push(l), at).warn('cut off POST /qc/check', { ageMs: 20000 });
    expect(JSON.parse(lines[0])).toEqual({ time: '2026-01-01T00:00:00.000Z', level: 'warn', msg: 'cut off POST /qc/check', pid: process.pid, ageMs: 20000 });
  });

  it('drops lines below the configured level', () => {
    const lines: string[] = [];
    const logger = createLogger('text', 'warn', (l) => lines.push(l), at);
    logger.debug('noise');
    logger.info('noise');
    logger.error('kept');
    expect(lines).toHaveLength(1);
  });
});
