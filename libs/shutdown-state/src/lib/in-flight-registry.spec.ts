import { InFlightRegistry } from './in-flight-registry';

describe('InFlightRegistry', () => {
  let clock = 0;
  const registry = () => new InFlightRegistry(() => clock);
  beforeEach(() => (clock = 1_000));

  it('counts work per route and reports the age of the oldest', () => {
    const r = registry();
    r.begin('POST', '/qc/check');
    clock += 300;
    r.begin('POST', '/qc/check');
    r.begin('GET', '/qc-stats');
    clock += 200;
    expect(r.snapshot()).toEqual({ count: 3, oldestInFlightMs: 500, byRoute: { 'POST /qc/check': 2, 'GET /qc-stats': 1 } });
  });

  it('reports zero age when nothing is in flight', () => {
    expect(registry().snapshot()).toEqual({ count: 0, oldestInFlightMs: 0, byRoute: {} });
  });

  it('tells idle listeners each time the count drops to zero, and only then', () => {
    const r = registry();
    const idle = jest.fn();
    r.onIdle(idle);
    const a = r.begin('GET', '/a');
    const b = r.begin('GET', '/b');
    a();
    expect(idle).not.toHaveBeenCalled();
    b();
    expect(idle).toHaveBeenCalledTimes(1);
    r.begin('GET', '/c')();
    expect(idle).toHaveBeenCalledTimes(2);
  });

  it('ignores a second end of the same work', () => {
    const r = registry();
    const end = r.begin('GET', '/a');
    r.begin('GET', '/b');
    end();
    end();
    expect(r.count).toBe(1);
  });

  it('stops telling a listener after it unsubscribes', () => {
    const r = registry();
    const idle = jest.fn();
    r.onIdle(idle)();
    r.begin('GET', '/a')();
    expect(idle).not.toHaveBeenCalled();
  });
});
