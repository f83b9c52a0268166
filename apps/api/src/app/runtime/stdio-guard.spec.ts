import { EventEmitter } from 'node:events';
import { guardStdio } from './stdio-guard';

describe('guardStdio', () => {
  it('swallows EPIPE on a closed stdout or stderr, once installed however often it is called, and rethrows anything else', () => {
    const stream = new EventEmitter() as unknown as NodeJS.WriteStream;
    guardStdio([stream]);
    guardStdio([stream]);
    expect(stream.listenerCount('error')).toBe(1);
    expect(() => stream.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))).not.toThrow();
    expect(() => stream.emit('error', Object.assign(new Error('write EIO'), { code: 'EIO' }))).toThrow('write EIO');
  });
});
