import { uuidv7 } from './uuidv7';

describe('uuidv7', () => {
  it('is a version 7 UUID carrying its time, sorting by it', () => {
    const t = Date.UTC(2026, 11, 4, 13, 0, 0);
    const id = uuidv7(t);
    expect(id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(t);
    const later = [uuidv7(t + 1), uuidv7(t + 1000), uuidv7(t + 86_400_000)];
    expect([...later, id].sort()).toEqual([id, ...later]);
    // Random beyond the time: two in one millisecond differ.
    expect(uuidv7(t)).not.toBe(id);
  });
});
