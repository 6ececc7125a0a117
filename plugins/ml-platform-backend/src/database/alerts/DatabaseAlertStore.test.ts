import { TestDatabaseId } from '@backstage/backend-test-utils';
import {
  createTestStores,
  storeTestDatabases,
} from '../../__testUtils__/stores';

jest.setTimeout(60_000);

const MODEL = 'component:default/churn';
const T0 = Date.UTC(2026, 11, 3, 10, 0, 0);

async function createStore(id: TestDatabaseId) {
  return (await createTestStores(id)).stores.alerts;
}

const rule = (name: string, threshold = 1) => ({
  name,
  metric: 'error_rate',
  op: '>' as const,
  threshold,
  for: '5m',
  severity: 'warning' as const,
});

describe.each(storeTestDatabases.eachSupportedId())(
  'DatabaseAlertStore (%s)',
  id => {
    it('replaces a model’s rules in order, dropping the states of rules gone but the kept ones', async () => {
      const store = await createStore(id);
      await store.replaceRules(MODEL, [rule('b'), rule('a', 2)], {
        now: T0,
        keep: [],
      });
      expect(await store.listRules(MODEL)).toEqual([rule('b'), rule('a', 2)]);
      expect(await store.listModelsWithRules()).toEqual([MODEL]);
      for (const name of ['a', 'b', 'from-manifest']) {
        await store.saveState({
          modelRef: MODEL,
          rule: name,
          state: 'firing',
          since: T0,
          pendingSince: T0,
          value: 0.5,
          evaluatedAt: T0,
        });
      }
      await store.replaceRules(MODEL, [rule('a')], {
        now: T0,
        keep: ['from-manifest'],
      });
      expect((await store.listStates(MODEL)).map(s => s.rule).sort()).toEqual([
        'a',
        'from-manifest',
      ]);
      expect(await store.listRules(MODEL)).toEqual([rule('a')]);
    });

    it('keeps a silence apart from the evaluator’s writes, and history newest first', async () => {
      const store = await createStore(id);
      await store.setSilence(MODEL, 'a', T0 + 3600_000, 'user:default/ada');
      await store.saveState(
        {
          modelRef: MODEL,
          rule: 'a',
          state: 'pending',
          since: T0,
          pendingSince: T0,
          value: 0.25,
          evaluatedAt: T0,
        },
        {
          modelRef: MODEL,
          rule: 'a',
          state: 'pending',
          value: 0.25,
          threshold: 0.1,
          at: T0,
          source: 'evaluator',
          notified: false,
          silenced: true,
        },
      );
      expect(await store.listStates(MODEL)).toEqual([
        {
          modelRef: MODEL,
          rule: 'a',
          state: 'pending',
          since: T0,
          pendingSince: T0,
          value: 0.25,
          evaluatedAt: T0,
          silencedUntil: T0 + 3600_000,
          silencedBy: 'user:default/ada',
        },
      ]);
      const entry = {
        modelRef: MODEL,
        rule: 'a',
        state: 'firing' as const,
        value: null,
        threshold: 0.1,
        at: T0 + 60_000,
        source: 'alertmanager' as const,
        notified: true,
        silenced: false,
      };
      expect(await store.addHistoryOnce(entry)).toBe(true);
      expect(await store.addHistoryOnce(entry)).toBe(false);
      const page = await store.listHistory({
        modelRef: MODEL,
        limit: 10,
        offset: 0,
      });
      expect(page.totalCount).toBe(2);
      expect(
        page.items.map(h => [h.state, h.source, h.at, h.silenced]),
      ).toEqual([
        ['firing', 'alertmanager', new Date(T0 + 60_000).toISOString(), false],
        ['pending', 'evaluator', new Date(T0).toISOString(), true],
      ]);
      expect(
        (
          await store.listHistory({
            modelRef: MODEL,
            rule: 'b',
            limit: 10,
            offset: 0,
          })
        ).totalCount,
      ).toBe(0);
    });
  },
);
