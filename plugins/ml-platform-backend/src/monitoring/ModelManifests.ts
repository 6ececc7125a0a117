import {
  ModelBuild,
  MlModelManifest,
} from '@internal/plugin-ml-platform-common';

/** What reading manifests needs of the stores. */
export interface ManifestStores {
  listModels(): Promise<{ entityRef: string }[]>;
  listBuilds(options: {
    modelRef?: string;
    status?: ModelBuild['status'][];
    limit?: number;
    order?: 'newest' | 'oldest';
  }): Promise<{ items: ModelBuild[] }>;
  getBuildManifest(id: string): Promise<unknown | undefined>;
}

/**
 * The manifests monitoring reads: a model's alert rules and outputs come
 * from the mlmodel.yaml of its latest succeeded build (validated by the
 * build, so read as is).
 */
export class ModelManifests {
  constructor(private readonly stores: ManifestStores) {}

  async listModelRefs(): Promise<string[]> {
    return (await this.stores.listModels()).map(m => m.entityRef);
  }

  async latest(modelRef: string): Promise<MlModelManifest | undefined> {
    const { items } = await this.stores.listBuilds({
      modelRef,
      status: ['succeeded'],
      limit: 1,
      order: 'newest',
    });
    if (!items[0]) return undefined;
    return (await this.stores.getBuildManifest(items[0].id)) as
      | MlModelManifest
      | undefined;
  }
}
