import {
  BackstageCredentials,
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError } from '@backstage/errors';
import { BasicPermission } from '@backstage/plugin-permission-common';
import {
  mlPlatformBuildCreatePermission,
  mlPlatformDeploymentManagePermission,
  mlPlatformExecutionCreatePermission,
} from '@internal/plugin-ml-platform-common';
import { RuntimeLogLine } from '@internal/plugin-ml-platform-node';
import { pipeline } from 'node:stream/promises';
import { ExecutionService } from './batch/ExecutionService';
import { DeploymentService } from './deployments/DeploymentService';
import { InvocationRoutes } from './gateway/InvocationRoutes';
import express from 'express';
import Router from 'express-promise-router';
import { BuildService } from './builds/BuildService';
import { streamBuildLog } from './builds/streamBuildLog';
import { ModelCatalog } from './services/ModelCatalog';
import { MonitoringRoutes } from './monitoring/createMonitoring';
import { metricsQuery, trafficQuery } from './monitoring/metricsQuery';
import { OpenApiDocument } from './schema/openApiDocument';
import {
  buildLogsQuery,
  createBuildBody,
  createDeploymentBody,
  createExecutionBody,
  deploymentLogsQuery,
  listChunksQuery,
  uploadQuery,
  updateDeploymentBody,
  listBuildsQuery,
  registerModelBody,
} from './schema/requests';
import { parseRequest } from './validation';

export interface RouterOptions {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  models: ModelCatalog;
  builds: BuildService;
  deployments: DeploymentService;
  executions: ExecutionService;
  /** Model invocations; the data plane serves them too, ahead of this router. */
  invocations: InvocationRoutes;
  monitoring: MonitoringRoutes;
  openApi: OpenApiDocument;
}

const RESULT_TYPES = {
  csv: 'text/csv; charset=utf-8',
  jsonl: 'application/x-ndjson',
  parquet: 'application/vnd.apache.parquet',
};

function formatLogLine(l: RuntimeLogLine) {
  return `${l.time} [${l.replica ?? l.stream}] ${l.line}`;
}

/** Who made a request, as recorded on what it created. */
function principalRef(credentials: BackstageCredentials): string | undefined {
  const p = credentials.principal as {
    type: string;
    userEntityRef?: string;
    subject?: string;
  };
  if (p.type === 'user') return p.userEntityRef;
  if (p.type === 'service') return p.subject;
  return undefined;
}

/**
 * The HTTP layer: parse, authorize, call a service, answer. Every route is in
 * src/schema/openapi.yaml (a test keeps them in step).
 */
export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const {
    httpAuth,
    permissions,
    models,
    builds,
    deployments,
    executions,
    invocations,
    monitoring,
    openApi,
  } = options;
  const router = Router();

  const authorize = async (
    credentials: BackstageCredentials,
    permission: BasicPermission,
  ) => {
    const [decision] = await permissions.authorize([{ permission }], {
      credentials,
    });
    if (decision.result !== 'ALLOW') {
      throw new NotAllowedError(`Not allowed: ${permission.name}`);
    }
  };

  // Invocations read their own body, so they come before the JSON parser.
  router.post('/v2/models/:name/infer', (req, res) =>
    invocations.serve({ protocol: 'v2', name: req.params.name }, req, res),
  );
  router.post('/models/:namespace/:name/predict', (req, res) =>
    invocations.serve(
      {
        protocol: 'records',
        namespace: req.params.namespace,
        name: req.params.name,
      },
      req,
      res,
    ),
  );

  // Uploads stream to disk, so they come before the JSON parser too.
  router.post('/models/:namespace/:name/uploads', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const { filename } = parseRequest(uploadQuery, req.query, 'query');
    await authorize(credentials, mlPlatformExecutionCreatePermission);
    const upload = await executions.upload(
      { namespace: req.params.namespace, name: req.params.name },
      filename,
      req,
      credentials,
    );
    res.status(201).json(upload);
  });

  router.use(express.json({ limit: '1mb' }));

  router.get('/openapi.json', async (_req, res) => {
    res.json(openApi.document);
  });

  // Scrapes send a Backstage token (e.g. a static externalAccess one), or
  // none when mlPlatform.monitoring.scrape.allowUnauthenticated is set.
  const scrapeAuth = async (req: express.Request) => {
    if (!monitoring.allowUnauthenticatedScrape) {
      await httpAuth.credentials(req, { allow: ['user', 'service'] });
    }
  };

  router.get('/metrics', async (req, res) => {
    await scrapeAuth(req);
    const { exposition } = monitoring;
    const text = await exposition.metrics();
    res.setHeader('Content-Type', exposition.contentType);
    res.end(text);
  });

  router.get('/runtime/scrape-targets', async (req, res) => {
    await scrapeAuth(req);
    res.json(await monitoring.scrapeTargets());
  });

  router.get('/models/traffic', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const query = parseRequest(trafficQuery, req.query, 'query');
    res.json({ items: await monitoring.metrics.traffic(query, credentials) });
  });

  router.get('/models', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json({ items: await models.listModels(credentials) });
  });

  router.get('/models/:namespace/:name', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json(await models.getModel(req.params, credentials));
  });

  router.post('/models/:namespace/:name/register', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const body = parseRequest(registerModelBody, req.body, 'body');
    res.json(await models.register(req.params, body, credentials));
  });

  router.get('/models/:namespace/:name/metrics', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const query = parseRequest(metricsQuery, req.query, 'query');
    res.json(
      await monitoring.metrics.modelMetrics(req.params, query, credentials),
    );
  });

  router.get('/models/:namespace/:name/permissions', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    await models.getEntity(req.params, credentials);
    const checks = {
      build: mlPlatformBuildCreatePermission,
      deploy: mlPlatformDeploymentManagePermission,
      execute: mlPlatformExecutionCreatePermission,
    };
    const decisions = await permissions.authorize(
      Object.values(checks).map(permission => ({ permission })),
      { credentials },
    );
    res.json(
      Object.fromEntries(
        Object.entries(checks).map(([action, permission], i) => {
          const allowed = decisions[i].result === 'ALLOW';
          return [
            action,
            allowed
              ? { allowed }
              : {
                  allowed,
                  reason: `The permission policy does not grant you ${permission.name}`,
                },
          ];
        }),
      ),
    );
  });

  router.post('/models/:namespace/:name/builds', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const body = parseRequest(createBuildBody, req.body, 'body');
    await authorize(credentials, mlPlatformBuildCreatePermission);
    const { build, created } = await builds.requestBuild({
      ref: req.params,
      ...body,
      trigger: 'api',
      requestedBy: principalRef(credentials),
      credentials,
    });
    res.status(created ? 202 : 200).json(build);
  });

  router.get('/models/:namespace/:name/builds', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const page = parseRequest(listBuildsQuery, req.query, 'query');
    res.json(await builds.listBuilds(req.params, page, credentials));
  });

  router.get('/builds/:id', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json(await builds.getBuild(req.params.id, credentials));
  });

  router.get('/builds/:id/logs', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const query = parseRequest(buildLogsQuery, req.query, 'query');
    await builds.getBuild(req.params.id, credentials);
    await streamBuildLog({
      builds,
      buildId: req.params.id,
      follow: query.follow === 'true',
      after: query.after,
      format: query.format,
      req,
      res,
    });
  });

  router.post('/builds/:id/cancel', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    await authorize(credentials, mlPlatformBuildCreatePermission);
    res.status(202).json(await builds.cancel(req.params.id, credentials));
  });

  router.post('/models/:namespace/:name/deployments', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const body = parseRequest(createDeploymentBody, req.body, 'body');
    await authorize(credentials, mlPlatformDeploymentManagePermission);
    res
      .status(201)
      .json(
        await deployments.create(
          req.params,
          body,
          credentials,
          principalRef(credentials),
        ),
      );
  });

  router.get('/models/:namespace/:name/deployments', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json({ items: await deployments.list(req.params, credentials) });
  });

  router.get('/deployments/:id', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json(await deployments.get(req.params.id, credentials));
  });

  router.patch('/deployments/:id', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const body = parseRequest(updateDeploymentBody, req.body, 'body');
    await authorize(credentials, mlPlatformDeploymentManagePermission);
    res.json(await deployments.update(req.params.id, body, credentials));
  });

  router.delete('/deployments/:id', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    await authorize(credentials, mlPlatformDeploymentManagePermission);
    await deployments.remove(req.params.id, credentials);
    res.status(204).end();
  });

  router.get('/deployments/:id/logs', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const query = parseRequest(deploymentLogsQuery, req.query, 'query');
    const lines = await deployments.readLogs(
      req.params.id,
      query.after !== undefined
        ? { afterSeq: query.after }
        : { tail: query.tail },
      credentials,
    );
    if (query.format === 'json') {
      res.json({
        items: lines,
        lastSeq: lines.at(-1)?.seq ?? query.after ?? 0,
      });
      return;
    }
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    if (lines.length) res.write(`${lines.map(formatLogLine).join('\n')}\n`);
    if (query.follow !== 'true') {
      res.end();
      return;
    }
    res.flushHeaders();
    let lastSeq = lines.at(-1)?.seq ?? 0;
    const unsubscribe = deployments.onLog(req.params.id, line => {
      if (line.seq <= lastSeq) return;
      lastSeq = line.seq;
      res.write(`${formatLogLine(line)}\n`);
    });
    req.on('close', unsubscribe);
  });

  router.post('/models/:namespace/:name/executions', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const body = parseRequest(createExecutionBody, req.body, 'body');
    await authorize(credentials, mlPlatformExecutionCreatePermission);
    res
      .status(202)
      .json(
        await executions.create(
          req.params,
          body,
          credentials,
          principalRef(credentials),
        ),
      );
  });

  router.get('/models/:namespace/:name/executions', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json({ items: await executions.list(req.params, credentials) });
  });

  router.get('/executions/:id', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json(await executions.get(req.params.id, credentials));
  });

  router.get('/executions/:id/chunks', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const { status } = parseRequest(listChunksQuery, req.query, 'query');
    res.json({
      items: await executions.chunks(req.params.id, status, credentials),
    });
  });

  router.post('/executions/:id/cancel', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    await authorize(credentials, mlPlatformExecutionCreatePermission);
    res.status(202).json(await executions.cancel(req.params.id, credentials));
  });

  router.get('/executions/:id/result', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const result = await executions.result(req.params.id, credentials);
    res.setHeader('Content-Type', RESULT_TYPES[result.format]);
    res.setHeader(
      'Content-Disposition',
      `attachment; filename="${result.filename}"`,
    );
    await pipeline(result.stream, res);
  });

  return router;
}
