import { Table, TableColumn } from '@backstage/core-components';
import { ModelBuild } from '@internal/plugin-ml-platform-common';
import { useTheme } from '@material-ui/core/styles';
import { useMemo } from 'react';
import { buildDurationMs, formatDuration, formatTime } from '../../lib/format';
import { CommitLink } from '../CommitLink';
import { Principal } from '../Principal';
import { StatusChip } from '../StatusChip';

type Row = ModelBuild & { duration: string };

const columns: TableColumn<Row>[] = [
  {
    title: 'Version',
    field: 'version',
    highlight: true,
    render: row => `v${row.version}`,
  },
  {
    title: 'Status',
    field: 'status',
    // A narrow column would otherwise break "succeeded" mid-word.
    cellStyle: { whiteSpace: 'nowrap' },
    render: row => <StatusChip status={row.status} />,
  },
  { title: 'Branch', field: 'branch' },
  {
    title: 'Commit',
    field: 'commitSha',
    render: row => (
      <CommitLink sha={row.commitSha} message={row.commitMessage} />
    ),
  },
  {
    title: 'Trigger',
    field: 'trigger',
    render: row =>
      row.triggerSource ? `${row.trigger} (${row.triggerSource})` : row.trigger,
  },
  {
    title: 'Requested by',
    field: 'requestedBy',
    render: row => <Principal entityRef={row.requestedBy} />,
  },
  {
    title: 'Created',
    field: 'createdAt',
    render: row => formatTime(row.createdAt),
  },
  { title: 'Duration', field: 'duration' },
];

/** The model's builds, newest first; a click opens one. */
export function BuildsTable(props: {
  builds: ModelBuild[];
  totalCount: number;
  selectedId?: string;
  onSelect: (build: ModelBuild) => void;
}) {
  const { builds, totalCount, selectedId, onSelect } = props;
  const theme = useTheme();
  // The table writes into its rows; give it copies.
  const rows = useMemo(
    () =>
      builds.map(b => {
        const ms = buildDurationMs(b);
        return { ...b, duration: ms === undefined ? '' : formatDuration(ms) };
      }),
    [builds],
  );
  const title =
    totalCount > builds.length
      ? `Builds (latest ${builds.length} of ${totalCount})`
      : `Builds (${totalCount})`;
  return (
    <Table<Row>
      title={title}
      columns={columns}
      data={rows}
      options={{
        paging: rows.length > 20,
        pageSize: 20,
        search: false,
        padding: 'dense',
        rowStyle: row =>
          row.id === selectedId
            ? { backgroundColor: theme.palette.action.selected }
            : {},
      }}
      onRowClick={(_event, row) => row && onSelect(row)}
    />
  );
}
