import type { Response } from 'express';

/**
 * Headers of a plain-text log answer. `no-transform` keeps the root router's
 * compression middleware out of the way: gzip buffers a followed log until
 * it ends, so a client would see nothing while the build or replica runs.
 */
export function startTextStream(res: Response) {
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache, no-transform');
}
