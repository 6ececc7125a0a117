/** Bounds of a whole-number field; without `max` it is unbounded above. @public */
export type IntRange = { min: number; max?: number };

/**
 * The bounds of deployment and execution sizes: the API refuses what is out
 * of them (the OpenAPI document's bounds, which a backend test keeps equal)
 * and the UI's forms check them before sending.
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
 * An abbreviated or full commit SHA (SHA-1 or SHA-256), as the API accepts
 * it: the `CommitSha` pattern of the OpenAPI document (a backend test keeps
 * the two equal), for forms and the backend's own checks.
 *
 * @public
 */
export const COMMIT_SHA = /^[0-9a-fA-F]{7,64}$/;
