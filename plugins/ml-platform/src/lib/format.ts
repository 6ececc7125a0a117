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

/** `12%`, `0.4%`, `—` when there was nothing to divide. */
export function formatRatio(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined) return '—';
  const percent = ratio * 100;
  return `${percent.toLocaleString('en-US', {
    maximumFractionDigits: percent < 1 && percent > 0 ? 2 : 1,
  })}%`;
}

/** A latency given in seconds: `0.8 ms`, `42 ms`, `1.3 s`; `—` when unknown. */
export function formatLatency(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  const ms = seconds * 1000;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** `12.5/s`, `0.02/s`. */
export function formatPerSecond(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return `${value.toLocaleString('en-US', {
    maximumFractionDigits: value < 1 ? 3 : 1,
  })}/s`;
}

/** `512 MiB`, `1.2 GiB`. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toLocaleString('en-US', {
    maximumFractionDigits: value < 10 && unit > 0 ? 1 : 0,
  })} ${units[unit]}`;
}
