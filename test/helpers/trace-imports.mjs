// `node --import ./test/helpers/trace-imports.mjs …` appends the URL of every module the ESM
// loader resolves to the file named by DENTSEG_TRACE_IMPORTS, one per line, so that a test
// can check what a command loads (e.g. that predict with an ONNX model never loads tfjs).
import { register } from 'node:module';

const hooks = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (process.env.DENTSEG_TRACE_IMPORTS) appendFileSync(process.env.DENTSEG_TRACE_IMPORTS, result.url + '\\n');
  return result;
}
`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
