import { mockServices } from '@backstage/backend-test-utils';
import { OnlineStatus, Runtime } from '@internal/plugin-ml-platform-node';
import { MetricsStore } from '../database/metrics/MetricsStore';
import { promtoolCheckMetrics } from '../__testUtils__/prometheus';
import { BuildVersions } from './BuildVersions';
import { MetricsRecorder } from './MetricsRecorder';
import { PrometheusExposition } from './PrometheusExposition';
import { ReplicaSampler } from './ReplicaSampler';

const status: OnlineStatus = {
  deploymentId: 'd1',
  state: 'ready',
  desiredReplicas: 2,
  readyReplicas: 1,
  buildId: 'b1',
  replicas: [
    {
      id: 'r1',
      buildId: 'b1',
      state: 'ready',
      url: 'http://127.0.0.1:40001',
      pid: 11,
      restarts: 2,
      startedAt: '2026-12-03T10:00:00.000Z',
    },
    {
      id: 'r2',
      buildId: 'b1',
      state: 'restarting',
      restarts: 5,
      lastError: 'exited with code 1',
      startedAt: '2026-12-03T10:00:00.000Z',
    },
  ],
};

/** A runtime that runs one deployment with two replicas, one of them down. */
const runtime = {
  type: 'test',
  listOnline: () => ['d1'],
  getOnlineStatus: () => status,
  getReplicaUsage: async () => [
    { replicaId: 'r1', cpuSeconds: 1.5, memoryBytes: 50_000_000 },
  ],
} as Partial<Runtime> as Runtime;

function setup() {
  const versions = new BuildVersions(async () => ({ version: 3 } as any));
  const recorder = new MetricsRecorder({
    store: { add: async () => {} } as Partial<MetricsStore> as MetricsStore,
    versions,
    logger: mockServices.logger.mock(),
  });
  const replicas = new ReplicaSampler({
    runtime,
    modelOf: async () => 'component:default/churn',
    versions,
    instanceId: 'i1',
  });
  const exposition = new PrometheusExposition({
    recorder,
    replicas,
    versions,
    inFlight: () => [
      {
        modelRef: 'component:default/churn',
        deploymentId: 'd1',
        buildId: 'b1',
        inFlight: 3,
      },
    ],
  });
  return { recorder, exposition };
}

const answer = Buffer.from(
  JSON.stringify({
    predictions: [
      { p: 0.25, label: 'stay', kpis: { revenue_at_risk: 12.5 } },
      { p: 0.75, label: 'go "now"\\', kpis: { revenue_at_risk: 40 } },
    ],
  }),
);

describe('PrometheusExposition', () => {
  it('exposes calls, predictions, KPIs, replicas and batch chunks as promtool accepts them', async () => {
    const { recorder, exposition } = setup();
    for (const code of [200, 200, 400, 500, 503, 504]) {
      recorder.recordCall({
        modelRef: 'component:default/churn',
        deploymentId: 'd1',
        buildId: 'b1',
        route: 'records',
        callerKind: 'user',
        status: code,
        latencyMs: 2,
        inFlight: 1,
        response: code === 200 ? answer : undefined,
      });
    }
    recorder.recordChunk({
      modelRef: 'component:default/churn',
      buildId: 'b1',
      outcome: 'worker_crashed',
      rows: 100,
      seconds: 3,
    });
    const text = await exposition.metrics();
    expect(promtoolCheckMetrics(text)).toEqual({ status: 0, output: '' });

    const labels =
      'namespace="default",model="churn",version="3",deployment="d1"';
    const call = `${labels},route="records",caller_kind="user"`;
    for (const line of [
      `ml_platform_model_requests_total{${call},outcome="success"} 2`,
      `ml_platform_model_requests_total{${call},outcome="caller_error"} 1`,
      `ml_platform_model_requests_total{${call},outcome="model_error"} 1`,
      `ml_platform_model_requests_total{${call},outcome="unavailable"} 1`,
      `ml_platform_model_requests_total{${call},outcome="timeout"} 1`,
      `ml_platform_model_request_duration_seconds_bucket{${call},le="0.0025"} 6`,
      `ml_platform_model_request_duration_seconds_count{${call}} 6`,
      `ml_platform_model_rows_total{${call}} 4`,
      `ml_platform_model_in_flight_requests{${labels}} 3`,
      `ml_platform_model_prediction_value_bucket{${labels},output="p",le="0.3"} 2`,
      `ml_platform_model_prediction_value_sum{${labels},output="p"} 2`,
      `ml_platform_model_predictions_total{${labels},output="label",value="go \\"now\\"\\\\"} 2`,
      `ml_platform_model_kpi_sum{${labels},kpi="revenue_at_risk"} 105`,
      `ml_platform_model_kpi_count{${labels},kpi="revenue_at_risk"} 4`,
      `ml_platform_replica_ready{${labels},replica="r1",state="ready"} 1`,
      `ml_platform_replica_ready{${labels},replica="r2",state="restarting"} 0`,
      `ml_platform_replica_restarts_total{${labels},replica="r2"} 5`,
      `ml_platform_replica_cpu_seconds_total{${labels},replica="r1"} 1.5`,
      `ml_platform_replica_resident_memory_bytes{${labels},replica="r1"} 50000000`,
      `ml_platform_deployment_replicas_desired{namespace="default",model="churn",deployment="d1"} 2`,
      `ml_platform_batch_chunks_total{namespace="default",model="churn",version="3",deployment="",outcome="worker_crashed"} 1`,
      `ml_platform_batch_rows_total{namespace="default",model="churn",version="3",deployment="",outcome="worker_crashed"} 100`,
      `ml_platform_batch_chunk_duration_seconds_bucket{namespace="default",model="churn",version="3",deployment="",le="5"} 1`,
    ]) {
      expect(text).toContain(`${line}\n`);
    }
  });
});
