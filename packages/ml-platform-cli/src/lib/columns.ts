import {
  BatchExecution,
  ModelBuild,
  ModelDeployment,
  ModelSummary,
} from '@internal/plugin-ml-platform-common';
import { parseModelRef, modelLabel } from './args';
import { Column, count, duration, elapsed, when } from './output';

/** `churn`, or `team-a/churn` outside the default namespace. */
export const modelName = (entityRef: string) => {
  try {
    return modelLabel(parseModelRef(entityRef));
  } catch {
    return entityRef;
  }
};

export const modelColumns: Column<ModelSummary>[] = [
  { header: 'model', value: m => modelLabel(m) },
  { header: 'owner', value: m => m.owner?.replace(/^group:(default\/)?/, '') },
  {
    header: 'latest build',
    value: m =>
      m.platform.latestBuild &&
      `v${m.platform.latestBuild.version} ${m.platform.latestBuild.status}`,
  },
  {
    header: 'online',
    value: m => {
      const d = m.platform.liveDeployment;
      return d && `${d.status} ${d.readyReplicas}/${d.replicas}`;
    },
  },
  {
    header: 'running',
    value: m => m.platform.runningExecutions || undefined,
    align: 'right',
  },
  { header: 'title', value: m => m.title },
];

export const buildColumns: Column<ModelBuild>[] = [
  { header: 'version', value: b => `v${b.version}` },
  { header: 'status', value: b => b.status },
  { header: 'branch', value: b => b.branch },
  { header: 'commit', value: b => b.commitSha?.slice(0, 7) },
  { header: 'trigger', value: b => b.trigger },
  { header: 'created', value: b => when(b.createdAt) },
  {
    header: 'took',
    value: b => duration(elapsed(b.startedAt, b.finishedAt)),
    align: 'right',
  },
  { header: 'id', value: b => b.id },
];

/** Deployments with the version of their build when it is known. */
export function deploymentColumns(
  versions: Map<string, number> = new Map(),
): Column<ModelDeployment>[] {
  return [
    { header: 'model', value: d => modelName(d.modelRef) },
    { header: 'type', value: d => d.type },
    { header: 'status', value: d => d.status },
    {
      header: 'build',
      value: d =>
        versions.has(d.buildId)
          ? `v${versions.get(d.buildId)}`
          : d.buildId.slice(0, 8),
    },
    {
      header: 'replicas',
      value: d =>
        d.type === 'online'
          ? `${d.readyReplicas}/${d.replicas} (${d.minReplicas}-${d.maxReplicas})`
          : undefined,
    },
    { header: 'reason', value: d => d.reason },
    { header: 'id', value: d => d.id },
  ];
}

export const executionColumns: Column<BatchExecution>[] = [
  { header: 'status', value: e => e.status },
  {
    header: 'rows',
    value: e =>
      e.rowsTotal !== undefined
        ? `${count(e.rowsDone)}/${count(e.rowsTotal)}`
        : count(e.rowsDone),
    align: 'right',
  },
  { header: 'failed', value: e => count(e.rowsFailed), align: 'right' },
  {
    header: 'chunks',
    value: e =>
      e.chunksTotal !== undefined
        ? `${e.chunksDone}/${e.chunksTotal}`
        : e.chunksDone,
    align: 'right',
  },
  {
    header: 'rows/s',
    value: e =>
      e.rowsPerSecond !== undefined
        ? count(Math.round(e.rowsPerSecond))
        : undefined,
    align: 'right',
  },
  { header: 'started', value: e => when(e.startedAt ?? e.createdAt) },
  {
    header: 'took',
    value: e => duration(elapsed(e.startedAt, e.finishedAt)),
    align: 'right',
  },
  { header: 'error', value: e => e.error },
  { header: 'id', value: e => e.id },
];
