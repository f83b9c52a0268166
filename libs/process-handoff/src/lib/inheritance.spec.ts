import { HANDOFF_ENV, encodeInheritance, snapshotEnv, successorEnv, takeInheritance } from './inheritance';

const alive = () => true;
const dead = () => false;

describe('inheritance', () => {
  it("builds the successor's environment from the start-up snapshot without systemd's, Node's IPC or an old handoff variable", () => {
    const startUp = snapshotEnv({
      PATH: '/usr/bin',
      PORT: '8000',
      LISTEN_PID: '1',
      LISTEN_FDS: '1',
      LISTEN_FDNAMES: 'http',
      NODE_CHANNEL_FD: '3',
      NODE_CHANNEL_SERIALIZATION_MODE: 'advanced',
      NODE_UNIQUE_ID: '1',
      [HANDOFF_ENV]: '{"v":1,"parent":1,"listeners":{}}',
      UNSET: undefined,
    });
    const env = successorEnv(startUp, encodeInheritance(123, ['http', 'metrics']));
    expect(env).toEqual({ PATH: '/usr/bin', PORT: '8000', [HANDOFF_ENV]: '{"v":1,"parent":123,"listeners":{"http":4,"metrics":5}}' });
  });

  it('reads the inheritance that names our parent and deletes the variable so children never see it', () => {
    const env: Record<string, string | undefined> = { [HANDOFF_ENV]: '{"v":1,"parent":42,"listeners":{"http":4}}' };
    expect(takeInheritance(env, 42, alive)).toEqual({ v: 1, parent: 42, listeners: { http: 4 } });
    expect(env).toEqual({});
  });

  it('ignores a variable that names another live process (inherited from further up), and still deletes it', () => {
    const env: Record<string, string | undefined> = { [HANDOFF_ENV]: '{"v":1,"parent":42,"listeners":{"http":4}}' };
    expect(takeInheritance(env, 7, alive)).toBeUndefined();
    expect(env).toEqual({});
  });

  it('accepts a parent that is already gone: a predecessor killed while we started left us its sockets', () => {
    const env = { [HANDOFF_ENV]: '{"v":1,"parent":42,"listeners":{"http":4}}' };
    expect(takeInheritance(env, 1, dead)?.listeners).toEqual({ http: 4 });
  });

  it('returns undefined without a variable', () => {
    expect(takeInheritance({ PATH: '/bin' }, 1, alive)).toBeUndefined();
  });

  it('fails with a clear message on a malformed variable, another protocol version or a bad fd', () => {
    expect(() => takeInheritance({ [HANDOFF_ENV]: 'not json' }, 1, alive)).toThrow(/is not JSON.*unset it/);
    expect(() => takeInheritance({ [HANDOFF_ENV]: '{"v":1}' }, 1, alive)).toThrow(/no parent pid/);
    expect(() => takeInheritance({ [HANDOFF_ENV]: '{"v":2,"parent":1,"listeners":{}}' }, 1, alive)).toThrow(/protocol v2 but this build speaks v1.*restart instead/);
    expect(() => takeInheritance({ [HANDOFF_ENV]: '{"v":1,"parent":1,"listeners":{"http":1}}' }, 1, alive)).toThrow(/bad fd for listener 'http'/);
  });
});
