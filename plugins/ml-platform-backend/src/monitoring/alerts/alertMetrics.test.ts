import { compare, distributionDistance, ruleDurationMs } from './alertMetrics';
import { nextState } from './AlertEvaluator';

describe('alert rules', () => {
  it('moves ok → pending → firing after `for` → resolved, and pending back to ok', () => {
    const forMs = 120_000;
    let s = nextState({ state: 'ok' }, true, forMs, 0);
    expect(s).toEqual({ state: 'pending', pendingSince: 0 });
    s = nextState(s, true, forMs, 60_000);
    expect(s).toEqual({ state: 'pending', pendingSince: 0 });
    s = nextState(s, true, forMs, 120_000);
    expect(s).toEqual({ state: 'firing', pendingSince: 0 });
    expect(nextState(s, false, forMs, 180_000)).toEqual({ state: 'resolved' });
    expect(
      nextState({ state: 'pending', pendingSince: 0 }, false, forMs, 1),
    ).toEqual({ state: 'ok' });
    expect(nextState({ state: 'ok' }, true, 0, 5)).toEqual({
      state: 'firing',
      pendingSince: 5,
    });
    expect(nextState({ state: 'resolved' }, false, forMs, 5)).toEqual({
      state: 'resolved',
    });
  });

  it('compares and reads durations', () => {
    expect(compare(1, '>', 0.5)).toBe(true);
    expect(compare(0.5, '>=', 0.5)).toBe(true);
    expect(compare(0.5, '<', 0.5)).toBe(false);
    expect(compare(0.5, '<=', 0.5)).toBe(true);
    expect(compare(0.5, '==', 0.5)).toBe(true);
    expect(ruleDurationMs('0s')).toBe(0);
    expect(ruleDurationMs('5m')).toBe(300_000);
    expect(ruleDurationMs('250ms')).toBe(250);
  });

  it('measures drift: KS for numeric outputs, total variation for classes', () => {
    const same = [
      { bin: 'a', current: 5, previous: 10 },
      { bin: 'b', current: 5, previous: 10 },
    ];
    expect(distributionDistance('class', same)).toBe(0);
    expect(distributionDistance('numeric', same)).toBe(0);
    const disjoint = [
      { bin: 'a', current: 5, previous: 0 },
      { bin: 'b', current: 0, previous: 7 },
    ];
    expect(distributionDistance('class', disjoint)).toBe(1);
    expect(distributionDistance('numeric', disjoint)).toBe(1);
    const shifted = [
      { bin: '0.1', current: 0, previous: 5 },
      { bin: '0.2', current: 5, previous: 5 },
      { bin: '0.3', current: 5, previous: 0 },
    ];
    expect(distributionDistance('numeric', shifted)).toBeCloseTo(0.5);
    expect(distributionDistance('class', shifted)).toBeCloseTo(0.5);
    expect(
      distributionDistance('class', [{ bin: 'a', current: 1, previous: 0 }]),
    ).toBeUndefined();
  });
});
