import { InputError } from '@backstage/errors';

/** Bounds of an invocation body, checked before it is forwarded. */
export interface InvocationLimits {
  /** `mlPlatform.gateway.maxElements`: per V2 tensor and per request. */
  maxElements: number;
  /** `mlPlatform.gateway.maxJsonDepth`. */
  maxJsonDepth: number;
}

const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

function isSpace(byte: number) {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/**
 * One pass over JSON bytes, before parsing: refuses nesting deeper than
 * `maxDepth` and counts array items (a model server allocates per item).
 * Malformed JSON is left to the parser.
 */
export function scanJson(
  body: Buffer,
  maxDepth: number,
): { arrayItems: number } {
  // Per open container: is it an array, and has it seen an item yet.
  const isArray: boolean[] = [];
  const hasItem: boolean[] = [];
  let arrayItems = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
      continue;
    }
    if (isSpace(byte)) continue;
    const depth = isArray.length;
    if (
      depth > 0 &&
      isArray[depth - 1] &&
      !hasItem[depth - 1] &&
      byte !== CLOSE_ARRAY
    ) {
      hasItem[depth - 1] = true;
      arrayItems++;
    }
    if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      if (depth + 1 > maxDepth) {
        throw new InputError(
          `body: JSON nested deeper than ${maxDepth} levels (mlPlatform.gateway.maxJsonDepth)`,
        );
      }
      isArray.push(byte === OPEN_ARRAY);
      hasItem.push(false);
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      isArray.pop();
      hasItem.pop();
    } else if (byte === COMMA && depth > 0 && isArray[depth - 1]) {
      // The next value is counted when it starts.
      hasItem[depth - 1] = false;
    }
  }
  return { arrayItems };
}

function parse(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new InputError(
      `body: invalid JSON (${(error as Error).message.slice(0, 200)})`,
    );
  }
}

/** Range of each V2 integer datatype (64-bit ones as far as JSON numbers go). */
const INTEGER_RANGES: Record<string, [number, number]> = {
  INT8: [-(2 ** 7), 2 ** 7 - 1],
  INT16: [-(2 ** 15), 2 ** 15 - 1],
  INT32: [-(2 ** 31), 2 ** 31 - 1],
  INT64: [-(2 ** 63), 2 ** 63 - 1],
  UINT8: [0, 2 ** 8 - 1],
  UINT16: [0, 2 ** 16 - 1],
  UINT32: [0, 2 ** 32 - 1],
  UINT64: [0, 2 ** 64 - 1],
};
const FLOAT_MAX: Record<string, number> = {
  FP16: 65504,
  FP32: 3.4028234663852886e38,
  FP64: Number.MAX_VALUE,
};
const DATATYPES = new Set([
  'BOOL',
  ...Object.keys(INTEGER_RANGES),
  ...Object.keys(FLOAT_MAX),
  'BYTES',
]);

/** Why `value` is not of the V2 datatype, or undefined. */
function valueProblem(datatype: string, value: unknown): string | undefined {
  if (datatype === 'BOOL') {
    return typeof value === 'boolean' ? undefined : 'expected true or false';
  }
  if (datatype === 'BYTES') {
    return typeof value === 'string' ? undefined : 'expected a string';
  }
  const range = INTEGER_RANGES[datatype];
  if (range) {
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      return 'expected an integer';
    }
    // 2**63 and 2**64 are exact as doubles: the upper bounds are exclusive.
    const above =
      datatype === 'INT64' || datatype === 'UINT64'
        ? value >= range[1] + 1
        : value > range[1];
    return value < range[0] || above
      ? `${value} is out of the ${datatype} range ${range[0]} to ${
          datatype.endsWith('64')
            ? `2^${datatype === 'INT64' ? 63 : 64}-1`
            : range[1]
        }`
      : undefined;
  }
  if (typeof value !== 'number') return 'expected a number';
  return Math.abs(value) > FLOAT_MAX[datatype]
    ? `${value} is out of the ${datatype} range`
    : undefined;
}

/** Elements a shape stands for; a 0 dimension counts as 1 (`[3000000, 0]` is 3000000). */
function boundedElements(shape: number[], max: number): number {
  let n = 1;
  for (const d of shape) {
    n *= Math.max(d, 1);
    if (n > max) return n;
  }
  return n;
}

/**
 * Checks a V2 inference request against its own shapes before anything is
 * allocated or forwarded: tensor and request element counts within
 * `maxElements`, data as long as the shape says, each value within its
 * datatype. Errors name the field (`inputs[0].shape`). Returns the parsed
 * request, so nothing after the check parses it again.
 */
export function checkV2Request(
  body: Buffer,
  limits: InvocationLimits,
): unknown {
  scanJson(body, limits.maxJsonDepth);
  const request = parse(body) as { inputs?: unknown } | null;
  if (!request || typeof request !== 'object' || Array.isArray(request)) {
    throw new InputError('body: expected a JSON object with inputs');
  }
  const { inputs } = request;
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new InputError('body.inputs: expected a non-empty array of tensors');
  }
  const { maxElements } = limits;
  let total = 0;
  inputs.forEach((tensor: unknown, i) => {
    const field = `body.inputs[${i}]`;
    const t = tensor as Record<string, unknown> | null;
    if (!t || typeof t !== 'object' || Array.isArray(t)) {
      throw new InputError(`${field}: expected a tensor object`);
    }
    if (typeof t.name !== 'string' || t.name.length > 256) {
      throw new InputError(`${field}.name: expected a name`);
    }
    const shape = t.shape;
    if (
      !Array.isArray(shape) ||
      shape.length > 32 ||
      !shape.every(d => Number.isSafeInteger(d) && d >= 0)
    ) {
      throw new InputError(
        `${field}.shape: expected an array of non-negative integers`,
      );
    }
    const bounded = boundedElements(shape, maxElements);
    if (bounded > maxElements) {
      throw new InputError(
        `${field}.shape: [${shape.join(
          ', ',
        )}] stands for more than ${maxElements} elements (mlPlatform.gateway.maxElements; a dimension of 0 counts as 1)`,
      );
    }
    total += bounded;
    if (total > maxElements) {
      throw new InputError(
        `body.inputs: the tensors stand for more than ${maxElements} elements together (mlPlatform.gateway.maxElements)`,
      );
    }
    if (typeof t.datatype !== 'string' || !DATATYPES.has(t.datatype)) {
      throw new InputError(
        `${field}.datatype: expected one of ${[...DATATYPES].join(', ')}`,
      );
    }
    const expected = shape.reduce((n: number, d: number) => n * d, 1);
    const data = t.data;
    if (!Array.isArray(data)) {
      throw new InputError(`${field}.data: expected an array`);
    }
    // Row-major data may come nested by dimension or flat.
    const values = (
      data.some(Array.isArray) ? data.flat(shape.length) : data
    ) as unknown[];
    if (values.length !== expected) {
      throw new InputError(
        `${field}.data: ${values.length} values where shape [${shape.join(
          ', ',
        )}] needs ${expected}`,
      );
    }
    for (let k = 0; k < values.length; k++) {
      const problem = valueProblem(t.datatype, values[k]);
      if (problem) throw new InputError(`${field}.data[${k}]: ${problem}`);
    }
  });
  return request;
}

/** The MLflow scoring shapes the records route takes. */
const RECORDS_KEYS = [
  'dataframe_records',
  'dataframe_split',
  'instances',
  'inputs',
];

/**
 * Checks a records (MLflow) request: valid JSON, bounded nesting, at most
 * `maxElements` array items (rows and values) in all, and one of the
 * MLflow scoring shapes at the top. Returns the parsed request.
 */
export function checkRecordsRequest(
  body: Buffer,
  limits: InvocationLimits,
): unknown {
  const { arrayItems } = scanJson(body, limits.maxJsonDepth);
  if (arrayItems > limits.maxElements) {
    throw new InputError(
      `body: ${arrayItems} array items, more than ${limits.maxElements} (mlPlatform.gateway.maxElements)`,
    );
  }
  const request = parse(body);
  if (
    !request ||
    typeof request !== 'object' ||
    Array.isArray(request) ||
    !RECORDS_KEYS.some(key => key in request)
  ) {
    throw new InputError(
      `body: expected a JSON object with one of ${RECORDS_KEYS.join(', ')}`,
    );
  }
  return request;
}
