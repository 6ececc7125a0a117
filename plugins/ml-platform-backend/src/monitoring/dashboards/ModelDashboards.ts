import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { ModelCatalog } from '../../services/ModelCatalog';
import { ModelManifests } from '../ModelManifests';
import { buildModelDashboard, dashboardUid } from './modelDashboard';

/** The generated dashboards of models, as the route and the pusher want them. */
export class ModelDashboards {
  constructor(
    private readonly options: {
      manifests: ModelManifests;
      models: ModelCatalog;
      /** Where Grafana shows pushed dashboards, when it is configured. */
      grafanaUrl?: string;
    },
  ) {}

  /** The dashboard of a model; its outputs from the latest succeeded build. */
  async dashboardOf(modelRef: string): Promise<dashboard.Dashboard> {
    const { namespace, name } = parseEntityRef(modelRef);
    const manifest = await this.options.manifests.latest(modelRef);
    return buildModelDashboard({
      namespace,
      name,
      outputs: manifest?.spec.schema?.outputs,
    });
  }

  /** `GET models/{ns}/{name}/dashboard`: for download, if the caller sees the model. */
  async get(
    ref: { namespace: string; name: string },
    credentials: BackstageCredentials,
  ): Promise<dashboard.Dashboard> {
    const modelRef = stringifyEntityRef({ kind: 'component', ...ref });
    await this.options.models.assertVisible(modelRef, credentials);
    return this.dashboardOf(modelRef);
  }

  /** The dashboard's address in the configured Grafana (by uid: no slug needed). */
  grafanaLink(ref: { namespace: string; name: string }): string | undefined {
    const base = this.options.grafanaUrl?.replace(/\/+$/, '');
    return base && `${base}/d/${dashboardUid(ref.namespace, ref.name)}`;
  }
}
