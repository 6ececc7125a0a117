import { renderHook } from '@testing-library/react';
import { useVisibleInterval } from './useVisibleInterval';

describe('useVisibleInterval', () => {
  let visibility: jest.SpyInstance;
  beforeEach(() => {
    jest.useFakeTimers();
    visibility = jest
      .spyOn(document, 'visibilityState', 'get')
      .mockReturnValue('visible');
  });
  afterEach(() => {
    visibility.mockRestore();
    jest.useRealTimers();
  });

  const setVisibility = (state: DocumentVisibilityState) => {
    visibility.mockReturnValue(state);
    document.dispatchEvent(new Event('visibilitychange'));
  };

  it('calls back every interval while the page is visible', () => {
    const callback = jest.fn();
    renderHook(() => useVisibleInterval(callback, 2000));
    jest.advanceTimersByTime(6000);
    expect(callback).toHaveBeenCalledTimes(3);
  });

  it('pauses while hidden and catches up at once when shown again', () => {
    const callback = jest.fn();
    renderHook(() => useVisibleInterval(callback, 2000));
    setVisibility('hidden');
    jest.advanceTimersByTime(10000);
    expect(callback).not.toHaveBeenCalled();

    setVisibility('visible');
    expect(callback).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(2000);
    expect(callback).toHaveBeenCalledTimes(2);
  });

  it('does not start while the page is hidden', () => {
    visibility.mockReturnValue('hidden');
    const callback = jest.fn();
    renderHook(() => useVisibleInterval(callback, 1000));
    jest.advanceTimersByTime(5000);
    expect(callback).not.toHaveBeenCalled();
  });

  it('stops for a null delay and on unmount', () => {
    const callback = jest.fn();
    const { rerender, unmount } = renderHook(
      ({ delay }: { delay: number | null }) =>
        useVisibleInterval(callback, delay),
      { initialProps: { delay: 1000 as number | null } },
    );
    jest.advanceTimersByTime(1000);
    expect(callback).toHaveBeenCalledTimes(1);
    rerender({ delay: null });
    jest.advanceTimersByTime(5000);
    expect(callback).toHaveBeenCalledTimes(1);
    rerender({ delay: 1000 });
    unmount();
    jest.advanceTimersByTime(5000);
    setVisibility('visible');
    expect(callback).toHaveBeenCalledTimes(1);
  });

  it('always calls the latest callback', () => {
    const first = jest.fn();
    const second = jest.fn();
    const { rerender } = renderHook(
      ({ cb }: { cb: () => void }) => useVisibleInterval(cb, 1000),
      { initialProps: { cb: first } },
    );
    rerender({ cb: second });
    jest.advanceTimersByTime(1000);
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledTimes(1);
  });
});
