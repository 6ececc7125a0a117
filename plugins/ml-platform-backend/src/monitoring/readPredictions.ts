import type { CallRoute } from './metricNames';

/** Receives what a response says, value by value. */
export interface PredictionSink {
  /** A numeric value of an output. */
  number(output: string, value: number): void;
  /** A class (string) or boolean value of an output. */
  category(output: string, value: string): void;
  /** A custom KPI value (per row, or per call). */
  kpi(name: string, value: number): void;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function addValue(sink: PredictionSink, name: string, value: Json) {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) sink.number(name, value);
  } else if (typeof value === 'string' || typeof value === 'boolean') {
    sink.category(name, String(value));
  }
  // Lists and objects (e.g. per-class probabilities) have no single value.
}

function addKpis(sink: PredictionSink, kpis: Json | undefined) {
  if (!isObject(kpis)) return;
  for (const [name, value] of Object.entries(kpis)) {
    if (typeof value === 'number' && Number.isFinite(value)) {
      sink.kpi(name, value);
    }
  }
}

/** `{"predictions": [...]}`: scalars, or objects of outputs and `kpis`. */
function readRecords(body: Json, sink: PredictionSink): number | undefined {
  if (!isObject(body) || !Array.isArray(body.predictions)) return undefined;
  const predictions = body.predictions;
  for (const prediction of predictions) {
    if (isObject(prediction)) {
      for (const [name, value] of Object.entries(prediction)) {
        if (name === 'kpis') addKpis(sink, value);
        else addValue(sink, name, value);
      }
    } else {
      addValue(sink, 'predictions', prediction);
    }
  }
  addKpis(sink, body.kpis);
  return predictions.length;
}

/** Open Inference Protocol: output tensors, KPIs in `parameters.kpis`. */
function readV2(body: Json, sink: PredictionSink): number | undefined {
  if (!isObject(body) || !Array.isArray(body.outputs)) return undefined;
  let rows: number | undefined;
  for (const output of body.outputs) {
    if (!isObject(output) || typeof output.name !== 'string') continue;
    const shape = Array.isArray(output.shape) ? output.shape : [];
    if (rows === undefined && typeof shape[0] === 'number') rows = shape[0];
    // A value per row: shape [n] or [n, 1]; wider tensors have no single value.
    const perRow = shape.length === 1 || (shape.length === 2 && shape[1] === 1);
    if (!perRow || !Array.isArray(output.data)) continue;
    for (const value of output.data) addValue(sink, output.name, value);
  }
  if (isObject(body.parameters)) addKpis(sink, body.parameters.kpis);
  return rows ?? 0;
}

/**
 * Reads a model's successful answer: hands each output value and custom KPI
 * to `sink` and returns how many rows it predicted, or undefined when the
 * body is not JSON of the route's shape.
 */
export function readPredictions(
  route: CallRoute,
  body: Buffer,
  sink: PredictionSink,
): number | undefined {
  let parsed: Json;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  return route === 'v2' ? readV2(parsed, sink) : readRecords(parsed, sink);
}

const PREDICTIONS_KEY = Buffer.from('"predictions"');
const SHAPE_KEY = Buffer.from('"shape"');
const KPIS_KEY = Buffer.from('"kpis"');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_SQUARE = 0x5b;
const CLOSE_SQUARE = 0x5d;
const OPEN_CURLY = 0x7b;
const CLOSE_CURLY = 0x7d;

/** Whether an answer reports custom KPIs (then it is always read). */
export function hasKpis(body: Buffer): boolean {
  return body.indexOf(KPIS_KEY) >= 0;
}

/**
 * How many rows an answer predicted, without parsing it: the first output's
 * `shape[0]` for V2, the length of the `predictions` array otherwise.
 * Undefined when the body does not look like the route's answer.
 */
export function countRows(route: CallRoute, body: Buffer): number | undefined {
  if (route === 'v2') {
    const key = body.indexOf(SHAPE_KEY);
    if (key < 0) return undefined;
    const open = body.indexOf(OPEN_SQUARE, key);
    if (open < 0) return undefined;
    let n = 0;
    let digits = 0;
    for (let i = open + 1; i < body.length; i++) {
      const c = body[i];
      if (c >= 0x30 && c <= 0x39) {
        n = n * 10 + (c - 0x30);
        digits++;
      } else if (digits > 0 || c > 0x20) break;
    }
    return digits > 0 ? n : undefined;
  }
  const key = body.indexOf(PREDICTIONS_KEY);
  if (key < 0) return undefined;
  const open = body.indexOf(OPEN_SQUARE, key + PREDICTIONS_KEY.length);
  if (open < 0) return undefined;
  // Elements of the top-level array: commas outside strings and nesting.
  let depth = 0;
  let inString = false;
  let commas = 0;
  let empty = true;
  for (let i = open + 1; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) {
      inString = true;
      empty = false;
    } else if (c === OPEN_SQUARE || c === OPEN_CURLY) {
      depth++;
      empty = false;
    } else if (c === CLOSE_SQUARE || c === CLOSE_CURLY) {
      if (depth === 0) return empty ? 0 : commas + 1;
      depth--;
    } else if (c === COMMA) {
      if (depth === 0) commas++;
    } else if (c > 0x20) {
      empty = false;
    }
  }
  return undefined;
}
