import {
  Content,
  EmptyState,
  Link,
  Progress,
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { EntityRefLink } from '@backstage/plugin-catalog-react';
import { ModelSummary } from '@internal/plugin-ml-platform-common';
import useAsync from 'react-use/esm/useAsync';
import { mlPlatformApiRef } from '../../api';
import { StatusChip } from '../StatusChip';

type Row = ModelSummary & {
  id: string;
  buildStatus: string;
  deploymentStatus: string;
};

const columns: TableColumn<Row>[] = [
  {
    title: 'Model',
    field: 'name',
    highlight: true,
    render: row => (
      <EntityRefLink entityRef={row.ref} title={row.title ?? row.name} />
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
    render: row =>
      row.platform.latestBuild ? (
        <StatusChip
          status={row.platform.latestBuild.status}
          label={`v${row.platform.latestBuild.version} ${row.platform.latestBuild.status}`}
        />
      ) : (
        'never built'
      ),
  },
  {
    title: 'Live deployment',
    field: 'deploymentStatus',
    render: row => {
      const d = row.platform.liveDeployment;
      return d ? (
        <StatusChip
          status={d.status}
          label={`${d.status} (${d.readyReplicas}/${d.replicas} ready)`}
        />
      ) : (
        'not deployed'
      );
    },
  },
  {
    title: 'Running executions',
    field: 'platform.runningExecutions',
    type: 'numeric',
  },
];

/** Every model in the catalog with its platform state. */
export function ModelsPage() {
  const api = useApi(mlPlatformApiRef);
  const { value, loading, error } = useAsync(() => api.listModels(), [api]);

  if (loading) {
    return <Progress />;
  }
  if (error) {
    return (
      <Content>
        <ResponseErrorPanel error={error} />
      </Content>
    );
  }
  if (!value?.length) {
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

  const rows: Row[] = value.map(m => ({
    ...m,
    id: m.ref,
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
