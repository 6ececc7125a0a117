import { useEntity } from '@backstage/plugin-catalog-react';
import { isMlModelEntity } from '@internal/plugin-ml-platform-common';
import Box from '@material-ui/core/Box';
import Tab from '@material-ui/core/Tab';
import Tabs from '@material-ui/core/Tabs';
import { ComponentType } from 'react';
import { useSearchParams } from 'react-router-dom';
import { ActivityTab } from '../Activity';
import { BatchTab } from '../Batch';
import { BuildsTab } from '../Builds';
import { DeploymentsTab } from '../Deployments';
import { EventsTab } from '../Events';
import { LogsTab } from '../Logs';
import { MonitoringTab } from '../Monitoring';
import { NotAnMlModel } from '../NotAnMlModel';
import { OverviewTab } from '../Overview';
import { TryItTab } from '../TryIt';

const tabs: { id: string; label: string; component: ComponentType }[] = [
  { id: 'overview', label: 'Overview', component: OverviewTab },
  { id: 'builds', label: 'Builds', component: BuildsTab },
  { id: 'deployments', label: 'Deployments', component: DeploymentsTab },
  { id: 'batch', label: 'Batch', component: BatchTab },
  { id: 'monitoring', label: 'Monitoring', component: MonitoringTab },
  { id: 'logs', label: 'Logs', component: LogsTab },
  { id: 'events', label: 'Events', component: EventsTab },
  { id: 'try-it', label: 'Try it', component: TryItTab },
  { id: 'activity', label: 'Activity', component: ActivityTab },
];

/**
 * The ML Platform tab of a model's entity page. `?tab=` picks the section and
 * `?build=<id>` opens a build, so links from notifications land on it.
 */
export function EntityMlPlatformContent() {
  const { entity } = useEntity();
  const [searchParams, setSearchParams] = useSearchParams();
  if (!isMlModelEntity(entity)) {
    return <NotAnMlModel />;
  }

  const requested =
    searchParams.get('tab') ?? (searchParams.has('build') ? 'builds' : '');
  const current = tabs.find(t => t.id === requested) ?? tabs[0];
  const Current = current.component;
  return (
    <>
      <Tabs
        value={current.id}
        onChange={(_event, id: string) => setSearchParams({ tab: id })}
        indicatorColor="primary"
        textColor="primary"
        variant="scrollable"
        aria-label="ML Platform sections"
      >
        {tabs.map(t => (
          <Tab key={t.id} value={t.id} label={t.label} />
        ))}
      </Tabs>
      <Box mt={3} role="tabpanel" aria-label={current.label}>
        <Current />
      </Box>
    </>
  );
}
