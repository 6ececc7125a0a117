import {
  AlertHistoryEntry,
  AlertState,
  ManifestAlertRule,
} from '@internal/plugin-ml-platform-common';

/** A rule's current state, as the evaluator keeps it. */
export interface AlertStateRecord {
  modelRef: string;
  rule: string;
  state: AlertState;
  /** Epoch milliseconds of the last change; undefined before the first. */
  since?: number;
  /** When the condition became true, while pending or firing. */
  pendingSince?: number;
  value?: number;
  evaluatedAt?: number;
  silencedUntil?: number;
  silencedBy?: string;
}

export type NewAlertHistoryEntry = Omit<AlertHistoryEntry, 'id' | 'at'> & {
  modelRef: string;
  /** Epoch milliseconds. */
  at: number;
};

/**
 * Alert rules set through the API, the current state of every rule, and the
 * history of their changes.
 */
export interface AlertStore {
  /** The API's rules of a model, in the order they were put. */
  listRules(modelRef: string): Promise<ManifestAlertRule[]>;
  /** Replaces the API's rules of a model; states of rules gone are dropped. */
  replaceRules(
    modelRef: string,
    rules: ManifestAlertRule[],
    options: { updatedBy?: string; keep: string[]; now: number },
  ): Promise<void>;
  /** Models that have API rules. */
  listModelsWithRules(): Promise<string[]>;

  listStates(modelRef: string): Promise<AlertStateRecord[]>;
  /** Writes a state and, when given, its history entry, in one transaction. */
  saveState(
    state: AlertStateRecord,
    change?: NewAlertHistoryEntry,
  ): Promise<void>;
  /** Drops the states of rules a model no longer has. */
  deleteStatesExcept(modelRef: string, rules: string[]): Promise<number>;
  setSilence(
    modelRef: string,
    rule: string,
    until: number | undefined,
    by: string | undefined,
  ): Promise<void>;

  /**
   * Adds a history entry unless one of the same rule, state, source and
   * time is there (Alertmanager repeats its notifications); true if added.
   */
  addHistoryOnce(entry: NewAlertHistoryEntry): Promise<boolean>;

  listHistory(options: {
    modelRef: string;
    rule?: string;
    limit: number;
    offset: number;
  }): Promise<{ items: AlertHistoryEntry[]; totalCount: number }>;
}
