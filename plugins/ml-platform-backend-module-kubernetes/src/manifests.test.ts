import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { KubernetesRuntimeConfig } from './config';
import {
  batchJob,
  jobName,
  labelValue,
  onlineManifests,
  onlineName,
  tokenSecret,
} from './manifests';

const config: KubernetesRuntimeConfig = {
  namespace: 'ml-models',
  image: 'registry.example.com/mlp-runtime:1.0',
  imagePullPolicy: 'IfNotPresent',
  imagePullSecrets: ['registry'],
  serviceAccountName: 'models',
  resources: { requests: { cpu: '250m', memory: '512Mi' } },
  batchResources: { limits: { cpu: '1', memory: '1Gi' } },
  replicaUrls: 'service',
  clusterDomain: 'cluster.local',
  terminationGracePeriodSeconds: 30,
  targetCPUUtilization: 70,
  jobTtlSeconds: 3600,
  batchTokenTtlMs: 3600_000,
};

const build = {
  buildId: '0b0f4c1e-6a3c-4a8e-9d7b-2f5a1c3e4d5f',
  modelRef: 'component:default/Churn_Model',
  buildVersion: 7,
  entrypoint: 'model:Model',
  schema: { inputs: [{ name: 'x', type: 'double' }] },
  requirements: 'requirements.txt',
  artifactUri: 's3://models/builds/churn.tar.gz',
  artifactDigest: `sha256:${'a'.repeat(64)}`,
};

const spec = {
  deploymentId: '5d6e7f80-1234-4abc-8def-001122334455',
  modelName: 'Churn_Model',
  build,
  replicas: 2,
  minReplicas: 1,
  maxReplicas: 4,
  labels: { app: 'churn' },
};

describe('manifests', () => {
  it('makes a valid Deployment, Service and autoscaler for an online deployment', () => {
    const m = onlineManifests({
      config,
      spec,
      artifactUrl: `http://backstage/api/ml-platform/artifacts/${build.artifactDigest}`,
    });
    expect(m.name).toBe('mlp-churn-model-5d6e7f80');
    // Valid against the Kubernetes OpenAPI schemas.
    expect(() => new Deployment(m.deployment as any).validate()).not.toThrow();
    expect(() => new Service(m.service as any).validate()).not.toThrow();
    expect(() =>
      new HorizontalPodAutoscaler(m.hpa as any).validate(),
    ).not.toThrow();

    const d = m.deployment as any;
    expect(d.metadata.labels).toEqual({
      app: 'churn',
      'app.kubernetes.io/managed-by': 'ml-platform',
      'ml-platform/model': 'Churn_Model',
      'ml-platform/version': '7',
      'ml-platform/build': build.buildId,
      'ml-platform/deployment': spec.deploymentId,
    });
    expect(d.spec.template.metadata.labels).toEqual(d.metadata.labels);
    expect(d.spec.selector).toEqual({
      matchLabels: { 'ml-platform/deployment': spec.deploymentId },
    });
    expect(d.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    const pod = d.spec.template.spec;
    expect(pod.terminationGracePeriodSeconds).toBe(30);
    expect(pod.initContainers[0].env).toEqual(
      expect.arrayContaining([
        { name: 'MLP_ARTIFACT_DIGEST', value: build.artifactDigest },
        {
          name: 'MLP_ARTIFACT_TOKEN',
          valueFrom: {
            secretKeyRef: {
              name: 'mlp-churn-model-5d6e7f80-artifact',
              key: 'build-7',
            },
          },
        },
      ]),
    );
    const model = pod.containers[0];
    expect(model.readinessProbe.httpGet.path).toBe('/v2/health/ready');
    expect(model.livenessProbe.httpGet.path).toBe('/v2/health/live');
    expect(model.resources).toEqual(config.resources);
    expect((m.hpa as any).spec).toMatchObject({
      minReplicas: 1,
      maxReplicas: 4,
    });
  });

  it("hands the pod the runtime's schema file: the schema and the model's interface", () => {
    const schemaOf = (b: typeof build & { interface?: 'dataframe' }) => {
      const m = onlineManifests({
        config,
        spec: { ...spec, build: b },
        artifactUrl: 'http://x',
      });
      const env = (m.deployment as any).spec.template.spec.initContainers[0]
        .env;
      return JSON.parse(env.find((e: any) => e.name === 'MLP_SCHEMA').value);
    };
    expect(schemaOf(build)).toEqual({ ...build.schema, interface: 'records' });
    expect(schemaOf({ ...build, interface: 'dataframe' })).toEqual({
      ...build.schema,
      interface: 'dataframe',
    });
  });

  it('makes no autoscaler when the bounds are equal or the deployment is at zero', () => {
    const url = 'http://x';
    expect(
      onlineManifests({
        config,
        spec: { ...spec, minReplicas: 2, maxReplicas: 2 },
        artifactUrl: url,
      }).hpa,
    ).toBeUndefined();
    expect(
      onlineManifests({
        config,
        spec: { ...spec, replicas: 0, minReplicas: 0 },
        artifactUrl: url,
      }).hpa,
    ).toBeUndefined();
  });

  it('makes a valid Indexed Job for a batch execution', () => {
    const name = jobName('churn', 'e1b2c3d4-0000', 'a1b2c3');
    const { job } = batchJob({
      config,
      spec: {
        executionId: 'e1b2c3d4-0000-4000-8000-000000000000',
        modelName: 'churn',
        build,
        parallelism: 8,
        maxRetries: 3,
        retryBackoffMs: 1000,
      },
      name,
      completions: 5,
      artifactUrl: 'http://x',
      planUrl: 'http://y',
    });
    expect(() => new Job(job as any).validate()).not.toThrow();
    expect((job as any).spec).toMatchObject({
      completionMode: 'Indexed',
      completions: 5,
      parallelism: 5,
      backoffLimitPerIndex: 3,
      maxFailedIndexes: 0,
      template: { spec: { restartPolicy: 'Never' } },
    });
  });

  it('makes a valid Secret for tokens', () => {
    const secret = tokenSecret({
      name: 'mlp-x-artifact',
      namespace: 'ml-models',
      labels: {},
      tokens: {
        artifactToken: {
          token: 't',
          expiresAt: '2030-01-01T00:00:00.000Z',
        },
      },
    });
    expect(() => new Secret(secret as any).validate()).not.toThrow();
  });

  it('keeps names and labels within what the API server accepts', () => {
    expect(
      onlineName('A Very_Long Model Name '.repeat(5), 'ABCDEF12-x'),
    ).toMatch(/^mlp-[a-z0-9-]{1,40}-abcdef12$/);
    expect(labelValue('-weird value!/'.repeat(10))).toMatch(
      /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/,
    );
  });

  it('validation catches what the API server would refuse', () => {
    const m = onlineManifests({ config, spec, artifactUrl: 'http://x' });
    const broken = JSON.parse(JSON.stringify(m.deployment));
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    expect(() => new Deployment(broken).validate()).toThrow();
  });
});
