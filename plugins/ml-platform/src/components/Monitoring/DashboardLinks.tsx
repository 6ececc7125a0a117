import { Link, ResponseErrorPanel } from '@backstage/core-components';
import { configApiRef, useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import {
  ModelRef,
  modelDashboardUid,
} from '@internal/plugin-ml-platform-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import { InfoCard } from '@backstage/core-components';
import { useState } from 'react';
import { mlPlatformApiRef } from '../../api';

/** The generated Grafana dashboard: a link when Grafana is configured, a download always. */
export function DashboardLinks(props: { modelRef: ModelRef }) {
  const api = useApi(mlPlatformApiRef);
  const config = useApi(configApiRef);
  const grafanaUrl = config.getOptionalString(
    'mlPlatform.monitoring.grafana.url',
  );
  const [error, setError] = useState<Error>();
  const uid = modelDashboardUid(props.modelRef.namespace, props.modelRef.name);
  const download = async () => {
    try {
      const dashboard = await api.getModelDashboard(props.modelRef);
      const url = URL.createObjectURL(
        new Blob([JSON.stringify(dashboard, null, 2)], {
          type: 'application/json',
        }),
      );
      const a = document.createElement('a');
      a.href = url;
      a.download = `${uid}.json`;
      a.click();
      URL.revokeObjectURL(url);
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <Box display="flex" alignItems="center" flexWrap="wrap" mb={1}>
      {grafanaUrl && (
        <Box mr={2}>
          <Link to={`${grafanaUrl.replace(/\/+$/, '')}/d/${uid}`}>
            Open the dashboard in Grafana
          </Link>
        </Box>
      )}
      <Button size="small" variant="outlined" onClick={download}>
        Download Grafana dashboard
      </Button>
      {error && <ResponseErrorPanel error={error} />}
    </Box>
  );
}

/**
 * The model page's Grafana card while the portal has no Grafana
 * (`grafana.domain` unset): where the dashboards would show, and the
 * generated dashboard to import into a Grafana by hand.
 */
export function GrafanaHintCard() {
  const { entity } = useEntity();
  const modelRef = {
    namespace: entity.metadata.namespace ?? 'default',
    name: entity.metadata.name,
  };
  return (
    <InfoCard title="Grafana">
      <Typography variant="body2" paragraph>
        The platform generates a Grafana dashboard and alert rules for this
        model. Set <code>grafana.domain</code> in the portal&apos;s app-config
        to show the model&apos;s Grafana dashboards and alerts here (and{' '}
        <code>mlPlatform.monitoring.grafana</code> to have the platform push
        them); until then, import the dashboard by hand.
      </Typography>
      <DashboardLinks modelRef={modelRef} />
    </InfoCard>
  );
}
