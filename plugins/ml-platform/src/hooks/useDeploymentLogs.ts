import { useApi } from '@backstage/core-plugin-api';
import { DeploymentLogPage } from '@internal/plugin-ml-platform-common';
import { useCallback, useEffect, useRef, useState } from 'react';
import { mlPlatformApiRef } from '../api';
import { POLL_INTERVAL_MS } from './usePolledAsync';
import { useVisibleInterval } from './useVisibleInterval';

/** How many past lines to show when the logs open. */
export const DEPLOYMENT_LOG_TAIL = 500;

type LogLine = DeploymentLogPage['items'][number];

/** The deployment's last lines, then what follows them (`after`), live. */
export function useDeploymentLogs(deploymentId: string) {
  const api = useApi(mlPlatformApiRef);
  const [state, setState] = useState<{ lines: LogLine[]; error?: Error }>({
    lines: [],
  });
  const lastSeq = useRef<number | undefined>(undefined);
  const inFlight = useRef<object | null>(null);
  const current = useRef(deploymentId);

  const fetchMore = useCallback(async () => {
    if (inFlight.current) {
      return;
    }
    const token = {};
    inFlight.current = token;
    const id = deploymentId;
    try {
      const page = await api.getDeploymentLogs(
        id,
        lastSeq.current === undefined
          ? { tail: DEPLOYMENT_LOG_TAIL }
          : { after: lastSeq.current },
      );
      if (current.current !== id) return;
      const after = lastSeq.current ?? -1;
      const fresh = page.items.filter(item => item.seq > after);
      lastSeq.current = Math.max(after, page.lastSeq);
      setState(s => ({
        lines: fresh.length ? [...s.lines, ...fresh] : s.lines,
      }));
    } catch (e) {
      if (current.current === id) {
        setState(s => ({ ...s, error: e as Error }));
      }
    } finally {
      if (inFlight.current === token) inFlight.current = null;
    }
  }, [api, deploymentId]);

  useEffect(() => {
    current.current = deploymentId;
    lastSeq.current = undefined;
    inFlight.current = null;
    setState({ lines: [] });
    fetchMore();
  }, [deploymentId, fetchMore]);

  useVisibleInterval(fetchMore, POLL_INTERVAL_MS);
  return state;
}
