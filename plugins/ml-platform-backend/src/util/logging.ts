/**
 * An error as log metadata, its stack kept: `logger.warn('build crashed',
 * { buildId, ...errorMeta(error) })`.
 */
export function errorMeta(error: unknown): { error: string } {
  return {
    error:
      (error instanceof Error && (error.stack ?? error.message)) ||
      String(error),
  };
}
