/**
 * `metadata_props` of an ONNX file without decoding the graph: a walk over the top-level
 * protobuf fields of ModelProto that skips everything but field 14. Platform-free (no
 * protobufjs, no Node), so the browser's private mode reads `dentseg.json` from the model
 * it downloaded the same way Node does, at no cost for a 100 MB file.
 */

const METADATA_PROPS = 14;
const utf8 = new TextDecoder();

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated ONNX file');
      const b = this.buf[this.pos++] ?? 0;
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
      if (shift > 63) throw new Error('malformed varint in ONNX file');
    }
  }

  /** Skip a field's value of wire type `wire`, or return its bytes for length-delimited. */
  value(wire: number): Uint8Array | undefined {
    switch (wire) {
      case 0:
        this.varint();
        return undefined;
      case 1:
        this.pos += 8;
        return undefined;
      case 5:
        this.pos += 4;
        return undefined;
      case 2: {
        const len = this.varint();
        const start = this.pos;
        this.pos += len;
        if (this.pos > this.buf.length) throw new Error('truncated ONNX file');
        return this.buf.subarray(start, this.pos);
      }
      default:
        throw new Error(`unsupported protobuf wire type ${wire} in ONNX file`);
    }
  }
}

function entry(bytes: Uint8Array): [string, string] {
  const r = new Reader(bytes);
  let key = '';
  let value = '';
  while (r.pos < bytes.length) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const v = r.value(tag & 7);
    if (v && field === 1) key = utf8.decode(v);
    else if (v && field === 2) value = utf8.decode(v);
  }
  return [key, value];
}

/** `metadata_props` of an ONNX model (ModelProto bytes) as a plain record. */
export function onnxMetadata(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const r = new Reader(bytes);
  while (r.pos < bytes.length) {
    const tag = r.varint();
    const v = r.value(tag & 7);
    if (v && Math.floor(tag / 8) === METADATA_PROPS) {
      const [key, value] = entry(v);
      out[key] = value;
    }
  }
  return out;
}
