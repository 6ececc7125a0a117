import {
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  ModelActivity,
  ModelActivityAction,
} from '@internal/plugin-ml-platform-common';
import { useCallback, useState } from 'react';
import { mlPlatformApiRef } from '../../api';
import { useModelRef } from '../../hooks';
import { formatTime } from '../../lib/format';
import { Principal } from '../Principal';
import { StatusChip } from '../StatusChip';

/** Entries per page; the API serves up to 200. */
export const ACTIVITY_PAGE_SIZE = 20;

const ACTIONS: Record<ModelActivityAction, string> = {
  'model.register': 'Register',
  'build.create': 'Build',
  'build.cancel': 'Cancel build',
  'deployment.create': 'Deploy',
  'deployment.rollout': 'Roll out',
  'deployment.scale': 'Scale',
  'deployment.delete': 'Undeploy',
  'execution.create': 'Start execution',
  'execution.cancel': 'Cancel execution',
  'alert.update': 'Change alerts',
  'subscription.create': 'Subscribe',
  'subscription.update': 'Change subscription',
  'subscription.delete': 'Unsubscribe',
  'subscription.retry': 'Retry dead letter',
};

const columns: TableColumn<ModelActivity>[] = [
  {
    title: 'When',
    field: 'createdAt',
    width: '15%',
    cellStyle: { whiteSpace: 'nowrap' },
    render: row => formatTime(row.createdAt),
  },
  {
    title: 'Who',
    field: 'actor',
    width: '15%',
    render: row => <Principal entityRef={row.actor} />,
  },
  {
    title: 'What',
    field: 'action',
    width: '12%',
    cellStyle: { whiteSpace: 'nowrap' },
    render: row => ACTIONS[row.action] ?? row.action,
  },
  {
    title: 'Outcome',
    field: 'outcome',
    width: '10%',
    cellStyle: { whiteSpace: 'nowrap' },
    render: row => <StatusChip status={row.outcome} />,
  },
  { title: 'Details', field: 'message' },
];

/**
 * The model's history: every change and every refused or failed attempt,
 * who made it and when, newest first, a page at a time from the API.
 */
export function ActivityTab() {
  const ref = useModelRef();
  const api = useApi(mlPlatformApiRef);
  const [error, setError] = useState<Error>();

  const load = useCallback(
    async (query: { page: number; pageSize: number }) => {
      try {
        const page = await api.listActivity(ref, {
          limit: query.pageSize,
          offset: query.page * query.pageSize,
        });
        setError(undefined);
        return {
          data: page.items,
          page: query.page,
          totalCount: page.totalCount,
        };
      } catch (e) {
        setError(e as Error);
        return { data: [], page: 0, totalCount: 0 };
      }
    },
    [api, ref],
  );

  return (
    <>
      {error && <ResponseErrorPanel error={error} />}
      <Table<ModelActivity>
        title="Activity"
        subtitle="Changes of the model and attempts at them, newest first"
        columns={columns}
        data={load}
        options={{
          paging: true,
          pageSize: ACTIVITY_PAGE_SIZE,
          pageSizeOptions: [ACTIVITY_PAGE_SIZE, 50, 100],
          search: false,
          sorting: false,
          padding: 'dense',
        }}
        localization={{
          body: {
            emptyDataSourceMessage:
              'Nothing has changed yet: builds, deployments, executions and their cancellations appear here, with refused attempts.',
          },
        }}
      />
    </>
  );
}
