import { ModelActivity } from '@internal/plugin-ml-platform-common';

/** An activity entry to record; the store gives it its id and time. */
export type NewActivity = Omit<ModelActivity, 'id' | 'createdAt'>;

/** The activity of models: what changed, who asked, how it ended. */
export interface ActivityStore {
  add(entry: NewActivity): Promise<ModelActivity>;
  /** A model's activity, newest first. */
  list(options: {
    modelRef: string;
    limit: number;
    offset: number;
  }): Promise<{ items: ModelActivity[]; totalCount: number }>;
}
