import { act, renderHook, waitFor } from '@testing-library/react';
import { usePolledAsync } from './usePolledAsync';

describe('usePolledAsync', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('loads, then reloads every interval', async () => {
    jest.useFakeTimers();
    let n = 0;
    const load = jest.fn(async () => ++n);
    const { result } = renderHook(() => usePolledAsync(load, [], 2000));
    expect(result.current.loading).toBe(true);
    await waitFor(() => expect(result.current.value).toBe(1));
    expect(result.current.loading).toBe(false);

    await act(async () => {
      jest.advanceTimersByTime(2000);
    });
    expect(result.current.value).toBe(2);
  });

  it('keeps the last value when a reload fails, and recovers', async () => {
    const load = jest
      .fn()
      .mockResolvedValueOnce('first')
      .mockRejectedValueOnce(new Error('blip'))
      .mockResolvedValueOnce('third');
    const { result } = renderHook(() => usePolledAsync(load, [], null));
    await waitFor(() => expect(result.current.value).toBe('first'));

    await act(() => result.current.refresh());
    expect(result.current.value).toBe('first');
    expect(result.current.error?.message).toBe('blip');

    await act(() => result.current.refresh());
    expect(result.current.value).toBe('third');
    expect(result.current.error).toBeUndefined();
  });

  it('ignores an answer that arrives after a newer one', async () => {
    const resolvers: ((v: string) => void)[] = [];
    const load = jest.fn(
      () => new Promise<string>(resolve => resolvers.push(resolve)),
    );
    const { result } = renderHook(() => usePolledAsync(load, [], null));
    act(() => {
      result.current.refresh();
    });
    await act(async () => {
      resolvers[1]('new');
    });
    await act(async () => {
      resolvers[0]('old');
    });
    expect(result.current.value).toBe('new');
  });

  it('starts over when the deps change', async () => {
    const { result, rerender } = renderHook(
      ({ id }: { id: string }) => usePolledAsync(async () => id, [id], null),
      { initialProps: { id: 'a' } },
    );
    await waitFor(() => expect(result.current.value).toBe('a'));
    rerender({ id: 'b' });
    await waitFor(() => expect(result.current.value).toBe('b'));
  });

  it('stops polling when the interval function says so', async () => {
    jest.useFakeTimers();
    const states = ['running', 'done', 'done'];
    const load = jest.fn(async () => states.shift());
    const { result } = renderHook(() =>
      usePolledAsync(load, [], v => (v === 'done' ? null : 1000)),
    );
    await waitFor(() => expect(result.current.value).toBe('running'));
    await act(async () => {
      jest.advanceTimersByTime(1000);
    });
    expect(result.current.value).toBe('done');
    await act(async () => {
      jest.advanceTimersByTime(5000);
    });
    expect(load).toHaveBeenCalledTimes(2);
  });
});
