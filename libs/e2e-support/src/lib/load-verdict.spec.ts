import type { LoadRun, RequestRecord } from './load-generator';
import { judgeLoad } from './load-verdict';

const record = (index: number, outcome: Partial<RequestRecord>): RequestRecord => ({
  index, label: 'GET /', client: 0, overflow: false, newConnection: false, scheduledMs: index * 10, startMs: index * 10, endMs: index * 10 + 1, ...outcome,
});
const run = (records: RequestRecord[]): LoadRun => ({
  t0Epoch: 1_000_000, ratePerSec: 100, scheduled: records.length, records, clientsCreated: 1, overflowPicks: 0, exhaustedPicks: 0, connectionsOpened: 1, duplicateOutcomes: 0,
});

describe('judgeLoad', () => {
  it('excuses resets on the connections of a killed process only, and refusals only once the service was stopped on purpose', () => {
    const records = [
      record(0, { status: 200, localPort: 5000 }),
      record(1, { error: 'ECONNRESET', localPort: 5001 }), // the killed process's connection
      record(2, { error: 'ECONNRESET', localPort: 5002 }), // a survivor's connection
      record(3, { error: 'ECONNREFUSED' }), // before the stop
      record(4, { status: 503, localPort: 5000 }),
      record(50, { error: 'ECONNREFUSED' }), // after the stop
      record(51, { error: 'ECONNRESET', newConnection: true, localPort: 5003 }), // queued when the last holder died
    ];
    const verdict = judgeLoad(run(records), { ports: new Set([5001]), refusalsFrom: 1_000_000 + 400 });
    expect(verdict).toMatchObject({ requests: 7, failed: 6, excused: 3 });
    expect(verdict.violations.map((r) => r.index)).toEqual([2, 3, 4]);
  });
});
