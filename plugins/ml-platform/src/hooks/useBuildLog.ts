import { useApi } from '@backstage/core-plugin-api';
import { BuildLogPage } from '@internal/plugin-ml-platform-common';
import { useCallback, useEffect, useRef, useState } from 'react';
import { mlPlatformApiRef } from '../api';
import { useVisibleInterval } from './useVisibleInterval';

/** Build logs grow fast while a step runs; a second keeps them near-live. */
export const BUILD_LOG_INTERVAL_MS = 1000;

type LogLine = BuildLogPage['items'][number];

/**
 * The build's log lines, fetched incrementally (`after` the last line id) and
 * appended every second until the backend says the log is finished.
 */
export function useBuildLog(buildId: string) {
  const api = useApi(mlPlatformApiRef);
  const [state, setState] = useState<{
    lines: LogLine[];
    finished: boolean;
    error?: Error;
  }>({ lines: [], finished: false });
  const lastId = useRef(0);
  // One request at a time: each asks for what follows the previous answer.
  const inFlight = useRef<object | null>(null);
  const current = useRef(buildId);

  const fetchMore = useCallback(async () => {
    if (inFlight.current) {
      return;
    }
    const token = {};
    inFlight.current = token;
    const id = buildId;
    try {
      const page = await api.getBuildLog(id, lastId.current);
      if (current.current !== id) return;
      const fresh = page.items.filter(item => item.id > lastId.current);
      lastId.current = Math.max(lastId.current, page.lastId);
      setState(s => ({
        lines: fresh.length ? [...s.lines, ...fresh] : s.lines,
        finished: page.finished,
      }));
    } catch (e) {
      if (current.current === id) {
        setState(s => ({ ...s, error: e as Error }));
      }
    } finally {
      if (inFlight.current === token) inFlight.current = null;
    }
  }, [api, buildId]);

  useEffect(() => {
    current.current = buildId;
    lastId.current = 0;
    inFlight.current = null;
    setState({ lines: [], finished: false });
    fetchMore();
  }, [buildId, fetchMore]);

  useVisibleInterval(fetchMore, state.finished ? null : BUILD_LOG_INTERVAL_MS);
  return state;
}
