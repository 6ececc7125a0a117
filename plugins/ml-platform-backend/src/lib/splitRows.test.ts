import { splitRows } from './splitRows';

describe('splitRows', () => {
  it('cuts values into consecutive runs of the given lengths', () => {
    expect(splitRows([1, 2, 3, 4, 5, 6], [4, 0, 2])).toEqual([
      [1, 2, 3, 4],
      [],
      [5, 6],
    ]);
  });

  it('refuses counts that do not add up to the values', () => {
    expect(splitRows([1, 2, 3], [1, 1])).toBeUndefined();
    expect(splitRows([1, 2], [2, 1])).toBeUndefined();
  });
});
