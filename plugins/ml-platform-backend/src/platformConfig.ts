import { Config, readDurationFromConfig } from '@backstage/config';
import { durationToMilliseconds } from '@backstage/types';
import { readMlPlatformPaths } from '@internal/plugin-ml-platform-node';
import path from 'node:path';
import { QuotaLimits } from './quotas/Quotas';
import { SandboxConfig } from './sandbox/Sandbox';

/** A Git repository the first start creates from a local directory. */
export interface SeedRepository {
  /** Created as `<gitRoot>/<name>.git`. */
  name: string;
  /** Directory whose files become the first commit. */
  from: string;
  models: { entityRef: string; path: string }[];
}

/** `mlPlatform.gateway.nginx`: invocations forwarded by nginx. */
export interface NginxGatewayConfig {
  /**
   * `enabled: auto`: started only where nginx, its Lua module and lua-cjson
   * are installed; elsewhere the portal's port serves invocations alone.
   */
  whenInstalled: boolean;
  /** Where callers on other hosts reach the data plane, if not `http://host:port`. */
  publicUrl?: string;
  command: string;
  modulesDir: string;
  host: string;
  port: number;
  workers: number;
}

/** The `mlPlatform` config with defaults applied and paths resolved. */
export interface PlatformConfig {
  dataDir: string;
  gitRoot: string;
  python: string;
  artifacts: {
    type: string;
    localDir: string;
    /** The plugin's base URL as runtimes on other hosts reach it, if not the backend's. */
    baseUrl?: string;
    /** Lifetime of the tokens runtimes on other hosts fetch artifacts with. */
    tokenTtlMs: number;
  };
  builds: {
    concurrency: number;
    stepTimeoutMs: number;
    timeoutMs: number;
    /** 0 turns polling off. */
    pollIntervalMs: number;
    heartbeatMs: number;
    /** A running build whose heartbeat is older than this was interrupted. */
    staleAfterMs: number;
    pip: { indexUrl?: string; extraIndexUrl?: string; extraArgs: string[] };
    /** Venvs see the base interpreter's packages (`--system-site-packages`). */
    systemSitePackages: boolean;
    /** Interpreters a manifest's `spec.python` may name, besides `python`. */
    allowedPythons: string[];
  };
  seedRepositories: SeedRepository[];
  /** `mlPlatform.runtime`: which runtime runs models. */
  runtime: string;
  online: {
    /** An idle deployment with minReplicas 0 stops its replicas after this. */
    scaleToZeroAfterMs: number;
    reconcileIntervalMs: number;
    /** A deployment's claim by an instance silent this long is taken over. */
    claimStaleAfterMs: number;
  };
  gateway: {
    timeoutMs: number;
    maxBodyBytes: number;
    coldStartTimeoutMs: number;
    /** V2 tensor elements per tensor and per request, checked against shapes. */
    maxElements: number;
    /** Deepest JSON nesting of a request body. */
    maxJsonDepth: number;
    /** The native data plane (`gateway.nginx`), when enabled. */
    nginx?: NginxGatewayConfig;
  };
  /** How model code (builds, replicas, batch workers) is contained. */
  sandbox: SandboxConfig;
  batch: {
    /** Server paths executions may read, resolved. */
    allowedInputRoots: string[];
    maxUploadBytes: number;
    retryBackoffMs: number;
    /** Idle batch workers of the local runtime wait this long for their build's next execution. */
    workerIdleMs: number;
    heartbeatMs: number;
    staleAfterMs: number;
    /** How often scheduled batch deployments are checked. */
    scheduleCheckMs: number;
    /** Hosts URL inputs may name although they resolve to private addresses. */
    allowedUrlHosts: string[];
    /** Uploads older than this are deleted. */
    uploadRetentionMs: number;
    /** Bytes of uploads a model may keep. */
    uploadQuotaBytes: number;
  };
  quotas: QuotaLimits;
}

/**
 * A whole-number config key (or the fallback), floored and held within
 * [min, max]: counts of things kept in memory must not grow without end.
 */
export function boundedWholeNumber(
  config: Config | undefined,
  key: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const value = config?.getOptionalNumber(key) ?? fallback;
  return Math.min(max, Math.max(min, Math.floor(value)));
}

/** A duration config key (`{ minutes: 5 }`, `5m`, or milliseconds), or the fallback. */
export function durationMs(
  config: Config | undefined,
  key: string,
  fallbackMs: number,
): number {
  if (!config?.has(key)) return fallbackMs;
  const value = config.get(key);
  if (typeof value === 'number') return value;
  return durationToMilliseconds(readDurationFromConfig(config, { key }));
}

export function readPlatformConfig(config: Config): PlatformConfig {
  const c = config.getOptionalConfig('mlPlatform');
  const { dataDir, gitRoot } = readMlPlatformPaths(config);
  const b = c?.getOptionalConfig('builds');
  return {
    dataDir,
    gitRoot,
    python: c?.getOptionalString('python') ?? 'python3',
    artifacts: {
      type: c?.getOptionalString('artifacts.type') ?? 'local',
      localDir: path.resolve(
        dataDir,
        c?.getOptionalString('artifacts.local.dir') ?? 'artifacts',
      ),
      baseUrl: c?.getOptionalString('artifacts.baseUrl')?.replace(/\/+$/, ''),
      tokenTtlMs: durationMs(c, 'artifacts.tokenTtl', 15 * 60_000),
    },
    builds: {
      concurrency: b?.getOptionalNumber('concurrency') ?? 2,
      stepTimeoutMs: durationMs(b, 'stepTimeout', 10 * 60_000),
      timeoutMs: durationMs(b, 'timeout', 30 * 60_000),
      pollIntervalMs: durationMs(b, 'pollInterval', 60_000),
      heartbeatMs: durationMs(b, 'heartbeatInterval', 2_000),
      staleAfterMs: durationMs(b, 'staleAfter', 30_000),
      pip: {
        indexUrl: b?.getOptionalString('pip.indexUrl'),
        extraIndexUrl: b?.getOptionalString('pip.extraIndexUrl'),
        extraArgs: b?.getOptionalStringArray('pip.extraArgs') ?? [],
      },
      systemSitePackages: b?.getOptionalBoolean('systemSitePackages') ?? false,
      allowedPythons: b?.getOptionalStringArray('allowedPythons') ?? [],
    },
    runtime: c?.getOptionalString('runtime') ?? 'local',
    online: {
      scaleToZeroAfterMs: durationMs(c, 'online.scaleToZeroAfter', 15 * 60_000),
      reconcileIntervalMs: durationMs(c, 'online.reconcileInterval', 10_000),
      claimStaleAfterMs: durationMs(
        c,
        'online.claimStaleAfter',
        Math.max(1_500, 3 * durationMs(c, 'online.reconcileInterval', 10_000)),
      ),
    },
    gateway: {
      timeoutMs: durationMs(c, 'gateway.timeout', 30_000),
      maxBodyBytes:
        c?.getOptionalNumber('gateway.maxBodyBytes') ?? 10 * 1024 * 1024,
      coldStartTimeoutMs: durationMs(c, 'gateway.coldStartTimeout', 60_000),
      maxElements: c?.getOptionalNumber('gateway.maxElements') ?? 1_000_000,
      maxJsonDepth: c?.getOptionalNumber('gateway.maxJsonDepth') ?? 32,
      nginx: readNginxGatewayConfig(c),
    },
    sandbox: {
      user: c?.getOptionalString('sandbox.user') ?? 'nobody',
      workDir: c?.getOptionalString('sandbox.workDir')
        ? path.resolve(c.getString('sandbox.workDir'))
        : undefined,
      limits: {
        cpuTimeSeconds: Math.ceil(
          durationMs(c, 'sandbox.limits.cpuTime', 30 * 60_000) / 1000,
        ),
        memoryBytes:
          c?.getOptionalNumber('sandbox.limits.memoryBytes') ?? 4 * 1024 ** 3,
        openFiles: c?.getOptionalNumber('sandbox.limits.openFiles') ?? 1024,
      },
      buildNetwork: c?.getOptionalBoolean('sandbox.buildNetwork') ?? true,
    },
    batch: {
      allowedInputRoots: (
        c?.getOptionalStringArray('batch.allowedInputRoots') ?? []
      ).map(p => path.resolve(p)),
      maxUploadBytes:
        c?.getOptionalNumber('batch.maxUploadBytes') ?? 2 * 1024 ** 3,
      retryBackoffMs: durationMs(c, 'batch.retryBackoff', 1000),
      workerIdleMs: durationMs(c, 'batch.workerIdleTimeout', 30_000),
      heartbeatMs: durationMs(c, 'batch.heartbeatInterval', 2000),
      staleAfterMs: durationMs(c, 'batch.staleAfter', 30_000),
      scheduleCheckMs: durationMs(c, 'batch.scheduleCheckInterval', 30_000),
      allowedUrlHosts: (
        c?.getOptionalStringArray('batch.allowedUrlHosts') ?? []
      ).map(h => h.toLowerCase()),
      uploadRetentionMs: durationMs(
        c,
        'batch.uploadRetention',
        7 * 24 * 60 * 60_000,
      ),
      uploadQuotaBytes:
        c?.getOptionalNumber('batch.uploadQuotaBytes') ?? 10 * 1024 ** 3,
    },
    quotas: {
      onlineReplicasPerModel:
        c?.getOptionalNumber('quotas.onlineReplicasPerModel') ?? 8,
      onlineReplicasPerOwner:
        c?.getOptionalNumber('quotas.onlineReplicasPerOwner') ?? 32,
      concurrentExecutionsPerModel:
        c?.getOptionalNumber('quotas.concurrentExecutionsPerModel') ?? 4,
      queuedBuildsPerModel:
        c?.getOptionalNumber('quotas.queuedBuildsPerModel') ?? 5,
    },
    seedRepositories: (c?.getOptionalConfigArray('seedRepositories') ?? []).map(
      s => ({
        name: s.getString('name'),
        from: path.resolve(s.getString('from')),
        models: s.getConfigArray('models').map(m => ({
          entityRef: m.getString('entityRef'),
          path: m.getOptionalString('path') ?? '',
        })),
      }),
    ),
  };
}

/** `gateway.nginx`, when enabled (`true` or `auto`). */
function readNginxGatewayConfig(
  c: Config | undefined,
): NginxGatewayConfig | undefined {
  const enabled = c?.getOptional('gateway.nginx.enabled') ?? false;
  if (enabled !== 'auto' && typeof enabled !== 'boolean') {
    throw new Error(
      `mlPlatform.gateway.nginx.enabled: expected true, false or auto, got ${JSON.stringify(
        enabled,
      )}`,
    );
  }
  if (!c || enabled === false) return undefined;
  return {
    whenInstalled: enabled === 'auto',
    publicUrl: c.getOptionalString('gateway.nginx.publicUrl'),
    command: c.getOptionalString('gateway.nginx.command') ?? '/usr/sbin/nginx',
    modulesDir:
      c.getOptionalString('gateway.nginx.modulesDir') ??
      '/usr/lib/nginx/modules',
    host: c.getOptionalString('gateway.nginx.host') ?? '127.0.0.1',
    port: c.getOptionalNumber('gateway.nginx.port') ?? 7008,
    workers: boundedWholeNumber(c, 'gateway.nginx.workers', 1, 1, 64),
  };
}
