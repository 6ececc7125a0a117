import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { z } from 'zod';
import { LogStore, ModelLogLine } from '../database/modelLogs/LogStore';
import { timeParam } from '../events/eventsQuery';
import { ModelCatalog } from '../services/ModelCatalog';

/** Most lines one answer has. */
export const MAX_LOG_LINES = 2000;

/** Query of `GET models/{namespace}/{name}/logs`. */
export const logsQuery = z.strictObject({
  source: z
    .enum(['build', 'deployment', 'execution'], {
      error: 'expected build, deployment or execution',
    })
    .optional(),
  q: z
    .string()
    .max(200, { error: 'expected at most 200 characters' })
    .optional(),
  level: z
    .enum(['debug', 'info', 'warn', 'error'], {
      error: 'expected debug, info, warn or error',
    })
    .optional(),
  from: timeParam,
  to: timeParam,
  subject: z
    .string()
    .regex(/^[\w-]{1,64}$/, {
      error: 'expected a build, deployment or execution id',
    })
    .optional(),
  after: z.coerce
    .number({ error: 'expected a line id' })
    .int({ error: 'expected a line id' })
    .min(0, { error: 'expected a line id' })
    .optional(),
  limit: z.coerce
    .number({ error: `expected a number from 1 to ${MAX_LOG_LINES}` })
    .int({ error: `expected a number from 1 to ${MAX_LOG_LINES}` })
    .min(1, { error: `expected a number from 1 to ${MAX_LOG_LINES}` })
    .max(MAX_LOG_LINES, {
      error: `expected a number from 1 to ${MAX_LOG_LINES}`,
    })
    .default(500),
});

/** A page of a model's log lines, oldest first. */
export interface ModelLogPage {
  items: (Omit<ModelLogLine, 'time' | 'modelRef'> & { time: string })[];
  /** Pass as `after` to follow: the next call answers newer lines only. */
  lastId: number;
}

/** Searches a model's build, deployment and execution logs. */
export class LogSearch {
  constructor(
    private readonly options: { store: LogStore; models: ModelCatalog },
  ) {}

  async search(
    ref: { namespace: string; name: string },
    query: z.output<typeof logsQuery>,
    credentials: BackstageCredentials,
  ): Promise<ModelLogPage> {
    const entity = await this.options.models.getEntity(ref, credentials);
    const { after, subject, ...rest } = query;
    const lines = await this.options.store.searchLines({
      ...rest,
      modelRef: stringifyEntityRef(entity),
      subjectId: subject,
      afterId: after,
    });
    return {
      items: lines.map(({ modelRef: _, time, ...line }) => ({
        ...line,
        time: new Date(time).toISOString(),
      })),
      lastId: lines.at(-1)?.id ?? after ?? 0,
    };
  }
}
