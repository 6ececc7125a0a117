import {
  DependencyList,
  useCallback,
  useEffect,
  useRef,
  useState,
} from 'react';
import { useVisibleInterval } from './useVisibleInterval';

/** How often live views refresh. */
export const POLL_INTERVAL_MS = 2000;

export interface PolledState<T> {
  value?: T;
  /** The last failure; the last good value stays so a blip does not blank the view. */
  error?: Error;
  /** True until the first answer (or failure) after `deps` change. */
  loading: boolean;
  /** Loads again now, e.g. right after an action changed the data. */
  refresh: () => Promise<void>;
}

const toError = (e: unknown) => (e instanceof Error ? e : new Error(String(e)));

/**
 * `load()` now and again every `interval` while the page is visible. The
 * interval may depend on the value, e.g. to stop once a build finished.
 */
export function usePolledAsync<T>(
  load: () => Promise<T>,
  deps: DependencyList,
  interval:
    | number
    | null
    | ((value: T | undefined) => number | null) = POLL_INTERVAL_MS,
): PolledState<T> {
  const [state, setState] = useState<{
    value?: T;
    error?: Error;
    loading: boolean;
  }>({ loading: true });
  const loadRef = useRef(load);
  loadRef.current = load;
  // Answers can arrive out of order; only the latest call may set state.
  const callId = useRef(0);
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  const refresh = useCallback(async () => {
    const id = ++callId.current;
    try {
      const value = await loadRef.current();
      if (mounted.current && id === callId.current) {
        setState({ value, loading: false });
      }
    } catch (e) {
      if (mounted.current && id === callId.current) {
        setState(s => ({ value: s.value, error: toError(e), loading: false }));
      }
    }
  }, []);

  useEffect(() => {
    setState({ loading: true });
    refresh();
    // The caller's deps decide when this is a different resource.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  const delay =
    typeof interval === 'function' ? interval(state.value) : interval;
  useVisibleInterval(refresh, state.loading ? null : delay);

  return { ...state, refresh };
}
