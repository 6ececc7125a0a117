import { ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { FakeKubernetesApi, KubeObject } from './FakeKubernetesApi';

/**
 * What the fake kubelet knows of an image: the entrypoint and environment
 * it was built with, and where its files are on this host.
 */
export interface FakeImage {
  entrypoint: string[];
  cmd?: string[];
  env?: Record<string, string>;
  /** Paths inside the image and the local directories holding them. */
  paths?: Record<string, string>;
}

interface RunningContainer {
  name: string;
  child: ChildProcess;
  exited?: { code: number | null; signal: NodeJS.Signals | null };
}

interface PodRun {
  uid: string;
  namespace: string;
  name: string;
  ip: string;
  dir: string;
  containers: RunningContainer[];
  stopping: boolean;
  restarts: number;
  probeTimer?: NodeJS.Timeout;
  phase: 'init' | 'running' | 'done';
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

function hashOf(value: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(value))
    .digest('hex')
    .slice(0, 10);
}

function ownedBy(o: KubeObject, owner: KubeObject) {
  return (o.metadata.ownerReferences ?? []).some(
    r => r.uid === owner.metadata.uid,
  );
}

function isReady(pod: KubeObject) {
  return (pod.status?.conditions ?? []).some(
    (c: any) => c.type === 'Ready' && c.status === 'True',
  );
}

/** Index lists as the Job controller writes them: `0,2-4`. */
function formatIndexes(indexes: number[]): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : `${sorted[i]}`);
    i = j;
  }
  return parts.join(',');
}

function failureReason(ok: boolean, tooManyFailed: boolean) {
  if (ok) return 'Completed';
  return tooManyFailed ? 'MaxFailedIndexesExceeded' : 'FailedIndexes';
}

export function parseIndexes(value: string | undefined): number[] {
  if (!value) return [];
  return value.split(',').flatMap(part => {
    const [a, b] = part.split('-').map(Number);
    return b === undefined
      ? [a]
      : Array.from({ length: b - a + 1 }, (_, k) => a + k);
  });
}

/**
 * The controllers of a cluster, on the fake API server: Deployments (one
 * ReplicaSet per pod template, rolling updates with `maxUnavailable: 0`),
 * ReplicaSets, Indexed Jobs (`completions`, `parallelism`,
 * `backoffLimitPerIndex`, `maxFailedIndexes`, `podFailurePolicy` FailIndex
 * rules, `JOB_COMPLETION_INDEX`), the garbage collector, and a kubelet that
 * runs each pod's containers as local processes: init containers in order,
 * then the containers, with their env (values, Secret keys, the downward
 * API), emptyDir volumes as directories, a loopback address per pod
 * (127.a.b.N, its `status.podIP`), readiness from the HTTP probe (polled
 * every 100 ms), restarts per `restartPolicy`, logs, termination messages,
 * and SIGTERM on deletion. Liveness and startup probes are not run.
 */
export class FakeCluster {
  private readonly runs = new Map<string, PodRun>();
  private nextIp = 2;
  /** Pods get 127.<a>.<b>.N: a subnet of the loopback range per cluster. */
  private readonly subnet = `127.${
    1 + Math.floor(Math.random() * 250)
  }.${Math.floor(Math.random() * 250)}`;
  /** Kills what the kubelet started if the test process exits first. */
  private readonly killAll = () => {
    for (const run of this.runs.values()) {
      for (const c of run.containers) c.child.kill('SIGKILL');
    }
  };
  private timer?: NodeJS.Timeout;
  private busy = false;
  private again = false;
  private stopped = false;
  private readonly root: string;
  /** Pods the kubelet started, by name, in order. */
  readonly started: string[] = [];

  constructor(
    readonly api: FakeKubernetesApi,
    private readonly images: Record<string, FakeImage>,
  ) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-kubelet-'));
  }

  start(): void {
    process.once('exit', this.killAll);
    this.api.onChange(() => this.kick());
    this.timer = setInterval(() => this.kick(), 100);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    process.off('exit', this.killAll);
    clearInterval(this.timer);
    await Promise.all(
      [...this.runs.values()].map(run => this.killRun(run, 'SIGKILL')),
    );
    fs.rmSync(this.root, { recursive: true, force: true });
  }

  /** Runs the controllers once more soon; one pass at a time. */
  private kick() {
    if (this.stopped) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    Promise.resolve()
      .then(() => this.pass())
      .catch(error => {
        // A controller error is a bug of the fake: show it, keep going.
        // eslint-disable-next-line no-console
        console.error('fake cluster', error);
      })
      .finally(() => {
        this.busy = false;
        if (this.again) {
          this.again = false;
          setImmediate(() => this.kick());
        }
      });
  }

  private async pass() {
    this.collectGarbage();
    for (const d of this.api.list('deployments')) this.deployment(d);
    for (const rs of this.api.list('replicasets')) this.replicaSet(rs);
    for (const job of this.api.list('jobs')) this.job(job);
    for (const pod of this.api.list('pods')) this.kubelet(pod);
  }

  private collectGarbage() {
    for (const { plural, object } of this.api.orphansOfDeletedOwners()) {
      try {
        this.api.delete(
          plural,
          object.metadata.namespace!,
          object.metadata.name,
        );
      } catch {
        // gone already
      }
    }
  }

  // ---- Deployment and ReplicaSet controllers ----

  private deployment(d: KubeObject) {
    if (d.metadata.deletionTimestamp) return;
    const ns = d.metadata.namespace!;
    const hash = hashOf(d.spec.template);
    const owned = this.api.list('replicasets', ns).filter(rs => ownedBy(rs, d));
    let current = owned.find(
      rs => rs.metadata.labels?.['pod-template-hash'] === hash,
    );
    const desired = d.spec.replicas ?? 1;
    if (!current) {
      const template = clone(d.spec.template);
      template.metadata.labels = {
        ...template.metadata.labels,
        'pod-template-hash': hash,
      };
      current = this.api.create('replicasets', ns, {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: `${d.metadata.name}-${hash}`,
          labels: template.metadata.labels,
          ownerReferences: [this.ownerRef(d)],
        },
        spec: {
          replicas: 0,
          selector: {
            matchLabels: {
              ...d.spec.selector.matchLabels,
              'pod-template-hash': hash,
            },
          },
          template,
        },
      });
      owned.push(current);
    }
    const old = owned.filter(rs => rs !== current);
    const newReady = current.status?.readyReplicas ?? 0;
    // maxUnavailable 0: new pods first; old ones go as new ones are ready.
    this.scale(current, desired);
    let keepOld = Math.max(0, desired - newReady);
    for (const rs of old) {
      const replicas = Math.min(rs.spec.replicas ?? 0, keepOld);
      keepOld -= replicas;
      this.scale(rs, replicas);
      if (replicas === 0 && (rs.status?.replicas ?? 0) === 0) {
        // Kept for rollback in a real cluster (revisionHistoryLimit); gone here.
        this.api.delete('replicasets', ns, rs.metadata.name);
      }
    }
    const all = owned
      .map(rs => this.api.get('replicasets', ns, rs.metadata.name))
      .filter(Boolean) as KubeObject[];
    const sum = (f: (rs: KubeObject) => number) =>
      all.reduce((n, rs) => n + f(rs), 0);
    const ready = sum(rs => rs.status?.readyReplicas ?? 0);
    const status = {
      observedGeneration: d.metadata.generation,
      replicas: sum(rs => rs.status?.replicas ?? 0),
      updatedReplicas: current.status?.replicas ?? 0,
      readyReplicas: ready,
      availableReplicas: ready,
      unavailableReplicas: Math.max(0, desired - ready),
      conditions: [
        {
          type: 'Available',
          status: ready >= desired ? 'True' : 'False',
          reason:
            ready >= desired
              ? 'MinimumReplicasAvailable'
              : 'MinimumReplicasUnavailable',
        },
        {
          type: 'Progressing',
          status: 'True',
          reason:
            newReady >= desired && old.length === 0
              ? 'NewReplicaSetAvailable'
              : 'ReplicaSetUpdated',
        },
      ],
    };
    this.setStatus('deployments', d, status);
  }

  private scale(rs: KubeObject, replicas: number) {
    if ((rs.spec.replicas ?? 0) === replicas) return;
    this.api.patch(
      'replicasets',
      rs.metadata.namespace!,
      rs.metadata.name,
      'application/merge-patch+json',
      { spec: { replicas } },
    );
  }

  private replicaSet(rs: KubeObject) {
    if (rs.metadata.deletionTimestamp) return;
    const ns = rs.metadata.namespace!;
    const pods = this.api
      .list('pods', ns)
      .filter(p => ownedBy(p, rs) && !p.metadata.deletionTimestamp);
    const want = rs.spec.replicas ?? 0;
    for (let i = pods.length; i < want; i++) {
      this.createPod(rs, rs.spec.template, `${rs.metadata.name}-`);
    }
    if (pods.length > want) {
      // Not-ready pods go first.
      const victims = [...pods]
        .sort((a, b) => Number(isReady(a)) - Number(isReady(b)))
        .slice(0, pods.length - want);
      for (const pod of victims) this.api.delete('pods', ns, pod.metadata.name);
    }
    const live = this.api.list('pods', ns).filter(p => ownedBy(p, rs));
    this.setStatus('replicasets', rs, {
      observedGeneration: rs.metadata.generation,
      replicas: live.length,
      readyReplicas: live.filter(isReady).length,
      availableReplicas: live.filter(isReady).length,
    });
  }

  // ---- Indexed Job controller ----

  private job(job: KubeObject) {
    const ns = job.metadata.namespace!;
    const spec = job.spec;
    // A Job being deleted starts nothing more.
    if (spec.completionMode !== 'Indexed' || job.metadata.deletionTimestamp)
      return;
    const status = clone(job.status ?? {});
    const finished = (status.conditions ?? []).some(
      (c: any) =>
        (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
    );
    const pods = this.api.list('pods', ns).filter(p => ownedBy(p, job));
    const indexOf = (p: KubeObject) =>
      Number(
        p.metadata.annotations!['batch.kubernetes.io/job-completion-index'],
      );
    status.startTime ??= new Date().toISOString();
    const completed = new Set(parseIndexes(status.completedIndexes));
    const failedIndexes = new Set(parseIndexes(status.failedIndexes));
    const failuresPerIndex: Record<string, number> = clone(
      job.metadata.annotations?.['fake.k8s/failures']
        ? JSON.parse(job.metadata.annotations['fake.k8s/failures'])
        : {},
    );
    let failed = status.failed ?? 0;
    let counted = false;
    for (const pod of pods) {
      if (pod.metadata.annotations?.['fake.k8s/counted']) continue;
      const i = indexOf(pod);
      if (pod.status?.phase === 'Succeeded') {
        completed.add(i);
      } else if (pod.status?.phase === 'Failed') {
        failed++;
        failuresPerIndex[i] = (failuresPerIndex[i] ?? 0) + 1;
        const exitCode =
          pod.status.containerStatuses?.[0]?.state?.terminated?.exitCode;
        const failIndex = (spec.podFailurePolicy?.rules ?? []).some(
          (rule: any) =>
            rule.action === 'FailIndex' &&
            rule.onExitCodes?.operator === 'In' &&
            rule.onExitCodes.values.includes(exitCode),
        );
        if (
          failIndex ||
          failuresPerIndex[i] > (spec.backoffLimitPerIndex ?? 0)
        ) {
          failedIndexes.add(i);
        }
      } else continue;
      counted = true;
      this.api.patch(
        'pods',
        ns,
        pod.metadata.name,
        'application/merge-patch+json',
        {
          metadata: { annotations: { 'fake.k8s/counted': 'true' } },
        },
      );
    }
    if (counted) {
      this.api.patch(
        'jobs',
        ns,
        job.metadata.name,
        'application/merge-patch+json',
        {
          metadata: {
            annotations: {
              'fake.k8s/failures': JSON.stringify(failuresPerIndex),
            },
          },
        },
      );
    }
    const active = pods.filter(
      p =>
        !['Succeeded', 'Failed'].includes(p.status?.phase) &&
        !p.metadata.deletionTimestamp,
    );
    const conditions = [...(status.conditions ?? [])];
    const tooManyFailed =
      spec.maxFailedIndexes !== undefined &&
      failedIndexes.size > spec.maxFailedIndexes;
    const allDone = completed.size + failedIndexes.size >= spec.completions;
    if (!finished && (tooManyFailed || allDone)) {
      const ok = failedIndexes.size === 0;
      conditions.push({
        type: ok ? 'Complete' : 'Failed',
        status: 'True',
        reason: failureReason(ok, tooManyFailed),
        lastTransitionTime: new Date().toISOString(),
      });
      for (const pod of active) this.api.delete('pods', ns, pod.metadata.name);
      if (ok) status.completionTime = new Date().toISOString();
    } else if (!finished) {
      const running = new Set(active.map(indexOf));
      let slots = (spec.parallelism ?? 1) - running.size;
      for (let i = 0; i < spec.completions && slots > 0; i++) {
        if (completed.has(i) || failedIndexes.has(i) || running.has(i))
          continue;
        const template = clone(spec.template);
        template.metadata = template.metadata ?? {};
        template.metadata.labels = {
          ...template.metadata.labels,
          'batch.kubernetes.io/job-name': job.metadata.name,
          'job-name': job.metadata.name,
          'batch.kubernetes.io/controller-uid': job.metadata.uid!,
          'batch.kubernetes.io/job-completion-index': String(i),
        };
        template.metadata.annotations = {
          ...template.metadata.annotations,
          'batch.kubernetes.io/job-completion-index': String(i),
        };
        // As the Job controller does for Indexed Jobs.
        for (const c of [
          ...(template.spec.initContainers ?? []),
          ...template.spec.containers,
        ]) {
          c.env = [
            ...(c.env ?? []),
            {
              name: 'JOB_COMPLETION_INDEX',
              valueFrom: {
                fieldRef: {
                  fieldPath:
                    "metadata.annotations['batch.kubernetes.io/job-completion-index']",
                },
              },
            },
          ];
        }
        this.createPod(job, template, `${job.metadata.name}-${i}-`);
        slots--;
      }
    }
    this.setStatus('jobs', job, {
      ...status,
      active: finished ? 0 : active.length,
      succeeded: completed.size,
      failed,
      completedIndexes: formatIndexes([...completed]),
      failedIndexes: formatIndexes([...failedIndexes]),
      conditions,
    });
  }

  private createPod(owner: KubeObject, template: any, generateName: string) {
    this.api.create('pods', owner.metadata.namespace!, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: '',
        generateName,
        labels: template.metadata?.labels,
        annotations: template.metadata?.annotations,
        ownerReferences: [this.ownerRef(owner)],
      },
      spec: clone(template.spec),
      status: { phase: 'Pending' },
    });
  }

  private ownerRef(owner: KubeObject) {
    return {
      apiVersion: owner.apiVersion,
      kind: owner.kind,
      name: owner.metadata.name,
      uid: owner.metadata.uid!,
      controller: true,
      blockOwnerDeletion: true,
    };
  }

  private setStatus(plural: string, object: KubeObject, status: any) {
    const current = this.api.get(
      plural,
      object.metadata.namespace!,
      object.metadata.name,
    );
    if (!current || JSON.stringify(current.status) === JSON.stringify(status))
      return;
    this.api.replace(
      plural,
      object.metadata.namespace!,
      object.metadata.name,
      { ...current, status },
      'status',
    );
  }

  // ---- kubelet ----

  private kubelet(pod: KubeObject) {
    const run = this.runs.get(pod.metadata.uid!);
    if (pod.metadata.deletionTimestamp) {
      if (run && !run.stopping) void this.terminate(run, pod);
      else if (!run)
        this.api.removePod(pod.metadata.namespace!, pod.metadata.name);
      return;
    }
    if (!run && pod.status?.phase === 'Pending') void this.startPod(pod);
  }

  private async terminate(run: PodRun, pod: KubeObject) {
    run.stopping = true;
    clearInterval(run.probeTimer);
    const grace = (pod.spec.terminationGracePeriodSeconds ?? 30) * 1000;
    await this.killRun(run, 'SIGTERM', grace);
    this.runs.delete(run.uid);
    this.api.removePod(run.namespace, run.name);
  }

  private async killRun(run: PodRun, signal: NodeJS.Signals, graceMs = 0) {
    run.stopping = true;
    clearInterval(run.probeTimer);
    await Promise.all(
      run.containers.map(async c => {
        if (c.exited) return;
        const exited = new Promise(r => c.child.once('exit', r));
        c.child.kill(signal);
        const timer = setTimeout(
          () => c.child.kill('SIGKILL'),
          Math.min(graceMs, 10_000),
        );
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  /** Updates a pod's status unless it is gone or terminating. */
  private podStatus(run: PodRun, update: (status: any) => void) {
    const pod = this.api.get('pods', run.namespace, run.name);
    if (!pod) return;
    const status = clone(pod.status ?? {});
    update(status);
    this.setStatus('pods', pod, status);
  }

  private async startPod(pod: KubeObject) {
    const ns = pod.metadata.namespace!;
    const run: PodRun = {
      uid: pod.metadata.uid!,
      namespace: ns,
      name: pod.metadata.name,
      ip: `${this.subnet}.${this.nextIp++}`,
      dir: path.join(this.root, pod.metadata.uid!),
      containers: [],
      stopping: false,
      restarts: 0,
      phase: 'init',
    };
    this.runs.set(run.uid, run);
    this.started.push(run.name);
    const volumes: Record<string, string> = {};
    for (const v of pod.spec.volumes ?? []) {
      if (!v.emptyDir) continue;
      volumes[v.name] = path.join(run.dir, 'volumes', v.name);
      fs.mkdirSync(volumes[v.name], { recursive: true });
    }
    this.podStatus(run, s => {
      s.phase = 'Pending';
      s.podIP = run.ip;
      s.podIPs = [{ ip: run.ip }];
      s.hostIP = '127.0.0.1';
      s.startTime = new Date().toISOString();
      s.conditions = [{ type: 'Ready', status: 'False' }];
    });
    const fresh = this.api.get('pods', ns, run.name)!;
    for (const init of pod.spec.initContainers ?? []) {
      for (;;) {
        if (run.stopping) return;
        const result = await this.runContainer(run, fresh, init, volumes);
        if (result.code === 0) break;
        if (pod.spec.restartPolicy === 'Never') {
          this.finishPod(run, init.name, result);
          return;
        }
        run.restarts++;
        this.podStatus(run, s => {
          s.initContainerStatuses = [
            {
              name: init.name,
              restartCount: run.restarts,
              state: {
                waiting: {
                  reason: 'CrashLoopBackOff',
                  message: result.message,
                },
              },
            },
          ];
        });
        await sleep(Math.min(200 * 2 ** run.restarts, 2000));
      }
    }
    if (run.stopping) return;
    run.phase = 'running';
    this.podStatus(run, s => {
      s.phase = 'Running';
    });
    const main = pod.spec.containers[0];
    this.probe(run, main);
    for (;;) {
      const result = await this.runContainer(run, fresh, main, volumes, () =>
        this.podStatus(run, s => {
          s.containerStatuses = [
            {
              name: main.name,
              ready: false,
              restartCount: run.restarts,
              state: { running: { startedAt: new Date().toISOString() } },
            },
          ];
        }),
      );
      if (run.stopping) return;
      const restart =
        (pod.spec.restartPolicy ?? 'Always') === 'Always' ||
        (pod.spec.restartPolicy === 'OnFailure' && result.code !== 0);
      if (!restart) {
        this.finishPod(run, main.name, result);
        return;
      }
      run.restarts++;
      this.podStatus(run, s => {
        s.conditions = [{ type: 'Ready', status: 'False' }];
        s.containerStatuses = [
          {
            name: main.name,
            ready: false,
            restartCount: run.restarts,
            state: {
              waiting: { reason: 'CrashLoopBackOff', message: result.message },
            },
            lastState: {
              terminated: { exitCode: result.code, message: result.message },
            },
          },
        ];
      });
      await sleep(Math.min(200 * 2 ** run.restarts, 2000));
    }
  }

  private finishPod(
    run: PodRun,
    container: string,
    result: { code: number; message?: string },
  ) {
    run.phase = 'done';
    clearInterval(run.probeTimer);
    this.podStatus(run, s => {
      s.phase = result.code === 0 ? 'Succeeded' : 'Failed';
      s.conditions = [{ type: 'Ready', status: 'False' }];
      s.containerStatuses = [
        {
          name: container,
          ready: false,
          restartCount: run.restarts,
          state: {
            terminated: {
              exitCode: result.code,
              reason: result.code === 0 ? 'Completed' : 'Error',
              message: result.message,
            },
          },
        },
      ];
    });
  }

  private probe(run: PodRun, container: any) {
    const probe = container.readinessProbe?.httpGet;
    const setReady = (ready: boolean) =>
      this.podStatus(run, s => {
        const was = (s.conditions ?? []).some(
          (c: any) => c.type === 'Ready' && c.status === 'True',
        );
        if (was === ready) return;
        s.conditions = [{ type: 'Ready', status: ready ? 'True' : 'False' }];
        for (const cs of s.containerStatuses ?? []) cs.ready = ready;
      });
    if (!probe) {
      setReady(true);
      return;
    }
    const port =
      typeof probe.port === 'number'
        ? probe.port
        : container.ports.find((p: any) => p.name === probe.port).containerPort;
    run.probeTimer = setInterval(async () => {
      if (run.stopping || run.phase !== 'running') return;
      try {
        const res = await fetch(`http://${run.ip}:${port}${probe.path}`, {
          signal: AbortSignal.timeout(1000),
        });
        setReady(res.status >= 200 && res.status < 400);
      } catch {
        setReady(false);
      }
    }, 100);
  }

  /** Runs one container to its end; logs and the termination message kept. */
  private async runContainer(
    run: PodRun,
    pod: KubeObject,
    container: any,
    volumes: Record<string, string>,
    onStart?: () => void,
  ): Promise<{ code: number; message?: string }> {
    const image = this.images[container.image];
    if (!image) {
      return {
        code: 1,
        message: `ErrImagePull: the fake kubelet has no image ${container.image}`,
      };
    }
    const mounts: Record<string, string> = { ...image.paths };
    for (const m of container.volumeMounts ?? [])
      mounts[m.mountPath] = volumes[m.name];
    // The longest mount path wins, as nested mounts do.
    const byDepth = Object.entries(mounts).sort(
      (a, b) => b[0].length - a[0].length,
    );
    const local = (value: string) => {
      for (const [from, to] of byDepth) {
        if (value === from || value.startsWith(`${from}/`))
          return to + value.slice(from.length);
      }
      return value;
    };
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: run.dir,
    };
    for (const [name, value] of Object.entries(image.env ?? {}))
      env[name] = local(value);
    for (const e of container.env ?? []) {
      const value = this.envValue(pod, run, e);
      if (value === undefined) {
        return {
          code: 1,
          message: `CreateContainerConfigError: cannot resolve ${e.name}`,
        };
      }
      env[e.name] = local(value);
    }
    const terminationLog = path.join(
      run.dir,
      `${container.name}.termination-log`,
    );
    fs.rmSync(terminationLog, { force: true });
    // The container runtime mounts /dev/termination-log; here, a file.
    env.MLP_TERMINATION_LOG = terminationLog;
    const argv = [
      ...(container.command ?? image.entrypoint),
      ...(container.args ?? (container.command ? [] : image.cmd ?? [])),
    ].map(a =>
      local(a.replace(/\$\((\w+)\)/g, (_: string, n: string) => env[n] ?? '')),
    );
    const child = spawn(argv[0], argv.slice(1), {
      env,
      cwd: run.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const running: RunningContainer = { name: container.name, child };
    run.containers.push(running);
    for (const stream of [child.stdout!, child.stderr!]) {
      readline
        .createInterface({ input: stream })
        .on('line', line =>
          this.api.appendLog(run.namespace, run.name, container.name, line),
        );
    }
    onStart?.();
    const exit = await new Promise<{
      code: number | null;
      signal: NodeJS.Signals | null;
    }>(resolve => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: 127, signal: null }));
    });
    running.exited = exit;
    run.containers.splice(run.containers.indexOf(running), 1);
    const message = fs.existsSync(terminationLog)
      ? fs.readFileSync(terminationLog, 'utf8')
      : undefined;
    return { code: exit.code ?? 128 + 9, message };
  }

  private envValue(pod: KubeObject, run: PodRun, e: any): string | undefined {
    if (e.value !== undefined) return String(e.value);
    const secretRef = e.valueFrom?.secretKeyRef;
    if (secretRef) {
      const secret = this.api.get('secrets', run.namespace, secretRef.name);
      const data = secret?.data?.[secretRef.key];
      return data === undefined
        ? undefined
        : Buffer.from(data, 'base64').toString();
    }
    const field = e.valueFrom?.fieldRef?.fieldPath as string | undefined;
    if (field === 'status.podIP') return run.ip;
    if (field === 'metadata.name') return pod.metadata.name;
    if (field === 'metadata.namespace') return pod.metadata.namespace;
    const annotation = /^metadata\.annotations\['(.+)'\]$/.exec(field ?? '');
    if (annotation) return pod.metadata.annotations?.[annotation[1]];
    return undefined;
  }
}
