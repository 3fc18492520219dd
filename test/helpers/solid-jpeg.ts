/**
 * A baseline JPEG of one flat grey, of any size, written directly (no encoder): each 8×8
 * block is two Huffman bits, so a 12000×12000 picture (a decompression bomb) takes half a
 * megabyte and a millisecond to build, where encoding it with sharp takes seconds.
 */

/** Bytes of a valid greyscale baseline JPEG, `width`×`height` (1…65535), all pixels 128. */
export function solidGreyJpeg(width: number, height: number): Buffer {
  const u16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
  const segment = (marker: number, body: number[]): number[] => [
    0xff,
    marker,
    ...u16(body.length + 2),
    ...body,
  ];
  // One Huffman code, "0", for the only symbol each table needs: DC difference category 0
  // (the block is flat at level 128) and the AC end-of-block.
  const oneCodeTable = (tableClass: number): number[] => [
    tableClass << 4,
    1,
    ...new Array<number>(15).fill(0),
    0x00,
  ];
  const head = [
    0xff,
    0xd8,
    ...segment(0xdb, [0x00, ...new Array<number>(64).fill(1)]), // quantisation table 0
    ...segment(0xc0, [8, ...u16(height), ...u16(width), 1, 1, 0x11, 0]), // SOF0, 1 component
    ...segment(0xc4, oneCodeTable(0)),
    ...segment(0xc4, oneCodeTable(1)),
    ...segment(0xda, [1, 1, 0x00, 0, 63, 0]), // SOS
  ];
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  const bits = 2 * blocks;
  const scan = Buffer.alloc(Math.ceil(bits / 8)); // all zero bits: "0" (DC) "0" (EOB) per block
  if (bits % 8 !== 0) scan[scan.length - 1] = 0xff >> (bits % 8); // pad with 1-bits
  return Buffer.concat([Buffer.from(head), scan, Buffer.from([0xff, 0xd9])]);
}
