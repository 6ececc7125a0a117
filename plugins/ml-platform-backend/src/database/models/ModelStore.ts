/** A model the platform has registered, with where its code lives. */
export interface ModelRecord {
  entityRef: string;
  gitUrl?: string;
  gitPath?: string;
  defaultBranch?: string;
  manifestPath?: string;
  registeredAt: string;
}

/** The models the platform knows: registrations and where their code lives. */
export interface ModelStore {
  upsertModel(model: Omit<ModelRecord, 'registeredAt'>): Promise<ModelRecord>;
  getModel(entityRef: string): Promise<ModelRecord | undefined>;
  listModels(): Promise<ModelRecord[]>;
  /** Those of `refs` the platform has seen (a registration or a build). */
  listKnownRefs(refs: string[]): Promise<string[]>;
}
