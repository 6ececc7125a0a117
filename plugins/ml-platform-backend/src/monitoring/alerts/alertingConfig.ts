import { Config } from '@backstage/config';
import { durationMs } from '../../platformConfig';
import { GrafanaConfig } from '../grafana/GrafanaClient';

/** `mlPlatform.monitoring.alerts`, `.alertmanager` and `.grafana`, with defaults. */
export interface AlertingConfig {
  evaluator: { enabled: boolean; intervalMs: number };
  alertmanagerToken?: string;
  grafana?: GrafanaConfig;
  /** `app.baseUrl`, for links in exported rules. */
  appBaseUrl?: string;
}

export function readAlertingConfig(config: Config): AlertingConfig {
  const m = config.getOptionalConfig('mlPlatform.monitoring');
  const g = m?.getOptionalConfig('grafana');
  return {
    evaluator: {
      enabled: m?.getOptionalBoolean('alerts.enabled') ?? true,
      intervalMs: durationMs(m, 'alerts.evaluationInterval', 60_000),
    },
    alertmanagerToken: m?.getOptionalString('alertmanager.token'),
    grafana: g && {
      url: g.getString('url'),
      token: g.getString('token'),
      folderUid: g.getString('folderUid'),
      datasourceUid: g.getOptionalString('datasourceUid'),
      pushIntervalMs: durationMs(g, 'pushInterval', 5 * 60_000),
    },
    appBaseUrl: config.getOptionalString('app.baseUrl'),
  };
}
