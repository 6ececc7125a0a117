/**
 * `values` cut into consecutive runs of `counts[i]` elements: the share of
 * each part of a request whose rows were concatenated (events predicted in
 * one model call). Undefined when the counts do not add up to the values.
 */
export function splitRows<T>(
  values: ReadonlyArray<T>,
  counts: ReadonlyArray<number>,
): T[][] | undefined {
  if (counts.reduce((n, c) => n + c, 0) !== values.length) return undefined;
  let start = 0;
  return counts.map(count => {
    const part = values.slice(start, start + count);
    start += count;
    return part;
  });
}
