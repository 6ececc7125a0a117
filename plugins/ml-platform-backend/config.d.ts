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
     * The interpreter that creates each build's virtualenv. It runs in the
     * sandbox: when the backend is root, a bare name is looked up on the
     * sandbox's PATH (/usr/local/bin:/usr/bin:/bin) and must be executable
     * by `mlPlatform.sandbox.user` (an interpreter under /root, e.g. pyenv's,
     * is not); the start fails with what to change otherwise.
     * A model's manifest may name another with `spec.python`, if it is
     * listed in `builds.allowedPythons`.
     * @default "python3"
     */
    python?: string;

    /** Where model code comes from. */
    git?: {
      /**
       * Bare repositories of the platform's own Git hosting; `file` clone
       * URLs must point under it.
       * @default "<dataDir>/git"
       */
      root?: string;
      /**
       * Clone URL schemes builds may use (`https`, `http`, `ssh`, `git`,
       * `file`), also handed to git as `GIT_ALLOW_PROTOCOL`. `file` is
       * allowed only under `mlPlatform.git.root`; `ext::` and other remote
       * helpers never. URLs with credentials inside are refused: configure
       * `integrations` instead.
       * @default ["https", "ssh", "file"]
       */
      allowedSchemes?: string[];
    };

    /**
     * How model code (builds, online replicas, batch workers) is contained
     * on this host: a minimal environment always; limits always; when the
     * backend runs as root, an unprivileged user owning the workspace.
     */
    sandbox?: {
      /**
       * The unprivileged user model code runs as when the backend is root.
       * @default "nobody"
       */
      user?: string;
      /**
       * Where model code's files live (build workspaces, unpacked builds,
       * batch chunks); the sandbox user must be able to reach it. Unset:
       * `mlPlatform.dataDir` when that user can reach it, else a directory
       * of the backend's own under the system's temporary directory (said
       * at start; a later start removes it once its data directory is gone).
       */
      workDir?: string;
      /** Resource limits of every sandboxed process (prlimit). */
      limits?: {
        /**
         * CPU time of each build step and batch worker process (online
         * replicas run for weeks and have none).
         * @default 30 minutes
         */
        cpuTime?: number | { [unit: string]: number } | string;
        /**
         * Address space of each process, in bytes.
         * @default 4294967296
         */
        memoryBytes?: number;
        /**
         * Open files of each process.
         * @default 1024
         */
        openFiles?: number;
      };
      /**
       * Whether build steps (pip, the model's tests, the smoke prediction)
       * may use the network; `false` runs them in an empty network
       * namespace (pip then needs `pip.extraArgs: [--no-index, ...]`).
       * @default true
       */
      buildNetwork?: boolean;
    };

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
      /**
       * Create venvs with `--system-site-packages`: models see the packages
       * of their base interpreter (e.g. Debian's python3-numpy, -pandas,
       * -sklearn) and pip installs only what is missing. The way to run
       * models that need packages when no package index is reachable.
       * @default false
       */
      systemSitePackages?: boolean;
      /**
       * Vetted base interpreters a model may choose with `spec.python` in its
       * mlmodel.yaml (absolute paths or `python3.N`), besides `python`. A
       * manifest must spell one exactly as listed; each is resolved once at
       * start, on the sandbox's PATH as `python` is, and nothing else is run.
       * @default []
       */
      allowedPythons?: string[];
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
      /**
       * With several backend instances, each deployment is driven by one;
       * another takes it over when that one has not reconciled for this long.
       * @default three reconcile intervals, at least 1.5 seconds
       */
      claimStaleAfter?: number | { [unit: string]: number } | string;
    };

    /** The invocation gateway (`/v2/models/{name}/infer`, `/models/{ns}/{name}/predict`). */
    gateway?: {
      /**
       * Longest a model may take to answer; also how long any request body
       * of the plugin may take to arrive (uploads: may stall), after which
       * the answer is a 408 and the connection closes.
       * @default 30 seconds
       */
      timeout?: number | { [unit: string]: number } | string;
      /** Largest request body, in bytes. @default 10485760 */
      maxBodyBytes?: number;
      /**
       * Elements a V2 tensor, and all tensors of a request together, may
       * stand for (a dimension of 0 counts as 1), checked against the
       * shapes before a request is forwarded; also the most array items of
       * a records request.
       * @default 1000000
       */
      maxElements?: number;
      /**
       * Deepest JSON nesting of a request body (invocations and the API).
       * @default 32
       */
      maxJsonDepth?: number;
      /** Longest a request waits for a replica of a scaled-to-zero deployment. @default 60 seconds */
      coldStartTimeout?: number | { [unit: string]: number } | string;
      /**
       * The native data plane: nginx with its Lua module (Debian:
       * `nginx libnginx-mod-http-lua lua-cjson`), supervised by the backend, serving
       * the two invocation routes on a port of its own. It forwards a call
       * itself when the backend authorized the caller for the model in the
       * last 10 s, the body passes the checks above and a replica is ready;
       * every other call goes to the backend's gateway and gets the same
       * answer as on the portal's port. Calls are recorded (metrics,
       * prediction events) from nginx's call log, off the call path.
       */
      nginx?: {
        /**
         * `auto`: start it where nginx, its Lua module and lua-cjson are
         * installed, else log what to install and serve invocations on the
         * portal's port alone (app-config.yaml's embedded default). `true`:
         * a start failure is logged as an error. `GET gateway` says which.
         * @default false
         */
        enabled?: boolean | 'auto';
        /**
         * Its origin as callers on other hosts reach it (a load balancer in
         * front, say), told to clients by `GET gateway`: `http(s)://host[:port]`.
         * Without it, clients on the backend's host are told its listen address.
         */
        publicUrl?: string;
        /** @default /usr/sbin/nginx */
        command?: string;
        /** Where `ngx_http_lua_module.so` and `ndk_http_module.so` are. @default /usr/lib/nginx/modules */
        modulesDir?: string;
        /** @default 127.0.0.1 */
        host?: string;
        /** @default 7008 */
        port?: number;
        /** nginx worker processes, 1-64. @default 1 */
        workers?: number;
      };
    };

    /** Batch executions. */
    batch?: {
      /** Server directories executions may read input files from (`{type: path}`). */
      allowedInputRoots?: string[];
      /** Largest upload, in bytes. @default 2147483648 */
      maxUploadBytes?: number;
      /**
       * Bytes of uploads one model may keep at once.
       * @default 10737418240
       */
      uploadQuotaBytes?: number;
      /**
       * Uploads older than this are deleted (unless an unfinished execution
       * or a batch deployment reads them).
       * @default 7 days
       */
      uploadRetention?: number | { [unit: string]: number } | string;
      /**
       * Hosts URL inputs may name although they resolve to a loopback,
       * link-local or private address (refused otherwise); `*.example.com`
       * for sub-domains.
       */
      allowedUrlHosts?: string[];
      /** First retry delay of a failed chunk; doubles per attempt. @default 1 second */
      retryBackoff?: number | { [unit: string]: number } | string;
      /**
       * Local runtime: batch workers that finished an execution stay up this
       * long for the next execution of the same build (no interpreter start,
       * imports or model load again); 0 stops them with their execution.
       * @default 30 seconds
       */
      workerIdleTimeout?: number | { [unit: string]: number } | string;
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

    /**
     * Prediction events ("BI events"): one per invocation and per batch
     * chunk, published on the events service topic `ml-platform.prediction`
     * and kept in the platform's database.
     */
    events?: {
      /** @default true */
      enabled?: boolean;
      /**
       * Share of events (0 to 1) that keep the request and response.
       * @default 1.0
       */
      sampleRate?: number;
      /**
       * A request or response larger than this (bytes) is left out of its
       * event, which says `truncated`; 0 keeps none. A whole number up to
       * 67108864 (64 MiB).
       * @default 65536
       */
      maxPayloadBytes?: number;
      /**
       * Input fields whose values events never keep (replaced by
       * `[redacted]`, at any depth and in column-oriented bodies).
       */
      redactFields?: string[];
      /** Publish on the events service (off: stored only). @default true */
      publish?: boolean;
      /**
       * Events per published message, `{ events: [...] }`; 1 publishes each
       * event as a message of its own (one events-bus call per prediction);
       * a whole number from 1 to 100000.
       * @default 100
       */
      publishBatchSize?: number;
      /**
       * How often events are written (one row per model and write). Calls
       * become events, and are published, every tenth of a second or each
       * 100 calls, whichever comes first. @default 1s
       */
      flushInterval?: number | string | { [unit: string]: number };
      /** This many events waiting are written at once (1 to 100000). @default 500 */
      flushSize?: number;
      /**
       * Events buffered at most between writes; more are dropped and logged.
       * At least `flushSize`, at most 1000000. @default 20000
       */
      maxBuffered?: number;
      /** Stored events are deleted after this. @default 30 days */
      retention?: number | string | { [unit: string]: number };
    };

    /** Searchable build, deployment and execution logs. */
    logs?: {
      /** Lines are deleted after this. @default 14 days */
      retention?: number | string | { [unit: string]: number };
      /** How often collected lines are written. @default 1s */
      flushInterval?: number | string | { [unit: string]: number };
      /**
       * Lines collected at most between writes; more are dropped and logged.
       * From 100 to 1000000. @default 50000
       */
      maxBuffered?: number;
      /** Also ship every line to Loki's push API (labels model, namespace, version, source, level). */
      loki?: {
        /** Loki's base URL; lines go to `<url>/loki/api/v1/push`. */
        url: string;
        /** Sent as `X-Scope-OrgID`. */
        tenant?: string;
        /**
         * Sent as a bearer token.
         * @visibility secret
         */
        token?: string;
      };
    };

    /** Event subscriptions (real-time triggers) of online deployments. */
    subscriptions?: {
      /** Attempts of an event whose model has no ready replica. @default 5 */
      maxAttempts?: number;
      /** First retry delay, doubled per attempt. @default 500ms */
      retryBackoff?: number | string | { [unit: string]: number };
      /** How often due retries and a restart's leftovers are picked up. @default 1s */
      pollInterval?: number | string | { [unit: string]: number };
      /** How long an instance holds an event before another may take it over. @default 1m */
      lease?: number | string | { [unit: string]: number };
      /** Events predicted at once per backend instance. @default 16 */
      concurrency?: number;
      /**
       * Events an instance claims as they arrive beyond its free slots,
       * queued in memory until a slot frees (0: stored unclaimed and
       * claimed from the database as slots free; at most 10000).
       * @default 4 x concurrency
       */
      prefetch?: number;
      /** How often subscriptions made on other instances are picked up. @default 5s */
      refreshInterval?: number | string | { [unit: string]: number };
      /**
       * Events of one subscription ready at the same time (a burst) predicted
       * in one model call, their rows concatenated, at most (1: one call per
       * event; at most 1000). The answer's `predictions` are split back, one
       * per row; a model whose answer does not split that way, or that
       * refuses the batch, gets each event alone.
       * @default 32
       */
      maxBatchEvents?: number;
      /** Idempotency keys of handled events are kept this long. @default 7 days */
      keyRetention?: number | string | { [unit: string]: number };
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
        /**
         * Per-minute rows are dropped after this; the hour rows holding
         * them stay. @default 2 days
         */
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
      /** Alert rules (`monitoring.alerts` of mlmodel.yaml and `PUT .../alerts`). */
      alerts?: {
        /**
         * Run the embedded evaluator (on the metrics route's source).
         * Turn off when your own Prometheus evaluates the exported rules.
         * @default true
         */
        enabled?: boolean;
        /** How often the embedded evaluator runs. @default 1 minute */
        evaluationInterval?: number | { [unit: string]: number } | string;
      };
      /** `POST alerts/alertmanager`, an Alertmanager webhook receiver. */
      alertmanager?: {
        /**
         * The bearer token Alertmanager sends (`http_config.authorization`);
         * the route answers 404 while it is unset.
         * @visibility secret
         */
        token?: string;
      };
      /**
       * A Grafana to push each model's dashboard and alert rules to (a
       * scheduler task); the Monitoring tab then links to the dashboard.
       */
      grafana?: {
        /**
         * e.g. `https://grafana.example.com`; the Monitoring tab links there.
         * @visibility frontend
         */
        url: string;
        /**
         * A service account token with the Editor role.
         * @visibility secret
         */
        token: string;
        /** The folder dashboards and rules go to. */
        folderUid: string;
        /**
         * The Prometheus datasource Grafana-managed alert rules query;
         * without it only dashboards are pushed.
         */
        datasourceUid?: string;
        /** How often to push. @default 5 minutes */
        pushInterval?: number | { [unit: string]: number } | string;
      };
    };

    /**
     * What one model, or one owner, may use at once. A request over a quota
     * is refused with 429 and the quota's name.
     */
    quotas?: {
      /** Online replicas of one model, counted as its deployment's maxReplicas. @default 8 */
      onlineReplicasPerModel?: number;
      /** Online replicas of all the models one owner (spec.owner) owns. @default 32 */
      onlineReplicasPerOwner?: number;
      /** Executions of one model pending or running at once. @default 4 */
      concurrentExecutionsPerModel?: number;
      /** Builds of one model waiting in the queue. @default 5 */
      queuedBuildsPerModel?: number;
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
      /**
       * The plugin's base URL as runtimes on other hosts (pods of the
       * kubernetes runtime) reach it, e.g.
       * `http://backstage.backstage.svc:7007/api/ml-platform`; they fetch
       * builds from `<baseUrl>/artifacts/{digest}`. Default: the backend's
       * external URL from discovery.
       */
      baseUrl?: string;
      /**
       * Lifetime of the tokens scoped to one artifact that those runtimes
       * fetch with; online runtimes get fresh ones as the reconciler runs.
       * @default 15 minutes
       */
      tokenTtl?: number | { [unit: string]: number } | string;
    };
  };
}
