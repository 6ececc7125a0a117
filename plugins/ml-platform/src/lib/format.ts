import { ModelBuild } from '@internal/plugin-ml-platform-common';

/** `850 ms`, `4.2 s`, `3m 05s`, `2h 07m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) {
    return '';
  }
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  const seconds = ms / 1000;
  if (seconds < 60) {
    return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  }
  const totalSeconds = Math.round(seconds);
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes < 60) {
    return `${minutes}m ${String(totalSeconds % 60).padStart(2, '0')}s`;
  }
  const hours = Math.floor(minutes / 60);
  return `${hours}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/** How long a build ran, or has been running until `now`. */
export function buildDurationMs(
  build: Pick<ModelBuild, 'startedAt' | 'finishedAt'>,
  now = Date.now(),
): number | undefined {
  if (!build.startedAt) {
    return undefined;
  }
  const end = build.finishedAt ? Date.parse(build.finishedAt) : now;
  return end - Date.parse(build.startedAt);
}

/** `1,234.5 rows/s` */
export function formatRate(rowsPerSecond: number): string {
  return `${rowsPerSecond.toLocaleString('en-US', {
    maximumFractionDigits: 1,
  })} rows/s`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}

export function formatTime(iso: string | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '';
}

/** `v3`, or the start of the id for a build not in the list at hand. */
export function buildLabel(
  buildId: string,
  builds: Pick<ModelBuild, 'id' | 'version'>[] | undefined,
): string {
  const build = builds?.find(b => b.id === buildId);
  return build ? `v${build.version}` : `build ${buildId.slice(0, 8)}`;
}

const finishedBuildStatuses = ['succeeded', 'failed', 'cancelled'];

export function isBuildFinished(build: Pick<ModelBuild, 'status'>): boolean {
  return finishedBuildStatuses.includes(build.status);
}

/** The `message` of a Backstage error body, else the text itself. */
export function errorMessageOf(body: unknown): string | undefined {
  if (typeof body === 'string') {
    return body || undefined;
  }
  if (body && typeof body === 'object') {
    const error = (body as { error?: unknown }).error;
    if (error && typeof error === 'object') {
      const message = (error as { message?: unknown }).message;
      if (typeof message === 'string') return message;
    }
    if (typeof error === 'string') return error;
    const message = (body as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  }
  return undefined;
}
