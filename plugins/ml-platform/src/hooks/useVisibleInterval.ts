import { useEffect, useRef } from 'react';

/**
 * Calls `callback` every `delayMs` while the page is visible; `null` pauses.
 * A hidden tab costs the backend nothing, and coming back refreshes at once
 * instead of showing data as old as the time spent away.
 */
export function useVisibleInterval(
  callback: () => void,
  delayMs: number | null,
): void {
  const saved = useRef(callback);
  useEffect(() => {
    saved.current = callback;
  }, [callback]);

  useEffect(() => {
    if (delayMs === null) {
      return undefined;
    }
    let timer: ReturnType<typeof setInterval> | undefined;
    const start = () => {
      if (timer === undefined) {
        timer = setInterval(() => saved.current(), delayMs);
      }
    };
    const stop = () => {
      if (timer !== undefined) {
        clearInterval(timer);
        timer = undefined;
      }
    };
    const onVisibilityChange = () => {
      if (document.visibilityState === 'hidden') {
        stop();
      } else {
        saved.current();
        start();
      }
    };
    if (document.visibilityState !== 'hidden') {
      start();
    }
    document.addEventListener('visibilitychange', onVisibilityChange);
    return () => {
      stop();
      document.removeEventListener('visibilitychange', onVisibilityChange);
    };
  }, [delayMs]);
}
