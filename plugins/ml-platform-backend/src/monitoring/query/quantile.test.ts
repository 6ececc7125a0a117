import { quantile } from './quantile';

describe('quantile', () => {
  const bounds = [0.001, 0.01, 0.1];

  it('interpolates within the bucket holding the rank, as histogram_quantile does', () => {
    // 10 calls under 1 ms, 10 between 1 and 10 ms
    expect(quantile(0.5, bounds, [10, 10, 0, 0])).toBeCloseTo(0.001);
    expect(quantile(0.75, bounds, [10, 10, 0, 0])).toBeCloseTo(0.0055);
    expect(quantile(0.25, bounds, [10, 10, 0, 0])).toBeCloseTo(0.0005);
  });

  it('answers the highest bound for ranks in +Inf, nothing for no data', () => {
    expect(quantile(0.99, bounds, [0, 0, 1, 99])).toBe(0.1);
    expect(quantile(0.5, bounds, [0, 0, 0, 0])).toBeUndefined();
  });
});
