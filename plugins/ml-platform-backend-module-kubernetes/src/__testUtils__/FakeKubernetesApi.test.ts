import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  V1Pod,
  Watch,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { FakeKubernetesApi } from './FakeKubernetesApi';

/** What the runtime relies on, checked through client-node itself. */
describe('FakeKubernetesApi', () => {
  let api: FakeKubernetesApi;
  let kc: KubeConfig;

  beforeAll(async () => {
    api = await FakeKubernetesApi.start();
    kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: api.url, caData: api.caData }],
      users: [{ name: 'u', token: api.token }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
  });
  afterAll(() => api.close());

  const deployment = (name: string, labels: Record<string, string>) => ({
    metadata: { name, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'c', image: 'i' }] },
      },
    },
  });

  it('answers errors with Status bodies, and refuses a wrong token', async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({
      namespace: 'a',
      body: deployment('d1', { app: 'x' }),
    });
    const conflict = await apps
      .createNamespacedDeployment({
        namespace: 'a',
        body: deployment('d1', { app: 'x' }),
      })
      .catch(e => e);
    expect(conflict.code).toBe(409);
    expect(JSON.parse(conflict.body)).toMatchObject({
      kind: 'Status',
      reason: 'AlreadyExists',
      message: 'deployments.apps "d1" already exists',
    });
    const missing = await apps
      .readNamespacedDeployment({ name: 'nope', namespace: 'a' })
      .catch(e => e);
    expect(missing.code).toBe(404);
    expect(JSON.parse(missing.body).message).toBe(
      'deployments.apps "nope" not found',
    );
    const current = await apps.readNamespacedDeployment({
      name: 'd1',
      namespace: 'a',
    });
    current.metadata!.resourceVersion = '1';
    const stale = await apps
      .replaceNamespacedDeployment({
        name: 'd1',
        namespace: 'a',
        body: current,
      })
      .catch(e => e);
    expect(stale.code).toBe(409);
    expect(JSON.parse(stale.body).reason).toBe('Conflict');

    const stranger = new KubeConfig();
    stranger.loadFromOptions({
      clusters: [{ name: 'c', server: api.url, caData: api.caData }],
      users: [{ name: 'u', token: 'wrong' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const denied = await stranger
      .makeApiClient(AppsV1Api)
      .listNamespacedDeployment({ namespace: 'a' })
      .catch(e => e);
    expect(denied.code).toBe(401);
  });

  it('lists by label selector, merge-patches, bumps generation on spec changes only, keeps status to its subresource', async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({
      namespace: 'b',
      body: deployment('one', { app: 'x', tier: 'web' }),
    });
    await apps.createNamespacedDeployment({
      namespace: 'b',
      body: deployment('two', { app: 'y' }),
    });
    const names = async (labelSelector: string) =>
      (
        await apps.listNamespacedDeployment({ namespace: 'b', labelSelector })
      ).items.map(d => d.metadata!.name);
    expect(await names('app=x')).toEqual(['one']);
    expect(await names('app in (x,y),!tier')).toEqual(['two']);
    expect(await names('app!=x')).toEqual(['two']);

    const patched = await apps.patchNamespacedDeployment(
      {
        name: 'one',
        namespace: 'b',
        body: { spec: { replicas: 3 }, status: { replicas: 99 } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(patched.spec!.replicas).toBe(3);
    expect(patched.metadata!.generation).toBe(2);
    expect(patched.status?.replicas).toBeUndefined();
    const status = await apps.patchNamespacedDeploymentStatus(
      { name: 'one', namespace: 'b', body: { status: { replicas: 3 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(status.status!.replicas).toBe(3);
    expect(status.metadata!.generation).toBe(2);
  });

  it('streams watch events after a resourceVersion, and 410 Gone for a compacted one', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const list = await core.listNamespacedPod({ namespace: 'w' });
    const from = list.metadata!.resourceVersion!;
    await core.createNamespacedPod({
      namespace: 'w',
      body: {
        metadata: { name: 'p1', labels: { a: 'b' } },
        spec: { containers: [{ name: 'c', image: 'i' }] },
      },
    });
    const events: string[] = [];
    const controller = await new Watch(kc).watch(
      '/api/v1/namespaces/w/pods',
      { resourceVersion: from, labelSelector: 'a=b' },
      (type, obj: V1Pod) => events.push(`${type} ${obj.metadata!.name}`),
      () => {},
    );
    await core.deleteNamespacedPod({
      name: 'p1',
      namespace: 'w',
      gracePeriodSeconds: 0,
    });
    await new Promise(r => setTimeout(r, 200));
    controller.abort();
    expect(events).toEqual(['ADDED p1', 'DELETED p1']);

    api.compact();
    const gone: any[] = [];
    await new Promise<void>(resolve => {
      void new Watch(kc).watch(
        '/api/v1/namespaces/w/pods',
        { resourceVersion: from },
        (type, obj) => gone.push({ type, obj }),
        () => resolve(),
      );
    });
    expect(gone).toEqual([
      {
        type: 'ERROR',
        obj: expect.objectContaining({ code: 410, reason: 'Expired' }),
      },
    ]);
  });

  it('deletes in the foreground: the owner stays until its dependents are gone', async () => {
    const owner = api.create('jobs', 'f', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'j' },
      spec: {},
    });
    api.create('pods', 'f', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'j-0',
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'Job',
            name: 'j',
            uid: owner.metadata.uid!,
          },
        ],
      },
      spec: { containers: [] },
    });
    api.delete('jobs', 'f', 'j', { propagationPolicy: 'Foreground' });
    // The pod terminates (grace period), so the Job waits with a finalizer.
    expect(api.get('jobs', 'f', 'j')?.metadata.finalizers).toEqual([
      'foregroundDeletion',
    ]);
    expect(
      api.get('pods', 'f', 'j-0')?.metadata.deletionTimestamp,
    ).toBeDefined();
    api.removePod('f', 'j-0');
    expect(api.get('jobs', 'f', 'j')).toBeUndefined();
  });
});
