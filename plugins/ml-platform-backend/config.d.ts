export interface Config {
  /** Settings of the ML platform backend plugin. */
  mlPlatform?: {
    /**
     * Directory for the platform's own files: build workspaces, artifacts,
     * local Git repositories. Relative paths resolve against the backend's
     * working directory.
     * @default ".data/ml-platform"
     */
    dataDir?: string;

    /**
     * The interpreter that creates each build's virtualenv.
     * @default "python3"
     */
    python?: string;

    /** Model builds. */
    builds?: {
      /**
       * Builds this backend instance runs at once.
       * @default 2
       */
      concurrency?: number;
      /**
       * Longest a single step may run, e.g. `{ minutes: 10 }`, or milliseconds.
       * @default 10 minutes
       */
      stepTimeout?: number | { [unit: string]: number } | string;
      /** Longest a whole build may run. @default 30 minutes */
      timeout?: number | { [unit: string]: number } | string;
      /**
       * How often to look for new commits with `git ls-remote`, for Git
       * servers without webhooks; 0 turns polling off.
       * @default 1 minute
       */
      pollInterval?: number | { [unit: string]: number } | string;
      /** How often a running build proves it is alive. @default 2 seconds */
      heartbeatInterval?: number | { [unit: string]: number } | string;
      /**
       * A running build silent for this long was interrupted (its backend
       * died) and is marked failed.
       * @default 30 seconds
       */
      staleAfter?: number | { [unit: string]: number } | string;
      /** pip settings for installing requirements.txt. */
      pip?: {
        /** Replaces PyPI, e.g. an internal mirror. */
        indexUrl?: string;
        extraIndexUrl?: string;
        /** Added to every `pip install`, e.g. `--no-index`. */
        extraArgs?: string[];
      };
    };

    /**
     * Local directories the first start turns into Git repositories under
     * `mlPlatform.git.root`, registering their models: the example models
     * build on a fresh clone with no Git server.
     */
    seedRepositories?: Array<{
      /** Created as `<git root>/<name>.git`. */
      name: string;
      /** Directory whose files become the first commit. */
      from: string;
      models: Array<{
        /** e.g. `component:default/churn` */
        entityRef: string;
        /** The model's directory inside the repository. */
        path?: string;
      }>;
    }>;

    /** Where build artifacts and batch results are kept. */
    artifacts?: {
      /**
       * Which artifact store to use; `local` is built in, modules add others
       * through the artifact store extension point.
       * @default "local"
       */
      type?: string;
      local?: {
        /**
         * Directory of the local store.
         * @default "<dataDir>/artifacts"
         */
        dir?: string;
      };
    };
  };
}
