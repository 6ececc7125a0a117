import { ResponseError } from '@backstage/errors';
import { ListResponse, ModelSummary } from '../types';

/** The ML platform HTTP API as called by the UI, CLI and other backends. @public */
export interface MlPlatformApi {
  listModels(): Promise<ModelSummary[]>;
  getModel(ref: { namespace: string; name: string }): Promise<ModelSummary>;
}

/**
 * Works in the browser and in Node: the caller supplies how to find the
 * backend and how to fetch (with its own credentials).
 *
 * @public
 */
export class MlPlatformClient implements MlPlatformApi {
  private readonly discoveryApi: {
    getBaseUrl(pluginId: string): Promise<string>;
  };
  private readonly fetchApi: { fetch: typeof fetch };

  constructor(options: {
    discoveryApi: { getBaseUrl(pluginId: string): Promise<string> };
    fetchApi?: { fetch: typeof fetch };
  }) {
    this.discoveryApi = options.discoveryApi;
    this.fetchApi = options.fetchApi ?? { fetch: (...a) => fetch(...a) };
  }

  async listModels(): Promise<ModelSummary[]> {
    const body = await this.request<ListResponse<ModelSummary>>('/models');
    return body.items;
  }

  async getModel(ref: {
    namespace: string;
    name: string;
  }): Promise<ModelSummary> {
    return this.request<ModelSummary>(
      `/models/${encodeURIComponent(ref.namespace)}/${encodeURIComponent(
        ref.name,
      )}`,
    );
  }

  private async request<T>(path: string, init?: RequestInit): Promise<T> {
    const baseUrl = await this.discoveryApi.getBaseUrl('ml-platform');
    const response = await this.fetchApi.fetch(`${baseUrl}${path}`, {
      ...init,
      headers: {
        ...(init?.body ? { 'Content-Type': 'application/json' } : {}),
        ...init?.headers,
      },
    });
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    return (await response.json()) as T;
  }
}
