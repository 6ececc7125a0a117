import {
  alertMetrics,
  alertRuleSchema,
} from '@internal/plugin-ml-platform-common';
import { z } from 'zod';
import { isBuiltInMetric } from './alertMetrics';

/** Longest silence: a month; longer is a rule to delete. */
export const MAX_SILENCE_MS = 30 * 86_400_000;
export const MAX_RULES = 50;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const KPI_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]*$/;

const ruleBody = alertRuleSchema
  .extend({
    name: alertRuleSchema.shape.name.regex(NAME, {
      error:
        'expected letters, digits, "_", "." or "-", starting with a letter or digit',
    }),
    metric: alertRuleSchema.shape.metric.regex(KPI_NAME, {
      error: `expected one of ${alertMetrics.join(
        ', ',
      )}, or a custom KPI's name`,
    }),
  })
  .strict()
  .superRefine((rule, ctx) => {
    if (
      rule.output !== undefined &&
      rule.metric !== 'prediction_mean' &&
      rule.metric !== 'prediction_drift'
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['output'],
        message:
          'only prediction_mean and prediction_drift rules take an output',
      });
    }
    if (!Number.isFinite(rule.threshold)) {
      ctx.addIssue({
        code: 'custom',
        path: ['threshold'],
        message: 'expected a finite number',
      });
    }
    if (rule.metric === 'prediction_drift' && rule.threshold > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['threshold'],
        message: 'drift is a distance in [0, 1]',
      });
    }
    if (
      !isBuiltInMetric(rule.metric) &&
      /^(latency|error|prediction)_/.test(rule.metric)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['metric'],
        message: `expected one of ${alertMetrics.join(
          ', ',
        )}, or a custom KPI's name`,
      });
    }
  });

/** `PUT models/{ns}/{name}/alerts`: every rule set through the API. */
export const putAlertsBody = z
  .object({
    rules: z
      .array(ruleBody, { error: 'expected a list of rules' })
      .max(MAX_RULES, { error: `expected at most ${MAX_RULES} rules` }),
  })
  .strict()
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    body.rules.forEach((rule, i) => {
      if (seen.has(rule.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'name'],
          message: `another rule is named ${rule.name}`,
        });
      }
      seen.add(rule.name);
    });
  });

/** `POST .../alerts/{rule}/silence`: for how long. */
export const silenceBody = z
  .object({
    duration: z
      .string({ error: 'expected a duration like 30m, 2h or 1d' })
      .regex(/^\d{1,6}(m|h|d)$/, {
        error: 'expected a duration like 30m, 2h or 1d',
      }),
  })
  .strict();

export function silenceMs(duration: string): number {
  const n = Number(duration.slice(0, -1));
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[duration.slice(-1)]!;
  return n * unit;
}

export const historyQuery = z
  .object({
    rule: z.string().max(100).optional(),
    limit: z.coerce
      .number({ error: 'expected a number from 1 to 500' })
      .int({ error: 'expected a number from 1 to 500' })
      .min(1, { error: 'expected a number from 1 to 500' })
      .max(500, { error: 'expected a number from 1 to 500' })
      .optional(),
    offset: z.coerce
      .number({ error: 'expected a non-negative integer' })
      .int({ error: 'expected a non-negative integer' })
      .min(0, { error: 'expected a non-negative integer' })
      .optional(),
  })
  .strict();
