import { inflateSync } from 'node:zlib';

/** A decoded 8-bit PNG: RGBA bytes, row after row. */
export interface Pixels {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** Decodes the 8-bit, non-interlaced RGB/RGBA PNGs Chrome writes (enough for screenshot tests). */
export function decodePng(png: Buffer): Pixels {
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const [depth, colorType, interlace] = [png[24], png[25], png[28]];
  if (depth !== 8 || (colorType !== 2 && colorType !== 6) || interlace !== 0) {
    throw new Error(`unsupported PNG (depth ${depth}, colour type ${colorType}, interlace ${interlace})`);
  }
  const chunks: Buffer[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') chunks.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(chunks));
  const channels = colorType === 6 ? 4 : 3;
  const stride = width * channels;
  const out = new Uint8Array(width * height * 4);
  let previous = new Uint8Array(stride);
  for (let y = 0; y < height; y += 1) {
    const filter = raw[y * (stride + 1)];
    const line = Uint8Array.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i += 1) {
      const [a, b, c] = [i >= channels ? line[i - channels] : 0, previous[i], i >= channels ? previous[i - channels] : 0];
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      line[i] = (line[i] + [0, a, b, (a + b) >> 1, paeth][filter]) & 0xff;
    }
    for (let x = 0; x < width; x += 1) {
      for (let ch = 0; ch < 4; ch += 1) out[(y * width + x) * 4 + ch] = ch < channels ? line[x * channels + ch] : 255;
    }
    previous = line;
  }
  return { width, height, rgba: out };
}

/** True when pixel (x, y) is the same in both images. */
export function samePixel(a: Pixels, b: Pixels, x: number, y: number): boolean {
  const [i, j] = [(y * a.width + x) * 4, (y * b.width + x) * 4];
  return a.rgba[i] === b.rgba[j] && a.rgba[i + 1] === b.rgba[j + 1] && a.rgba[i + 2] === b.rgba[j + 2] && a.rgba[i + 3] === b.rgba[j + 3];
}
