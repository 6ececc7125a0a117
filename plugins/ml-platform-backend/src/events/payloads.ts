import { isJson } from '../lib/isJson';

/** What an event keeps of a request or response body. */
export interface KeptPayload {
  /**
   * The body as JSON (redacted), or its text when it is not JSON; absent
   * when `json` holds the body's bytes (never parsed).
   */
  value?: unknown;
  /** True when the body was over the cap and left out. */
  truncated: boolean;
  /**
   * The body's JSON text when it is kept unchanged (not redacted): the text
   * `value` was parsed from, or the body's bytes, checked to be JSON and
   * not parsed. An event's JSON takes it as it is.
   */
  json?: string | Buffer;
}

export const REDACTED = '[redacted]';

/**
 * Replaces the value of every key in `fields`, at any depth (records,
 * `dataframe_split` column lists are handled by `redactColumns`).
 */
function redactDeep(value: unknown, fields: Set<string>): unknown {
  if (Array.isArray(value)) return value.map(v => redactDeep(v, fields));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = fields.has(key) ? REDACTED : redactDeep(v, fields);
  }
  return out;
}

/**
 * Column-oriented shapes name a field once and put its values elsewhere:
 * `dataframe_split` (`columns` + `data` rows) and V2 `inputs` (a tensor per
 * `name`). Their values of redacted fields are replaced too.
 */
function redactColumns(value: unknown, fields: Set<string>): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return value;
  }
  const body = value as Record<string, any>;
  const split = body.dataframe_split;
  if (
    split &&
    Array.isArray(split.columns) &&
    Array.isArray(split.data) &&
    split.columns.some((c: unknown) => fields.has(String(c)))
  ) {
    const hidden = split.columns.map((c: unknown) => fields.has(String(c)));
    return {
      ...body,
      dataframe_split: {
        ...split,
        data: split.data.map((row: unknown) =>
          Array.isArray(row)
            ? row.map((v, i) => (hidden[i] ? REDACTED : v))
            : row,
        ),
      },
    };
  }
  if (Array.isArray(body.inputs)) {
    return {
      ...body,
      inputs: body.inputs.map((tensor: any) =>
        tensor && typeof tensor === 'object' && fields.has(String(tensor.name))
          ? { ...tensor, data: REDACTED }
          : tensor,
      ),
    };
  }
  return value;
}

/**
 * A body as an event keeps it: left out over `maxBytes`, parsed as JSON
 * (its text when it is not), with the values of `redact` fields replaced.
 * `parsed` is the body already parsed (the gateway's request check), so it
 * is not parsed twice; redaction copies, it never changes `parsed`.
 */
export function keepPayload(
  body: Buffer | undefined,
  maxBytes: number,
  redact: Set<string>,
  parsed?: unknown,
): KeptPayload {
  if (!body || body.length === 0) return { truncated: false };
  if (body.length > maxBytes) return { truncated: true };
  // Nothing to redact: the bytes are what is kept. Checking them is a
  // fraction of parsing them, and no object is built for nobody to read.
  if (parsed === undefined && redact.size === 0 && isJson(body)) {
    return { truncated: false, json: body };
  }
  let value = parsed;
  let text: string | undefined;
  if (value === undefined) {
    text = body.toString('utf8');
    try {
      value = JSON.parse(text);
    } catch {
      // Not JSON (a refused body): kept as text, nothing to redact by field.
      return { value: redact.size > 0 ? REDACTED : text, truncated: false };
    }
  }
  if (redact.size > 0) {
    return {
      value: redactColumns(redactDeep(value, redact), redact),
      truncated: false,
    };
  }
  return { value, truncated: false, json: text ?? body.toString('utf8') };
}

/**
 * Defines `target[name]` as the JSON value of `json` (checked to be JSON),
 * parsed when first read, not before: only an event subscriber (or a
 * serializer) reads the value.
 */
export function defineLazyJson(target: object, name: string, json: string) {
  let value: unknown;
  let text: string | undefined = json;
  Object.defineProperty(target, name, {
    enumerable: true,
    configurable: true,
    get() {
      if (text !== undefined) {
        value = JSON.parse(text);
        text = undefined;
      }
      return value;
    },
    set(v: unknown) {
      value = v;
      text = undefined;
    },
  });
}
