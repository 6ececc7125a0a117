import { RuntimeLogLine } from '@internal/plugin-ml-platform-node';
import express from 'express';
import { UpdateDeployment } from '../schema/openapi/generated';
import { PlatformApiRouter, RouteContext } from '../subsystems/types';
import { startTextStream } from '../http/textStream';
import { DeploymentService } from './DeploymentService';

function formatLogLine(l: RuntimeLogLine) {
  return `${l.time} [${l.replica ?? l.stream}] ${l.line}`;
}

/** Deployments: desired state, scale, rollout, rollback, undeploy, logs. */
export function deploymentRoutes(
  api: PlatformApiRouter,
  ctx: RouteContext,
  { deployments }: { deployments: DeploymentService },
) {
  api.post('/models/:namespace/:name/deployments', async (req, res) => {
    const caller = await ctx.callerOf(req, res);
    res
      .status(201)
      .json(await deployments.create(req.params, req.body, caller));
  });

  api.get('/models/:namespace/:name/deployments', async (req, res) => {
    const credentials = await ctx.httpAuth.credentials(req);
    res.json({ items: await deployments.list(req.params, credentials) });
  });

  api.get('/deployments/:id', async (req, res) => {
    const credentials = await ctx.httpAuth.credentials(req);
    res.json(await deployments.get(req.params.id, credentials));
  });

  // PATCH is not among the typed router's methods: typed by the EndpointMap.
  api.patch(
    '/deployments/:id',
    async (
      req: express.Request<
        UpdateDeployment['path'],
        UpdateDeployment['response'],
        UpdateDeployment['body']
      >,
      res: express.Response<UpdateDeployment['response']>,
    ) => {
      const caller = await ctx.callerOf(req, res);
      res.json(await deployments.update(req.params.id, req.body, caller));
    },
  );

  api.delete('/deployments/:id', async (req, res) => {
    const caller = await ctx.callerOf(req, res);
    await deployments.remove(req.params.id, caller);
    res.status(204).end();
  });

  api.get('/deployments/:id/logs', async (req, res) => {
    const credentials = await ctx.httpAuth.credentials(req);
    const { after, tail = 200, follow, format = 'text' } = req.query;
    const lines = await deployments.readLogs(
      req.params.id,
      after !== undefined ? { afterSeq: after } : { tail },
      credentials,
    );
    if (format === 'json') {
      res.json({
        items: lines,
        lastSeq: lines.at(-1)?.seq ?? after ?? 0,
      });
      return;
    }
    startTextStream(res);
    if (lines.length) res.write(`${lines.map(formatLogLine).join('\n')}\n`);
    if (follow !== 'true') {
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
}
