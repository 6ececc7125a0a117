/** Bounds of a whole-number field; without `max` it is unbounded above. @public */
export type IntRange = { min: number; max?: number };

/**
 * The bounds of deployment and execution sizes: the API refuses what is out
 * of them and the UI's forms check them before sending.
 *
 * @public
 */
export const SIZE_RANGES = {
  replicas: { min: 0, max: 64 },
  minReplicas: { min: 0, max: 64 },
  maxReplicas: { min: 1, max: 64 },
  chunkSize: { min: 1, max: 10_000_000 },
  parallelism: { min: 1, max: 64 },
  maxRetries: { min: 0, max: 20 },
} satisfies Record<string, IntRange>;

/**
 * The longest text each request field may hold: the API refuses longer
 * values with a 400 naming the field, before any work (a Git ref, a path,
 * a URL are all bounded by the programs they reach).
 *
 * @public
 */
export const TEXT_LIMITS = {
  gitUrl: 2048,
  gitPath: 1024,
  branch: 255,
  manifestPath: 1024,
  filename: 255,
  inputPath: 4096,
  url: 2048,
  connection: 128,
  table: 128,
  query: 100_000,
  schedule: 256,
} as const;
