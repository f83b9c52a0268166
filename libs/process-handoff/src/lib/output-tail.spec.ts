import { OutputTail } from './output-tail';

describe('OutputTail', () => {
  it('keeps only the last lines, oldest first', () => {
    const tail = new OutputTail(3);
    tail.write('stdout', 'one\ntwo\nthree\nfour\nfive\n');
    expect(tail.lines()).toEqual(['three', 'four', 'five']);
  });

  it('joins a line split over chunks, per stream, and includes an unfinished last line', () => {
    const tail = new OutputTail(10);
    tail.write('stdout', 'listen');
    tail.write('stderr', 'warn: slo');
    tail.write('stdout', 'ing on 8000\nstarting');
    tail.write('stderr', 'w disk\r\n');
    expect(tail.lines()).toEqual(['listening on 8000', 'warn: slow disk', 'starting']);
  });

  it('adds a fatal error after what was written, line by line, within the bound', () => {
    const tail = new OutputTail(3);
    tail.write('stdout', 'booting\nhalf a line');
    tail.fatal('Error: boom\n    at main (/srv/app/main.js:3:9)');
    expect(tail.lines()).toEqual(['half a line', 'Error: boom', '    at main (/srv/app/main.js:3:9)']);
  });

  it('drops blank lines and clips a huge line to its end', () => {
    const tail = new OutputTail(5);
    tail.write('stdout', `\n\n   \n${'x'.repeat(5_000)}END\n`);
    const [line] = tail.lines();
    expect(tail.lines()).toHaveLength(1);
    expect(line.length).toBeLessThanOrEqual(2_003);
    expect(line.endsWith('xEND')).toBe(true);
    expect(new OutputTail(2).isEmpty).toBe(true);
  });
});
