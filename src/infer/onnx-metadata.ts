/**
 * `metadata_props` of an ONNX file without decoding the graph: a walk over the top-level
 * protobuf fields of ModelProto that skips everything but field 14. Platform-free (no
 * protobufjs, no Node), so the browser's private mode reads `dentseg.json` from the model
 * it downloaded the same way Node does, at no cost for a 100 MB file.
 */
import { DentsegError } from '../errors.js';
import { parseModelMeta, type ModelMeta } from '../model/meta.js';

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

/**
 * The `dentseg.json` an ONNX file carries in its metadata, validated by the same
 * `parseModelMeta` as a model folder's file (the browser's private mode reads its model
 * this way). E_MODEL_INVALID naming `file` when it is missing, not JSON or malformed.
 */
export function onnxModelMeta(bytes: Uint8Array, file: string): ModelMeta {
  const text = onnxMetadata(bytes)['dentseg.json'];
  if (text === undefined)
    throw new DentsegError('E_MODEL_INVALID', 'the ONNX model has no dentseg.json metadata', {
      file,
      hint: 're-export it with `dentseg export`',
    });
  return parseModelMetaText(text, file);
}

/** Parse and validate `dentseg.json` text; E_MODEL_INVALID when it is not JSON. */
export function parseModelMetaText(text: string, file: string): ModelMeta {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DentsegError(
      'E_MODEL_INVALID',
      `dentseg.json is not JSON: ${err instanceof Error ? err.message : String(err)}`,
      { file },
    );
  }
  return parseModelMeta(value, file);
}
