import { counterIncreases } from './PrometheusMetricsSource';

describe('counterIncreases', () => {
  const from = 1_000_000;
  const step = 60_000;
  const run = (values: [number, string][]) => {
    const steps = new Array(4).fill(0);
    counterIncreases({ metric: {}, values }, from, step, 4, (i, v) => {
      steps[i] += v;
    });
    return steps;
  };
  const at = (point: number) => (from + point * step) / 1000;

  it('differences the counter between points, without extrapolating', () => {
    expect(
      run([
        [at(0), '5'],
        [at(1), '8'],
        [at(2), '8'],
        [at(3), '20'],
        [at(4), '21'],
      ]),
    ).toEqual([3, 0, 12, 1]);
  });

  it('counts a series that appears from zero, and a restart from zero', () => {
    expect(
      run([
        [at(1), '4'],
        [at(2), '9'],
        [at(3), '2'],
      ]),
    ).toEqual([4, 5, 2, 0]);
  });

  it('keeps the last value over missing points', () => {
    expect(
      run([
        [at(0), '1'],
        [at(3), '7'],
      ]),
    ).toEqual([0, 0, 6, 0]);
  });
});
