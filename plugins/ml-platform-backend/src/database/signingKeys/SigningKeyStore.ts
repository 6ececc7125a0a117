/** Secrets that sign scoped tokens, shared by every backend instance. */
export interface SigningKeyStore {
  /** The secret named `id`, made on first use. */
  getSigningKey(id: string): Promise<string>;
}
