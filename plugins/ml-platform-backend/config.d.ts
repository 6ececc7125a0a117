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

    /**
     * Which runtime runs models: `local` (supervised processes on this host)
     * is built in; modules add others (e.g. `kubernetes`).
     * @default "local"
     */
    runtime?: string;

    /** Online deployments. */
    online?: {
      /**
       * A deployment with minReplicas 0 stops its replicas after this long
       * without requests; the next request starts one (a cold start).
       * @default 15 minutes
       */
      scaleToZeroAfter?: number | { [unit: string]: number } | string;
      /** How often the reconciler compares the runtime to the database. @default 10 seconds */
      reconcileInterval?: number | { [unit: string]: number } | string;
    };

    /** The invocation gateway (`/v2/models/{name}/infer`, `/models/{ns}/{name}/predict`). */
    gateway?: {
      /** Longest a model may take to answer. @default 30 seconds */
      timeout?: number | { [unit: string]: number } | string;
      /** Largest request body, in bytes. @default 10485760 */
      maxBodyBytes?: number;
      /** Longest a request waits for a replica of a scaled-to-zero deployment. @default 60 seconds */
      coldStartTimeout?: number | { [unit: string]: number } | string;
    };

    /** Batch executions. */
    batch?: {
      /** Server directories executions may read input files from (`{type: path}`). */
      allowedInputRoots?: string[];
      /** Largest upload, in bytes. @default 2147483648 */
      maxUploadBytes?: number;
      /** First retry delay of a failed chunk; doubles per attempt. @default 1 second */
      retryBackoff?: number | { [unit: string]: number } | string;
      heartbeatInterval?: number | { [unit: string]: number } | string;
      /** An execution whose backend is silent this long is resumed elsewhere. @default 30 seconds */
      staleAfter?: number | { [unit: string]: number } | string;
      /** How often scheduled batch deployments are checked. @default 30 seconds */
      scheduleCheckInterval?: number | { [unit: string]: number } | string;
      /**
       * Databases for SQL inputs and table outputs, by name; requests name
       * them, never carry credentials.
       */
      connections?: {
        [name: string]: {
          /** knex client: pg, better-sqlite3, mysql2 ... */
          client: string;
          /** @visibility secret */
          connection: string | { [key: string]: unknown };
        };
      };
    };

    /** Model monitoring: the recorder, its store, Prometheus. */
    monitoring?: {
      /**
       * Record calls and batch chunks. Off, the gateway and batch runner
       * record nothing; `GET metrics` still exposes replicas.
       * @default true
       */
      enabled?: boolean;
      /** How often recorded minutes are written to the database. @default 10 seconds */
      flushInterval?: number | { [unit: string]: number } | string;
      /**
       * Successful answers read per second and series (deployment, build,
       * route, caller kind) for the prediction distribution; beyond it the
       * distribution is a sample, while rows are counted from every answer
       * and answers reporting `kpis` are always read.
       * @default 100
       */
      answersReadPerSecond?: number;
      retention?: {
        /** Per-minute rows are merged into hours after this. @default 2 days */
        raw?: number | { [unit: string]: number } | string;
        /** Hourly rows are deleted after this. @default 90 days */
        hourly?: number | { [unit: string]: number } | string;
        /** How often the retention task runs. @default 10 minutes */
        checkInterval?: number | { [unit: string]: number } | string;
      };
      /**
       * A Prometheus that scrapes the platform: when set,
       * `GET models/{ns}/{name}/metrics` answers from PromQL instead of the
       * embedded store.
       */
      prometheus?: {
        /** e.g. `http://prometheus:9090` */
        baseUrl: string;
        /**
         * Bearer token for that Prometheus, if it needs one.
         * @visibility secret
         */
        token?: string;
      };
      /** `GET metrics` and `GET runtime/scrape-targets`. */
      scrape?: {
        /**
         * Answer without credentials (Prometheus on a trusted network).
         * Otherwise scrapers send a Backstage token, e.g. a static
         * `backend.auth.externalAccess` token.
         * @default false
         */
        allowUnauthenticated?: boolean;
      };
    };

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
