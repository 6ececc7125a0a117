import { Progress, ResponseErrorPanel } from '@backstage/core-components';
import Grid from '@material-ui/core/Grid';
import { useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { useBuilds, useModelPermissions, useModelRef } from '../../hooks';
import { ActionButton } from '../ActionButton';
import { TabContent } from '../TabContent';
import { BuildDetails } from './BuildDetails';
import { BuildDialog } from './BuildDialog';
import { BuildsTable } from './BuildsTable';

/** Every build of the model; `?build=<id>` opens one (notification links do). */
export function BuildsTab() {
  const ref = useModelRef();
  const permissions = useModelPermissions(ref);
  const builds = useBuilds(ref);
  const [searchParams, setSearchParams] = useSearchParams();
  const [dialogOpen, setDialogOpen] = useState(false);
  const selectedId = searchParams.get('build') ?? undefined;

  const select = (id: string | undefined) => {
    const next = new URLSearchParams(searchParams);
    next.set('tab', 'builds');
    if (id) next.set('build', id);
    else next.delete('build');
    setSearchParams(next);
  };

  const buildButton = (
    <ActionButton
      decision={permissions.build}
      variant="contained"
      color="primary"
      onClick={() => setDialogOpen(true)}
    >
      Build branch
    </ActionButton>
  );
  const dialog = (
    <BuildDialog
      modelRef={ref}
      open={dialogOpen}
      onClose={() => setDialogOpen(false)}
      onCreated={build => {
        builds.refresh();
        select(build.id);
      }}
    />
  );

  if (builds.loading) {
    return <Progress />;
  }
  if (!builds.value) {
    return <ResponseErrorPanel error={builds.error!} />;
  }

  return (
    <Grid container spacing={3}>
      {selectedId && (
        <Grid item xs={12}>
          <BuildDetails
            key={selectedId}
            buildId={selectedId}
            canCancel={permissions.cancelBuild}
            onClose={() => select(undefined)}
            onChanged={builds.refresh}
          />
        </Grid>
      )}
      <Grid item xs={12}>
        <TabContent
          action={buildButton}
          empty={builds.value.items.length === 0}
          emptyState={{
            missing: 'data',
            title: 'No builds yet',
            description:
              "A build packages the model's code at one commit: it installs the requirements, runs the model's tests and a smoke prediction. Pushes to the tracked branch build automatically.",
          }}
        >
          <BuildsTable
            builds={builds.value.items}
            totalCount={builds.value.totalCount}
            selectedId={selectedId}
            onSelect={b => select(b.id)}
          />
        </TabContent>
      </Grid>
      {dialog}
    </Grid>
  );
}
