/**
 * The q-quantile of a histogram, as Prometheus' `histogram_quantile`
 * computes it: linear within the bucket holding the rank, the first bucket
 * starting at 0, and the highest finite bound when the rank falls in +Inf.
 *
 * @param bounds - upper bounds, ascending, without +Inf
 * @param counts - per bucket (not cumulative), `bounds.length + 1` of them
 * @returns undefined for an empty histogram
 */
export function quantile(
  q: number,
  bounds: readonly number[],
  counts: ArrayLike<number>,
): number | undefined {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  if (total <= 0) return undefined;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i];
    if (count > 0 && below + count >= rank) {
      if (i >= bounds.length) return bounds[bounds.length - 1];
      const lower = i === 0 ? Math.min(0, bounds[0]) : bounds[i - 1];
      const upper = bounds[i];
      return lower + ((upper - lower) * (rank - below)) / count;
    }
    below += count;
  }
  return bounds[bounds.length - 1];
}
