/**
 * The size a JPEG stream declares in its frame header (SOF), read from the marker segments
 * alone: a DICOM's embedded frame is checked against the pixel limit and the data set's
 * Rows/Columns before a decoder allocates anything for it.
 */

/** Width and height from a JPEG stream's SOF segment, in pixels. */
export interface JpegFrameSize {
  readonly width: number;
  readonly height: number;
}

/** SOF markers: every frame type (baseline, extended, progressive, lossless; Huffman or arithmetic). */
function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/**
 * The frame size declared by `bytes` (a JPEG stream starting with SOI), or undefined when
 * it is not a JPEG or its header ends before a frame header (SOF) is found. Reads only
 * the marker segments before the first scan; nothing is decoded.
 */
export function jpegFrameSize(bytes: Uint8Array): JpegFrameSize | undefined {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let pos = 2;
  for (;;) {
    if (bytes[pos] !== 0xff) return undefined; // segments follow each other without gaps
    while (bytes[pos] === 0xff) pos++; // a marker may be preceded by 0xFF fill bytes
    const marker = bytes[pos];
    pos++;
    if (marker === undefined || marker === 0x00) return undefined;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // no length field
    if (marker === 0xd9 || marker === 0xda) return undefined; // end or scan before any SOF
    if (pos + 2 > bytes.length) return undefined;
    const length = (bytes[pos]! << 8) | bytes[pos + 1]!;
    if (length < 2) return undefined;
    if (isSof(marker)) {
      if (pos + 7 > bytes.length) return undefined;
      return {
        height: (bytes[pos + 3]! << 8) | bytes[pos + 4]!,
        width: (bytes[pos + 5]! << 8) | bytes[pos + 6]!,
      };
    }
    pos += length;
  }
}
