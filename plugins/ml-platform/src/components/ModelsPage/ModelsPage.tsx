import {
  Content,
  EmptyState,
  Link,
  Progress,
  ResponseErrorPanel,
  SubvalueCell,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { useApi, useRouteRef } from '@backstage/core-plugin-api';
import { EntityRefLink, entityRouteRef } from '@backstage/plugin-catalog-react';
import {
  ModelSummary,
  ModelTraffic,
} from '@internal/plugin-ml-platform-common';
import { ReactNode } from 'react';
import { mlPlatformApiRef } from '../../api';
import { usePolledAsync } from '../../hooks';
import { formatPerSecond, formatRatio } from '../../lib/format';
import { StatusChip } from '../StatusChip';

type Row = ModelSummary & {
  id: string;
  buildStatus: string;
  deploymentStatus: string;
  /** The last hour's calls, once loaded. */
  traffic?: ModelTraffic;
};

/** How often the page reads the models' traffic. */
const TRAFFIC_POLL_MS = 15_000;

/** A link into the model's ML Platform entity tab, e.g. `?tab=batch`. */
function ModelTabLink(props: {
  row: Row;
  search: string;
  children: ReactNode;
}) {
  const entityRoute = useRouteRef(entityRouteRef);
  const { row, search, children } = props;
  const entityPath = entityRoute({
    namespace: row.namespace,
    kind: 'component',
    name: row.name,
  });
  return <Link to={`${entityPath}/ml-platform${search}`}>{children}</Link>;
}

const columns: TableColumn<Row>[] = [
  {
    title: 'Model',
    field: 'name',
    highlight: true,
    render: row => (
      <SubvalueCell
        value={
          <EntityRefLink entityRef={row.ref} title={row.title ?? row.name} />
        }
        subvalue={row.description}
      />
    ),
  },
  {
    title: 'Owner',
    field: 'owner',
    render: row =>
      row.owner ? (
        <EntityRefLink entityRef={row.owner} defaultKind="group" />
      ) : (
        ''
      ),
  },
  {
    title: 'Latest build',
    field: 'buildStatus',
    render: row => {
      const b = row.platform.latestBuild;
      return b ? (
        <ModelTabLink row={row} search={`?build=${encodeURIComponent(b.id)}`}>
          <StatusChip status={b.status} label={`v${b.version} ${b.status}`} />
        </ModelTabLink>
      ) : (
        'never built'
      );
    },
  },
  {
    title: 'Live deployment',
    field: 'deploymentStatus',
    render: row => {
      const d = row.platform.liveDeployment;
      return d ? (
        <ModelTabLink row={row} search="?tab=deployments">
          <StatusChip
            status={d.status}
            label={`${d.status} (${d.readyReplicas}/${d.replicas} ready)`}
          />
        </ModelTabLink>
      ) : (
        'not deployed'
      );
    },
  },
  {
    title: 'Requests/s (1 h)',
    field: 'traffic.requestsPerSecond',
    type: 'numeric',
    render: row =>
      row.traffic ? (
        <ModelTabLink row={row} search="?tab=monitoring">
          {formatPerSecond(row.traffic.requestsPerSecond)}
        </ModelTabLink>
      ) : (
        '—'
      ),
  },
  {
    title: 'Errors (1 h)',
    field: 'traffic.errorRatio',
    type: 'numeric',
    render: row => formatRatio(row.traffic?.errorRatio),
  },
  {
    title: 'Running executions',
    field: 'platform.runningExecutions',
    type: 'numeric',
    render: row =>
      row.platform.runningExecutions > 0 ? (
        <ModelTabLink row={row} search="?tab=batch">
          {row.platform.runningExecutions}
        </ModelTabLink>
      ) : (
        0
      ),
  },
];

/** Every model in the catalog with its platform state. */
export function ModelsPage() {
  const api = useApi(mlPlatformApiRef);
  // Builds finish and deployments come up while the page is open.
  const { value, loading, error } = usePolledAsync(
    () => api.listModels(),
    [api],
  );
  // Traffic is a nicety: the list shows without it.
  const traffic = usePolledAsync(
    () => api.listModelTraffic('1h'),
    [api],
    TRAFFIC_POLL_MS,
  );

  if (loading) {
    return <Progress />;
  }
  if (!value) {
    return (
      <Content>
        <ResponseErrorPanel error={error ?? new Error('No models')} />
      </Content>
    );
  }
  if (!value.length) {
    return (
      <Content>
        <EmptyState
          missing="data"
          title="No models yet"
          description={
            <>
              Models are catalog components with{' '}
              <code>spec.type: ml-model</code>. Create one from the{' '}
              <Link to="/create">New ML model</Link> template.
            </>
          }
        />
      </Content>
    );
  }

  const trafficOf = new Map((traffic.value ?? []).map(t => [t.ref, t]));
  const rows: Row[] = value.map(m => ({
    ...m,
    id: m.ref,
    traffic: trafficOf.get(m.ref),
    buildStatus: m.platform.latestBuild?.status ?? 'never built',
    deploymentStatus: m.platform.liveDeployment?.status ?? 'not deployed',
  }));
  return (
    <Content>
      <Table<Row>
        title={`Models (${rows.length})`}
        options={{ paging: rows.length > 20, pageSize: 20, search: true }}
        columns={columns}
        data={rows}
        filters={[
          { column: 'Owner', type: 'select' },
          { column: 'Latest build', type: 'select' },
          { column: 'Live deployment', type: 'select' },
        ]}
      />
    </Content>
  );
}
